#!/usr/bin/env bash
# GPU sandboxes on a machine with an NVIDIA GPU: builds lockshell and
# tests/gpu/cuda-basic.cu, prints the host facts, then runs the CUDA workload
# bare, under `lockshell run --gpu` (directly, from a shell script, and on one
# selected GPU), with the procfs addition withheld (expects CUDA error 304) and
# without --gpu (expects CUDA to fail). One PASS/FAIL line per case; exits
# non-zero when any expectation failed. Stays under 4 minutes.
#   bash tests/gpu/device-check.sh        (from the repository root)
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2

BUDGET=220 # seconds for the whole check, every step included
NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
BUILD=${BUILD:-build}
LOCKSHELL=$PWD/$BUILD/lockshell
passed=0
failed=0

# The smaller of $1 and the seconds left in the budget, at least 5.
limit() {
	local left=$((BUDGET - SECONDS))
	[ "$left" -lt 5 ] && left=5
	[ "$1" -lt "$left" ] && left=$1
	echo "$left"
}

section() {
	printf '\n== %s\n' "$*"
}

die() {
	echo "device-check: $*" >&2
	exit 2
}

build() {
	section "build"
	timeout "$(limit 60)" scripts/deps.sh check ||
		echo "device-check: scripts/deps.sh check failed; trying the build anyway" >&2
	timeout "$(limit 60)" make -j"$(nproc)" BUILD="$BUILD" >"$work/make.log" 2>&1 ||
		{ tail -n 30 "$work/make.log"; die "make failed"; }
	echo "built $LOCKSHELL"
	[ -x "$NVCC" ] || die "$NVCC not found (set NVCC=/path/to/nvcc)"
	timeout "$(limit 90)" "$NVCC" -O2 -arch=native -o "$work/cuda-basic" \
		tests/gpu/cuda-basic.cu -lcuda || die "nvcc failed"
	chmod 0755 "$work/cuda-basic"
	echo "built $work/cuda-basic"
	# A shell that starts the CUDA program: a grandchild of lockshell.
	cat >"$work/from-shell.sh" <<-'EOF'
		#!/bin/sh
		"$(dirname "$0")/cuda-basic"
		rc=$?
		exit "$rc"
	EOF
	chmod 0755 "$work/from-shell.sh"
}

host_facts() {
	section "host"
	uname -r
	timeout "$(limit 20)" nvidia-smi -L || echo "(nvidia-smi failed: rc $?)"
	ls -l /dev/nvidia* /dev/dxg 2>/dev/null
	section "lockshell probe"
	timeout "$(limit 10)" "$LOCKSHELL" probe || echo "(probe failed: rc $?)"
	section "lockshell policy show --effective --gpu"
	timeout "$(limit 10)" "$LOCKSHELL" policy show --effective --gpu ||
		echo "(policy show failed: rc $?)"
}

# judge NAME EXPECTATION RC OUTPUT_FILE; EXPECTATION is success, fail (the
# workload ran and failed) or fail304 (it ran and failed with error 304).
judge() {
	local name=$1 expect=$2 rc=$3 out=$4 verdict=FAIL why
	local ok_line='^LOCKSHELL_GPU_WORKLOAD_SUCCESS cuda-basic$'
	local fail_line='^LOCKSHELL_GPU_WORKLOAD_FAILURE '
	if [ "$rc" -eq 124 ]; then
		why="timed out"
	elif [ "$expect" = success ]; then
		why="expected success (rc 0 and the SUCCESS line), got rc $rc"
		[ "$rc" -eq 0 ] && grep -q "$ok_line" "$out" && verdict=PASS
	elif grep -q "$ok_line" "$out"; then
		why="expected a CUDA failure, but the workload succeeded"
	elif ! grep -q "$fail_line" "$out"; then
		why="expected the workload to run and report a failure; it did not run (rc $rc)"
	elif [ "$expect" = fail304 ]; then
		why="expected CUDA error 304, got another failure (rc $rc)"
		[ "$rc" -ne 0 ] && grep -q "${fail_line}.* 304 " "$out" && verdict=PASS
	else
		why="expected a non-zero exit, got rc $rc"
		[ "$rc" -ne 0 ] && verdict=PASS
	fi
	if [ "$verdict" = PASS ]; then
		passed=$((passed + 1))
		echo "PASS: $name"
	else
		failed=$((failed + 1))
		echo "FAIL: $name: $why"
	fi
}

# run_case NAME EXPECTATION CMD...: runs CMD in the work directory.
run_case() {
	local name=$1 expect=$2 out="$work/case.out" rc
	shift 2
	section "$name (expect $expect)"
	echo "\$ $*"
	(cd "$work" && timeout "$(limit 40)" "$@") >"$out" 2>&1
	rc=$?
	sed 's/^/  | /' "$out"
	echo "  rc=$rc"
	judge "$name" "$expect" "$rc" "$out"
}

first_gpu_index() {
	local node
	for node in /dev/nvidia[0-9]*; do
		[ -e "$node" ] && { echo "${node#/dev/nvidia}"; return; }
	done
}

work=$(mktemp -d /tmp/lockshell-gpu.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"

build
host_facts

bin=$work/cuda-basic
run_case "bare" success "$bin"
run_case "run --gpu" success "$LOCKSHELL" run --gpu -- "$bin"
run_case "run --gpu, from a shell script (grandchild)" success \
	"$LOCKSHELL" run --gpu -- "$work/from-shell.sh"
index=$(first_gpu_index)
if [ -n "$index" ]; then
	run_case "run --gpu=$index" success "$LOCKSHELL" run --gpu="$index" -- "$bin"
else
	section "run --gpu=N: no /dev/nvidia<N> node on this host, case not run"
fi
run_case "run --gpu --diagnostic-withhold-procfs-write" fail304 \
	"$LOCKSHELL" run --gpu --diagnostic-withhold-procfs-write -- "$bin"
run_case "run without --gpu" fail "$LOCKSHELL" run -- "$bin"

section "summary"
echo "$passed passed, $failed failed (${SECONDS}s)"
[ "$failed" -eq 0 ]
