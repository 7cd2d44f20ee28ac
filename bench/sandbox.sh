#!/usr/bin/env bash
# Named sandboxes: `sandbox exec` latency into a running sandbox (hyperfine,
# next to bare exec, nsenter into the same namespaces and `lockshell run`),
# and create+delete throughput of detached idle sandboxes.
#   bench/sandbox.sh [RUNS] [SANDBOXES]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

runs=${1:-300}
count=${2:-200}
bench_need hyperfine:hyperfine nsenter:util-linux
bench_sandboxes_setup

name=$("$ls" sandbox create --detach --name bench-exec)
main=$("$ls" sandbox get "$name" --json |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["main_pid"])')
peers=(-n bare '/bin/true')
if [ "$(id -u)" -eq 0 ]; then
	peers+=(-n 'nsenter all' "nsenter -t $main -a /bin/true")
fi
hyperfine -N --warmup 20 --runs "$runs" --export-json "$out/exec.json" \
	"${peers[@]}" \
	-n 'lockshell sandbox exec' "$ls sandbox exec $name -- /bin/true" \
	-n 'lockshell run' "$ls run -- /bin/true" >/dev/null
bench_report "$out/exec.json" bare
"$ls" sandbox delete "$name"

# Throughput: COUNT detached idle sandboxes created one after another, then
# deleted by one command.
names=()
for i in $(seq 1 "$count"); do names+=("bench-$i"); done
t0=$(date +%s.%N)
for n in "${names[@]}"; do "$ls" sandbox create --detach --name "$n" >/dev/null; done
t1=$(date +%s.%N)
"$ls" sandbox delete "${names[@]}"
t2=$(date +%s.%N)
left=$(find "$LOCKSHELL_STATE_DIR" -mindepth 1 | wc -l)
awk -v n="$count" -v a="$t0" -v b="$t1" -v c="$t2" -v left="$left" 'BEGIN {
	printf "create:        %d sandboxes in %.2fs (%.1f per second, %.2f ms each)\n", n, b - a, n / (b - a), (b - a) * 1000 / n
	printf "delete:        %d sandboxes in %.2fs (%.1f per second, %.2f ms each)\n", n, c - b, n / (c - b), (c - b) * 1000 / n
	printf "create+delete: %.1f sandboxes per second; state entries left: %d\n", n / (c - a), left
}'
