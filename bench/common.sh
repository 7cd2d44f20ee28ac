# Shared by the benchmark scripts: peers installed from Debian, hyperfine
# JSON summarised as medians and ratios (ratios measured in one run count;
# absolute times on a shared machine are noise).

bench_need() {
	local missing=() cmd pkg
	for pair in "$@"; do
		cmd=${pair%%:*} pkg=${pair##*:}
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# bench_report JSON BASELINE_NAME: medians of every command and the ratio of
# each to the named baseline and of lockshell's lines to each peer.
bench_report() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))["results"]
base = sys.argv[2]
med = {r["command"]: r["median"] * 1000 for r in data}
names = list(med)
width = max(len(n) for n in names)
print(f"{'command':<{width}}  median ms")
for n in names:
    print(f"{n:<{width}}  {med[n]:9.3f}")
ours = [n for n in names if n.startswith("lockshell")]
if base in med:
    for o in ours:
        print(f"{o}: +{med[o] - med[base]:.3f} ms over {base} ({med[o] / med[base]:.2f}x)")
for o in ours:
    for n in names:
        if n not in ours and n != base:
            print(f"ratio {o} / {n}: {med[o] / med[n]:.2f}")
PY
}

# bench_sandboxes_setup: builds lockshell ($BUILD, default build), sets $ls
# to it and $out to a scratch directory holding a private state directory,
# and on exit deletes every sandbox left there and the scratch directory.
bench_sandboxes_setup() {
	build=${BUILD:-build}
	make -s BUILD="$build" "$build/lockshell" >/dev/null
	ls=$PWD/$build/lockshell
	out=$(mktemp -d)
	export LOCKSHELL_STATE_DIR="$out/state"
	trap bench_sandboxes_cleanup EXIT
}

bench_sandboxes_cleanup() {
	"$ls" sandbox list --json 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print(" ".join(s["name"] for s in json.load(sys.stdin)))' |
		xargs -r "$ls" sandbox delete >/dev/null 2>&1 || true
	rm -rf "$out"
}
