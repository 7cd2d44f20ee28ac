# Sourced by the suites of scripts/check.d (not a suite itself: run-tests.sh
# runs *.sh only). Counts checks and prints the closing summary line.
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
passed=0
failed=0

check_pass() {
	passed=$((passed + 1))
	printf 'ok   %s\n' "$*"
}

check_fail() {
	failed=$((failed + 1))
	printf 'FAIL %s\n' "$*"
}

# Fails the check named $1 unless every tool that follows is installed.
need_tools() {
	local what=$1 tool missing=()
	shift
	for tool; do
		command -v "$tool" >/dev/null || missing+=("$tool")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	check_fail "$what: not installed: ${missing[*]} (scripts/deps.sh check installs it)"
	return 1
}

# make on this tree with its own job count: the calling make's jobserver is
# not passed down to scripts.
submake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make --no-print-directory -j"$(nproc)" BUILD="$BUILD" "$@"
}

summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
