#!/usr/bin/env bash
# Load: SANDBOXES detached idle sandboxes created concurrently, each entered
# EXECS times with `sandbox exec` (the sandboxes' exec loops run
# concurrently), then deleted concurrently. Prints the time of each phase,
# the peak memory (VmHWM) of the supervisors, whether every exec returned
# its own exit code, and what is left afterwards: host mounts, processes
# holding a namespace of a sandbox, supervisors, state entries, and the fds
# of each supervisor before and after its execs. Exits 1 when anything is
# wrong.
#   bench/load.sh [SANDBOXES] [EXECS]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

count=${1:-200}
execs=${2:-10}
bench_sandboxes_setup

now() { date +%s.%N; }
names=()
for i in $(seq 1 "$count"); do names+=("load-$i"); done

# Processes and namespaces of the sandboxes, read from /proc: one line per
# sandbox with its supervisor (pid, start time, VmHWM in kB, fd count), its
# PID 1 (pid, start time) and the inodes of PID 1's namespaces.
snapshot() {
	"$ls" sandbox list --json | /usr/bin/python3 -c '
import json, os, sys
def start(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]
for s in json.load(sys.stdin):
    sup, main = s["supervisor_pid"], s["main_pid"]
    with open(f"/proc/{sup}/status") as f:
        hwm = next(l.split()[1] for l in f if l.startswith("VmHWM:"))
    fds = len(os.listdir(f"/proc/{sup}/fd"))
    ns = sorted({os.stat(f"/proc/{main}/ns/{n}").st_ino
                 for n in ("pid", "mnt", "ipc", "uts", "net", "user")
                 if os.stat(f"/proc/{main}/ns/{n}").st_ino != os.stat(f"/proc/self/ns/{n}").st_ino})
    print(s["name"], s["state"], sup, start(sup), hwm, fds, main, start(main),
          ",".join(map(str, ns)))'
}

mounts_before=$(wc -l </proc/self/mountinfo)
fds_before=$(ls /proc/$$/fd | wc -l)

# 1. SANDBOXES concurrent creates.
t0=$(now)
pids=()
for n in "${names[@]}"; do
	"$ls" sandbox create --detach --name "$n" >"$out/create-$n" 2>&1 &
	pids+=($!)
done
create_failed=0
for p in "${pids[@]}"; do wait "$p" || create_failed=$((create_failed + 1)); done
t1=$(now)
snapshot >"$out/after-create"

# 2. EXECS execs into every sandbox, the sandboxes' loops side by side. Exec
# J into sandbox I exits with (I + J) % 100: each must come back unchanged.
pids=()
for i in $(seq 1 "$count"); do
	(
		for j in $(seq 1 "$execs"); do
			want=$(((i + j) % 100))
			rc=0
			"$ls" sandbox exec "load-$i" -- /bin/sh -c "exit $want" >/dev/null 2>>"$out/exec-err-$i" || rc=$?
			echo "$want $rc"
		done >"$out/exec-$i"
	) &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
t2=$(now)
snapshot >"$out/after-exec"

# 3. SANDBOXES concurrent deletes.
pids=()
for n in "${names[@]}"; do
	"$ls" sandbox delete "$n" >"$out/delete-$n" 2>&1 &
	pids+=($!)
done
delete_failed=0
for p in "${pids[@]}"; do wait "$p" || delete_failed=$((delete_failed + 1)); done
t3=$(now)

mounts_after=$(wc -l </proc/self/mountinfo)
fds_after=$(ls /proc/$$/fd | wc -l)
state_left=$(find "$LOCKSHELL_STATE_DIR" -mindepth 1 | wc -l)

/usr/bin/python3 - "$out" "$count" "$execs" "$t0" "$t1" "$t2" "$t3" "$create_failed" \
	"$delete_failed" "$mounts_before" "$mounts_after" "$fds_before" "$fds_after" \
	"$state_left" <<'PY'
import glob, os, statistics, sys
(out, count, execs, t0, t1, t2, t3, create_failed, delete_failed, mounts_before, mounts_after,
 fds_before, fds_after, state_left) = sys.argv[1:]
count, execs = int(count), int(execs)
t0, t1, t2, t3 = map(float, (t0, t1, t2, t3))
problems = []

def table(path):
    rows = {}
    for line in open(path):
        name, state, sup, sup_start, hwm, fds, main, main_start, ns = line.split()
        rows[name] = dict(state=state, sup=int(sup), sup_start=sup_start, hwm=int(hwm),
                          fds=int(fds), main=int(main), main_start=main_start,
                          ns={int(x) for x in ns.split(",")})
    return rows

created, executed = table(f"{out}/after-create"), table(f"{out}/after-exec")
if int(create_failed) or len(created) != count:
    problems.append(f"creates: {create_failed} failed, {len(created)} of {count} listed")
not_running = [n for n, r in executed.items() if r["state"] != "running"]
if not_running:
    problems.append(f"not running after the execs: {not_running[:5]}")

right = wrong = 0
for path in glob.glob(f"{out}/exec-[0-9]*"):
    for line in open(path):
        want, got = line.split()
        if want == got:
            right += 1
        else:
            wrong += 1
if right != count * execs:
    errs = [open(p).read().strip() for p in glob.glob(f"{out}/exec-err-*")]
    problems.append(f"execs: {right} right, {wrong} wrong of {count * execs}; "
                    f"first errors: {[e for e in errs if e][:3]}")

fd_growth = [n for n in created if n in executed and executed[n]["fds"] != created[n]["fds"]]
if fd_growth:
    problems.append(f"supervisor fds changed across the execs: {fd_growth[:5]}")

def start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] in "ZX" else fields[19]
    except OSError:
        return None

left = [f"{n} {what} {pid}" for n, r in executed.items()
        for what, pid, start in (("supervisor", r["sup"], r["sup_start"]),
                                 ("PID 1", r["main"], r["main_start"]))
        if start_time(pid) == start]
sandbox_ns = set().union(*(r["ns"] for r in executed.values())) if executed else set()
holders = set()
for entry in filter(str.isdigit, os.listdir("/proc")):
    try:
        for n in os.listdir(f"/proc/{entry}/ns"):
            if os.stat(f"/proc/{entry}/ns/{n}").st_ino in sandbox_ns:
                holders.add(int(entry))
    except OSError:
        pass
if int(delete_failed):
    problems.append(f"deletes: {delete_failed} failed")
if left:
    problems.append(f"processes left: {left[:5]}")
if holders:
    problems.append(f"processes holding a sandbox namespace: {sorted(holders)[:5]}")
if mounts_before != mounts_after:
    problems.append(f"host mounts: {mounts_before} before, {mounts_after} after")
if fds_before != fds_after:
    problems.append(f"fds of this script: {fds_before} before, {fds_after} after")
if state_left != "0":
    problems.append(f"state entries left: {state_left}")

hwm = sorted(r["hwm"] for r in executed.values()) or [0]
fds = sorted(r["fds"] for r in executed.values()) or [0]
print(f"sandboxes:      {count}, {execs} execs each, on {os.cpu_count()} CPUs")
print(f"create:         {t1 - t0:6.2f}s for {count} concurrent creates")
print(f"exec:           {t2 - t1:6.2f}s for {count * execs} execs "
      f"({(t2 - t1) * 1000 / (count * execs):.2f} ms each on average, "
      f"{count * execs / (t2 - t1):.0f} per second)")
print(f"delete:         {t3 - t2:6.2f}s for {count} concurrent deletes")
print(f"total:          {t3 - t0:6.2f}s")
print(f"supervisor RSS: VmHWM median {statistics.median(hwm) / 1024:.2f} MiB, "
      f"max {hwm[-1] / 1024:.2f} MiB")
print(f"supervisor fds: median {statistics.median(fds):g}, max {fds[-1]}, "
      f"unchanged by the execs: {'yes' if not fd_growth else 'NO'}")
print(f"exit codes:     {right}/{count * execs} right")
print(f"leaks:          host mounts {mounts_before} -> {mounts_after}; "
      f"namespace holders {len(holders)} of {len(sandbox_ns)} sandbox namespaces; "
      f"supervisors and PID 1s left {len(left)}; state entries {state_left}; "
      f"script fds {fds_before} -> {fds_after}")
for p in problems:
    print(f"PROBLEM: {p}")
sys.exit(1 if problems else 0)
PY
