"""Faults: nothing is lost and nothing is left half-sandboxed when things go
wrong around a sandbox.

- The supervisor is SIGKILLed at every system call of its setup (strace
  injects the signal at the N-th call of one syscall, so each stage is hit
  exactly), while its sandbox's PID 1 or workload is held at a named step of
  theirs (strace -f delays that call), at spread delays into a detached
  start, and in `sandbox exec`. Afterwards no process of the sandbox is
  left, `list` shows it absent or `stopped`, and `delete` cleans it.
- The state directory's disk is full, or the directory is read-only.
- Few file descriptors (`ulimit -n`).
- The policy file is replaced while sandboxes start.
- Creators race for one name with different policies.
- `exec` into a sandbox that is being deleted.
- A fork bomb inside the sandbox: the workload's RLIMIT_NPROC ceiling
  (4096 or $LOCKSHELL_NPROC, never above the inherited limit) stops it
  while the host still starts processes.

Every test runs as root and as the unprivileged test user; each stays within
a few seconds."""

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import (
    LOCKSHELL,
    PROBES_DIR,
    describe,
    policy_yaml,
    probe,
    probe_outcome,
    run_lockshell,
    write_policy,
)
from test_isolation import children, kill_all, unique_seconds
from test_sandbox import Sandboxes, alive, sandboxes, wait_gone  # noqa: F401 (fixture)

STRACE = shutil.which("strace") or "/usr/bin/strace"
SYSTEM_READ_ONLY = ["/usr", "/lib", "/etc", "/proc", "/dev/urandom", str(PROBES_DIR)]
POLICY = policy_yaml(read_only=SYSTEM_READ_ONLY, read_write=["/dev/null"], include_workdir=True)
ERROR_LINE = re.compile(r"^lockshell: error: \S.*$", re.M)


@pytest.fixture
def workdir(identity, make_scratch):
    """Outside /tmp, so the sandbox's private /tmp holds nothing of the host."""
    return make_scratch(identity, parent="/var/tmp")


@pytest.fixture
def policy_file():
    path = write_policy(POLICY)
    yield path
    os.unlink(path)


def sleeper(mark):
    """A workload with a child: both carry mark in their argv."""
    return ["/bin/sh", "-c", f"/bin/sleep {mark} & /bin/sleep {mark}"]


def marked(mark):
    """Live processes (strace aside) whose command line holds mark."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if comm != "strace" and mark.encode() in cmdline and alive(int(entry)):
            found.append(int(entry))
    return found


def leftovers(mark, seconds=5.0):
    """The marked processes still there after seconds (normally none)."""
    deadline = time.monotonic() + seconds
    while (left := marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return left


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def in_syscall(pid, name):
    """Whether pid is stopped in syscall `name` (from /proc/PID/syscall)."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            return f.read().split()[0] == str(SYSCALL_NR[name])
    except (OSError, IndexError):
        return False


# x86_64 numbers of the syscalls the held stages stop at.
SYSCALL_NR = {"unshare": 272, "mount": 165, "move_mount": 429, "setns": 308,
              "landlock_add_rule": 445, "landlock_restrict_self": 446, "execve": 59,
              "clone": 56, "pidfd_open": 434, "seccomp": 317}


# --- the supervisor killed at each system call of its setup ----------------------------

SYSCALL_LINE = re.compile(r"^([a-z0-9_]+)\(")


def supervisor_syscalls(identity, argv, env, start, scratch):
    """The supervisor's syscalls while argv runs once under strace (no -f):
    (name, n) for every call from the first line matching `start` through
    the first poll (the wait loop), n counting that name's calls from the
    process's start, as strace's inject=NAME:when=n does."""
    trace = scratch / "trace.txt"
    proc = subprocess.run(identity.prefix + [STRACE, "-o", str(trace)] + argv,
                          capture_output=True, text=True, env=env, timeout=60, cwd="/")
    assert proc.returncode == 0, describe(proc)
    counts, picked, started = {}, [], False
    for line in trace.read_text().splitlines():
        m = SYSCALL_LINE.match(line)
        if not m:
            continue
        name = m.group(1)
        counts[name] = counts.get(name, 0) + 1
        started = started or re.search(start, line) is not None
        if started and name not in UNCOUNTABLE:
            picked.append((name, counts[name]))
            if name == "poll":
                break
    assert picked and picked[-1][0] == "poll", trace.read_text()
    return picked


# Calls whose number varies from run to run, so that "the n-th" names no
# fixed stage: glibc's temporary names call getrandom only while its pool is
# empty; sem_post() and pthread_join() call futex only when the thread that
# creates the network namespace is still waiting or still running.
UNCOUNTABLE = {"getrandom", "futex"}


def killed_at(identity, argv, env, name, n, seconds=20):
    """Runs argv with SIGKILL delivered to it on entering its n-th `name`.
    A run that was never killed there (its workload sleeps) is ended with
    its whole session after `seconds` and comes back with returncode None."""
    proc = subprocess.Popen(
        identity.prefix + [STRACE, "-qq", "-o", "/dev/null", "-e", f"trace={name}", "-e",
                           f"inject={name}:signal=SIGKILL:when={n}"] + argv,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd="/",
        start_new_session=True)
    try:
        out, err = proc.communicate(timeout=seconds)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return subprocess.CompletedProcess(proc.args, None, "", f"still running after {seconds}s")


def test_run_killed_at_each_setup_syscall(identity, workdir, policy_file, make_scratch):
    """`lockshell run`, from loading the policy to supervising, killed at
    every syscall: the namespaces, PID 1 and the workload never outlive it."""
    env = dict(os.environ)
    base = [str(LOCKSHELL), "run", "-p", policy_file, "-w", str(workdir), "--"]
    calls = supervisor_syscalls(identity, base + ["/bin/true"], env,
                                r"^openat\(.*" + re.escape(policy_file), make_scratch(identity))
    assert len(calls) >= 30, calls
    failures = []
    for name, n in calls:
        mark = unique_seconds(1)[0]
        proc = killed_at(identity, base + sleeper(mark), env, name, n)
        if proc.returncode != -signal.SIGKILL:
            failures.append(f"{name}#{n}: not killed there: {describe(proc)}")
        failures += leftover_problems(f"{name}#{n}", mark)
    assert not failures, "\n".join(failures)


def leftover_problems(label, mark):
    """The marked processes still alive, as failure lines; they are killed."""
    left = leftovers(mark)
    kill_all(left)
    return [f"{label}: left {[(p, comm(p)) for p in left]}"] if left else []


def state_after_kill(sandboxes, name):
    """Problems with the state left by a killed creator: a sandbox that
    looks alive, one `delete` cannot clean, or anything else but a
    directory in the making (the next create removes those)."""
    problems = [e for e in sandboxes.entries() if e != name and not e.startswith(".new-")]
    if name in sandboxes.entries():
        state = sandboxes.list().get(name, {}).get("state")
        if state != "stopped":
            problems.append(f"state {state}")
        proc = sandboxes.delete(name)
        if proc.returncode != 0:
            problems.append(describe(proc))
    if [e for e in sandboxes.entries() if not e.startswith(".new-")]:
        problems.append(f"after delete: {sandboxes.entries()}")
        shutil.rmtree(sandboxes.state, ignore_errors=True)
        sandboxes.state.mkdir(mode=0o700)
        os.chown(sandboxes.state, sandboxes.identity.uid, sandboxes.identity.gid)
    return problems


def test_create_killed_at_each_setup_syscall(sandboxes, workdir, policy_file, make_scratch):
    """`sandbox create` in the foreground (the supervisor code a detached
    daemon runs as well), killed at every syscall from reserving the name to
    supervising: no process left; the sandbox is absent or `stopped` and
    `delete` cleans it; a directory in the making left by a creator killed
    before its rename is removed by the next create."""
    who = sandboxes.identity
    env = dict(os.environ, **sandboxes.env)

    def argv(name, cmd):
        return [str(LOCKSHELL), "sandbox", "create", "--name", name, "-p", policy_file, "-w",
                str(workdir), "--"] + cmd

    calls = supervisor_syscalls(who, argv("traced", ["/bin/true"]), env, r"^mkdir\(",
                                make_scratch(who))
    assert sandboxes.delete("traced").returncode == 0
    assert len(calls) >= 40, calls
    failures = []
    for i, (name, n) in enumerate(calls):
        mark = unique_seconds(1)[0]
        sandbox = f"killed-{i}"
        proc = killed_at(who, argv(sandbox, sleeper(mark)), env, name, n)
        if proc.returncode != -signal.SIGKILL:
            failures.append(f"{name}#{n}: not killed there: {describe(proc)}")
        failures += leftover_problems(f"{name}#{n}", mark)
        failures += [f"{name}#{n}: {p}" for p in state_after_kill(sandboxes, sandbox)]
    assert not failures, "\n".join(failures)
    # The directories in the making of killed creators are gone after the
    # next create.
    sandboxes.created("after")
    assert sandboxes.entries() == ["after"]


def test_exec_killed_at_each_setup_syscall(sandboxes, make_scratch):
    """`sandbox exec` killed at every syscall of its setup: its command ends
    and the sandbox goes on, usable."""
    who = sandboxes.identity
    env = dict(os.environ, **sandboxes.env)
    name = sandboxes.created("target")
    main_pid = sandboxes.list()[name]["main_pid"]
    base = [str(LOCKSHELL), "sandbox", "exec", name, "--"]
    calls = supervisor_syscalls(who, base + ["/bin/true"], env, r"^openat\(.*" + name,
                                make_scratch(who))
    assert len(calls) >= 20, calls
    failures = []
    for name_, n in calls:
        mark = unique_seconds(1)[0]
        proc = killed_at(who, base + ["/bin/sleep", mark], env, name_, n)
        if proc.returncode != -signal.SIGKILL:
            failures.append(f"{name_}#{n}: not killed there: {describe(proc)}")
        failures += leftover_problems(f"{name_}#{n}", mark)
        if not alive(main_pid):
            failures.append(f"{name_}#{n}: the sandbox's PID 1 died")
            break
    assert not failures, "\n".join(failures)
    assert sandboxes.list()[name]["state"] == "running"
    proc = sandboxes.exec(name, ["/bin/sh", "-c", "exit 3"])
    assert proc.returncode == 3, describe(proc)


# --- the supervisor killed while PID 1 or the workload is at a given step -------------

# (syscall held, which process is held): PID 1 building the namespaces and
# mounts, preparing the workload's Landlock rules and joining the network
# namespace the supervisor made, then the workload it forks enforcing
# Landlock and seccomp, and executing the command.
HELD_STEPS = [("unshare", "init"), ("mount", "init"), ("move_mount", "init"),
              ("landlock_add_rule", "init"), ("setns", "init"),
              ("landlock_restrict_self", "workload"), ("seccomp", "workload"),
              ("execve", "workload")]


def start_held(identity, argv, env, syscall):
    """argv under strace -f with every `syscall` delayed by 0.3 s."""
    return subprocess.Popen(
        identity.prefix + [STRACE, "-f", "-qq", "-o", "/dev/null", "-e", f"trace={syscall}",
                           "-e", f"inject={syscall}:delay_enter=300ms"] + argv,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd="/")


def held_process(tracer, depth, syscall):
    """(supervisor, held) once the process `depth` levels below the tracer
    (1: the supervisor, 2: its child, 3: its grandchild) is held in syscall."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        chain = [tracer.pid]
        while len(chain) <= depth and (kids := children(chain[-1])):
            chain.append(kids[0])
        if len(chain) > depth and in_syscall(chain[depth], syscall):
            return chain[1], chain[depth]
        if tracer.poll() is not None:
            pytest.fail(f"exited ({tracer.returncode}) before anything was held in {syscall}")
        time.sleep(0.002)
    pytest.fail(f"no process {depth} levels down was ever held in {syscall}")


def end_tracer(tracer):
    try:
        tracer.wait(timeout=10)
    except subprocess.TimeoutExpired:
        tracer.kill()
        tracer.wait()


@pytest.mark.parametrize("syscall,role", HELD_STEPS, ids=[f"{s}-{r}" for s, r in HELD_STEPS])
def test_run_killed_while_sandbox_builds(identity, workdir, policy_file, syscall, role):
    mark = unique_seconds(1)[0]
    argv = [str(LOCKSHELL), "run", "-p", policy_file, "-w", str(workdir), "--"] + sleeper(mark)
    tracer = start_held(identity, argv, dict(os.environ), syscall)
    try:
        supervisor, held = held_process(tracer, 2 if role == "init" else 3, syscall)
        assert comm(supervisor) == "lockshell"
        os.kill(supervisor, signal.SIGKILL)
        assert leftovers(mark) == [], f"held {role} {held} in {syscall}"
        assert wait_gone([held], 5), f"held {role} {held} in {syscall} still there"
    finally:
        kill_all(marked(mark))
        end_tracer(tracer)


@pytest.mark.parametrize("syscall", ["setns", "landlock_restrict_self", "execve"])
def test_exec_killed_while_joining(sandboxes, syscall):
    """The supervisor of `sandbox exec` killed while its workload joins,
    enforces Landlock or executes: that workload ends, the sandbox lives."""
    name = sandboxes.created()
    main_pid = sandboxes.list()[name]["main_pid"]
    mark = unique_seconds(1)[0]
    argv = [str(LOCKSHELL), "sandbox", "exec", name, "--", "/bin/sleep", mark]
    tracer = start_held(sandboxes.identity, argv, dict(os.environ, **sandboxes.env), syscall)
    try:
        # The exec's supervisor forks the workload directly (no PID 1 of its own).
        supervisor, held = held_process(tracer, 2, syscall)
        os.kill(supervisor, signal.SIGKILL)
        assert leftovers(mark) == [] and wait_gone([held], 5)
    finally:
        kill_all(marked(mark))
        end_tracer(tracer)
    assert alive(main_pid)
    proc = sandboxes.exec(name, ["/bin/true"])
    assert proc.returncode == 0, describe(proc)


# --- the detached daemon killed at spread delays -----------------------------------------


def daemon_of(tracer_pid, mark):
    """The detached supervisor: a marked lockshell process whose parent is
    neither marked (the intermediate process is gone) nor the tracer (whose
    child is the creator)."""
    procs = set(marked(mark))
    for pid in procs:
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if comm(pid) == "lockshell" and ppid not in procs and ppid != tracer_pid:
            return pid
    return None


def stage_of(daemon, mark):
    """What had started when the daemon was killed."""
    procs = [p for p in marked(mark) if p != daemon]
    comms = {comm(p) for p in procs}
    if not children(daemon):
        return "daemon alone"
    if comms - {"lockshell", None}:
        return "workload running"
    return "PID 1 and workload preparing"


# The start-up slowed down for the spread kills: each mount, move_mount and
# landlock_add_rule 2 ms late, some 60 ms in all, so that kills 0 to 46 ms
# in land in several stages whatever the machine's speed.
SLOWED = ["mount", "move_mount", "landlock_add_rule"]


def test_detached_daemon_killed_at_spread_delays(sandboxes, workdir, policy_file):
    """A detached sandbox's daemon killed 0 to 46 ms into `create` (its
    start-up slowed down under strace), and once more after it returned:
    `create` exits 0 or 125 (naming the daemon's death), no process is left,
    and the sandbox is absent or `stopped` and `delete` cleans it."""
    who = sandboxes.identity
    env = dict(os.environ, **sandboxes.env)
    slow = [STRACE, "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + ",".join(SLOWED),
            "-e", "inject=" + ",".join(SLOWED) + ":delay_enter=2ms"]
    stages, failures = {}, []
    for i, delay_ms in enumerate(list(range(0, 48, 2)) + [None]):
        mark = unique_seconds(1)[0]
        name = f"detached-{i}"
        # strace lasts as long as the daemon it traces: not for the last kill.
        creator = subprocess.Popen(
            who.prefix + (slow if delay_ms is not None else []) +
            [str(LOCKSHELL), "sandbox", "create", "--detach", "--name", name, "-p", policy_file,
             "-w", str(workdir), "--"] + sleeper(mark),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd="/")
        if delay_ms is None:
            creator.wait(timeout=30)
        else:
            time.sleep(delay_ms / 1000)
        deadline = time.monotonic() + 10
        while (daemon := daemon_of(creator.pid, mark)) is None and time.monotonic() < deadline:
            time.sleep(0.001)
        if daemon is None:
            failures.append(f"{delay_ms} ms: no daemon found")
        else:
            stage = "started" if creator.poll() == 0 else stage_of(daemon, mark)
            os.kill(daemon, signal.SIGKILL)
            stages[stage] = stages.get(stage, 0) + 1
        out, err = creator.communicate(timeout=30)
        if creator.returncode not in (0, 125) or (
                creator.returncode == 125 and "exited during start-up" not in err):
            failures.append(f"{delay_ms} ms: create rc={creator.returncode} {out} {err}")
        failures += leftover_problems(f"{delay_ms} ms", mark)
        failures += [f"{delay_ms} ms: {p}" for p in state_after_kill(sandboxes, name)]
    assert not failures, "\n".join(failures)
    assert "started" in stages and len(stages) >= 2, stages


# --- the state directory: disk full, read-only -----------------------------------------


@pytest.fixture
def small_state(sandboxes):
    """The sandboxes' state directory on a 64 KiB tmpfs of its own."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "lockshell-test-state",
                    str(sandboxes.state)], check=True)
    os.chown(sandboxes.state, sandboxes.identity.uid, sandboxes.identity.gid)
    yield sandboxes
    delete_all(sandboxes)
    subprocess.run(["umount", "-l", str(sandboxes.state)], check=False)


def delete_all(sandboxes):
    """Deletes every sandbox listed, and kills whatever a failed delete
    left running, so that no test leaves a sandbox behind."""
    listed = sandboxes.list()
    if listed:
        sandboxes.delete(*listed)
    pids = [s[k] for s in listed.values() for k in ("supervisor_pid", "main_pid") if s.get(k)]
    if not wait_gone(pids, 5):
        kill_all(pids)


def fill(directory):
    """Fills the filesystem; the filler's dot name keeps it out of `list`.
    Unbuffered, so that nothing is left to flush (and fail) on close."""
    fd = os.open(directory / ".fill", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)


def open_fifo_for_writing(path, proc, seconds=20):
    """Opens the FIFO for writing once a reader has opened it, without ever
    blocking: fails the test when proc exits first or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
        else:
            os.set_blocking(fd, True)
            return os.fdopen(fd, "w")
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"exited ({proc.returncode}) before reading {path}: {out} {err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"nothing opened {path} for reading within {seconds}s")
        time.sleep(0.005)


def test_disk_full_create_fails_cleanly(small_state, workdir, policy_file):
    s = small_state
    fill(s.state)
    mark = unique_seconds(1)[0]
    for detach in (True, False):
        proc = s.create("full", cmd=sleeper(mark), policy=policy_file, detach=detach,
                        options=["-w", workdir])
        assert proc.returncode == 125, describe(proc)
        assert ERROR_LINE.findall(proc.stderr) == [proc.stderr.strip()], describe(proc)
        assert "No space left on device" in proc.stderr, describe(proc)
        assert s.entries() == [".fill"]
        assert marked(mark) == []
        assert s.list() == {}


def test_disk_full_running_sandbox_still_works_and_can_be_deleted(small_state):
    """A sandbox created before the disk filled up: exec, list and get work
    (they write nothing), and delete ends it and removes its state although
    it cannot record `deleting` first."""
    s = small_state
    name = s.created("before-full")
    pids = s.list()[name]
    fill(s.state)
    proc = s.exec(name, ["/bin/sh", "-c", "exit 4"])
    assert proc.returncode == 4, describe(proc)
    assert s.get(name)["state"] == "running"
    proc = s.delete(name)
    assert proc.returncode == 0, describe(proc)
    assert wait_gone([pids["main_pid"], pids["supervisor_pid"]], 5)
    assert s.entries() == [".fill"]


def test_disk_full_when_the_workload_ends_keeps_its_exit_code(small_state, workdir,
                                                               policy_file):
    """The disk fills while a foreground sandbox runs: its exit code still
    reaches the caller, with a warning that it could not be recorded."""
    s = small_state
    gate = workdir / "gate"
    os.mkfifo(gate)
    os.chown(gate, s.identity.workload_uid, s.identity.workload_gid)
    creator = subprocess.Popen(
        s.identity.prefix + [str(LOCKSHELL), "sandbox", "create", "--name", "fg", "-p",
                             policy_file, "-w", str(workdir), "--", "/bin/sh", "-c",
                             f"read line < {gate}; exit 6"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, **s.env))
    with open_fifo_for_writing(gate, creator) as f:  # once the workload runs
        # and once its start is recorded (the workload may open the FIFO first)
        state_file = s.state / "fg" / "state.json"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if json.loads(state_file.read_text())["status"] == "running":
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.005)
        else:
            creator.kill()
            pytest.fail(f"{state_file} never said running")
        fill(s.state)
        f.write("go\n")
    out, err = creator.communicate(timeout=30)
    assert creator.returncode == 6, (out, err)
    assert "warning" in err and "No space left on device" in err, err
    assert s.list()["fg"]["state"] == "stopped"
    assert s.delete("fg").returncode == 0
    assert s.entries() == [".fill"]


@pytest.fixture
def read_only_state(sandboxes):
    """(sandboxes, a read-only view of their state directory)."""
    view = Path(tempfile.mkdtemp(prefix="lockshell-ro-state-"))
    os.chown(view, sandboxes.identity.uid, sandboxes.identity.gid)
    os.chmod(view, 0o700)
    subprocess.run(["mount", "--bind", str(sandboxes.state), str(view)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
    ro = Sandboxes(sandboxes.identity)
    shutil.rmtree(ro.state)
    ro.state, ro.env = view, {"LOCKSHELL_STATE_DIR": str(view)}
    yield sandboxes, ro
    delete_all(sandboxes)
    subprocess.run(["umount", "-l", str(view)], check=False)
    view.rmdir()


def test_read_only_state_directory(read_only_state, workdir, policy_file):
    """On a read-only state directory create fails with one clear error and
    leaves nothing running; a sandbox created before still answers list, get
    and exec; delete ends it and says why its state stays; once the directory
    is writable again delete cleans it."""
    rw, ro = read_only_state
    name = rw.created("before-ro")
    pids = rw.list()[name]
    mark = unique_seconds(1)[0]
    proc = ro.create("new", cmd=sleeper(mark), policy=policy_file, options=["-w", workdir])
    assert proc.returncode == 125, describe(proc)
    assert ERROR_LINE.findall(proc.stderr) == [proc.stderr.strip()], describe(proc)
    assert "Read-only file system" in proc.stderr, describe(proc)
    assert marked(mark) == []
    listed = ro.run("list", "--json")
    assert listed.returncode == 0 and listed.stderr == "", describe(listed)
    assert [s["name"] for s in json.loads(listed.stdout)] == [name], describe(listed)
    assert ro.get(name)["state"] == "running"
    proc = ro.exec(name, ["/bin/sh", "-c", "exit 5"])
    assert proc.returncode == 5, describe(proc)
    proc = ro.delete(name)
    assert proc.returncode == 1, describe(proc)
    assert "Read-only file system" in proc.stderr, describe(proc)
    assert wait_gone([pids["main_pid"], pids["supervisor_pid"]], 5)
    # The supervisor recorded the end through the writable path it holds.
    assert ro.list()[name]["state"] == "exited"
    assert rw.delete(name).returncode == 0
    assert rw.entries() == []


# --- few file descriptors ----------------------------------------------------------------


def under_ulimit(sandboxes, n, args):
    who = sandboxes.identity
    return subprocess.run(
        ["/bin/sh", "-c", f'ulimit -n {n} && exec "$@"', "sh"] + who.prefix
        + [str(LOCKSHELL)] + [str(a) for a in args],
        capture_output=True, text=True, env=dict(os.environ, **sandboxes.env), timeout=30,
        cwd="/")


def test_few_file_descriptors(sandboxes, workdir, policy_file):
    """With RLIMIT_NOFILE from 4 (the loader needs one free) to 24, every
    command either works or fails with one clear error: no crash, nothing
    left running, no state left behind by a failed create."""
    name = sandboxes.created("fd-target")
    outcomes, failures = {}, []
    for n in range(4, 25):
        mark = unique_seconds(1)[0]
        made = f"fd-{n}"
        commands = {
            "run": ["run", "-p", policy_file, "-w", workdir, "--", "/bin/sh", "-c", "exit 7"],
            "create": ["sandbox", "create", "--detach", "--name", made, "-p", policy_file,
                       "-w", workdir, "--"] + sleeper(mark),
            "exec": ["sandbox", "exec", name, "--", "/bin/sh", "-c", "exit 7"],
            "list": ["sandbox", "list"],
            "get": ["sandbox", "get", name],
            "delete": ["sandbox", "delete", made],
        }
        for what, args in commands.items():
            proc = under_ulimit(sandboxes, n, args)
            worked = {"run": 7, "exec": 7}.get(what, 0)
            failed = 1 if what in ("list", "get", "delete") else 125
            ok = proc.returncode == worked
            if what == "delete" and not ok and "no sandbox named" in proc.stderr:
                ok = True  # its create failed
            if not ok and not (proc.returncode == failed
                               and ERROR_LINE.findall(proc.stderr) == [proc.stderr.strip()]):
                failures.append(f"ulimit -n {n} {what}: {describe(proc)}")
            outcomes.setdefault(what, set()).add("ok" if ok else "error")
        if left := leftovers(mark, 2):
            failures.append(f"ulimit -n {n}: left {[(p, comm(p)) for p in left]}")
            kill_all(left)
        if made in sandboxes.entries():
            sandboxes.delete(made)
    assert not failures, "\n".join(failures)
    assert sandboxes.entries() == [name]
    # The range covers both sides for every command.
    assert all(v == {"ok", "error"} for v in outcomes.values()), outcomes


# --- the policy file replaced while sandboxes start --------------------------------------


def test_policy_file_is_read_once(identity, workdir, policy_file, make_scratch):
    """`run` and `sandbox create` open the policy file exactly once, in one
    process, so no later step can see another version."""
    scratch = make_scratch(identity)
    state = make_scratch(identity)
    os.chown(state, identity.uid, identity.gid)
    os.chmod(state, 0o700)
    env = dict(os.environ, LOCKSHELL_STATE_DIR=str(state))
    # Every command ends by itself, so strace -f (which waits for the
    # detached daemon too) returns.
    for args in (["run", "-p", policy_file, "-w", workdir, "--", "/bin/true"],
                 ["sandbox", "create", "--name", "once", "-p", policy_file, "-w", workdir,
                  "--", "/bin/true"],
                 ["sandbox", "create", "--detach", "--name", "once-detached", "-p",
                  policy_file, "-w", workdir, "--", "/bin/true"]):
        trace = scratch / "trace.txt"
        proc = subprocess.run(identity.prefix + [STRACE, "-f", "-qq", "-o", str(trace), "-e",
                                                 "trace=open,openat,openat2", str(LOCKSHELL)]
                              + [str(a) for a in args], capture_output=True, text=True, env=env,
                              timeout=30)
        assert proc.returncode == 0, describe(proc)
        opens = [line for line in trace.read_text().splitlines() if policy_file in line]
        assert len(opens) == 1, opens
    proc = run_lockshell(["sandbox", "delete", "once", "once-detached"], as_user=identity,
                         env=env)
    assert proc.returncode == 0, describe(proc)


def test_policy_replaced_while_sandboxes_start(sandboxes, make_scratch):
    """A writer swaps the policy file between two versions (atomic rename)
    as fast as it can while sandboxes are created: each stored effective
    policy is exactly one version, and what the sandbox enforces matches it."""
    who = sandboxes.identity
    dirs = {v: make_scratch(who, parent="/var/tmp") for v in "ab"}
    texts = {v: policy_yaml(read_only=SYSTEM_READ_ONLY, read_write=["/dev/null", str(d)])
             for v, d in dirs.items()}
    folder = make_scratch(who)
    path = folder / "policy.yaml"
    path.write_text(texts["a"])
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            tmp = folder / f".policy-{i % 2}"
            tmp.write_text(texts["ab"[i % 2]])
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        names = [sandboxes.created(f"swap-{i}", policy=path) for i in range(12)]
    finally:
        stop.set()
        thread.join()
    seen = set()
    for name in names:
        stored = sandboxes.get(name, "--policy-only")["filesystem_policy"]["read_write"]
        versions = [v for v, d in dirs.items() if str(d) in stored]
        assert len(versions) == 1, stored
        v = versions[0]
        seen.add(v)
        for other, d in dirs.items():
            proc = sandboxes.exec(name, [probe("fsprobe"), "create", d / f"{name}-new"])
            # The other version's directory lies on a read-only mount.
            want = "ok" if other == v else "EROFS"
            assert probe_outcome(proc.stdout, "create") == want, describe(proc)
    assert seen == {"a", "b"}, names


# --- creators racing for one name -----------------------------------------------------------


def test_create_race_with_different_policies(sandboxes, make_scratch):
    """Six creators, foreground and detached, each with a policy of its own
    and a command that leaves a mark: one wins, its policy is the one
    stored and its command the one that ran; the others ran nothing."""
    who = sandboxes.identity
    racers = []
    for i in range(6):
        d = make_scratch(who, parent="/var/tmp")
        policy = write_policy(policy_yaml(read_only=SYSTEM_READ_ONLY,
                                          read_write=["/dev/null", str(d)]))
        detach = ["--detach"] if i % 2 else []
        argv = who.prefix + [str(LOCKSHELL), "sandbox", "create", "--name", "raced", "-p",
                             policy, *detach, "--", "/bin/sh", "-c",
                             f"touch {d}/ran; sleep 0.5"]
        racers.append((d, policy, argv))
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, **sandboxes.env))
             for _, _, argv in racers]
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    for _, policy, _ in racers:
        os.unlink(policy)
    winners = [i for i, r in enumerate(results) if r[0] == 0]
    assert len(winners) == 1, results
    for i, (rc, _, err) in enumerate(results):
        if i != winners[0]:
            assert rc == 125 and "'raced' already exists" in err, results
    deadline = time.monotonic() + 10
    while not (racers[winners[0]][0] / "ran").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    ran = [i for i, (d, _, _) in enumerate(racers) if (d / "ran").exists()]
    assert ran == winners, ran
    stored = sandboxes.get("raced", "--policy-only")["filesystem_policy"]["read_write"]
    assert str(racers[winners[0]][0]) in stored
    assert not any(str(d) in stored for i, (d, _, _) in enumerate(racers) if i != winners[0])


# --- exec into a sandbox being deleted ------------------------------------------------------


def test_exec_into_sandbox_being_deleted(sandboxes):
    """While `delete` holds the sandbox in `deleting` (strace delays its
    SIGTERM), exec fails at once with 125 naming the state; then delete
    finishes."""
    who = sandboxes.identity
    name = sandboxes.created("going")
    env = dict(os.environ, **sandboxes.env)
    deleter = subprocess.Popen(
        who.prefix + [STRACE, "-qq", "-o", "/dev/null", "-e", "trace=pidfd_send_signal", "-e",
                      "inject=pidfd_send_signal:delay_enter=1500ms:when=1", str(LOCKSHELL),
                      "sandbox", "delete", name],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    state_file = sandboxes.state / name / "state.json"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if json.loads(state_file.read_text())["status"] == "deleting":
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    start = time.monotonic()
    proc = sandboxes.exec(name, ["/bin/true"], timeout=10)
    assert time.monotonic() - start < 1.0
    assert proc.returncode == 125, describe(proc)
    assert f"'{name}' is not running (it is deleting)" in proc.stderr, describe(proc)
    out, err = deleter.communicate(timeout=30)
    assert deleter.returncode == 0, (out, err)
    assert sandboxes.entries() == []


def test_execs_racing_a_delete_end_cleanly(sandboxes):
    """Execs started around a delete: each ends within seconds with its own
    code, 137 (killed with the sandbox) or 125 with one clear error; those
    started after the delete returned are told there is no such sandbox."""
    who = sandboxes.identity
    name = sandboxes.created("raced-delete")
    env = dict(os.environ, **sandboxes.env)
    argv = who.prefix + [str(LOCKSHELL), "sandbox", "exec", name, "--", "/bin/sh", "-c",
                         "sleep 0.05; exit 9"]

    def start():
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)

    execs = []
    for i in range(12):
        if i == 4:
            deleter = subprocess.Popen(who.prefix + [str(LOCKSHELL), "sandbox", "delete", name],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, env=env)
        execs.append(start())
        time.sleep(0.01)
    assert deleter.wait(timeout=30) == 0, deleter.communicate()
    late = [start() for _ in range(2)]
    for p in execs + late:
        out, err = p.communicate(timeout=20)
        if p.returncode == 125:
            assert ERROR_LINE.findall(err) == [err.strip()], err
            assert "not running" in err or "no sandbox named" in err, err
        else:
            assert p.returncode in (9, 137) and p not in late, (p.returncode, out, err)
    assert sandboxes.entries() == []


# --- a fork bomb inside the sandbox -----------------------------------------------------

# lockshell lowers the workload's RLIMIT_NPROC (soft and hard) to 4096, or to
# $LOCKSHELL_NPROC, and never raises the inherited one (docs/isolation.md,
# "Limits").
NPROC_DEFAULT = 4096
LIMITS_LINE = re.compile(r"^Max processes\s+(\d+)\s+(\d+)\s", re.M)
BOMB_LINE = re.compile(r"^fork count=(\d+) errno=11 EAGAIN$", re.M)


@pytest.mark.parametrize("inherited,setting,limit", [
    (20000, None, NPROC_DEFAULT),  # the default ceiling
    (64, None, 64),  # a lower inherited limit is kept
    (20000, "48", 48),  # LOCKSHELL_NPROC lowers it
    (20000, "10000", 10000),  # and raises the ceiling
    (64, "10000", 64),  # but never above the inherited limit
], ids=["default", "inherited-lower", "setting-lower", "setting-higher", "setting-above-inherited"])
def test_process_limit_of_the_workload(identity, workdir, policy_file, inherited, setting,
                                       limit):
    """The workload's soft and hard RLIMIT_NPROC; where it is small, a fork
    bomb's fork fails with EAGAIN before it (the kernel's count is per uid,
    so processes of the same uid elsewhere take their share)."""
    bomb = f"; {probe('forkbomb')} 100000 0" if limit < 100 else ""
    proc = subprocess.run(
        ["prlimit", f"--nproc={inherited}:{inherited}", "--"] + identity.prefix
        + [str(LOCKSHELL), "run", "-p", policy_file, "-w", str(workdir), "--", "/bin/sh", "-c",
           "grep '^Max processes' /proc/self/limits" + bomb],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, LOCKSHELL_NPROC=setting) if setting else None)
    assert proc.returncode == 0, describe(proc)
    m = LIMITS_LINE.search(proc.stdout)
    assert m and (int(m.group(1)), int(m.group(2))) == (limit, limit), describe(proc)
    if bomb:
        m = BOMB_LINE.search(proc.stdout)
        assert m and int(m.group(1)) < limit, describe(proc)


@pytest.mark.parametrize("setting", ["0", "-1", "abc", "12x", "", "4194305"])
def test_invalid_process_limit_setting(identity, workdir, policy_file, setting):
    proc = run_lockshell(["run", "--", "/bin/true"], POLICY, identity, workdir=workdir,
                         env={"LOCKSHELL_NPROC": setting})
    assert proc.returncode == 125, describe(proc)
    assert ERROR_LINE.findall(proc.stderr) == [proc.stderr.strip()], describe(proc)
    assert f"LOCKSHELL_NPROC='{setting}'" in proc.stderr, describe(proc)


# Runs ARGV as PID 1's child in a new PID namespace whose kernel.pid_max is
# PID_MAX (per-namespace since Linux 6.14): a stand-in for the host's pid
# space that a fork bomb could exhaust without harming the real host. Prints
# what happened as JSON: the bomb's line, whether this "host" could start a
# process while the bomb held its processes, and afterwards.
CONFINED_HOST = r"""
import ctypes, json, os, subprocess, sys
pid_max, argv = sys.argv[1], sys.argv[2:]
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x00020000 | 0x20000000) != 0:  # CLONE_NEWNS | CLONE_NEWPID
    sys.exit("unshare: " + os.strerror(ctypes.get_errno()))
child = os.fork()
if child:
    sys.exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
libc.mount(None, b"/", None, 0x4000 | 0x40000, None)  # MS_REC | MS_PRIVATE
if libc.mount(b"proc", b"/proc", b"proc", 0, None) != 0:
    sys.exit("mount proc: " + os.strerror(ctypes.get_errno()))
with open("/proc/sys/kernel/pid_max", "w") as f:
    f.write(pid_max)
def can_start():
    try:
        return subprocess.run(["/bin/true"], timeout=10).returncode == 0
    except OSError as e:
        return e.strerror
bomb = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
line = bomb.stdout.readline().strip()
during = can_start()
rest, _ = bomb.communicate(timeout=60)
after = can_start()
left = [e for e in os.listdir("/proc") if e.isdigit() and int(e) != os.getpid()]
print(json.dumps({"bomb": line, "rc": bomb.returncode, "during": during, "after": after,
                  "left": left}))
"""


@pytest.mark.parametrize("setting,pid_max", [(None, 4600), ("1000", 600)],
                         ids=["default", "setting-above-pid-space"])
def test_fork_bomb_leaves_the_host_usable(identity, workdir, policy_file, setting, pid_max):
    """A fork bomb that holds its processes, in a confined stand-in for the
    host: with the default ceiling below the pid space, the bomb stops with
    EAGAIN and the host still starts processes while it holds them; with a
    ceiling set above the pid space the bomb takes every pid and nothing else
    can start, which is what the ceiling prevents. Either way, when the
    workload ends every one of its processes is gone."""
    proc = subprocess.run(
        [sys.executable, "-c", CONFINED_HOST, str(pid_max)] + identity.prefix
        + [str(LOCKSHELL), "run", "-p", policy_file, "-w", str(workdir), "--",
           probe("forkbomb"), "100000", "0.3"],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, LOCKSHELL_NPROC=setting) if setting else None)
    assert proc.returncode == 0, describe(proc)
    got = json.loads(proc.stdout.splitlines()[-1])
    m = BOMB_LINE.match(got["bomb"])
    assert m, got
    if setting is None:
        # (other processes of the same uid on the host take their share)
        assert NPROC_DEFAULT // 2 < int(m.group(1)) < NPROC_DEFAULT < pid_max, got
        assert got["during"] is True, got
    else:
        assert int(m.group(1)) > pid_max - 100, got
        assert got["during"] == "Resource temporarily unavailable", got
    assert got["rc"] == 0 and got["after"] is True and got["left"] == [], got
