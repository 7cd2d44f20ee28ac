#!/usr/bin/env bash
# Runs the unit tests (cmocka, TAP output) and the integration tests (pytest)
# and ends with one line: "N passed, N failed[, N skipped]".
#   run-tests.sh [unit|integration|extra|all]
set -uo pipefail

BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
# The tests create their unprivileged user with useradd, which lives in the
# sbin directories a minimal PATH leaves out.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
what=${1:-all}
passed=0 failed=0 skipped=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

run_unit() {
	local t out
	for t in "$BUILD"/tests/unit/test-*; do
		[ -x "$t" ] || continue
		out="$log/${t##*/}.tap"
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out" 2>&1
		local rc=$? p f s
		p=$(grep -cE '^ok ' "$out")
		f=$(grep -cE '^not ok ' "$out")
		s=$(grep -cE '^ok .*# SKIP' "$out")
		p=$((p - s))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1 # crashed or failed without a TAP line
		fi
		[ "$f" -gt 0 ] && { echo "FAILED: ${t##*/}"; grep -vE '^ok ' "$out"; }
		printf 'unit %-28s %3d passed, %d failed\n' "${t##*/}" "$p" "$f"
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	done
}

run_integration() {
	local out="$log/pytest.txt" summary n
	LOCKSHELL="$PWD/$BUILD/lockshell" LOCKSHELL_BUILD="$PWD/$BUILD" \
		"$PYTHON" -m pytest -q -rs -p no:cacheprovider tests/integration 2>&1 | tee "$out"
	summary=$(tail -n 1 "$out")
	for kind in passed failed skipped error errors; do
		n=$(grep -oE "[0-9]+ $kind" <<<"$summary" | grep -oE '^[0-9]+' || true)
		n=${n:-0}
		case $kind in
		passed) passed=$((passed + n)) ;;
		failed | error | errors) failed=$((failed + n)) ;;
		skipped) skipped=$((skipped + n)) ;;
		esac
	done
	if ! grep -qE '[0-9]+ (passed|failed)' <<<"$summary"; then
		echo "pytest produced no summary" >&2
		failed=$((failed + 1))
	fi
}

# Further suites: each scripts/check.d/*.sh ends with its own
# "N passed, N failed[, N skipped]" line, added to the total.
run_extra() {
	local s out last n kind
	for s in scripts/check.d/*.sh; do
		[ -f "$s" ] || continue
		out="$log/${s##*/}.txt"
		BUILD=$BUILD PYTHON=$PYTHON bash "$s" 2>&1 | tee "$out"
		last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
		if [ -z "$last" ]; then
			echo "FAILED: $s printed no summary line"
			failed=$((failed + 1))
			continue
		fi
		for kind in passed failed skipped; do
			n=$(grep -oE "[0-9]+ $kind" <<<"$last" | grep -oE '^[0-9]+' || true)
			n=${n:-0}
			case $kind in
			passed) passed=$((passed + n)) ;;
			failed) failed=$((failed + n)) ;;
			skipped) skipped=$((skipped + n)) ;;
			esac
		done
	done
}

case $what in
unit) run_unit ;;
integration) run_integration ;;
extra) run_extra ;;
all) run_unit; run_integration; run_extra ;;
esac

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
