"""Escape attempts beyond test_escape.py's families, each run inside
`lockshell run` (as root and as an unprivileged user): the outcome asserted
is the errno the kernel gave the probe inside the sandbox, and where the
attempt targets something outside, that it left no trace there. An attempt
that works is a known limit of docs/security.md, asserted as documented so
that a change in behaviour fails here.

The last tests keep docs/security.md honest: every test its tables cite
exists, and every escape test of test_escape.py and of this file is cited.

Layout of each test's scratch tree: test_escape.py's (ro/ read_only, rw/ and
rw2/ read_write, unlisted/ not listed; each with file, victim, emptydir/,
exe)."""

import ast
import functools
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import (
    PROBES_DIR,
    REPO_ROOT,
    describe,
    policy_yaml,
    probe,
    probe_outcome,
    write_policy,
)
from test_escape import (  # noqa: F401 (tree is a fixture)
    SYSTEM_READ_ONLY,
    SYSTEM_READ_WRITE,
    sibling_sandbox,
    tree,
)
from test_gpu_standin import gpu_tree, privdev_script  # noqa: F401 (fixtures)
from test_sandbox import Sandboxes

SECURITY_DOC = REPO_ROOT / "docs" / "security.md"


# --- helpers ------------------------------------------------------------------------


def script_of(steps):
    """A shell script that runs each (label, argv) after a line "== label"."""
    lines = []
    for label, argv in steps:
        lines.append(f"echo {shlex.quote('== ' + label)}")
        lines.append(" ".join(shlex.quote(str(a)) for a in argv))
    return "\n".join(lines)


def sections(stdout):
    """{label: the lines its command printed}."""
    found, current = {}, None
    for line in stdout.splitlines():
        if line.startswith("== "):
            current = line[3:]
            found[current] = []
        elif current is not None:
            found[current].append(line)
    return {k: "\n".join(v) for k, v in found.items()}


class Outcomes:
    """What each step's probe printed, read as outcomes ("ok", "EACCES")."""

    def __init__(self, proc):
        self.proc = proc
        self.by_label = sections(proc.stdout)

    def __call__(self, label, step=None):
        text = self.by_label.get(label)
        assert text is not None, f"no output for {label}\n" + describe(self.proc)
        got = probe_outcome(text, step)
        assert got is not None, f"no outcome for {label} {step}\n" + describe(self.proc)
        return got

    def text(self, label):
        return self.by_label.get(label, "")


def attempt(tree, steps, policy_text=None, options=()):
    """Every step inside one sandbox."""
    proc = tree.run(["/bin/sh", "-c", script_of(steps)], policy_text=policy_text,
                    options=options)
    assert proc.returncode == 0, describe(proc)
    return Outcomes(proc)


def bare(tree, steps):
    """The same steps outside any sandbox, with the workload's uid."""
    proc = subprocess.run(tree.identity.workload_prefix + ["/bin/sh", "-c", script_of(steps)],
                          capture_output=True, text=True, timeout=30, cwd=tree.base)
    assert proc.returncode == 0, describe(proc)
    return Outcomes(proc)


def bare_root(steps):
    """The same steps outside any sandbox, as root with every capability."""
    proc = subprocess.run(["/bin/sh", "-c", script_of(steps)], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0, describe(proc)
    return Outcomes(proc)


def fsprobe(*args):
    return [probe("fsprobe")] + [str(a) for a in args]


def attack(*args):
    return [probe("attack-probe")] + [str(a) for a in args]


def owned(tree, path):
    os.lchown(path, tree.identity.workload_uid, tree.identity.workload_gid)
    return path


@contextmanager
def unix_listener(path=None, abstract=None):
    """A listening unix socket of the test process (host namespaces), which
    anyone may connect to; pending() counts the connections it got."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind("\0" + abstract if abstract else str(path))
        if path:
            os.chmod(path, 0o666)
        s.listen(16)
        s.setblocking(False)
        yield s
    finally:
        s.close()


@contextmanager
def host_socket_in(parent):
    """A listening unix socket "s" in a fresh directory (mode 0755) under
    parent: (its directory, its path, the listener)."""
    d = Path(tempfile.mkdtemp(prefix="lockshell-sock-", dir=parent))
    try:
        os.chmod(d, 0o755)
        with unix_listener(path=d / "s") as listener:
            yield d, d / "s", listener
    finally:
        shutil.rmtree(d, ignore_errors=True)


def pending(listener):
    n = 0
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return n
        conn.close()
        n += 1


def proc_policy(tree, proc_rights):
    """The tree's policy with /proc read_only (as in test_escape.py) or
    read_write (a policy granting what the GPU runtime addition grants)."""
    if proc_rights == "read_only":
        return tree.policy()
    system = [p for p in SYSTEM_READ_ONLY if p != "/proc"]
    return policy_yaml(read_only=system + [str(PROBES_DIR), str(tree.dirs["ro"])],
                       read_write=SYSTEM_READ_WRITE + ["/proc", str(tree.dirs["rw"]),
                                                       str(tree.dirs["rw2"])])


# --- paths: `..`, symlinks, renames, hard links --------------------------------------

def test_dotdot_out_of_read_write_refused(tree):
    """`..` is resolved before Landlock looks: a path through a read_write
    directory that ends elsewhere gets the rights (and the mount) of where
    it ends."""
    d = tree.dirs
    steps = [
        ("read", fsprobe("read", f"{d['rw']}/../unlisted/file")),
        ("write", fsprobe("write", f"{d['rw']}/emptydir/../../unlisted/file")),
        ("create", fsprobe("create", f"{d['rw']}/../unlisted/new")),
        ("write-ro", fsprobe("write", f"{d['rw']}/../ro/file")),
        ("cwd", ["/bin/sh", "-c", f"cd {d['rw']} && exec {probe('fsprobe')} write ../unlisted/victim"]),
    ]
    expected = {"read": "EACCES", "write": "EACCES", "create": "EACCES",
                "write-ro": "EROFS", "cwd": "EACCES"}
    before = tree.snapshot()
    got = attempt(tree, steps)
    for label, _ in steps:
        assert got(label) == expected[label], describe(got.proc)
    assert tree.snapshot() == before
    control = bare(tree, steps[:2])
    assert control("read") == "ok" and control("write") == "ok", describe(control.proc)


def test_symlinks_planted_in_read_write_refused(tree):
    """Symlinks the workload makes in a read_write area (`..`, `/`, a
    relative climb) lead nowhere the policy does not already grant."""
    d = tree.dirs
    steps = [
        ("mk-up", fsprobe("symlink", "..", f"{d['rw']}/up")),
        ("mk-root", fsprobe("symlink", "/", f"{d['rw']}/root")),
        ("mk-climb", fsprobe("symlink", "../../unlisted/file", f"{d['rw']}/emptydir/climb")),
        ("up-write", fsprobe("write", f"{d['rw']}/up/unlisted/file")),
        ("up-create", fsprobe("create", f"{d['rw']}/up/unlisted/new")),
        ("root-read", fsprobe("read", f"{d['rw']}/root{d['unlisted']}/file")),
        ("root-write-ro", fsprobe("write", f"{d['rw']}/root{d['ro']}/file")),
        ("climb-read", fsprobe("read", f"{d['rw']}/emptydir/climb")),
        ("up-listdir", fsprobe("listdir", f"{d['rw']}/up/unlisted")),
    ]
    got = attempt(tree, steps)
    for label in ("mk-up", "mk-root", "mk-climb"):
        assert got(label) == "ok", describe(got.proc)
    for label, _ in steps[3:]:
        want = "EROFS" if label == "root-write-ro" else "EACCES"
        assert got(label) == want, describe(got.proc)
    assert (d["unlisted"] / "file").read_text() == "data\n"
    assert (d["ro"] / "file").read_text() == "data\n"
    assert not (d["unlisted"] / "new").exists()


def test_read_only_directory_parent_rename_refused(tree):
    """A read_only directory (unlisted/emptydir, listed on its own) whose
    parent is not writable: neither it nor its parent can be moved, renamed
    or replaced (Landlock: the parent lies on the workdir's writable mount),
    and the rule still holds afterwards (its own read-only mount)."""
    d = tree.dirs
    locked = d["unlisted"] / "emptydir"
    text = tree.policy(read_only=[str(locked)])
    steps = [
        ("parent-rename", fsprobe("rename", d["unlisted"], f"{tree.base}/renamed")),
        ("parent-into-rw", fsprobe("rename", d["unlisted"], f"{d['rw']}/parent")),
        ("dir-into-rw", fsprobe("rename", locked, f"{d['rw']}/locked")),
        ("dir-rename", fsprobe("rename", locked, f"{d['unlisted']}/other")),
        ("rmdir", fsprobe("rmdir", locked)),
        ("ro-area-into-rw", fsprobe("rename", d["ro"], f"{d['rw']}/ro")),
        ("rw-over-parent", fsprobe("rename", d["rw2"], d["unlisted"])),
        ("create-after", fsprobe("create", f"{locked}/new")),
        ("listdir-after", fsprobe("listdir", locked)),
    ]
    before = tree.snapshot()
    got = attempt(tree, steps, policy_text=text)
    for label, _ in steps[:-2]:
        assert got(label) == "EACCES", describe(got.proc)
    assert got("create-after") == "EROFS", describe(got.proc)
    assert got("listdir-after") == "ok", describe(got.proc)
    assert tree.snapshot() == before


def test_hard_links_into_read_write_refused(tree):
    """Hard links that would give a read_write name to a file the policy
    keeps read-only or hides: through /proc/self/fd of an O_PATH descriptor
    (no access check at open), with linkat(AT_EMPTY_PATH), and of a file
    listed read_only on its own. Each answer is EXDEV: Landlock's refer check
    for the unlisted file (one writable mount with rw/), the mounts differing
    for the read_only area and file (each bound read-only on its own)."""
    d = tree.dirs
    own_rule = d["unlisted"] / "victim"
    text = tree.policy(read_only=[str(own_rule)])
    steps = [
        ("opath-unlisted", attack("opath-link", d["unlisted"] / "file", d["rw"] / "s1")),
        ("flink-unlisted", attack("opath-link-empty", d["unlisted"] / "file", d["rw"] / "s2")),
        ("flink-ro", attack("opath-link-empty", d["ro"] / "file", d["rw"] / "s3")),
        ("file-rule", fsprobe("link", own_rule, d["rw"] / "s4")),
        ("file-rule-read", fsprobe("read", own_rule)),
    ]
    before = tree.snapshot()
    got = attempt(tree, steps, policy_text=text)
    for label in ("opath-unlisted", "flink-unlisted", "flink-ro"):
        assert got(label, "opath-open") == "ok", describe(got.proc)  # O_PATH is not checked
    assert got("opath-unlisted", "opath-link") == "EXDEV", describe(got.proc)
    assert got("flink-unlisted", "opath-link-empty") == "EXDEV", describe(got.proc)
    assert got("flink-ro", "opath-link-empty") == "EXDEV", describe(got.proc)
    assert got("file-rule") == "EXDEV", describe(got.proc)
    assert got("file-rule-read") == "ok", describe(got.proc)
    assert tree.snapshot() == before
    for name in ("file", "victim"):
        assert (d["unlisted"] / name).stat().st_nlink == 1
    # Outside, the kernel links an O_PATH descriptor of one's own file.
    control = bare(tree, steps[1:2])
    assert control("flink-unlisted", "opath-link-empty") == "ok", describe(control.proc)


def test_read_only_inside_read_write_refused(tree):
    """Landlock rules only add rights, and a path gets the union of every
    rule above it: a read_only entry below a read_write one has write rights
    under Landlock. Its own read-only mount refuses every change (EROFS),
    its contents cannot leave it by rename or link (EXDEV: another mount),
    and it cannot be moved or removed while it is a mount point (EBUSY)."""
    d = tree.dirs
    locked = d["rw"] / "emptydir"
    target = locked / "file"
    target.write_text("data\n")
    owned(tree, target)
    text = tree.policy(read_only=[str(locked)])
    steps = [
        ("read", fsprobe("read", target)),
        ("write", fsprobe("write", target)),
        ("open-trunc", fsprobe("open-trunc", target)),
        ("truncate", fsprobe("truncate", target)),
        ("create", fsprobe("create", locked / "new")),
        ("mkdir", fsprobe("mkdir", locked / "newdir")),
        ("unlink", fsprobe("unlink", target)),
        ("meta", attack("meta", target)),
        ("rename-out", fsprobe("rename", target, d["rw"] / "out")),
        ("link-out", fsprobe("link", target, d["rw"] / "linked")),
        ("rename-dir", fsprobe("rename", locked, d["rw2"] / "moved")),
        ("rmdir-dir", fsprobe("rmdir", locked)),
    ]
    before = tree.snapshot()
    mode, mtime = target.stat().st_mode, target.stat().st_mtime_ns
    got = attempt(tree, steps, policy_text=text)
    assert got("read") == "ok", describe(got.proc)
    for label in ("write", "open-trunc", "truncate", "create", "mkdir", "unlink"):
        assert got(label) == "EROFS", describe(got.proc)
    assert got("meta", "stat") == "ok", describe(got.proc)
    for step in ("chmod", "utime", "setxattr"):
        assert got("meta", step) == "EROFS", describe(got.proc)
    assert got("rename-out") == "EXDEV", describe(got.proc)
    assert got("link-out") == "EXDEV", describe(got.proc)
    assert got("rename-dir") == "EBUSY", describe(got.proc)
    assert got("rmdir-dir") == "EBUSY", describe(got.proc)
    assert tree.snapshot() == before
    assert (target.stat().st_mode, target.stat().st_mtime_ns) == (mode, mtime)
    assert "user.lockshell" not in os.listxattr(target)
    # Without the sandbox, the workload's uid may do all of it.
    control = bare(tree, steps[1:2] + steps[7:8])
    assert control("write") == "ok", describe(control.proc)
    assert control("meta", "chmod") == "ok", describe(control.proc)


def test_metadata_outside_read_write_refused(tree, make_scratch):
    """chmod, utimensat and setxattr, which Landlock does not govern, are
    refused (EROFS) on a file outside every read_write entry, listed
    read_only or not listed at all: its mount is read-only. Here files the
    workload's uid owns, outside /tmp, keep their mode, times and xattrs."""
    ident = tree.identity
    base = make_scratch(ident, parent="/var/tmp")
    files = {}
    for name in ("listed", "unlisted", "control"):
        (base / name).mkdir()
        files[name] = base / name / "file"
        files[name].write_text("data\n")
    shutil.chown(base, ident.workload_uid, ident.workload_gid)
    for path in [base / n for n in files] + list(files.values()):
        owned(tree, path)
    text = tree.policy(read_only=[str(base / "listed")])
    steps = [(name, attack("meta", files[name])) for name in ("listed", "unlisted")]
    before = {n: (p.stat().st_mode, p.stat().st_mtime_ns) for n, p in files.items()}
    got = attempt(tree, steps, policy_text=text)
    for name, _ in steps:
        assert got(name, "stat") == "ok", describe(got.proc)
        for step in ("chmod", "utime", "setxattr"):
            assert got(name, step) == "EROFS", describe(got.proc)
        path = files[name]
        assert (path.stat().st_mode, path.stat().st_mtime_ns) == before[name]
        assert "user.lockshell" not in os.listxattr(path)
    # Without the sandbox, the same uid changes a sibling's metadata.
    control = bare(tree, [("control", attack("meta", files["control"]))])
    for step in ("chmod", "utime"):
        assert control("control", step) == "ok", describe(control.proc)
    assert files["control"].stat().st_mode != before["control"][0]


def test_known_limit_policy_symlink_planted_by_a_workload(tree):
    """Known limit: policy paths are opened when a sandbox starts, following
    symlinks. A workload that can write where a later policy names a path
    can plant a symlink there, and the later sandbox's rule lands on the
    target."""
    planted = tree.dirs["rw"] / "planted"
    got = attempt(tree, [("plant", fsprobe("symlink", tree.dirs["unlisted"], planted))])
    assert got("plant") == "ok", describe(got.proc)
    later = tree.policy(read_write=[str(planted)])
    got = attempt(tree, [("write", fsprobe("write", tree.dirs["unlisted"] / "file"))],
                  policy_text=later)
    assert got("write") == "ok", describe(got.proc)
    assert (tree.dirs["unlisted"] / "file").read_text().startswith("x\n")  # written


def test_known_limit_metadata_of_unlisted_files_changes(tree):
    """Known limit: Landlock (up to ABI 7) guards opening, creating,
    removing and renaming, not metadata, and the read-only view makes only
    the mounts outside every read_write entry read-only. stat, chmod,
    utimensat and setxattr therefore reach an unlisted file on a writable
    mount (here in the workdir, beside the read_write areas) by path
    wherever DAC lets the workload's uid: a file it owns becomes
    world-writable and older, while its contents stay unreadable."""
    target = tree.dirs["unlisted"] / "file"
    got = attempt(tree, [("meta", attack("meta", target)), ("read", fsprobe("read", target))])
    for step in ("stat", "chmod", "utime"):
        assert got("meta", step) == "ok", describe(got.proc)
    assert got("meta", "setxattr") in ("ok", "EOPNOTSUPP"), describe(got.proc)
    assert got("read") == "EACCES", describe(got.proc)
    st = target.stat()
    assert stat.S_IMODE(st.st_mode) == 0o606 and int(st.st_mtime) == 978307200
    assert target.read_text() == "data\n"


# --- /proc: roots, working directories, memory --------------------------------------

def test_proc_root_and_cwd_of_init_refused(tree):
    """The sandbox's PID 1 is lockshell's init: not under Landlock, so its
    /proc/1/root and /proc/1/cwd would reach the host's whole tree. Landlock's
    ptrace scoping refuses every such link (rootless, init has the workload's
    uid; as root it is also root's), even to a file the policy lets the
    workload read."""
    ro_file = tree.dirs["ro"] / "file"
    steps = [
        ("direct", fsprobe("read", ro_file)),
        ("self-root", fsprobe("read", f"/proc/self/root{ro_file}")),
        ("init-root", fsprobe("read", f"/proc/1/root{ro_file}")),
        ("init-cwd", fsprobe("listdir", "/proc/1/cwd/")),
        ("init-root-link", attack("readlink", "/proc/1/root")),
        ("init-cwd-link", attack("readlink", "/proc/1/cwd")),
        ("init-fd", fsprobe("read", "/proc/1/fd/0")),
        ("init-fd-link", attack("readlink", "/proc/1/fd/0")),
        ("init-mem", fsprobe("read", "/proc/1/mem")),
        ("init-environ", fsprobe("read", "/proc/1/environ")),
    ]
    got = attempt(tree, steps)
    assert got("direct") == "ok" and got("self-root") == "ok", describe(got.proc)
    for label, _ in steps[2:]:
        assert got(label) == "EACCES", describe(got.proc)


def test_proc_cwd_of_sibling_refused(tree):
    """A sibling may chdir anywhere (Landlock does not restrict chdir), but
    a file reached through its /proc/<pid>/cwd is judged by its real path."""
    got = attempt(tree, [("cwd", attack("sibling-cwd", tree.dirs["unlisted"], "file"))])
    assert got("cwd", "sibling-chdir") == "ok", describe(got.proc)
    assert got("cwd", "sibling-cwd-read") == "EACCES", describe(got.proc)
    assert got("cwd", "sibling-cwd-write") == "EACCES", describe(got.proc)
    assert (tree.dirs["unlisted"] / "file").read_text() == "data\n"


def test_sibling_memory_write_refused(tree):
    """/proc/<pid>/mem of a sibling needs a write right on /proc, which a
    policy listing /proc read_only does not give; the sibling is unchanged."""
    got = attempt(tree, [("mem", attack("sibling-mem"))])
    assert got("mem", "sibling-mem-open") == "EACCES", describe(got.proc)
    assert got("mem", "sibling-mem-effect") == "ENOENT", describe(got.proc)
    control = bare(tree, [("mem", attack("sibling-mem"))])
    assert control("mem", "sibling-mem-effect") == "ok", describe(control.proc)


def test_known_limit_sibling_memory_write_with_proc_write_right(tree):
    """Known limit: processes of one sandbox share one trust domain. With a
    write right on /proc (a policy listing it read_write), one may patch a
    sibling's memory through /proc/<pid>/mem; both hold the same rights."""
    got = attempt(tree, [("mem", attack("sibling-mem"))],
                  policy_text=proc_policy(tree, "read_write"))
    assert got("mem", "sibling-mem-write") == "ok", describe(got.proc)
    assert got("mem", "sibling-mem-effect") == "ok", describe(got.proc)


def test_known_limit_sibling_memory_write_in_gpu_sandbox(gpu_tree):
    """Known limit: the GPU runtime addition (write_file on /proc) gives the
    same right as above to every GPU sandbox."""
    proc = gpu_tree.run([probe("attack-probe"), "sibling-mem"], gpu="all")
    assert proc.returncode == 0, describe(proc)
    assert probe_outcome(proc.stdout, "sibling-mem-effect") == "ok", describe(proc)
    proc = gpu_tree.run([probe("attack-probe"), "sibling-mem"])
    assert probe_outcome(proc.stdout, "sibling-mem-open") == "EACCES", describe(proc)


def test_memory_of_process_entered_by_sandbox_exec_refused(identity, make_scratch):
    """A command entered with `sandbox exec` has its own Landlock domain:
    even with a write right on /proc, it cannot open the memory or the
    links of the sandbox's main process, nor the main process its."""
    base = make_scratch(identity)
    policy_file = write_policy(policy_yaml(
        read_only=[p for p in SYSTEM_READ_ONLY if p != "/proc"] + [str(PROBES_DIR)],
        read_write=SYSTEM_READ_WRITE + ["/proc", str(base)]), directory=base)
    boxes = Sandboxes(identity)
    try:
        name = boxes.created(policy=policy_file, cmd=["/usr/bin/sleep", "1000"])
        find = ('for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = sleep ] && '
                'pid=${p#/proc/}; done; echo "== main-mem"; ' + probe("fsprobe") +
                ' open-rdwr /proc/$pid/mem; echo "== main-cwd"; ' + probe("attack-probe") +
                ' readlink /proc/$pid/cwd; echo "== self-mem"; ' + probe("fsprobe") +
                ' open-rdwr /proc/self/mem')
        proc = boxes.exec(name, ["/bin/sh", "-c", find])
        assert proc.returncode == 0, describe(proc)
        got = Outcomes(proc)
        assert got("self-mem") == "ok", describe(proc)  # the write right is there
        assert got("main-mem") == "EACCES", describe(proc)
        assert got("main-cwd") == "EACCES", describe(proc)
    finally:
        boxes.cleanup()


def test_memory_of_sibling_sandbox_unreachable(tree):
    """Another sandbox's processes (same policy, same uid) are outside this
    one's PID namespace: its /proc/<pid>/mem does not exist here."""
    with sibling_sandbox(tree, proc_policy(tree, "read_write")) as (sibling, pid):
        steps = [("mem", fsprobe("open-rdwr", f"/proc/{pid}/mem")),
                 ("root", attack("readlink", f"/proc/{pid}/root"))]
        control = bare(tree, steps[:1])
        assert control("mem") == "ok", "DAC must allow it: " + describe(control.proc)
        got = attempt(tree, steps, policy_text=proc_policy(tree, "read_write"))
        assert got("mem") == "ENOENT", describe(got.proc)
        assert got("root") == "ENOENT", describe(got.proc)
        assert sibling.poll() is None


def test_ptrace_sibling_refused(tree):
    """PTRACE_ATTACH to a child of one's own: allowed by the kernel outside
    (same uid, no Yama here or a descendant under Yama 1), EPERM inside."""
    got = attempt(tree, [("ptrace", attack("ptrace-sibling"))])
    assert got("ptrace", "ptrace-attach") == "EPERM", describe(got.proc)
    control = bare(tree, [("ptrace", attack("ptrace-sibling"))])
    assert control("ptrace", "ptrace-attach") == "ok", describe(control.proc)


# --- terminal ---------------------------------------------------------------------------

def test_tiocsti_on_a_terminal_refused(tree):
    """TIOCSTI on a real terminal (a pseudo-terminal the probe opens, so
    that Landlock grants it), also with the request's upper 32 bits set,
    which the kernel ignores: EPERM, and nothing reaches the input queue."""
    text = tree.policy(read_write=["/dev/ptmx", "/dev/pts"])
    got = attempt(tree, [("pty", attack("pty-sti"))], policy_text=text)
    assert got("pty", "pty-open") == "ok", describe(got.proc)
    assert got("pty", "pty-tcgets") == "ok", describe(got.proc)
    assert got("pty", "pty-sti") == "EPERM", describe(got.proc)
    assert got("pty", "pty-sti-highbits") == "EPERM", describe(got.proc)
    assert re.search(r"^pty-queued 0$", got.text("pty"), re.M), describe(got.proc)
    control = bare(tree, [("pty", attack("pty-sti"))])
    # Outside, the kernel queues the input (EIO where dev.tty.legacy_tiocsti is 0).
    assert control("pty", "pty-sti") in ("ok", "EIO"), describe(control.proc)


# --- unix sockets to the host ----------------------------------------------------------

def test_abstract_socket_to_host_refused(tree):
    """An abstract socket of the host: with the default network (none) its
    name does not exist in the sandbox; with the host's network, Landlock's
    scoping refuses it (test_escape.py). The host got no connection."""
    name = f"lockshell-attack-{uuid.uuid4().hex[:12]}"
    with unix_listener(abstract=name) as listener:
        control = bare(tree, [("c", [probe("unix-probe"), "connect-abstract", name])])
        assert control("c") == "ok", describe(control.proc)
        assert pending(listener) == 1
        got = attempt(tree, [("c", [probe("unix-probe"), "connect-abstract", name])])
        assert got("c") == "ECONNREFUSED", describe(got.proc)
        assert pending(listener) == 0


def test_pathname_socket_in_host_tmp_hidden(tree):
    """A socket in the host's /tmp (an X server's, an ssh agent's) is not in
    the sandbox's private /tmp."""
    with host_socket_in("/tmp") as (_, sock, listener):
        got = attempt(tree, [("c", [probe("unix-probe"), "connect-path", sock])])
        assert got("c") == "ENOENT", describe(got.proc)
        assert pending(listener) == 0
        control = bare(tree, [("c", [probe("unix-probe"), "connect-path", sock])])
        assert control("c") == "ok", describe(control.proc)


def test_pathname_socket_in_host_run_hidden(tree):
    """A socket under the host's /run (the system bus, a container engine's,
    a user's session bus in /run/user/UID) is not in the sandbox's private
    /run; one the policy lists is kept and reachable."""
    with host_socket_in("/run") as (d, sock, listener):
        control = bare(tree, [("c", [probe("unix-probe"), "connect-path", sock])])
        assert control("c") == "ok", describe(control.proc)
        assert pending(listener) == 1
        got = attempt(tree, [("c", [probe("unix-probe"), "connect-path", sock])])
        assert got("c") == "ENOENT", describe(got.proc)
        assert pending(listener) == 0
        listed = attempt(tree, [("c", [probe("unix-probe"), "connect-path", sock])],
                         policy_text=tree.policy(read_only=[str(d)]))
        assert listed("c") == "ok", describe(listed.proc)
        assert pending(listener) == 1


def test_known_limit_pathname_socket_to_host_reachable(tree):
    """Known limit: Landlock (up to ABI 7) does not mediate connect() on a
    pathname socket and seccomp cannot read the address, so a host socket
    visible in the sandbox's mount namespace, in a directory the policy does
    not list, is reached when its file mode lets the workload's uid write
    it, with the default network (none) too. Creating one there is refused."""
    sock = tree.dirs["unlisted"] / "host.sock"
    with unix_listener(path=sock) as listener:
        got = attempt(tree, [("connect", [probe("unix-probe"), "connect-path", sock]),
                             ("read", fsprobe("read", sock)),
                             ("bind", [probe("unix-probe"), "pair-path",
                                       tree.dirs["unlisted"] / "own.sock"])])
        assert got("connect") == "ok", describe(got.proc)
        assert got("read") == "EACCES", describe(got.proc)
        assert got("bind") == "EACCES", describe(got.proc)
        assert pending(listener) == 1


# --- syscalls ---------------------------------------------------------------------------

def test_open_by_handle_at_refused(tree):
    """name_to_handle_at works (it only names a file); opening the handle,
    which skips path lookup and so every path rule, is refused."""
    steps = [("handle", attack("handle", tree.dirs["ro"] / "file"))]
    got = attempt(tree, steps)
    assert got("handle", "handle-name") == "ok", describe(got.proc)
    assert got("handle", "handle-open") == "EPERM", describe(got.proc)
    control = bare_root(steps)
    assert control("handle", "handle-open") == "ok", describe(control.proc)


def test_io_uring_refused(tree):
    steps = [("ring", attack("io-uring"))]
    got = attempt(tree, steps)
    assert got("ring", "io-uring-setup") == "EPERM", describe(got.proc)
    control = bare(tree, steps)
    assert control("ring", "io-uring-setup") == "ok", describe(control.proc)


def test_userfaultfd_device_absent(tree):
    """/dev/userfaultfd hands out userfaultfds without the refused syscall;
    the sandbox's private /dev has no such node."""
    got = attempt(tree, [("dev", fsprobe("open-rdwr", "/dev/userfaultfd")),
                         ("ls", ["/bin/sh", "-c", "test -e /dev/userfaultfd && echo present "
                                 "|| echo 'absent ok'"])])
    assert got("dev") == "ENOENT", describe(got.proc)
    assert got.text("ls") == "absent ok", describe(got.proc)


def test_memfd_and_descriptor_execution_refused(tree):
    """A payload executed from memory (memfd), from a bare descriptor
    (fexecve), or from an O_PATH descriptor of an unlisted file."""
    exe_ro, exe_unlisted = tree.dirs["ro"] / "exe", tree.dirs["unlisted"] / "exe"
    steps = [("memfd", attack("memfd-exec", exe_ro)),
             ("fexecve", attack("fexecve", exe_ro)),
             ("opath", attack("opath-exec", exe_unlisted)),
             ("by-path", fsprobe("exec", exe_ro))]
    got = attempt(tree, steps)
    assert got("memfd", "memfd-create") == "EPERM", describe(got.proc)
    assert got("fexecve", "fexecve") == "EPERM", describe(got.proc)
    assert got("opath", "opath-open") == "ok", describe(got.proc)
    assert got("opath", "opath-exec") == "EACCES", describe(got.proc)
    assert got("by-path") == "ok", describe(got.proc)
    control = bare(tree, steps)
    assert control("memfd", "memfd-exec") == "ok", describe(control.proc)
    assert control("fexecve", "fexecve") == "ok", describe(control.proc)
    assert control("opath", "opath-exec") == "ok", describe(control.proc)


def test_personality_tricks_refused(tree):
    """Turning off address randomisation and making readable memory
    executable (setarch -R -X) for the next program: personality() refuses,
    and the program runs with the default persona."""
    steps = [("persona", attack("persona-exec", "/usr/bin/cat", "/proc/self/personality"))]
    got = attempt(tree, steps)
    assert got("persona", "persona-set") == "EPERM", describe(got.proc)
    assert got.text("persona").splitlines()[-1] == "00000000", describe(got.proc)
    control = bare(tree, steps)
    assert control("persona", "persona-set") == "ok", describe(control.proc)
    # Outside, the next program runs without address randomisation (the
    # ELF loader itself drops READ_IMPLIES_EXEC for a non-executable stack).
    persona = int(control.text("persona").splitlines()[-1], 16)
    assert persona & 0x0040000, describe(control.proc)  # ADDR_NO_RANDOMIZE


# syscall-probe cases test_escape.py's lists leave out, with the outcome the
# filter must give.
MORE_SECCOMP = [
    ("io_uring_enter", "EPERM"), ("io_uring_register", "EPERM"), ("mount_setattr", "EPERM"),
    ("open_by_handle_at", "EPERM"), ("personality", "EPERM"),
    ("personality-highbits", "EPERM"), ("socket-packet-highbits", "EPERM"),
    ("personality-query", "ok"),
]


def test_seccomp_cases_beyond_test_escape(tree):
    steps = [(name, [probe("syscall-probe"), name]) for name, _ in MORE_SECCOMP]
    got = attempt(tree, steps)
    for name, want in MORE_SECCOMP:
        assert got(name, name) == want, describe(got.proc)
    control = bare_root(steps)
    for name, _ in MORE_SECCOMP:
        assert control(name, name) != "EPERM", describe(control.proc)


def test_every_syscall_probe_case_is_tested():
    """Every case `syscall-probe --list` names is run by test_escape.py or
    above, so a new rule's probe cannot go untested."""
    import test_escape
    listed = subprocess.run([probe("syscall-probe"), "--list"], capture_output=True, text=True,
                            timeout=30, check=True).stdout.split("\n")
    names = {line.split()[0] for line in listed if line.strip()}
    tested = (set(test_escape.SECCOMP_EPERM) | {n for n, _ in test_escape.SECCOMP_OTHER}
              | {n for n, _ in MORE_SECCOMP} | {"x32", "i386"})
    assert names - tested == set()


# --- docs/security.md stays true --------------------------------------------------------

CITATION = re.compile(r"`((?:tests/[\w/.-]+/)?[\w.-]+\.(?:py|c))::(\w+)(?:\[([^\]`]+)\])?`")


def doc_citations():
    text = SECURITY_DOC.read_text()
    found = CITATION.findall(text)
    assert found, "docs/security.md cites no test"
    return found


def citation_path(name):
    return REPO_ROOT / name if "/" in name else REPO_ROOT / "tests" / "integration" / name


@functools.lru_cache(maxsize=None)
def defined_tests(path):
    """Names of the test functions a Python file defines, or the functions
    (static void NAME(void **state)) a cmocka file defines."""
    if path.suffix == ".py":
        tree_ = ast.parse(path.read_text())
        return {n.name for n in tree_.body if isinstance(n, ast.FunctionDef)}
    return set(re.findall(r"^static void (\w+)\(void \*\*", path.read_text(), re.M))


@pytest.fixture(scope="module")
def collected_ids():
    """Test ids pytest collects from the integration files the doc cites."""
    files = sorted({str(citation_path(f)) for f, _, _ in doc_citations() if f.endswith(".py")})
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", *files],
                          capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert proc.returncode == 0, describe(proc)
    ids = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^tests/integration/([\w.]+)::(\w+)(?:\[(.*)\])?$", line.strip())
        if m:
            ids.setdefault((m.group(1), m.group(2)), set()).add(m.group(3) or "")
    return ids


def test_security_doc_cites_only_existing_tests(collected_ids):
    missing = []
    for name, func, case in doc_citations():
        path = citation_path(name)
        if not path.is_file() or func not in defined_tests(path):
            missing.append(f"{name}::{func}")
            continue
        if case and path.suffix == ".py":
            params = collected_ids.get((path.name, func), set())
            variants = {case, f"root-{case}", f"user-{case}", f"{case}-root", f"{case}-user"}
            if not variants & params:
                missing.append(f"{name}::{func}[{case}]")
    assert missing == [], "docs/security.md cites tests that do not exist: " + ", ".join(missing)


def test_security_doc_cites_every_escape_test():
    cited = {(citation_path(f).name, func) for f, func, _ in doc_citations()}
    uncited = []
    for name in ("test_escape.py", "test_attacks.py"):
        for func in sorted(defined_tests(REPO_ROOT / "tests" / "integration" / name)):
            if not func.startswith("test_") or func.startswith("test_security_doc_"):
                continue
            if (name, func) not in cited:
                uncited.append(f"{name}::{func}")
    assert uncited == [], "docs/security.md does not cite: " + ", ".join(uncited)


def test_security_doc_known_limits_are_tested():
    """Each test named test_known_limit_* is cited under "Known limits"."""
    text = SECURITY_DOC.read_text()
    assert "## Known limits" in text
    limits = text.split("## Known limits", 1)[1]
    names = {func for _, func, _ in CITATION.findall(limits)}
    own = defined_tests(REPO_ROOT / "tests" / "integration" / "test_attacks.py")
    for func in sorted(f for f in own if f.startswith("test_known_limit_")):
        assert func in names, f"{func} is not cited under Known limits"
