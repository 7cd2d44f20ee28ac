#!/usr/bin/env bash
# AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer (clang):
# every unit test binary and the policy tests run against the sanitized
# build in $BUILD/asan (`make sanitize-build`). Each unit test binary and
# each pytest run is one check, which fails on a failed test or on any
# sanitizer report. The rest of the integration suite is not run here: it
# launches sandboxes, whose supervisor LeakSanitizer cannot check (below),
# and it takes many minutes under ASan. Processes where
# LeakSanitizer cannot work are listed at the end with the reason
# (tests/sanitize/lsan-exit.c); the supervisor's leaks are checked by
# 30-valgrind.sh instead.
set -uo pipefail
. "$(dirname "$0")/common.bash"

ASAN=$BUILD/asan
# Outside /tmp: sandboxed processes have a private /tmp.
REPORTS=$PWD/$ASAN/reports
SKIPS=$REPORTS/lsan-skips

sanitizer_env() {
	local log=$1/report
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1:log_path=$log"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$log"
	export LOCKSHELL_LSAN_SKIPS=$SKIPS
}

# Prints the sanitizer reports found in $1; false when there is none.
show_reports() {
	local f found=1
	for f in "$1"/report.*; do
		[ -f "$f" ] || continue
		found=0
		echo "--- sanitizer report $f"
		head -n 60 "$f"
	done
	return "$found"
}

run_unit() {
	local t name dir rc
	for t in "$ASAN"/tests/unit/test-*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name=${t##*/}
		dir=$REPORTS/$name
		mkdir -m 1777 "$dir"
		(sanitizer_env "$dir" && CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 5 120 "$t") >"$dir/tap" 2>&1
		rc=$?
		if [ "$rc" -ne 0 ] || grep -q '^not ok' "$dir/tap" ||
			show_reports "$dir" >/dev/null; then
			grep -v '^ok ' "$dir/tap"
			show_reports "$dir"
			check_fail "asan unit $name (exit $rc)"
		else
			check_pass "asan unit $name ($(grep -c '^ok ' "$dir/tap") tests)"
		fi
	done
}

# $1: the check's name; then pytest's arguments.
run_pytest() {
	local what=$1 dir=$REPORTS/pytest-${1// /-} rc
	shift
	mkdir -m 1777 "$dir"
	(sanitizer_env "$dir" &&
		LOCKSHELL="$PWD/$ASAN/lockshell" LOCKSHELL_BUILD="$PWD/$ASAN" \
			timeout -k 10 600 "$PYTHON" -m pytest -q -p no:cacheprovider "$@") >"$dir/out" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || show_reports "$dir" >/dev/null; then
		grep -vE '^\.+ *\[' "$dir/out" | tail -n 80
		show_reports "$dir"
		check_fail "asan $what (pytest exit $rc)"
	else
		check_pass "asan $what ($(tail -n 1 "$dir/out"))"
	fi
}

list_skips() {
	[ -s "$SKIPS" ] || return 0
	echo "not leak-checked by LeakSanitizer (count, program, how it ended, reason):"
	sed -E 's/ \(pid [0-9]+, / (/' "$SKIPS" | sort | uniq -c | sed 's/^/  /'
}

main() {
	need_tools "sanitizers" clang llvm-symbolizer || return
	export ASAN_SYMBOLIZER_PATH
	ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
	if ! submake sanitize-build >"$PWD/$BUILD/sanitize-build.log" 2>&1; then
		tail -n 40 "$PWD/$BUILD/sanitize-build.log"
		check_fail "asan build (log: $BUILD/sanitize-build.log)"
		return
	fi
	rm -rf "$REPORTS"
	mkdir -p -m 1777 "$REPORTS"
	run_unit
	run_pytest "policy tests" tests/integration/test_policy_cli.py
	list_skips
}

main
summary
