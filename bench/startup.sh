#!/usr/bin/env bash
# Start-up cost of a sandbox around /bin/true, lockshell next to its peers in
# one hyperfine run, plus the supervisor's peak resident memory.
#   bench/startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

runs=${1:-300}
bench_need hyperfine:hyperfine bwrap:bubblewrap firejail:firejail
make -s build/lockshell >/dev/null
ls=$PWD/build/lockshell
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The floor of any launcher that stays to supervise: fork, exec, wait.
${CC:-cc} -O2 -static -o "$out/launch-floor" bench/launch-floor.c

hyperfine -N --warmup 20 --runs "$runs" --export-json "$out/startup.json" \
	-n bare '/bin/true' \
	-n 'fork+exec floor' "$out/launch-floor /bin/true" \
	-n 'lockshell run (full isolation)' "$ls run -- /bin/true" \
	-n 'lockshell run --network host' "$ls run --network host -- /bin/true" \
	-n 'bwrap dev-bind' 'bwrap --dev-bind / / /bin/true' \
	-n 'bwrap unshare-all' 'bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all /bin/true' \
	-n 'unshare all' 'unshare --mount --pid --net --ipc --uts --fork --mount-proc /bin/true' \
	-n 'firejail noprofile' 'firejail --noprofile --quiet /bin/true' >/dev/null
bench_report "$out/startup.json" bare

# Peak RSS of the supervisor: lockshell's own process while the workload runs.
"$ls" run -- /bin/sleep 1 &
sup=$!
sleep 0.5
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$sup/status")
wait "$sup"
awk -v k="$hwm" 'BEGIN { printf "supervisor peak RSS (VmHWM): %d KiB (%.2f MiB)\n", k, k / 1024 }'
