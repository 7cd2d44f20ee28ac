#!/usr/bin/env bash
# Cost of loading and validating a policy, measured as a whole
# `lockshell policy check` process next to /bin/true in one hyperfine run:
# a generated policy with the maximum of 256 paths, and the default policy.
#   bench/policy-load.sh [RUNS]      (BUILD=dir picks the build, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

runs=${1:-1000}
build=${BUILD:-build}
bench_need hyperfine:hyperfine
make -s BUILD="$build" "$build/lockshell" >/dev/null
ls=$PWD/$build/lockshell
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# 256 distinct paths, 192 read-only and 64 read-write, as a policy author
# would write them (block sequences, absolute, no duplicates).
{
	printf 'version: 1\nfilesystem_policy:\n  include_workdir: true\n  read_only:\n'
	for i in $(seq 0 191); do printf '    - /usr/share/lockshell-bench/ro-%03d\n' "$i"; done
	printf '  read_write:\n'
	for i in $(seq 0 63); do printf '    - /var/tmp/lockshell-bench/rw-%03d\n' "$i"; done
	printf 'landlock:\n  compatibility: best_effort\n'
} >"$out/paths-256.yaml"
"$ls" policy check "$out/paths-256.yaml" examples/policies/default.yaml >/dev/null

hyperfine -N --warmup 50 --runs "$runs" --export-json "$out/policy-load.json" \
	-n bare '/bin/true' \
	-n 'lockshell check default' "$ls policy check examples/policies/default.yaml" \
	-n 'lockshell check 256 paths' "$ls policy check $out/paths-256.yaml" >/dev/null
bench_report "$out/policy-load.json" bare

/usr/bin/python3 - "$out/policy-load.json" <<'PY'
import json, sys
med = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
worst = max(v / med["bare"] for k, v in med.items() if k.startswith("lockshell"))
print(f"target: within 1.5x of /bin/true; worst ratio {worst:.2f}x:",
      "met" if worst <= 1.5 else "NOT met")
PY
