#!/usr/bin/env bash
# `make demo`: lockshell's main job on its built-in default policy, narrated
# for a newcomer: what the default policy allows, and what the kernel refuses.
set -uo pipefail

BUILD=${BUILD:-build}
ls=$PWD/$BUILD/lockshell
bold=$(tput bold 2>/dev/null || true)
plain=$(tput sgr0 2>/dev/null || true)

step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() {
	printf '$'
	printf ' %q' "$@"
	printf '\n'
	"$@"
	printf '(exit %d)\n' "$?"
}

work=$(mktemp -d /tmp/lockshell-demo.XXXXXX)
chmod 0777 "$work"
trap 'rm -rf "$work"' EXIT

step "What this host's kernel offers a sandbox"
show "$ls" probe

step "The built-in default policy (OpenShell's restrictive default)"
show "$ls" policy show

step "What a sandbox started here would enforce (the effective policy)"
show "$ls" policy show --effective -w "$work"

step "A real command under the default policy: each line is tried inside the sandbox"
# The script runs inside the sandbox; every refusal below is an errno from
# the kernel (Landlock, seccomp, namespaces), not a message from lockshell.
cat >"$work/tour.sh" <<'TOUR'
try() {
	desc=$1
	shift
	if out=$("$@" 2>&1); then
		printf '  allowed  %-46s %s\n' "$desc" "$(printf '%s' "$out" | head -n 1)"
	else
		why=$(printf '%s\n' "$out" | grep -E 'denied|not permitted|Read-only|refused|Errno' | tail -n 1)
		printf '  REFUSED  %-46s %s\n' "$desc" "${why:-$(printf '%s' "$out" | tail -n 1)}"
	fi
}
echo "inside: $(id -un 2>/dev/null || id -u) (uid $(id -u)), hostname $(hostname), LOCKSHELL_SANDBOX=$LOCKSHELL_SANDBOX"
try "list /usr (read_only)" sh -c 'ls /usr | head -n 3 | tr "\n" " "'
try "read /etc/os-release (read_only)" sh -c 'head -n 1 /etc/os-release'
try "write the workdir (include_workdir)" sh -c 'echo hi > ./note && cat ./note'
try "write /tmp (read_write, private tmpfs)" sh -c 'echo hi > /tmp/note && cat /tmp/note'
try "write /usr (read_only: read-only mount)" touch /usr/lockshell-demo
try "chmod /etc/hostname (outside read_write)" chmod 777 /etc/hostname
try "list /opt (not in the policy)" ls /opt
try "list /root (not in the policy)" ls /root
try "count processes (own PID namespace)" sh -c 'ls /proc | grep -c "^[0-9]" | sed "s/$/ processes/"'
try "write /proc/sys (read-only procfs)" sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid'
try "new user namespace (seccomp)" unshare --user true
try "ptrace (seccomp)" python3 -c 'import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(0, 0, 0, 0) != 0:
    raise SystemExit("ptrace: " + os.strerror(ctypes.get_errno()))'
try "memfd_create (seccomp)" python3 -c 'import os; os.memfd_create("x")'
try "reach the host's loopback (network none)" python3 -c 'import socket; socket.create_connection(("127.0.0.1", 22), 1)'
TOUR
show "$ls" run -w "$work" -- sh "$work/tour.sh"

step "Exit codes: the workload's own, 124 on timeout, 127 when not found"
show "$ls" run -w "$work" -- sh -c 'exit 42'
show "$ls" run -w "$work" --timeout 1 -- sleep 10
show "$ls" run -w "$work" -- no-such-command

step "Bad input is refused with file, line and column"
printf 'version: 1\nfilesystem_policy:\n  read_onyl: [/usr]\nlandlock:\n  compatibility: best_efort\n' >"$work/bad.yaml"
show "$ls" policy check "$work/bad.yaml"

step "Checking the example policies"
show "$ls" policy check examples/policies/*.yaml
