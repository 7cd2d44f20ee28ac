"""Named sandboxes: `lockshell sandbox create|exec|list|get|delete`.

Every test gets its own state directory (LOCKSHELL_STATE_DIR) owned by the
identity that invokes lockshell, and runs as root and as the unprivileged
test user. Enforcement inside a sandbox entered with `sandbox exec` is proven
by an errno the probe saw, never by lockshell's own output."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
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
    write_policy,
)
from test_gpu_standin import gpu_tree, privdev_script  # noqa: F401 (fixtures)
from test_isolation import NO_NAMESPACES

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
SCRATCH_PARENT = "/var/tmp"  # outside the sandbox's private /tmp


# --- helpers --------------------------------------------------------------------


class Sandboxes:
    """Runs `lockshell sandbox ...` as one identity with a private state
    directory; deletes whatever is left at the end."""

    def __init__(self, identity):
        self.identity = identity
        self.state = Path(tempfile.mkdtemp(prefix="lockshell-state-"))
        os.chown(self.state, identity.uid, identity.gid)
        self.env = {"LOCKSHELL_STATE_DIR": str(self.state)}

    def run(self, *args, outer=(), **kw):
        return run_lockshell(["sandbox"] + [str(a) for a in args], as_user=self.identity,
                             env=self.env, outer=outer, **kw)

    def create(self, name=None, cmd=None, policy=None, options=(), detach=True, **kw):
        args = ["create"]
        if name is not None:
            args += ["--name", name]
        if policy is not None:
            args += ["-p", policy]
        if detach:
            args.append("--detach")
        args += list(options)
        if cmd is not None:
            args += ["--"] + [str(c) for c in cmd]
        return self.run(*args, **kw)

    def created(self, name=None, **kw):
        """A detached sandbox that must start; returns its name."""
        proc = self.create(name, **kw)
        assert proc.returncode == 0, describe(proc)
        got = proc.stdout.strip()
        assert NAME_RE.match(got), describe(proc)
        if name is not None:
            assert got == name, describe(proc)
        return got

    def exec(self, name, cmd, options=(), **kw):
        return self.run("exec", name, *options, "--", *[str(c) for c in cmd], **kw)

    def list(self):
        proc = self.run("list", "--json")
        assert proc.returncode == 0, describe(proc)
        return {s["name"]: s for s in json.loads(proc.stdout)}

    def get(self, name, *options):
        proc = self.run("get", name, "--json", *options)
        assert proc.returncode == 0, describe(proc)
        return json.loads(proc.stdout)

    def delete(self, *names):
        return self.run("delete", *names)

    def entries(self):
        return sorted(os.listdir(self.state))

    def cleanup(self):
        names = list(self.list())
        if names:
            self.delete(*names)
        shutil.rmtree(self.state, ignore_errors=True)


@pytest.fixture
def sandboxes(identity):
    s = Sandboxes(identity)
    yield s
    s.cleanup()


class Tree:
    """ro/ (listed read_only) and rw/ (read_write) outside /tmp, and the
    policy that lists them."""

    def __init__(self, make_scratch, identity):
        self.base = make_scratch(identity, parent=SCRATCH_PARENT)
        self.ro = self.base / "ro"
        self.rw = self.base / "rw"
        for d in (self.ro, self.rw):
            d.mkdir()
            (d / "file").write_text("data\n")
            os.chown(d, identity.workload_uid, identity.workload_gid)
            os.chown(d / "file", identity.workload_uid, identity.workload_gid)
        self.policy_file = write_policy(policy_yaml(
            read_only=["/usr", "/lib", "/etc", "/proc", "/dev/urandom", str(PROBES_DIR),
                       str(self.ro)],
            read_write=["/dev/null", str(self.rw)]))

    def remove(self):
        os.unlink(self.policy_file)


@pytest.fixture
def tree(make_scratch, identity):
    t = Tree(make_scratch, identity)
    yield t
    t.remove()


def fsprobe_in(sandboxes, name, op, path):
    proc = sandboxes.exec(name, [probe("fsprobe"), op, path])
    assert proc.returncode == 0, describe(proc)
    got = probe_outcome(proc.stdout, op)
    assert got is not None, describe(proc)
    return got


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):  # gone, or being reaped
        return False


def wait_gone(pids, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.02)
    return False


def pid_namespace_members(pid):
    """Host pids of every process in the PID namespace of pid."""
    target = os.readlink(f"/proc/{pid}/ns/pid")
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") == target:
                members.append(int(entry))
        except OSError:
            pass
    return members


def lockshell_processes(marker):
    """Pids of lockshell processes whose command line contains marker."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/exe") != os.path.realpath(LOCKSHELL):
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


# --- lifecycle --------------------------------------------------------------------


def test_create_list_get_exec_delete(sandboxes):
    name = sandboxes.created("life-1")
    listed = sandboxes.list()
    assert set(listed) == {name}
    s = listed[name]
    assert s["state"] == "running", s
    assert s["network"] == "none" and s["gpu"] == "none", s
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", s["created"]), s
    assert alive(s["main_pid"]) and alive(s["supervisor_pid"]), s
    got = sandboxes.get(name)
    assert got["state"] == "running" and got["main_pid"] == s["main_pid"], got
    assert got["effective_policy"]["isolation"]["hostname"] == name, got
    assert got["effective_policy"]["network"]["mode"] == "none", got
    proc = sandboxes.exec(name, ["/bin/hostname"])
    assert proc.returncode == 0 and proc.stdout.strip() == name, describe(proc)
    proc = sandboxes.delete(name)
    assert proc.returncode == 0, describe(proc)
    assert sandboxes.list() == {}
    assert sandboxes.entries() == []
    assert wait_gone([s["main_pid"], s["supervisor_pid"]], 1)


def test_list_table_and_get_yaml(sandboxes):
    name = sandboxes.created("tabled")
    proc = sandboxes.run("list")
    assert proc.returncode == 0, describe(proc)
    header, row = proc.stdout.splitlines()
    assert header.split() == ["NAME", "STATE", "PID", "CREATED", "GPU", "NETWORK"]
    assert row.split()[:2] == [name, "running"], proc.stdout
    proc = sandboxes.run("get", name)
    assert proc.returncode == 0, describe(proc)
    assert f"name: {name}" in proc.stdout and "runtime_additions: []" in proc.stdout
    proc = sandboxes.run("get", name, "--policy-only", "--json")
    policy = json.loads(proc.stdout)
    assert "filesystem_policy" in policy and "name" not in policy, policy


def test_generated_names_are_valid_and_distinct(sandboxes):
    first = sandboxes.created()
    second = sandboxes.created()
    assert first != second
    assert set(sandboxes.list()) == {first, second}


@pytest.mark.parametrize("bad", ["-x", "a/b", "..", "x" * 64, "a b"])
def test_invalid_name_refused(sandboxes, bad):
    proc = sandboxes.create(bad, cmd=["/bin/true"])
    assert proc.returncode == 125, describe(proc)
    assert "invalid sandbox name" in proc.stderr, describe(proc)
    assert sandboxes.entries() == []


def test_duplicate_name_refused(sandboxes):
    sandboxes.created("dup")
    proc = sandboxes.create("dup")
    assert proc.returncode == 125, describe(proc)
    assert "a sandbox named 'dup' already exists" in proc.stderr, describe(proc)
    assert list(sandboxes.list()) == ["dup"]


def test_concurrent_create_one_name(sandboxes):
    who = sandboxes.identity
    env = dict(os.environ, **sandboxes.env)
    argv = who.prefix + [str(LOCKSHELL), "sandbox", "create", "--detach", "--name", "contested"]
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(8)]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    winners = [r for r in results if r[0] == 0]
    losers = [r for r in results if r[0] != 0]
    assert len(winners) == 1, results
    assert winners[0][1].strip() == "contested"
    for rc, _, err in losers:
        assert rc == 125 and "'contested' already exists" in err, results
    assert list(sandboxes.list()) == ["contested"]
    assert sandboxes.list()["contested"]["state"] == "running"


def test_create_without_command_needs_detach(sandboxes):
    proc = sandboxes.create("nocmd", detach=False)
    assert proc.returncode == 125, describe(proc)
    assert "--detach" in proc.stderr, describe(proc)
    assert sandboxes.entries() == []


def test_foreground_create_returns_code_and_keeps_state(sandboxes):
    proc = sandboxes.create("fg", cmd=["/bin/sh", "-c", "echo out; exit 3"], detach=False)
    assert proc.returncode == 3, describe(proc)
    assert proc.stdout == "out\n", describe(proc)
    s = sandboxes.list()["fg"]
    assert s["state"] == "exited" and s["exit_code"] == 3 and s["main_pid"] is None, s
    proc = sandboxes.exec("fg", ["/bin/true"])
    assert proc.returncode == 125 and "'fg' is not running (it is exited)" in proc.stderr, \
        describe(proc)
    assert sandboxes.delete("fg").returncode == 0
    assert sandboxes.entries() == []


def test_foreground_no_keep_removes_state(sandboxes):
    proc = sandboxes.create("gone", cmd=["/bin/sh", "-c", "exit 5"], detach=False,
                            options=["--no-keep"])
    assert proc.returncode == 5, describe(proc)
    assert sandboxes.entries() == []


def test_detached_no_keep_removes_state_when_main_ends(sandboxes):
    sandboxes.created("short", cmd=["/bin/sleep", "0.3"], options=["--no-keep"])
    assert "short" in sandboxes.list()
    deadline = time.monotonic() + 10
    while sandboxes.entries() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandboxes.entries() == []


def test_detached_with_command_records_exit(sandboxes):
    sandboxes.created("job", cmd=["/bin/sh", "-c", "echo to-log; exit 9"])
    deadline = time.monotonic() + 10
    while sandboxes.list()["job"]["state"] != "exited" and time.monotonic() < deadline:
        time.sleep(0.05)
    s = sandboxes.list()["job"]
    assert s["state"] == "exited" and s["exit_code"] == 9, s
    assert "to-log" in (sandboxes.state / "job" / "log").read_text()


def test_detached_command_not_found(sandboxes):
    proc = sandboxes.create("missing-cmd", cmd=["/nonexistent/program"])
    assert proc.returncode == 127, describe(proc)
    assert "/nonexistent/program" in proc.stderr, describe(proc)
    assert sandboxes.entries() == []


@pytest.mark.parametrize("script,code", [
    ("exit 0", 0),
    ("exit 1", 1),
    ("exit 42", 42),
    ("kill -9 $$", 128 + 9),
])
def test_exec_exit_codes(sandboxes, script, code):
    name = sandboxes.created()
    proc = sandboxes.exec(name, ["/bin/sh", "-c", script])
    assert proc.returncode == code, describe(proc)


def test_exec_command_not_found_and_not_executable(sandboxes):
    name = sandboxes.created()
    proc = sandboxes.exec(name, ["no-such-command-anywhere"])
    assert proc.returncode == 127, describe(proc)
    assert "no-such-command-anywhere" in proc.stderr, describe(proc)
    proc = sandboxes.exec(name, ["/usr"])
    assert proc.returncode == 126, describe(proc)


def test_exec_timeout(sandboxes):
    name = sandboxes.created()
    start = time.monotonic()
    proc = sandboxes.exec(name, ["/bin/sleep", "30"], options=["--timeout", "0.3"])
    assert proc.returncode == 124, describe(proc)
    assert time.monotonic() - start < 10


def test_exec_env_and_workdir(sandboxes):
    name = sandboxes.created()
    proc = sandboxes.exec(name, ["/bin/sh", "-c", 'echo "$GREETING $LOCKSHELL_SANDBOX"; pwd'],
                          options=["-e", "GREETING=hello", "-w", "/usr"])
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.splitlines() == ["hello 1", "/usr"], describe(proc)


def test_exec_into_missing_sandbox(sandboxes):
    proc = sandboxes.exec("nobody-home", ["/bin/true"])
    assert proc.returncode == 125, describe(proc)
    assert "no sandbox named 'nobody-home'" in proc.stderr, describe(proc)


def test_exec_sees_only_the_sandbox(sandboxes):
    name = sandboxes.created()
    main = sandboxes.list()[name]["main_pid"]
    proc = sandboxes.exec(name, ["/bin/sh", "-c", "cat /proc/1/comm; ls /proc"])
    assert proc.returncode == 0, describe(proc)
    lines = proc.stdout.split()
    assert lines[0] == "lockshell", describe(proc)
    pids = [int(x) for x in lines[1:] if x.isdigit()]
    assert 1 in pids and main not in pids and len(pids) < 10, describe(proc)


def test_delete_unknown_name_continues(sandboxes):
    name = sandboxes.created("known")
    proc = sandboxes.delete("unknown-one", name)
    assert proc.returncode == 1, describe(proc)
    assert "no sandbox named 'unknown-one'" in proc.stderr, describe(proc)
    assert sandboxes.list() == {}


def test_delete_ends_every_process(sandboxes):
    name = sandboxes.created()
    bg = subprocess.Popen(
        sandboxes.identity.prefix + [str(LOCKSHELL), "sandbox", "exec", name, "--",
                                     "/bin/sleep", "1000"],
        env=dict(os.environ, **sandboxes.env), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    s = sandboxes.list()[name]
    members = wait_members(s["main_pid"], 2)
    proc = sandboxes.delete(name)
    assert proc.returncode == 0, describe(proc)
    assert wait_gone(members + [s["supervisor_pid"]], 1), members
    assert bg.wait(timeout=10) == 128 + 9
    assert sandboxes.entries() == []


def wait_members(main_pid, count):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        members = pid_namespace_members(main_pid)
        if len(members) >= count:
            return members
        time.sleep(0.02)
    pytest.fail(f"the sandbox of pid {main_pid} never had {count} processes")


def test_killing_the_supervisor_ends_the_sandbox(sandboxes):
    name = sandboxes.created()
    bg = subprocess.Popen(
        sandboxes.identity.prefix + [str(LOCKSHELL), "sandbox", "exec", name, "--",
                                     "/bin/sh", "-c", "/bin/sleep 1000 & /bin/sleep 1000"],
        env=dict(os.environ, **sandboxes.env), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    s = sandboxes.list()[name]
    members = wait_members(s["main_pid"], 4)  # PID 1, sh, two sleeps
    os.kill(s["supervisor_pid"], signal.SIGKILL)
    assert wait_gone(members), [p for p in members if alive(p)]
    assert bg.wait(timeout=10) == 128 + 9
    listed = sandboxes.list()[name]
    assert listed["state"] == "stopped" and listed["main_pid"] is None, listed
    proc = sandboxes.exec(name, ["/bin/true"])
    assert proc.returncode == 125 and f"'{name}' is not running (it is stopped)" in proc.stderr, \
        describe(proc)
    proc = sandboxes.delete(name)
    assert proc.returncode == 0, describe(proc)
    assert sandboxes.entries() == []


def test_default_state_directory(identity):
    """/run/lockshell for root; /tmp/lockshell-UID (0700) for an ordinary user
    without XDG_RUNTIME_DIR."""
    env = {"LOCKSHELL_STATE_DIR": None, "XDG_RUNTIME_DIR": None}
    state = Path("/run/lockshell" if identity.uid == 0 else f"/tmp/lockshell-{identity.uid}")
    name = f"default-dir-{os.getpid()}"
    proc = run_lockshell(["sandbox", "create", "--detach", "--name", name], as_user=identity,
                         env=env)
    try:
        assert proc.returncode == 0, describe(proc)
        st = state.stat()
        assert st.st_uid == identity.uid and st.st_mode & 0o777 == 0o700
        assert (state / name / "state.json").exists()
    finally:
        proc = run_lockshell(["sandbox", "delete", name], as_user=identity, env=env)
    assert proc.returncode == 0, describe(proc)
    assert not (state / name).exists()


# --- the same policy through exec -----------------------------------------------------


def test_landlock_same_in_create_and_exec(sandboxes, tree):
    """The read_only area's mount is read-only (EROFS) for both; the private
    /tmp is a writable tmpfs the policy does not list, so only Landlock
    refuses a file created there (EACCES)."""
    target = tree.ro / "file"
    proc = sandboxes.create("ll-fg", cmd=["/bin/sh", "-c",
                                          f"{probe('fsprobe')} write {target}; "
                                          f"{probe('fsprobe')} create /tmp/new"],
                            detach=False, policy=tree.policy_file)
    assert proc.returncode == 0, describe(proc)
    assert probe_outcome(proc.stdout, "write") == "EROFS", describe(proc)
    assert probe_outcome(proc.stdout, "create") == "EACCES", describe(proc)
    name = sandboxes.created("ll", policy=tree.policy_file)
    assert fsprobe_in(sandboxes, name, "write", target) == "EROFS"
    assert fsprobe_in(sandboxes, name, "create", tree.ro / "new") == "EROFS"
    assert fsprobe_in(sandboxes, name, "create", "/tmp/new") == "EACCES"
    assert fsprobe_in(sandboxes, name, "read", target) == "ok"
    assert fsprobe_in(sandboxes, name, "write", tree.rw / "file") == "ok"
    assert fsprobe_in(sandboxes, name, "read", "/var/log") == "EACCES"
    assert target.read_text() == "data\n"
    assert not (tree.ro / "new").exists()


def test_seccomp_same_in_exec(sandboxes, tree):
    name = sandboxes.created(policy=tree.policy_file)
    proc = sandboxes.exec(name, [probe("syscall-probe"), "memfd_create"])
    assert proc.returncode == 0, describe(proc)
    assert probe_outcome(proc.stdout, "memfd_create") == "EPERM", describe(proc)


def test_identity_same_in_exec(sandboxes, tree):
    name = sandboxes.created(policy=tree.policy_file)
    proc = sandboxes.exec(name, ["/bin/sh", "-c", "id -u; id -g; grep NoNewPrivs /proc/self/status"])
    assert proc.returncode == 0, describe(proc)
    uid, gid, nnp = proc.stdout.splitlines()
    who = sandboxes.identity
    assert (int(uid), int(gid)) == (who.workload_uid, who.workload_gid), describe(proc)
    assert nnp.split() == ["NoNewPrivs:", "1"], describe(proc)


def test_exec_uses_stored_policy_not_a_new_one(sandboxes, tree):
    """The policy file changing after create changes nothing for exec: not
    the mounts (ro/ stays read-only), and not Landlock's rules (the private
    /tmp, writable but unlisted when created, stays refused)."""
    name = sandboxes.created(policy=tree.policy_file)
    with open(tree.policy_file, "w") as f:
        f.write(policy_yaml(read_only=["/usr", "/lib", "/etc", str(PROBES_DIR)],
                            read_write=["/dev/null", "/tmp", str(tree.ro), str(tree.rw)]))
    assert fsprobe_in(sandboxes, name, "write", tree.ro / "file") == "EROFS"
    assert fsprobe_in(sandboxes, name, "create", "/tmp/new") == "EACCES"


# --- GPU: stand-in nodes in a private /dev ------------------------------------------------

EXEC_SCRIPT = """#!/bin/sh
# enters the sandbox as OpenShell's GPU tests do: from a script
exec {lockshell} sandbox exec "$1" -- {script}
"""


def gpu_sandbox(sandboxes, tree, name, gpu):
    """A detached GPU sandbox created inside the private /dev of stand-ins."""
    policy = write_policy(tree.policy())
    try:
        flags = ["--share-tmp"] + ([] if gpu is None else [gpu])
        proc = sandboxes.create(name, policy=policy, options=flags,
                                outer=["unshare", "--mount", "--propagation", "private",
                                       "/bin/sh", str(tree.privdev), "gpu", "--"])
        assert proc.returncode == 0, describe(proc)
    finally:
        os.unlink(policy)


def exec_from_script(sandboxes, tree, name):
    script = tree.base / "enter.sh"
    script.write_text(EXEC_SCRIPT.format(lockshell=LOCKSHELL, script=tree.ro / "grandchild.sh"))
    os.chmod(script, 0o755)
    return subprocess.run(sandboxes.identity.prefix + ["/bin/sh", str(script), name],
                          env=dict(os.environ, **sandboxes.env), capture_output=True, text=True,
                          timeout=60, cwd="/")


def test_gpu_thread_names_through_exec_from_script(sandboxes, gpu_tree):
    gpu_sandbox(sandboxes, gpu_tree, "gpu-all", "--gpu")
    proc = exec_from_script(sandboxes, gpu_tree, "gpu-all")
    assert proc.returncode == 0, describe(proc)
    assert probe_outcome(proc.stdout, "setname-other") == "ok", describe(proc)
    assert probe_outcome(proc.stdout, "comm-self") == "ok", describe(proc)
    assert "shell-comm ok" in proc.stdout, describe(proc)
    assert "shell-comm-now=lsk-shell" in proc.stdout, describe(proc)


def test_no_gpu_thread_names_refused_through_exec(sandboxes, gpu_tree):
    gpu_sandbox(sandboxes, gpu_tree, "no-gpu", None)
    proc = exec_from_script(sandboxes, gpu_tree, "no-gpu")
    assert proc.returncode == 0, describe(proc)
    assert probe_outcome(proc.stdout, "setname-other") == "EACCES", describe(proc)
    assert probe_outcome(proc.stdout, "comm-self") == "EACCES", describe(proc)
    assert "shell-comm ok" not in proc.stdout, describe(proc)


def test_gpu_nodes_through_exec(sandboxes, gpu_tree):
    gpu_sandbox(sandboxes, gpu_tree, "gpu-0", "--gpu=0")
    assert fsprobe_in(sandboxes, "gpu-0", "open-rdwr", "/dev/nvidia0") == "ok"
    assert fsprobe_in(sandboxes, "gpu-0", "open-rdwr", "/dev/nvidiactl") == "ok"
    assert fsprobe_in(sandboxes, "gpu-0", "open-rdwr", "/dev/nvidia1") == "ENOENT"
    assert fsprobe_in(sandboxes, "gpu-0", "read", "/dev/zero") == "EACCES"


def test_get_shows_runtime_additions_for_gpu(sandboxes, gpu_tree):
    gpu_sandbox(sandboxes, gpu_tree, "gpu-get", "--gpu")
    got = sandboxes.get("gpu-get")
    assert got["gpu"] == "all", got
    eff = got["effective_policy"]
    procfs = [a for a in eff["runtime_additions"] if a["path"] == "/proc"]
    assert len(procfs) == 1 and set(procfs[0]["access"]) == {"write_file", "truncate"}, eff
    assert "304" in procfs[0]["reason"], eff
    assert eff["filesystem_policy"]["sources"].get("/dev/nvidiactl") == "gpu", eff
    assert sandboxes.list()["gpu-get"]["gpu"] == "all"
    proc = sandboxes.run("get", "gpu-get", "--policy-only")
    assert proc.returncode == 0, describe(proc)
    assert "runtime_additions:" in proc.stdout and "304" in proc.stdout, describe(proc)


# --- without user namespaces (best_effort) --------------------------------------------


@pytest.fixture
def user_sandboxes():
    s = Sandboxes(identity_for("user"))
    yield s
    s.cleanup()


def without_userns(sandboxes, args, policy):
    """`lockshell sandbox ARGS` as the test user where user namespaces are
    disabled (test_isolation's confined max_user_namespaces=0)."""
    who = sandboxes.identity
    return run_lockshell(["sandbox", "create", "-p", policy] + args, as_user="root",
                         env=sandboxes.env,
                         outer=[sys.executable, "-c", NO_NAMESPACES, "user", who.uid, who.gid])


def test_without_user_namespaces_sandbox_runs_on_landlock_alone(user_sandboxes, make_scratch):
    work = make_scratch(user_sandboxes.identity, parent=SCRATCH_PARENT)
    policy = write_policy(policy_yaml(
        read_only=["/usr", "/lib", "/etc", "/proc", str(PROBES_DIR)], read_write=["/dev/null"],
        compatibility="best_effort"))
    try:
        proc = without_userns(user_sandboxes, ["--detach", "--name", "flat", "--",
                                               "/bin/sleep", "1000"], policy)
        assert proc.returncode == 0, describe(proc)
        assert "WITHOUT namespaces" in proc.stderr, describe(proc)
        idle = without_userns(user_sandboxes, ["--detach", "--name", "idle-flat"], policy)
    finally:
        os.unlink(policy)
    assert idle.returncode == 125, describe(idle)
    assert "needs namespaces" in idle.stderr and "give it a command" in idle.stderr, \
        describe(idle)
    got = user_sandboxes.get("flat")
    assert got["state"] == "running" and got["effective_policy"]["isolation"]["pid"] is False
    proc = user_sandboxes.exec("flat", ["/bin/hostname"])
    assert proc.returncode == 0 and proc.stdout.strip() == socket.gethostname(), describe(proc)
    assert fsprobe_in(user_sandboxes, "flat", "create", work / "new") == "EACCES"
    proc = user_sandboxes.delete("flat")
    assert proc.returncode == 0, describe(proc)
    assert wait_gone([got["main_pid"], got["supervisor_pid"]], 1)
    assert user_sandboxes.entries() == []


# --- nothing leaks ----------------------------------------------------------------------


def test_200_sandboxes_leave_nothing(sandboxes):
    marker = f"leak-{os.getpid()}-"
    names = [f"{marker}{i}" for i in range(200)]
    with open("/proc/self/mountinfo") as f:
        mounts_before = f.read()
    fds_before = sorted(os.listdir("/proc/self/fd"))
    start = time.monotonic()
    for name in names:
        proc = sandboxes.create(name)
        assert proc.returncode == 0, describe(proc)
    assert len(sandboxes.list()) == 200
    assert len(lockshell_processes(marker)) >= 200
    proc = sandboxes.delete(*names)
    assert proc.returncode == 0, describe(proc)
    elapsed = time.monotonic() - start
    assert sandboxes.entries() == []
    assert lockshell_processes(marker) == []
    with open("/proc/self/mountinfo") as f:
        assert f.read() == mounts_before
    assert sorted(os.listdir("/proc/self/fd")) == fds_before
    assert elapsed < 60, f"200 create+delete took {elapsed:.1f}s"
