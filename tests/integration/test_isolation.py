"""Isolation of `lockshell run`: the sandbox's own PID, mount, IPC, UTS and
network namespaces, its fresh /proc (parts read-only, parts masked), its
private /dev (with exactly the selected GPU stand-in nodes) and /tmp, the
death of every sandbox process with the supervisor, and the fallback when
an ordinary user may not create user namespaces. Every test runs as root and
as an unprivileged user; each checks what the kernel answered inside."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import (
    LOCKSHELL,
    PROBES_DIR,
    describe,
    identity_for,
    policy_yaml,
    probe,
    probe_outcome,
    run_lockshell,
    wait_for_comm,
    write_policy,
)
from test_gpu_standin import GpuTree, privdev_script  # noqa: F401 (fixture)

SYSTEM_READ_ONLY = ["/usr", "/lib", "/etc", "/dev/urandom", str(PROBES_DIR)]
POLICY = policy_yaml(read_only=SYSTEM_READ_ONLY + ["/proc"], read_write=["/dev/null"],
                     include_workdir=True)
NETWORK_POLICY = """network_policies:
  package_index:
    name: package-index
    endpoints:
      - { host: pypi.org, port: 443 }
    binaries:
      - { path: /usr/bin/pip3 }
"""


@pytest.fixture
def workdir(identity, make_scratch):
    """A workdir outside /tmp, so that the sandbox's /tmp holds nothing of
    the host's."""
    return make_scratch(identity, parent="/var/tmp")


def run(identity, workdir, argv, *options, policy=POLICY, **kw):
    return run_lockshell(["run", *options, "--", *[str(a) for a in argv]], policy_text=policy,
                         as_user=identity, workdir=workdir, **kw)


def sh(script):
    return ["/bin/sh", "-c", script]


def ok(proc):
    assert proc.returncode == 0, describe(proc)
    return proc.stdout


def outcome(proc, op):
    assert proc.returncode == 0, describe(proc)
    got = probe_outcome(proc.stdout, op)
    assert got is not None, describe(proc)
    return got


@pytest.fixture
def outside_sleep(identity):
    p = subprocess.Popen(identity.workload_prefix + ["/usr/bin/sleep", "1000"])
    wait_for_comm(p.pid, "sleep")
    yield p
    p.kill()
    p.wait()


# --- processes -------------------------------------------------------------------

def test_host_processes_invisible(identity, workdir, outside_sleep):
    out = ok(run(identity, workdir, sh("echo self=$$ parent=$PPID; ls /proc")))
    lines = out.split()
    assert "self=2" in lines and "parent=1" in lines, out
    pids = sorted(int(x) for x in lines if x.isdigit())
    # PID 1 (the sandbox's init), the shell, ls: nothing of the host.
    assert pids[0] == 1 and max(pids) < 10, out
    assert str(outside_sleep.pid) not in lines, out


def test_host_process_cannot_be_signalled_or_inspected(identity, workdir, outside_sleep):
    pid = str(outside_sleep.pid)
    proc = run(identity, workdir, [probe("signal-probe"), "kill", pid, "0"])
    assert outcome(proc, "kill") == "ESRCH", describe(proc)
    proc = run(identity, workdir, [probe("fsprobe"), "read", f"/proc/{pid}/comm"])
    assert outcome(proc, "read") == "ENOENT", describe(proc)
    assert outside_sleep.poll() is None


# --- /proc ---------------------------------------------------------------------

def test_proc_sys_read_only(identity, workdir):
    """/proc is read_write for Landlock here: the workload may write its own
    comm, and only the read-only mount refuses /proc/sys with EROFS (an open
    with O_TRUNC meets that check before the permission check)."""
    text = policy_yaml(read_only=SYSTEM_READ_ONLY, read_write=["/dev/null", "/proc"],
                       include_workdir=True)
    proc = run(identity, workdir, [probe("fsprobe"), "write", "/proc/self/comm"], policy=text)
    assert outcome(proc, "write") == "ok", describe(proc)
    read_only = ["/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches"]
    read_only += [p for p in ("/proc/sysrq-trigger",) if os.path.exists(p)]
    for path in read_only:
        proc = run(identity, workdir, [probe("fsprobe"), "open-trunc", path], policy=text)
        assert outcome(proc, "open-trunc") == "EROFS", describe(proc)
    # Outside, only the permission check answers the same workload uid.
    bare = subprocess.run(identity.workload_prefix + [probe("fsprobe"), "open-trunc",
                                                      "/proc/sys/kernel/hostname"],
                          capture_output=True, text=True, timeout=30)
    assert probe_outcome(bare.stdout) == "EACCES", describe(bare)


def host_masked_entries():
    return [p for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug")
            if os.path.exists(p)]


def test_masked_proc_files_are_empty(identity, workdir):
    """Those this kernel has (here /proc/kcore may be missing)."""
    masked = host_masked_entries()
    assert "/proc/timer_list" in masked and "/proc/keys" in masked
    with open("/proc/timer_list") as f:
        assert f.read(64)  # the host's is not empty
    script = "; ".join(f"echo {p} $(stat -L -c '%t:%T' {p}) $(wc -c < {p})" for p in masked)
    out = ok(run(identity, workdir, sh(script)))
    for p in masked:
        assert f"{p} 1:3 0" in out.splitlines(), out  # /dev/null, nothing to read


# --- /tmp ------------------------------------------------------------------------

TMP_POLICY = policy_yaml(read_only=SYSTEM_READ_ONLY + ["/proc"],
                         read_write=["/dev/null", "/tmp"], include_workdir=True)


@pytest.fixture
def tmp_names():
    tag = uuid.uuid4().hex[:12]
    host = Path(f"/tmp/lockshell-iso-{tag}-host")
    inner = Path(f"/tmp/lockshell-iso-{tag}-inner")
    host.write_text("host\n")
    yield host, inner
    for p in (host, inner):
        if p.exists():
            p.unlink()


def test_private_tmp(identity, workdir, tmp_names):
    host, inner = tmp_names
    script = (f"test -e {host} && echo host-visible || echo host-hidden; "
              f"echo inner > {inner} && echo inner-written; ls -A /tmp | wc -l")
    out = ok(run(identity, workdir, sh(script), policy=TMP_POLICY))
    # The policy's own entries under /tmp (the probes, when the checkout is
    # there) are carried into the private /tmp; nothing else of the host's.
    carried = {Path(p).parts[2] for p in SYSTEM_READ_ONLY if p.startswith("/tmp/")}
    assert out.split() == ["host-hidden", "inner-written", str(1 + len(carried))], out
    assert not inner.exists()


def test_share_tmp(identity, workdir, tmp_names):
    host, inner = tmp_names
    script = (f"test -e {host} && echo host-visible || echo host-hidden; "
              f"echo inner > {inner} && echo inner-written")
    out = ok(run(identity, workdir, sh(script), "--share-tmp", policy=TMP_POLICY))
    assert out.split() == ["host-visible", "inner-written"], out
    assert inner.read_text() == "inner\n"


def test_workdir_and_policy_paths_under_tmp_stay_visible(identity, make_scratch):
    """The private /tmp carries the workdir and the paths the policy lists
    there, and nothing else of the host's /tmp."""
    wd = make_scratch(identity)
    listed = make_scratch(identity)
    other = make_scratch(identity)
    for d in (listed, other):
        (d / "file").write_text("data\n")
        os.chown(d / "file", identity.workload_uid, identity.workload_gid)
    text = policy_yaml(read_only=SYSTEM_READ_ONLY + ["/proc", str(listed)],
                       read_write=["/dev/null"], include_workdir=True)
    script = (f"echo made > {wd}/made && echo workdir-written; "
              f"cat {listed}/file; test -e {other} && echo other-visible || echo other-hidden")
    out = ok(run(identity, wd, sh(script), policy=text))
    assert out.split() == ["workdir-written", "data", "other-hidden"], out
    assert (wd / "made").read_text() == "made\n"


# --- UTS ---------------------------------------------------------------------------

def test_hostname(identity, workdir):
    before = socket.gethostname()
    out = ok(run(identity, workdir, ["/bin/hostname"]))
    assert out.strip() == "lockshell", out
    assert socket.gethostname() == before


# --- network -------------------------------------------------------------------------

CONNECT = """
import errno, socket, sys
s = socket.socket()
s.settimeout(5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    print("connect", s.recv(16).decode(), "ok")
except OSError as e:
    print("connect errno=%d %s" % (e.errno, errno.errorcode.get(e.errno, "?")))
"""


@pytest.fixture
def host_server():
    """A TCP server on the host's 127.0.0.1 that greets every client."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.sendall(b"hello")
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    srv.close()


def connect(identity, workdir, port, *options, policy=POLICY):
    return run(identity, workdir, ["/usr/bin/python3", "-I", "-S", "-c", CONNECT, port],
               *options, policy=policy)


def test_network_none_is_the_default_without_network_policies(identity, workdir, host_server):
    proc = connect(identity, workdir, host_server)
    assert outcome(proc, "connect") == "ECONNREFUSED", describe(proc)
    out = ok(run(identity, workdir, ["/bin/cat", "/proc/net/dev"]))
    interfaces = [l.split(":")[0].strip() for l in out.splitlines()[2:]]
    assert interfaces == ["lo"], out


def test_network_none_explicit(identity, workdir, host_server):
    text = policy_yaml(read_only=SYSTEM_READ_ONLY + ["/proc"], read_write=["/dev/null"],
                       include_workdir=True, extra=NETWORK_POLICY)
    proc = connect(identity, workdir, host_server, "--network", "none", policy=text)
    assert outcome(proc, "connect") == "ECONNREFUSED", describe(proc)


def test_network_host_reaches_host_loopback(identity, workdir, host_server):
    proc = connect(identity, workdir, host_server, "--network", "host")
    assert outcome(proc, "connect") == "ok", describe(proc)
    assert "hello" in proc.stdout


def test_network_policies_default_to_host_network(identity, workdir, host_server):
    text = policy_yaml(read_only=SYSTEM_READ_ONLY + ["/proc"], read_write=["/dev/null"],
                       include_workdir=True, extra=NETWORK_POLICY)
    proc = connect(identity, workdir, host_server, policy=text)
    assert outcome(proc, "connect") == "ok", describe(proc)


def test_loopback_inside_network_none_works(identity, workdir):
    script = ("import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); "
              "c = socket.create_connection(s.getsockname()); print('loopback ok')")
    out = ok(run(identity, workdir, ["/usr/bin/python3", "-I", "-S", "-c", script]))
    assert out.strip() == "loopback ok", out


def test_bad_network_mode_is_125(identity, workdir):
    proc = run(identity, workdir, ["/bin/true"], "--network", "bridge")
    assert proc.returncode == 125, describe(proc)
    assert "--network" in proc.stderr, describe(proc)


def test_help_documents_isolation_options():
    proc = run_lockshell(["run", "--help"])
    assert proc.returncode == 0, describe(proc)
    assert "--network MODE" in proc.stdout and "--share-tmp" in proc.stdout, proc.stdout


# --- GPU stand-in nodes in the private /dev -------------------------------------------

# Every entry of the stand-in host /dev (test_gpu_standin.PRIVATE_DEV) and
# /dev/full, which the stand-in host lacks.
STANDIN_DEV = ["null", "zero", "random", "urandom", "tty", "pts", "shm", "ptmx", "fd", "stdin",
               "stdout", "stderr", "full", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools",
               "nvidia-modeset", "nvidia0", "nvidia1", "nvidia-caps",
               "nvidia-caps/nvidia-cap1"]
STANDARD_DEV = {"null", "zero", "random", "urandom", "tty", "pts", "shm", "ptmx", "fd", "stdin",
                "stdout", "stderr"}
GPU_SHARED = {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset", "nvidia-caps",
              "nvidia-caps/nvidia-cap1"}


@pytest.fixture
def gpu_tree(identity, privdev_script):  # noqa: F811 (fixture argument)
    t = GpuTree(identity, privdev_script)
    yield t
    import shutil
    shutil.rmtree(t.base, ignore_errors=True)


def dev_entries_inside(tree, gpu):
    script = "; ".join(f"test -e /dev/{n} -o -L /dev/{n} && echo {n}" for n in STANDIN_DEV)
    proc = tree.run(["/bin/sh", "-c", script + "; true"], gpu=gpu)
    assert proc.returncode == 0, describe(proc)
    return set(proc.stdout.split())


@pytest.mark.parametrize("gpu,expected", [
    (None, set()),
    ("0", GPU_SHARED | {"nvidia0"}),
    ("1", GPU_SHARED | {"nvidia1"}),
    ("all", GPU_SHARED | {"nvidia0", "nvidia1"}),
])
def test_private_dev_holds_exactly_the_selected_gpu_nodes(gpu_tree, gpu, expected):
    assert dev_entries_inside(gpu_tree, gpu) == STANDARD_DEV | expected


def test_selected_gpu_node_works_inside(gpu_tree):
    proc = gpu_tree.run([probe("fsprobe"), "open-rdwr", "/dev/nvidia0"], gpu="0")
    assert outcome(proc, "open-rdwr") == "ok", describe(proc)
    proc = gpu_tree.run([probe("fsprobe"), "open-rdwr", "/dev/nvidia1"], gpu="0")
    assert outcome(proc, "open-rdwr") == "ENOENT", describe(proc)


# --- the supervisor's death ends the sandbox -----------------------------------------

def processes_with_arg(arg):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if arg.encode() in f.read().split(b"\0"):
                    found.append(int(pid))
        except OSError:
            pass
    return found


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def unique_seconds(n):
    """Sleep durations no other process's argv holds, to find ours by."""
    base = 7_000_000 + uuid.uuid4().int % 1_000_000 * 10
    return [str(base + i) for i in range(n)]


def kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_killing_the_supervisor_ends_every_sandbox_process(identity, workdir):
    marks = unique_seconds(3)
    script = (f"/bin/sleep {marks[0]} & setsid /bin/sleep {marks[1]} & "
              f"(/bin/sleep {marks[2]} &); echo ready; wait")
    policy_file = write_policy(POLICY)
    inside = []
    try:
        p = subprocess.Popen(identity.prefix + [str(LOCKSHELL), "run", "-p", policy_file, "-w",
                                                str(workdir), "--", *sh(script)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(processes_with_arg(m) for m in marks):
            time.sleep(0.02)
        inside = [pid for m in marks for pid in processes_with_arg(m)]
        assert len(inside) == 3, marks
        init = children(p.pid)
        assert len(init) == 1, init
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
                any(os.path.exists(f"/proc/{pid}") for pid in inside + init)):
            time.sleep(0.02)
        left = [pid for pid in inside + init if os.path.exists(f"/proc/{pid}")]
        assert left == [], left
    finally:
        os.unlink(policy_file)
        kill_all(inside)


def test_pid1_holds_only_its_own_descriptors(identity, workdir):
    """Once the workload runs, PID 1 keeps its signalfd, the pidfd its
    workload watches and its channel to the supervisor, besides stdio:
    nothing it prepared for the workload (the Landlock ruleset, the network
    namespace's fd) and no end of the launch's error pipe."""
    mark = unique_seconds(1)[0]
    policy_file = write_policy(POLICY)
    try:
        p = subprocess.Popen(identity.prefix + [str(LOCKSHELL), "run", "-p", policy_file, "-w",
                                                str(workdir), "--", *sh(f"echo ready; "
                                                                         f"exec /bin/sleep {mark}")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
        init = children(p.pid)
        assert len(init) == 1, init
        # The workload can print before PID 1, back from vfork(), has closed
        # what it prepared: wait for the set to settle, then hold it to it.
        want = ["anon_inode:[pidfd]", "anon_inode:[signalfd]", "socket"]
        deadline = time.monotonic() + 5
        while True:
            held = sorted(re.sub(r":\[\d+\]$", "", os.readlink(f"/proc/{init[0]}/fd/{fd}"))
                          for fd in os.listdir(f"/proc/{init[0]}/fd") if int(fd) > 2)
            if held == want or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert held == want, held
    finally:
        p.kill()
        p.wait(timeout=10)
        os.unlink(policy_file)
        kill_all(processes_with_arg(mark))


def test_workload_exit_ends_the_sandbox(identity, workdir):
    """Background processes die with the workload; lockshell returns at once."""
    mark = unique_seconds(1)[0]
    start = time.monotonic()
    proc = run(identity, workdir, sh(f"setsid /bin/sleep {mark} & exit 7"))
    assert proc.returncode == 7, describe(proc)
    assert time.monotonic() - start < 10
    assert processes_with_arg(mark) == []


# --- without user namespaces -----------------------------------------------------------

# Runs ARGV as UID:GID inside a user namespace of its own (0 and UID mapped)
# whose user.max_<KIND>_namespaces is 0, so that no further namespace of
# that kind can be created below: how an administrator disables them,
# confined to the test.
NO_NAMESPACES = r"""
import ctypes, os, sys
kind, uid, gid, argv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
r1, w1 = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:
        os._exit(90)
    os.write(w1, b"u")
    os.read(r2, 1)
    with open(f"/proc/sys/user/max_{kind}_namespaces", "w") as f:
        f.write("0")
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    os.execv(argv[0], argv)
os.read(r1, 1)
for name, ids in (("uid_map", (0, uid)), ("gid_map", (0, gid))):
    with open(f"/proc/{pid}/{name}", "w") as f:
        f.write("".join(f"{i} {i} 1\n" for i in ids))
os.write(w2, b"g")
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def run_without_namespaces(kind, workdir, argv, compatibility, *options):
    user = identity_for("user")
    text = policy_yaml(read_only=SYSTEM_READ_ONLY + ["/proc"], read_write=["/dev/null"],
                       include_workdir=True, compatibility=compatibility)
    return run_lockshell(["run", *options, "--", *[str(a) for a in argv]], policy_text=text,
                         workdir=workdir,
                         outer=[sys.executable, "-c", NO_NAMESPACES, kind, user.uid, user.gid])


def run_without_userns(workdir, argv, compatibility):
    return run_without_namespaces("user", workdir, argv, compatibility)


@pytest.fixture
def user_workdir(make_scratch):
    return make_scratch(identity_for("user"), parent="/var/tmp")


def test_without_user_namespaces_best_effort_warns_and_runs(user_workdir):
    proc = run_without_userns(user_workdir, sh(f"hostname; echo self=$$; "
                                               f"{probe('fsprobe')} create /var/tmp/x-$$"),
                              "best_effort")
    assert proc.returncode == 0, describe(proc)
    warnings = [l for l in proc.stderr.splitlines() if "WITHOUT namespaces" in l]
    assert len(warnings) == 1, describe(proc)
    assert "warning" in warnings[0], describe(proc)
    lines = proc.stdout.splitlines()
    assert lines[0] == socket.gethostname(), describe(proc)
    assert lines[1] != "self=2", describe(proc)
    # Landlock still refuses what the policy does not list.
    assert probe_outcome(proc.stdout, "create") == "EACCES", describe(proc)


def test_without_user_namespaces_hard_requirement_is_125(user_workdir):
    proc = run_without_userns(user_workdir, ["/bin/true"], "hard_requirement")
    assert proc.returncode == 125, describe(proc)
    errors = [l for l in proc.stderr.splitlines() if l.startswith("lockshell: error: ")]
    assert len(errors) == 1, describe(proc)
    assert "user.max_user_namespaces is 0" in errors[0], describe(proc)
    assert "hard_requirement" in errors[0], describe(proc)


# --- without network namespaces --------------------------------------------------------

@pytest.mark.parametrize("compatibility", ["best_effort", "hard_requirement"])
def test_without_network_namespaces_network_none_fails_closed(user_workdir, compatibility):
    """Where no network namespace can be created, `--network none` (the
    default here) is never given up: 125 with one error naming the syscall
    and the way out, in either compatibility mode, and nothing of the
    sandbox is left running; `--network host` runs."""
    mark = unique_seconds(1)[0]
    proc = run_without_namespaces("net", user_workdir, ["/bin/sleep", mark], compatibility)
    assert proc.returncode == 125, describe(proc)
    errors = [l for l in proc.stderr.splitlines() if l.startswith("lockshell: error: ")]
    assert len(errors) == 1, describe(proc)
    assert "unshare(CLONE_NEWNET)" in errors[0], describe(proc)
    assert "user.max_net_namespaces" in errors[0], describe(proc)
    assert "No space left on device" in errors[0], describe(proc)
    assert processes_with_arg(mark) == [], describe(proc)
    proc = run_without_namespaces("net", user_workdir, sh("hostname"), compatibility,
                                  "--network", "host")
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.strip() == "lockshell", describe(proc)


# --- the launch log ----------------------------------------------------------------

def test_log_names_the_namespaces_and_mounts(identity, workdir):
    log = Path(workdir) / "log.jsonl"
    proc = run(identity, workdir, ["/bin/true"], "--log-file", str(log))
    assert proc.returncode == 0, describe(proc)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    messages = [e["message"] for e in events if e["event"] in ("namespaces", "mounts")]
    assert any("pid" in m for m in messages), messages
    assert any("hostname lockshell" in m for m in messages), messages
    assert any("net (loopback only)" in m for m in messages), messages
    assert any("private /dev" in m and "private /tmp" in m for m in messages), messages
    if identity.name == "user":
        assert any("user, pid" in m for m in messages), messages


def test_read_only_view_follows_nested_entries(identity, make_scratch):
    """read_write a/, read_only a/b/, read_write a/b/c/, outside any /tmp:
    the kernel lets the workload create files in a/ and a/b/c/, refuses
    a/b/ and the unlisted scratch directory with EROFS (read-only mounts),
    and the files made inside reach the host."""
    base = make_scratch(identity, parent="/var/tmp")
    a, b, c = base / "a", base / "a" / "b", base / "a" / "b" / "c"
    c.mkdir(parents=True)
    for d in (a, b, c):
        os.chown(d, identity.workload_uid, identity.workload_gid)
    os.chown(base, identity.workload_uid, identity.workload_gid)
    text = policy_yaml(read_only=SYSTEM_READ_ONLY + [str(b)], read_write=[str(a), str(c)],
                       include_workdir=False)
    steps = [(d, d / "new") for d in (a, b, c, base)]
    script = "; ".join(f"{probe('fsprobe')} create {f}" for _, f in steps)
    proc = run(identity, a, sh(script), policy=text)
    got = [probe_outcome(line, "create") for line in proc.stdout.splitlines()]
    assert got == ["ok", "EROFS", "ok", "EROFS"], describe(proc)
    assert [f.exists() for _, f in steps] == [True, False, True, False]
