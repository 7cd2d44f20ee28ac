#!/usr/bin/env bash
# Checks for (or installs) the Debian packages lockshell's build and tests need.
#   deps.sh check    install what is missing when root, else print the apt line
#   deps.sh install  install everything (root)
set -euo pipefail

PACKAGES=(build-essential pkg-config clang libyaml-dev libseccomp-dev libjansson-dev
	libcap-dev libcmocka-dev python3-pytest libclang-rt-14-dev llvm tmux util-linux
	cppcheck clang-tidy valgrind strace)

missing() {
	local pkg
	for pkg in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			printf '%s\n' "$pkg"
	done
}

install() {
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "$@"
}

case "${1:-check}" in
install)
	install "${PACKAGES[@]}"
	;;
check)
	mapfile -t need < <(missing)
	[ "${#need[@]}" -eq 0 ] && exit 0
	if [ "$(id -u)" -eq 0 ]; then
		echo "lockshell: installing missing build dependencies: ${need[*]}" >&2
		install "${need[@]}"
	else
		echo "lockshell: missing build dependencies; install them with:" >&2
		echo "  sudo apt-get install -y ${need[*]}" >&2
		exit 1
	fi
	;;
*)
	echo "usage: $0 check|install" >&2
	exit 2
	;;
esac
