#!/usr/bin/env bash
# Static analysis of src/: cppcheck, then clang-tidy with the checks of
# .clang-tidy on each source file (`make cppcheck`, `make clang-tidy`, from
# mk/analyze.mk). cppcheck is one check; each file clang-tidy reads is one
# check. Any finding fails its check.
set -uo pipefail
. "$(dirname "$0")/common.bash"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if need_tools "cppcheck" cppcheck; then
	if submake cppcheck >"$out/cppcheck" 2>&1; then
		check_pass "cppcheck src/"
	else
		grep -v -e '^cppcheck ' -e '^	' "$out/cppcheck" | tail -n 60
		check_fail "cppcheck src/"
	fi
fi

if need_tools "clang-tidy" clang-tidy; then
	if ! submake "$BUILD/gen/seccomp-bpf.h" >"$out/gen" 2>&1; then
		tail -n 30 "$out/gen"
		check_fail "clang-tidy: the generated seccomp header did not build"
	else
		for f in $(find src -name '*.c' | sort); do
			echo "clang-tidy/$f"
		done >"$out/targets"
		# One make, so that files are read two (nproc) at a time; the
		# output of each file is then told apart by its own make run.
		submake -k -O $(cat "$out/targets") >"$out/tidy" 2>&1
		while read -r t; do
			f=${t#clang-tidy/}
			if grep -q -e "^/.*/$f:[0-9]*:[0-9]*: \(error\|warning\)" -e "^$f:" \
				-e "clang-tidy/$f\] Error" "$out/tidy"; then
				check_fail "clang-tidy $f"
			else
				check_pass "clang-tidy $f"
			fi
		done <"$out/targets"
		grep -v '^make: \*\*\* ' "$out/tidy" | head -n 200
	fi
fi
summary
