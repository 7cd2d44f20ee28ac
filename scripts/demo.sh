#!/usr/bin/env bash
# `make demo`: lockshell's main job on its built-in default policy, narrated
# for a newcomer: what the default policy allows, and what the kernel refuses.
set -uo pipefail

BUILD=${BUILD:-build}
ls=$PWD/$BUILD/lockshell
bold=$(tput bold 2>/dev/null || true)
plain=$(tput sgr0 2>/dev/null || true)

step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; "$@"; printf '(exit %d)\n' "$?"; }

step "The built-in default policy (OpenShell's restrictive default)"
show "$ls" policy show

step "Checking the example policies"
show "$ls" policy check examples/policies/*.yaml
