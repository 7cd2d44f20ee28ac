#!/usr/bin/env bash
# Fuzz smoke test: `make fuzz-smoke` builds every libFuzzer target
# (tests/fuzz/fuzz-*.c) and runs each for FUZZ_SMOKE_TIME seconds (30 by
# default) from its corpus. Each target is one check, failed by a crash, a
# leak, a timeout, or by not building.
set -uo pipefail
. "$(dirname "$0")/common.bash"

targets=(tests/fuzz/fuzz-*.c)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if need_tools "fuzz-smoke" clang; then
	submake fuzz-build >"$out" 2>&1 || tail -n 30 "$out"
	submake -k fuzz-smoke 2>&1 | tee "$out"
	for t in "${targets[@]}"; do
		name=${t##*/fuzz-}
		name=${name%.c}
		line=$(grep -E "^fuzz-smoke $name: " "$out")
		case $line in
		*": passed "*) check_pass "$line" ;;
		"") check_fail "fuzz-smoke $name: did not build or run" ;;
		*) check_fail "$line" ;;
		esac
	done
fi
summary
