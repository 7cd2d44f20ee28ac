"""Escape tests for `lockshell run`: each case runs a probe inside the sandbox
and checks the errno the kernel returned (EACCES from Landlock, EROFS or
EXDEV from the read-only view of the host's mounts, EPERM from seccomp or
Landlock scoping, ENOSYS for clone3), against paths and targets that DAC
alone would allow, so only the sandbox can be the refuser.

Layout of each test's scratch tree (owned by the workload's uid):
    ro/        listed read_only        rw/, rw2/  listed read_write
    unlisted/  not listed
each holding `file`, `victim`, `emptydir/` and `exe` (a copy of true).
"""

import contextlib
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import (
    LOCKSHELL,
    PROBES_DIR,
    chown_tree,
    describe,
    new_scratch_dir,
    policy_yaml,
    probe,
    probe_outcome,
    run_lockshell,
    wait_for_comm,
)

SYSTEM_READ_ONLY = ["/usr", "/lib", "/etc", "/proc", "/dev/urandom"]
SYSTEM_READ_WRITE = ["/dev/null"]
AREAS = ("ro", "rw", "rw2", "unlisted")


class Tree:
    """A scratch tree and the policy that lists its parts."""

    def __init__(self, identity, base):
        self.identity = identity
        self.base = base
        self.dirs = {name: base / name for name in AREAS}

    def policy(self, compatibility="hard_requirement", read_only=(), read_write=()):
        return policy_yaml(
            read_only=SYSTEM_READ_ONLY + [str(PROBES_DIR), str(self.dirs["ro"])] + list(read_only),
            read_write=SYSTEM_READ_WRITE + [str(self.dirs["rw"]), str(self.dirs["rw2"])]
            + list(read_write),
            compatibility=compatibility,
        )

    def run(self, argv, policy_text=None, options=(), **kw):
        text = policy_text if policy_text is not None else self.policy()
        return run_lockshell(["run", *options, "--"] + [str(a) for a in argv],
                             policy_text=text, as_user=self.identity, workdir=self.base, **kw)

    def path(self, spec):
        """"{rw}/file" -> absolute path."""
        return spec.format(**{k: str(v) for k, v in self.dirs.items()})

    def snapshot(self):
        """Names, types and contents of everything in the tree."""
        state = {}
        for root, dirs, files in os.walk(self.base):
            for name in dirs + files:
                p = Path(root, name)
                st = p.lstat()
                content = p.read_bytes() if stat.S_ISREG(st.st_mode) else None
                state[str(p.relative_to(self.base))] = (stat.S_IFMT(st.st_mode), content)
        return state


def make_tree(identity):
    base = new_scratch_dir(identity)
    for name in AREAS:
        d = base / name
        d.mkdir()
        (d / "file").write_text("data\n")
        (d / "victim").write_text("victim\n")
        (d / "emptydir").mkdir()
        shutil.copy("/usr/bin/true", d / "exe")
        os.chmod(d / "exe", 0o755)
        os.chmod(d, 0o755)
    chown_tree(base, identity.workload_uid, identity.workload_gid)
    return Tree(identity, base)


@pytest.fixture
def tree(identity):
    t = make_tree(identity)
    yield t
    shutil.rmtree(t.base, ignore_errors=True)


def run_probe(tree, name, *args, **kw):
    proc = tree.run([probe(name)] + list(args), **kw)
    assert proc.returncode == 0, describe(proc)
    return proc


def outcome(proc, op=None):
    result = probe_outcome(proc.stdout, op)
    assert result is not None, describe(proc)
    return result


def bare(identity, argv, **kw):
    """Runs argv outside any sandbox with the workload's uid."""
    return subprocess.run(identity.workload_prefix + [str(a) for a in argv],
                          capture_output=True, text=True, timeout=30, **kw)


# --- filesystem: Landlock rights per area ----------------------------------

# (op, arguments, expected outcome); {ro} {rw} {rw2} {unlisted} are the areas.
# The workdir (the tree's base) is kept writable in the private /tmp, so
# rw/, rw2/ and unlisted/ share its writable mount and a write to unlisted/
# is refused by Landlock (EACCES); ro/ is a read_only entry below it, bound
# read-only on its own, so a write there is refused first by that mount
# (EROFS), and a rename or link between ro/ and the rest crosses mounts
# (EXDEV). Every write right has an unlisted/ case: Landlock's own proof.
FS_CASES = [
    ("read", ["{ro}/file"], "ok"),
    ("read", ["{rw}/file"], "ok"),
    ("read", ["{unlisted}/file"], "EACCES"),
    ("write", ["{ro}/file"], "EROFS"),
    ("write", ["{rw}/file"], "ok"),
    ("write", ["{unlisted}/file"], "EACCES"),
    ("append", ["{ro}/file"], "EROFS"),
    ("append", ["{rw}/file"], "ok"),
    ("append", ["{unlisted}/file"], "EACCES"),
    ("open-rdwr", ["{ro}/file"], "EROFS"),
    ("open-rdwr", ["{rw}/file"], "ok"),
    ("open-rdwr", ["{unlisted}/file"], "EACCES"),
    ("create", ["{ro}/new"], "EROFS"),
    ("create", ["{rw}/new"], "ok"),
    ("create", ["{unlisted}/new"], "EACCES"),
    ("exec", ["{ro}/exe"], "ok"),
    ("exec", ["{rw}/exe"], "ok"),
    ("exec", ["{unlisted}/exe"], "EACCES"),
    ("truncate", ["{ro}/file"], "EROFS"),
    ("truncate", ["{rw}/file"], "ok"),
    ("truncate", ["{unlisted}/file"], "EACCES"),
    ("open-trunc", ["{ro}/file"], "EROFS"),
    ("open-trunc", ["{rw}/file"], "ok"),
    ("open-trunc", ["{unlisted}/file"], "EACCES"),
    ("ftruncate", ["{ro}/file"], "EROFS"),
    ("ftruncate", ["{rw}/file"], "ok"),
    ("ftruncate", ["{unlisted}/file"], "EACCES"),
    ("mkdir", ["{ro}/newdir"], "EROFS"),
    ("mkdir", ["{rw}/newdir"], "ok"),
    ("mkdir", ["{unlisted}/newdir"], "EACCES"),
    ("rmdir", ["{ro}/emptydir"], "EROFS"),
    ("rmdir", ["{rw}/emptydir"], "ok"),
    ("rmdir", ["{unlisted}/emptydir"], "EACCES"),
    ("unlink", ["{ro}/victim"], "EROFS"),
    ("unlink", ["{rw}/victim"], "ok"),
    ("unlink", ["{unlisted}/victim"], "EACCES"),
    ("mknod", ["{ro}/fifo", "fifo"], "EROFS"),
    ("mknod", ["{rw}/fifo", "fifo"], "ok"),
    ("mknod", ["{unlisted}/fifo", "fifo"], "EACCES"),
    ("mknod", ["{ro}/chr", "char"], "EROFS"),
    # Landlock allows make_char here; the kernel then wants CAP_MKNOD, which
    # the workload does not have.
    ("mknod", ["{rw}/chr", "char"], "EPERM"),
    ("mknod", ["{unlisted}/chr", "char"], "EACCES"),
    ("symlink", ["file", "{ro}/link"], "EROFS"),
    ("symlink", ["file", "{rw}/link"], "ok"),
    ("symlink", ["file", "{unlisted}/link"], "EACCES"),
    ("listdir", ["{ro}"], "ok"),
    ("listdir", ["{rw}"], "ok"),
    ("listdir", ["{unlisted}"], "EACCES"),
    ("rename", ["{ro}/victim", "{ro}/renamed"], "EROFS"),
    ("rename", ["{rw}/victim", "{rw}/renamed"], "ok"),
    ("rename", ["{unlisted}/victim", "{unlisted}/renamed"], "EACCES"),
    # Across directories: refer is granted between read_write areas only.
    ("rename", ["{rw}/victim", "{rw2}/moved"], "ok"),
    ("rename", ["{rw}/emptydir", "{rw2}/moveddir"], "ok"),
    ("rename", ["{rw}/victim", "{ro}/moved"], "EXDEV"),
    ("rename", ["{ro}/victim", "{rw}/moved"], "EXDEV"),
    ("rename", ["{rw}/victim", "{unlisted}/moved"], "EACCES"),
    ("link", ["{rw}/file", "{rw2}/linked"], "ok"),
    # A hard link from read_only into read_write would gain write access:
    # the two lie on different mounts (EXDEV).
    ("link", ["{ro}/file", "{rw}/linked"], "EXDEV"),
    # The new name would be made on the read-only mount.
    ("link", ["{rw}/file", "{ro}/linked"], "EROFS"),
    ("link", ["{rw}/file", "{unlisted}/linked"], "EACCES"),
    # Pulling an unlisted file into a read_write area, by link or rename:
    # one mount, so Landlock's refer check answers (EXDEV for a link).
    ("link", ["{unlisted}/file", "{rw}/stolen"], "EXDEV"),
    ("rename", ["{unlisted}/victim", "{rw}/stolen"], "EACCES"),
    # Landlock resolves the path: /proc/self/root is no way around it.
    ("read", ["/proc/self/root{unlisted}/file"], "EACCES"),
    ("write", ["/proc/self/root{unlisted}/file"], "EACCES"),
    # Nor around the read-only mount.
    ("write", ["/proc/self/root{ro}/file"], "EROFS"),
]

READ_ONLY_OPS = {"read", "listdir", "exec", "open-rdwr"}


def fs_case_id(case):
    op, args, expected = case
    areas = "-".join(re.findall(r"\{(\w+)\}", " ".join(args)))
    kind = f"-{args[1]}" if op == "mknod" else ""
    return f"{op}{kind}-{areas}-{expected}"


@pytest.mark.parametrize("case", FS_CASES, ids=[fs_case_id(c) for c in FS_CASES])
def test_filesystem_rights(tree, case):
    op, args, expected = case
    paths = [tree.path(a) if "{" in a else a for a in args]
    before = tree.snapshot()
    proc = run_probe(tree, "fsprobe", op, *paths)
    assert outcome(proc, op) == expected, describe(proc)
    after = tree.snapshot()
    if expected != "ok" or op in READ_ONLY_OPS:
        assert after == before, "a refused operation changed the tree"
    else:
        assert after != before, "an allowed operation left no trace"


def test_refused_operations_succeed_without_sandbox(tree):
    """DAC allows every operation the sandbox refuses above, and the host has
    the whole tree on one writable mount, so each EACCES comes from Landlock
    and each EROFS or EXDEV from the sandbox's read-only view."""
    for op, args, expected in FS_CASES:
        if expected not in ("EACCES", "EROFS", "EXDEV"):
            continue
        t = make_tree(tree.identity)
        try:
            paths = [t.path(a) if "{" in a else a for a in args]
            proc = bare(tree.identity, [probe("fsprobe"), op] + paths)
            # Without CAP_MKNOD a character device is EPERM, sandbox or not.
            want = "EPERM" if args[-1] == "char" else "ok"
            assert probe_outcome(proc.stdout, op) == want, describe(proc)
        finally:
            shutil.rmtree(t.base, ignore_errors=True)


def test_symlink_into_unlisted_area_refused(tree):
    """A symlink in a read_write area does not carry its rights to the target."""
    link = tree.dirs["rw"] / "to-unlisted"
    link.symlink_to(tree.dirs["unlisted"] / "file")
    os.lchown(link, tree.identity.workload_uid, tree.identity.workload_gid)
    for op in ("read", "write"):
        proc = run_probe(tree, "fsprobe", op, link)
        assert outcome(proc, op) == "EACCES", describe(proc)


def test_policy_symlink_classified_by_target(tree):
    """A policy path that is a symlink grants its rights on the target."""
    link = tree.base / "link-to-unlisted"
    link.symlink_to(tree.dirs["unlisted"])
    text = tree.policy(read_write=[str(link)])
    proc = run_probe(tree, "fsprobe", "create", tree.dirs["unlisted"] / "new", policy_text=text)
    assert outcome(proc, "create") == "ok", describe(proc)


def test_read_write_file_rule_grants_the_file_only(tree):
    """A read_write file gets execute, read, write and truncate: nothing in
    its directory, and nothing on its siblings."""
    target = tree.dirs["unlisted"] / "file"
    text = tree.policy(read_write=[str(target)])
    expected = [("write", target, "ok"), ("truncate", target, "ok"),
                ("read", target, "ok"), ("unlink", target, "EACCES"),
                ("read", tree.dirs["unlisted"] / "victim", "EACCES"),
                ("create", tree.dirs["unlisted"] / "new", "EACCES")]
    for op, path, want in expected:
        proc = run_probe(tree, "fsprobe", op, path, policy_text=text)
        assert outcome(proc, op) == want, describe(proc)


def test_read_only_file_rule(tree):
    """A file listed read_only inside the writable workdir is bound
    read-only on its own: readable, never written."""
    target = tree.dirs["unlisted"] / "file"
    text = tree.policy(read_only=[str(target)])
    for op, want in (("read", "ok"), ("write", "EROFS"), ("truncate", "EROFS")):
        proc = run_probe(tree, "fsprobe", op, target, policy_text=text)
        assert outcome(proc, op) == want, describe(proc)


def test_inherited_descriptor_closed(tree):
    """A descriptor lockshell's caller leaked (here a writable unlisted file)
    does not reach the workload."""
    target = tree.dirs["unlisted"] / "file"
    fd = os.open(target, os.O_WRONLY | os.O_APPEND)
    try:
        proc = tree.run(["/bin/sh", "-c", f"echo escaped >&{fd} && echo wrote"],
                        pass_fds=[fd])
    finally:
        os.close(fd)
    assert "wrote" not in proc.stdout, describe(proc)
    assert target.read_text() == "data\n"


# --- devices ----------------------------------------------------------------

@pytest.mark.parametrize("op,path,expected", [
    ("write", "/dev/null", "ok"),           # read_write device
    ("read", "/dev/urandom", "ok"),         # read_only device
    ("open-rdwr", "/dev/urandom", "EACCES"),
    ("read", "/dev/zero", "EACCES"),        # unlisted device
    ("ioctl", "/dev/urandom", "EACCES"),    # read_only device: no ioctl_dev
])
def test_device_access(tree, op, path, expected):
    proc = run_probe(tree, "fsprobe", op, path)
    assert outcome(proc, op) == expected, describe(proc)


def test_device_ioctl_allowed_without_sandbox_and_when_read_write(tree):
    """RNDGETENTCNT works on /dev/urandom outside the sandbox and inside when
    the device is read_write, so the EACCES above is the ioctl_dev right."""
    proc = bare(tree.identity, [probe("fsprobe"), "ioctl", "/dev/urandom"])
    assert probe_outcome(proc.stdout, "ioctl") == "ok", describe(proc)
    text = policy_yaml(
        read_only=["/usr", "/lib", "/etc", "/proc", str(PROBES_DIR)],
        read_write=["/dev/null", "/dev/urandom"])
    proc = run_probe(tree, "fsprobe", "ioctl", "/dev/urandom", policy_text=text)
    assert outcome(proc, "ioctl") == "ok", describe(proc)


# --- seccomp -------------------------------------------------------------------

# syscall-probe names (tests/probes/syscall-probe.c) for every rule the
# filter must answer with EPERM.
SECCOMP_EPERM = [
    "memfd_create", "ptrace", "bpf", "process_vm_readv", "process_vm_writev",
    "pidfd_getfd", "io_uring_setup", "userfaultfd", "perf_event_open",
    "mount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
    "move_mount", "open_tree", "setns", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "keyctl", "add_key",
    "request_key", "acct", "swapon", "swapoff", "reboot",
    "socket-packet", "socket-bluetooth", "socket-vsock", "socket-netlink-uevent",
    "execveat-empty-path", "unshare-user", "clone-user",
    # terminal input injection (see test_terminal_input_injection_refused)
    "ioctl-tiocsti", "ioctl-tioclinux",
    # a filter the workload stacks on top does not lift ours
    "seccomp-stack",
]

# What the filter must leave working (or answer otherwise).
SECCOMP_OTHER = [
    ("clone3", "ENOSYS"),  # so that libc falls back to clone, whose flags are visible
    ("fork", "ok"),
    ("pthread", "ok"),
    ("socket-netlink-route", "ok"),
    ("socket-inet", "ok"),
    ("execveat-path", "ENOENT"),  # execveat without AT_EMPTY_PATH reaches the kernel
]


@pytest.mark.parametrize("name", SECCOMP_EPERM)
def test_seccomp_refuses(tree, name):
    proc = run_probe(tree, "syscall-probe", name)
    assert outcome(proc, name) == "EPERM", describe(proc)


@pytest.mark.parametrize("name,expected", SECCOMP_OTHER)
def test_seccomp_allows(tree, name, expected):
    proc = run_probe(tree, "syscall-probe", name)
    assert outcome(proc, name) == expected, describe(proc)


def test_seccomp_probes_not_refused_without_sandbox():
    """Run bare as root (all capabilities), no probe gets EPERM, so the EPERM
    seen inside the sandbox is the filter's, not a missing capability."""
    for name in SECCOMP_EPERM:
        proc = subprocess.run([probe("syscall-probe"), name], capture_output=True, text=True,
                              timeout=30)
        assert proc.returncode == 0, describe(proc)
        got = probe_outcome(proc.stdout, name)
        assert got is not None and got != "EPERM", describe(proc)


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x32 and i386 exist on x86_64 only")
@pytest.mark.parametrize("name", ["x32", "i386"])
def test_foreign_abi_syscall_kills(tree, name):
    proc = tree.run([probe("syscall-probe"), name])
    assert proc.returncode == 128 + signal.SIGSYS, describe(proc)
    assert probe_outcome(proc.stdout, name) is None, describe(proc)


# --- identity and privileges -------------------------------------------------

def status_fields(text):
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    return fields


def test_identity_and_privileges_dropped(tree):
    ident = tree.identity
    proc = tree.run(["/usr/bin/cat", "/proc/self/status", "/proc/self/limits"])
    assert proc.returncode == 0, describe(proc)
    f = status_fields(proc.stdout)
    assert f["Uid"] == [str(ident.workload_uid)] * 4, describe(proc)
    assert f["Gid"] == [str(ident.workload_gid)] * 4, describe(proc)
    groups = {int(g) for g in f.get("Groups", [])}
    assert groups <= {ident.workload_gid}, describe(proc)
    assert f["NoNewPrivs"] == ["1"]
    assert f["Seccomp"] == ["2"]
    for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(f[cap][0], 16) == 0, f"{cap} {f[cap]}"
    if ident.name == "root":
        assert int(f["CapBnd"][0], 16) == 0, f"CapBnd {f['CapBnd']}"
    core = re.search(r"^Max core file size\s+(\S+)", proc.stdout, re.M)
    assert core and core.group(1) == "0", describe(proc)


def test_environment_matches_dropped_identity(tree):
    proc = tree.run(["/usr/bin/env"])
    assert proc.returncode == 0, describe(proc)
    env = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    assert env.get("LOCKSHELL_SANDBOX") == "1"
    try:
        pw = pwd.getpwuid(tree.identity.workload_uid)
        assert env.get("USER") == pw.pw_name
        assert env.get("HOME") == pw.pw_dir
    except KeyError:
        assert "USER" not in env or env["USER"] != "root"


def test_workload_as_root_refused(identity, tree):
    """Root runs nothing as uid 0; an ordinary user cannot switch user."""
    text = policy_yaml(read_only=SYSTEM_READ_ONLY + [str(PROBES_DIR)],
                       read_write=SYSTEM_READ_WRITE, run_as_user="root", run_as_group="root")
    marker = tree.dirs["rw"] / "ran"
    proc = tree.run(["/usr/bin/touch", marker], policy_text=text)
    assert proc.returncode == 125, describe(proc)
    assert proc.stderr.strip(), describe(proc)
    assert not marker.exists()


def test_setuid_binary_does_not_escalate(tree):
    suid = tree.dirs["ro"] / "setuid-probe"
    shutil.copy(probe("setuid-probe"), suid)
    os.chown(suid, 0, 0)
    os.chmod(suid, 0o4755)
    uid = tree.identity.workload_uid
    outside = bare(tree.identity, [suid])
    assert "euid=0 " in outside.stdout, "the setuid bit must work outside: " + describe(outside)
    proc = tree.run([suid])
    assert proc.returncode == 0, describe(proc)
    assert f"ruid={uid} euid={uid} suid={uid} " in proc.stdout, describe(proc)
    # Rootless, uid 0 is not even mapped in the sandbox's user namespace.
    want = "EPERM" if tree.identity.name == "root" else "EINVAL"
    assert outcome(proc, "setuid0") == want, describe(proc)


# --- signals and abstract unix sockets (Landlock scoping) ---------------------

@pytest.fixture
def outside_process(identity):
    """A process outside the sandbox with the workload's uid."""
    p = subprocess.Popen(identity.workload_prefix + ["/usr/bin/sleep", "1000"])
    wait_for_comm(p.pid, "sleep")
    yield p
    p.kill()
    p.wait()


def test_signal_outside_sandbox_refused(tree, outside_process):
    pid = outside_process.pid
    control = bare(tree.identity, [probe("signal-probe"), "kill", pid, 0])
    assert probe_outcome(control.stdout, "kill") == "ok", describe(control)
    proc = run_probe(tree, "signal-probe", "kill", str(pid), str(int(signal.SIGTERM)))
    # Outside the sandbox's PID namespace: no such process.
    assert outcome(proc, "kill") == "ESRCH", describe(proc)
    time.sleep(0.2)
    assert outside_process.poll() is None, "the outside process was killed"


def test_signal_probe_only_outside_refused(tree, outside_process):
    """Signal 0 (a permission check only) is refused as well."""
    proc = run_probe(tree, "signal-probe", "kill", str(outside_process.pid), "0")
    assert outcome(proc, "kill") == "ESRCH", describe(proc)


def test_signal_supervisor_refused(tree):
    proc = run_probe(tree, "signal-probe", "parent", "0")
    assert outcome(proc, "kill") == "EPERM", describe(proc)


def test_signal_own_child_allowed(tree):
    proc = run_probe(tree, "signal-probe", "child")
    assert "child ok" in proc.stdout, describe(proc)


def test_supervisor_memory_refused(tree):
    """/proc/<pid>/mem of the supervisor (outside the sandbox, the same uid
    when an ordinary user runs lockshell) is refused by Landlock's ptrace
    scoping."""
    script = f'exec {probe("fsprobe")} open-rdwr /proc/$PPID/mem'
    proc = tree.run(["/bin/sh", "-c", script])
    assert proc.returncode == 0, describe(proc)
    assert outcome(proc, "open-rdwr") == "EACCES", describe(proc)


def workload_pid(supervisor_pid):
    """The workload of a running lockshell supervisor: the first child of
    the sandbox's PID 1, the supervisor's child."""
    deadline = time.monotonic() + 10
    pid = supervisor_pid
    for _ in range(2):
        while time.monotonic() < deadline:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                children = f.read().split()
            if children:
                pid = int(children[0])
                break
            time.sleep(0.02)
        else:
            pytest.fail(f"lockshell {supervisor_pid} started no workload")
    return pid


@contextlib.contextmanager
def sibling_sandbox(tree, policy_text):
    """Another `lockshell run` of sleep, as the tree's identity under
    policy_text; yields its Popen and its workload's pid, killed at the end."""
    policy_file = tree.base / "sibling.yaml"
    policy_file.write_text(policy_text)
    sibling = subprocess.Popen(tree.identity.prefix + [
        str(LOCKSHELL), "run", "-p", str(policy_file), "-w", str(tree.base), "--",
        "/usr/bin/sleep", "1000"])
    try:
        pid = workload_pid(sibling.pid)
        wait_for_comm(pid, "sleep")
        yield sibling, pid
    finally:
        sibling.kill()
        sibling.wait()


def test_signal_to_sibling_sandbox_refused(tree):
    """Another sandbox with the same policy and uid is outside this one."""
    with sibling_sandbox(tree, tree.policy()) as (sibling, pid):
        proc = run_probe(tree, "signal-probe", "kill", str(pid), str(int(signal.SIGKILL)))
        assert outcome(proc, "kill") == "ESRCH", describe(proc)
        time.sleep(0.2)
        assert sibling.poll() is None, "the sibling sandbox was killed"


@pytest.fixture
def abstract_listener(identity):
    name = f"lockshell-test-{uuid.uuid4().hex[:12]}"
    p = subprocess.Popen(identity.workload_prefix + [probe("unix-probe"), "listen-abstract", name],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("listening"), line
    yield name
    p.kill()
    p.wait()


def test_abstract_unix_connect_outside_refused(tree, abstract_listener):
    control = bare(tree.identity, [probe("unix-probe"), "connect-abstract", abstract_listener])
    assert probe_outcome(control.stdout) == "ok", describe(control)
    # Abstract names belong to a network namespace: in the host's, only
    # Landlock's scoping refuses.
    proc = run_probe(tree, "unix-probe", "connect-abstract", abstract_listener,
                     options=["--network", "host"])
    assert outcome(proc) == "EPERM", describe(proc)


def test_abstract_unix_inside_sandbox_allowed(tree):
    proc = run_probe(tree, "unix-probe", "pair-abstract", f"lockshell-test-{uuid.uuid4().hex[:12]}")
    assert outcome(proc) == "ok", describe(proc)


def test_pathname_unix_socket_in_read_write_dir(tree):
    proc = run_probe(tree, "unix-probe", "pair-path", tree.dirs["rw"] / "sock")
    assert outcome(proc) == "ok", describe(proc)


def test_pathname_unix_socket_in_unlisted_dir_refused(tree):
    proc = run_probe(tree, "unix-probe", "pair-path", tree.dirs["unlisted"] / "sock")
    assert outcome(proc) == "EACCES", describe(proc)


# --- compatibility modes ------------------------------------------------------

def test_best_effort_skips_missing_path(tree):
    missing = tree.base / "does-not-exist"
    text = tree.policy(compatibility="best_effort", read_only=[str(missing)])
    proc = run_probe(tree, "fsprobe", "create", tree.dirs["rw"] / "new", policy_text=text)
    assert outcome(proc) == "ok", describe(proc)
    assert str(missing) in proc.stderr, describe(proc)
    # The rest of the ruleset is still enforced.
    proc = run_probe(tree, "fsprobe", "create", tree.dirs["unlisted"] / "new", policy_text=text)
    assert outcome(proc) == "EACCES", describe(proc)


def test_hard_requirement_refuses_missing_path(tree):
    missing = tree.base / "does-not-exist"
    text = tree.policy(compatibility="hard_requirement", read_only=[str(missing)])
    proc = tree.run([probe("fsprobe"), "create", tree.dirs["rw"] / "new"], policy_text=text)
    assert proc.returncode == 125, describe(proc)
    assert str(missing) in proc.stderr, describe(proc)
    assert not (tree.dirs["rw"] / "new").exists()


def test_landlock_unavailable_best_effort_runs_with_warning(tree):
    text = tree.policy(compatibility="best_effort")
    target = tree.dirs["unlisted"] / "new"
    proc = tree.run([probe("fsprobe"), "create", target], policy_text=text,
                    inner=[probe("no-landlock-exec")])
    assert proc.returncode == 0, describe(proc)
    # Without Landlock nothing refuses the write: the simulation is real.
    assert outcome(proc) == "ok", describe(proc)
    assert target.exists()
    assert re.search(r"(?i)warning.*landlock|landlock.*warning", proc.stderr), describe(proc)


def test_landlock_unavailable_hard_requirement_refuses(tree):
    text = tree.policy(compatibility="hard_requirement")
    target = tree.dirs["rw"] / "new"
    proc = tree.run([probe("fsprobe"), "create", target], policy_text=text,
                    inner=[probe("no-landlock-exec")])
    assert proc.returncode == 125, describe(proc)
    assert "landlock" in proc.stderr.lower(), describe(proc)
    assert not target.exists()


@pytest.mark.parametrize("err,cause", [
    (38, r"seccomp"),       # ENOSYS under a seccomp filter: blocked by a profile
    (1, r"seccomp"),        # EPERM: blocked by a profile
    (95, r"not enabled"),   # EOPNOTSUPP: built in but not in the LSM list
])
def test_landlock_unavailable_reason_classified(tree, err, cause):
    text = tree.policy(compatibility="hard_requirement")
    proc = tree.run(["/usr/bin/true"], policy_text=text,
                    inner=[probe("no-landlock-exec"), f"--errno={err}"])
    assert proc.returncode == 125, describe(proc)
    assert re.search(cause, proc.stderr, re.I), describe(proc)


@pytest.mark.parametrize("compatibility", ["best_effort", "hard_requirement"])
def test_ruleset_without_any_openable_path_refused(tree, compatibility):
    """Never an accidental deny-all (or allow-all): no path opened is a 125."""
    text = policy_yaml(read_only=[str(tree.base / "missing-ro")],
                       read_write=[str(tree.base / "missing-rw")], compatibility=compatibility)
    marker = tree.dirs["rw"] / "ran"
    proc = tree.run(["/usr/bin/touch", marker], policy_text=text)
    assert proc.returncode == 125, describe(proc)
    assert "missing-r" in proc.stderr, describe(proc)
    assert not marker.exists()


def test_landlock_unavailable_keeps_seccomp(tree):
    """Without Landlock the seccomp filter and identity drop still apply."""
    text = tree.policy(compatibility="best_effort")
    proc = tree.run(["/usr/bin/cat", "/proc/self/status"], policy_text=text,
                    inner=[probe("no-landlock-exec")])
    assert proc.returncode == 0, describe(proc)
    f = status_fields(proc.stdout)
    assert f["Uid"][1] == str(tree.identity.workload_uid)
    assert f["NoNewPrivs"] == ["1"]
    assert int(f["Seccomp_filters"][0]) >= 2, describe(proc)


# --- the built-in default policy (OpenShell's behaviour) -----------------------

@pytest.fixture
def default_env(identity):
    """A workdir outside every default path, holding a copy of fsprobe (the
    workdir is read_write, so the copy may be executed), and a directory in
    /usr and in /opt the workload owns, so that only Landlock refuses it."""
    workdir = new_scratch_dir(identity, parent="/var/tmp")
    shutil.copy(probe("fsprobe"), workdir / "fsprobe")
    dirs = {"workdir": workdir}
    for key, parent in (("usr", "/usr/local"), ("opt", "/opt"), ("tmp", "/tmp")):
        dirs[key] = new_scratch_dir(identity, parent=parent)
    chown_tree(workdir, identity.workload_uid, identity.workload_gid)
    yield dirs
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)


def default_run(identity, env, argv):
    """With the host's /tmp, where the scratch directories are."""
    return run_lockshell(["run", "--share-tmp", "--"] + [str(a) for a in argv], as_user=identity,
                         workdir=env["workdir"])


def default_probe(identity, env, op, path):
    """(outcome inside, outcome of the same op bare on a sibling path, proc)."""
    fsprobe = env["workdir"] / "fsprobe"
    sibling = Path(path).with_name(Path(path).name + "-bare") if op == "create" else path
    control = bare(identity, [fsprobe, op, sibling])
    proc = default_run(identity, env, [fsprobe, op, path])
    assert proc.returncode == 0, describe(proc)
    return probe_outcome(proc.stdout, op), probe_outcome(control.stdout, op), proc


def test_default_policy_write_usr_refused(identity, default_env):
    """/usr is read_only in the default policy: its mount is read-only."""
    got, bare_got, proc = default_probe(identity, default_env, "create",
                                        default_env["usr"] / "f")
    assert bare_got == "ok"
    assert got == "EROFS", describe(proc)


def test_default_policy_write_tmp_allowed(identity, default_env):
    got, _, proc = default_probe(identity, default_env, "create", default_env["tmp"] / "f")
    assert got == "ok", describe(proc)


def test_default_policy_write_workdir_allowed(identity, default_env):
    got, _, proc = default_probe(identity, default_env, "create",
                                 default_env["workdir"] / "f")
    assert got == "ok", describe(proc)


@pytest.mark.parametrize("path", ["/usr", "/etc"])
def test_default_policy_list_allowed(identity, default_env, path):
    got, _, proc = default_probe(identity, default_env, "listdir", path)
    assert got == "ok", describe(proc)


def test_default_policy_opt_refused(identity, default_env):
    got, bare_got, proc = default_probe(identity, default_env, "listdir", "/opt")
    assert bare_got == "ok"
    assert got == "EACCES", describe(proc)


def test_default_policy_root_refused(identity, default_env):
    got, _, proc = default_probe(identity, default_env, "listdir", "/root")
    assert got == "EACCES", describe(proc)


def test_default_policy_with_shell_tools(identity, default_env):
    script = (f"echo hi > {default_env['tmp']}/ok && echo tmp-written; "
              f"echo hi > {default_env['usr']}/no || echo usr-refused; "
              "ls /opt >/dev/null || echo opt-refused; "
              "ls /usr /etc >/dev/null && echo lists-ok")
    proc = default_run(identity, default_env, ["/bin/sh", "-c", script])
    assert proc.returncode == 0, describe(proc)
    for word in ("tmp-written", "usr-refused", "opt-refused", "lists-ok"):
        assert word in proc.stdout, describe(proc)
    assert "Permission denied" in proc.stderr
    assert not (default_env["usr"] / "no").exists()


# --- interactive shell through tmux -------------------------------------------

class Tmux:
    def __init__(self, identity, socket):
        self.prefix = identity.tmux(socket)

    def __call__(self, *args):
        return subprocess.run(self.prefix + list(args), capture_output=True, text=True,
                              timeout=20)

    def pane(self):
        return self("capture-pane", "-p", "-J", "-S", "-200", "-t", "t").stdout.rstrip("\n")

    def wait_for(self, pattern, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.pane()
            if re.search(pattern, text, re.M):
                return text
            time.sleep(0.1)
        pytest.fail(f"pane never showed {pattern!r}:\n{self.pane()}")

    def send(self, *keys):
        self("send-keys", "-t", "t", *keys)


def test_interactive_shell_through_tmux(identity, make_scratch):
    scratch = make_scratch(identity)
    workdir = make_scratch(identity)
    os.chown(scratch, identity.uid, identity.gid)
    script = scratch / "session.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"stty -g > {scratch}/before\n"
        f"{LOCKSHELL} run -w {workdir} -e 'PS1=lsk-prompt$ ' -- /bin/bash --norc --noprofile -i\n"
        "echo \"LOCKSHELL-EXIT=$?\"\n"
        f"stty -g > {scratch}/after\n"
        "read -r reply; echo \"outer-got=$reply\"\n"
        "exec sleep 300\n")
    os.chmod(script, 0o755)
    tmux = Tmux(identity, scratch / "tmux.sock")
    started = tmux("new-session", "-d", "-s", "t", "-x", "160", "-y", "50", f"/bin/sh {script}")
    assert started.returncode == 0, started.stderr
    try:
        tmux.wait_for(r"^lsk-prompt\$")
        tmux.send("echo sandbox=$LOCKSHELL_SANDBOX uid=$(id -u)", "Enter")
        tmux.wait_for(rf"^sandbox=1 uid={identity.workload_uid}$")
        tmux.send("case $- in *m*) echo job-control-on;; esac", "Enter")
        tmux.wait_for(r"^job-control-on$")
        tmux.send("sleep 100", "Enter")
        time.sleep(1)
        start = time.monotonic()
        tmux.send("C-c")
        tmux.send("echo sleep-status=$?", "Enter")
        tmux.wait_for(r"^sleep-status=130$")
        assert time.monotonic() - start < 10
        tmux.send("echo alive-$((6*7))", "Enter")
        tmux.wait_for(r"^alive-42$")
        tmux.send("exit", "Enter")
        tmux.wait_for(r"^LOCKSHELL-EXIT=0$")
        # The outer shell owns the terminal again: it can read from it.
        tmux.send("back-home", "Enter")
        tmux.wait_for(r"^outer-got=back-home$")
        assert (scratch / "before").read_text() == (scratch / "after").read_text()
    finally:
        tmux("kill-server")


def test_terminal_input_injection_refused(tree):
    """TIOCSTI on the inherited terminal would queue input that the shell
    which started lockshell reads after the sandbox ends: a classic escape."""
    scratch = tree.base / "tty"
    scratch.mkdir()
    os.chown(scratch, tree.identity.uid, tree.identity.gid)
    policy_file = scratch / "policy.yaml"
    policy_file.write_text(tree.policy())
    script = scratch / "session.sh"
    script.write_text(
        "#!/bin/bash\n"
        f"{LOCKSHELL} run -p {policy_file} -w {tree.base} -- {probe('tty-probe')} sti injected-line\n"
        "echo \"lockshell-exit=$?\"\n"
        "if read -r -t 2 line; then echo \"outer-read=[$line]\"; else echo outer-read-nothing; fi\n"
        "exec sleep 300\n")
    tmux = Tmux(tree.identity, scratch / "tmux.sock")
    started = tmux("new-session", "-d", "-s", "t", "-x", "160", "-y", "50", f"/bin/bash {script}")
    assert started.returncode == 0, started.stderr
    try:
        pane = tmux.wait_for(r"^outer-read")
        assert re.search(r"^lockshell-exit=0$", pane, re.M), pane
        assert re.search(r"^sti errno=", pane, re.M), pane
        assert "outer-read-nothing" in pane, pane
    finally:
        tmux("kill-server")
