#!/usr/bin/env bash
# Memcheck on the supervisor: `lockshell run` and `sandbox
# create/exec/delete` under valgrind, as root and as an unprivileged user.
# Each scenario is one check, which passes when lockshell exits with the
# expected code, valgrind reports no error, nothing is definitely lost, and
# every descriptor open at exit was open at start ("<inherited from
# parent>" in valgrind's FILE DESCRIPTORS list). Only the lockshell process
# is checked: forked children are silent (--child-silent-after-fork) and
# the workloads run outside valgrind (--trace-children=no).
# tests/sanitize/valgrind-native.c is preloaded: it makes the system calls
# valgrind 3.19 does not know on the real CPU, and injects a leak on
# request, which the first checks use to show that the check can fail.
set -uo pipefail
. "$(dirname "$0")/common.bash"

# The dynamically linked build of the same objects: valgrind replaces malloc
# through the dynamic loader, which the static lockshell does not run.
LOCKSHELL=$PWD/$BUILD/lockshell-dynamic
VG_DIR=$PWD/$BUILD/valgrind
NATIVE=$VG_DIR/valgrind-native.so
LOGS=$VG_DIR/logs
TEST_USER=lockshell-test

# Why the valgrind log $1 is not clean; nothing when it is.
log_problems() {
	local log=$1
	grep -q 'FILE DESCRIPTORS:' "$log" || echo "no FILE DESCRIPTORS report"
	grep -q 'ERROR SUMMARY: 0 errors' "$log" ||
		grep -m1 'ERROR SUMMARY' "$log" || echo "no ERROR SUMMARY"
	grep -qE 'All heap blocks were freed|definitely lost: 0 bytes' "$log" ||
		grep -m1 'definitely lost' "$log" || echo "no leak summary"
	# each "Open file descriptor N:" must be followed by "<inherited from parent>"
	awk '/Open file descriptor [0-9]+:/ { if (fd != "") print "left open: " fd; fd = $0; next }
	     fd != "" && /<inherited from parent>/ { fd = ""; next }
	     fd != "" && /==[0-9]+== *$/ { print "left open: " fd; fd = "" }
	     END { if (fd != "") print "left open: " fd }' "$log" | sed 's/^left open: ==[0-9]*== /left open: /'
}

# $1: check name, $2: expected exit code, $3: root|user, then lockshell's
# arguments. LOCKSHELL_VALGRIND_INJECT and LOCKSHELL_STATE_DIR come from
# the environment.
vg_run() {
	local name=$1 want=$2 who=$3 log out rc problems
	local -a prefix=()
	shift 3
	log=$LOGS/${name// /-}.log
	out=$LOGS/${name// /-}.out
	[ "$who" = user ] && prefix=(setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --clear-groups --)
	(cd / && LD_PRELOAD=$NATIVE timeout -k 5 60 "${prefix[@]}" valgrind --tool=memcheck \
		--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
		--track-fds=yes --trace-children=no --child-silent-after-fork=yes \
		--log-file="$log" "$LOCKSHELL" "$@") </dev/null >"$out" 2>&1
	rc=$?
	problems=$(log_problems "$log")
	[ "$rc" -eq "$want" ] || problems="exit $rc, expected $want${problems:+; }$problems"
	VG_PROBLEMS=$problems
	VG_LOG=$log
	VG_OUT=$out
}

vg_check() {
	vg_run "$@"
	if [ -z "$VG_PROBLEMS" ]; then
		check_pass "valgrind $1"
	else
		echo "$VG_PROBLEMS"
		tail -n 5 "$VG_OUT"
		grep -A12 -E 'definitely lost in|Open file descriptor|Invalid|uninitialised' "$VG_LOG" | head -n 40
		check_fail "valgrind $1 (log: $VG_LOG)"
	fi
}

# The check must fail on what it looks for: an injected leak, and an
# injected descriptor left open.
vg_check_can_fail() {
	local kind=$1
	shift
	LOCKSHELL_VALGRIND_INJECT=$kind vg_run "$@"
	if [ -n "$VG_PROBLEMS" ]; then
		check_pass "valgrind $1 is caught ($(head -n 1 <<<"$VG_PROBLEMS"))"
	else
		check_fail "valgrind $1 went unnoticed (log: $VG_LOG)"
	fi
}

scenarios() {
	local who=$1 work state
	local -a prefix=()
	work=$(mktemp -d /tmp/lockshell-vg-XXXXXX)
	state=$(mktemp -d /tmp/lockshell-vg-state-XXXXXX)
	chmod 755 "$work"
	if [ "$who" = user ]; then
		chown "$TEST_USER:$TEST_USER" "$work" "$state"
		prefix=(setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --clear-groups --)
	fi
	export LOCKSHELL_STATE_DIR=$state
	vg_check "$who run true" 0 "$who" run -w "$work" -- /bin/true
	vg_check "$who run policy exit 3" 3 "$who" run -p "$PWD/examples/policies/default.yaml" \
		-w "$work" -- /bin/sh -c 'exit 3'
	vg_check "$who run missing command" 127 "$who" run -w "$work" -- /nonexistent/command
	vg_check "$who run bad policy" 125 "$who" run -p /nonexistent/policy.yaml -w "$work" -- /bin/true
	vg_check "$who sandbox create" 0 "$who" sandbox create --detach --name vg -w "$work"
	vg_check "$who sandbox exec true" 0 "$who" sandbox exec vg -- /bin/true
	vg_check "$who sandbox exec exit 5" 5 "$who" sandbox exec vg -- /bin/sh -c 'exit 5'
	vg_check "$who sandbox exec missing command" 127 "$who" sandbox exec vg -- /nonexistent/command
	vg_check "$who sandbox delete" 0 "$who" sandbox delete vg
	vg_check "$who sandbox exec deleted" 125 "$who" sandbox exec vg -- /bin/true
	# whatever a failed check left behind
	(cd / && "${prefix[@]}" "$LOCKSHELL" sandbox delete vg) >/dev/null 2>&1
	unset LOCKSHELL_STATE_DIR
	rm -rf "$work" "$state"
}

main() {
	need_tools "valgrind" valgrind cc setpriv || return
	if ! submake "$BUILD/lockshell-dynamic" >"$PWD/$BUILD/valgrind-build.log" 2>&1 ||
		! mkdir -p "$VG_DIR" ||
		! cc -std=gnu17 -Wall -Wextra -Werror -O1 -g -D_GNU_SOURCE -shared -fPIC \
			-o "$NATIVE" tests/sanitize/valgrind-native.c -ldl >>"$PWD/$BUILD/valgrind-build.log" 2>&1; then
		tail -n 20 "$PWD/$BUILD/valgrind-build.log"
		check_fail "valgrind build (log: $BUILD/valgrind-build.log)"
		return
	fi
	rm -rf "$LOGS"
	mkdir -p -m 1777 "$LOGS"
	chmod 755 "$VG_DIR"
	local work
	work=$(mktemp -d /tmp/lockshell-vg-XXXXXX)
	vg_check_can_fail leak "injected leak" 0 root run -w "$work" -- /bin/true
	vg_check_can_fail fd "injected open descriptor" 0 root run -w "$work" -- /bin/true
	rm -rf "$work"
	scenarios root
	if [ "$(id -u)" -eq 0 ]; then
		if id "$TEST_USER" >/dev/null 2>&1 ||
			useradd --system --user-group --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin "$TEST_USER" >/dev/null 2>&1; then
			scenarios user
		else
			check_fail "valgrind: cannot create the user $TEST_USER"
		fi
	fi
}

main
summary
