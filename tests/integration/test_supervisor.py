"""Supervision by `lockshell run`: exit codes, signal forwarding, the
timeout, orphan reaping, the environment, logging, the dropped identity as
/proc/self/status shows it, and job control through a terminal. Every test
runs as root and as an unprivileged user (the `identity` fixture)."""

import json
import os
import pwd
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (
    LOCKSHELL,
    describe,
    identity_for,
    policy_yaml,
    run_lockshell,
    write_policy,
)

SYSTEM_READ_ONLY = ["/usr", "/lib", "/etc", "/proc", "/dev/urandom"]
POLICY = policy_yaml(read_only=SYSTEM_READ_ONLY, read_write=["/dev/null"], include_workdir=True)
FORWARDED = {"TERM": 71, "INT": 72, "HUP": 73, "QUIT": 74, "USR1": 75, "USR2": 76}


@pytest.fixture
def workdir(make_scratch):
    """A directory every identity's workload may write (mode 0777)."""
    return make_scratch(mode=0o777)


def run(identity, workdir, cmd, *opts, policy=POLICY, **kw):
    """`lockshell run [-p POLICY] -w WORKDIR OPTS -- CMD`."""
    return run_lockshell(["run", *opts, "--", *cmd], policy_text=policy, as_user=identity,
                         workdir=workdir, **kw)


def sh(script):
    return ["/bin/sh", "-c", script]


def one_error_line(proc):
    """The one `lockshell: error:` line a 125 must print."""
    lines = [l for l in proc.stderr.splitlines() if l.startswith("lockshell: error: ")]
    assert len(lines) == 1, describe(proc)
    return lines[0]


def popen(identity, workdir, cmd, *opts, policy_file):
    argv = identity.prefix + [str(LOCKSHELL), "run", "-p", policy_file, "-w", str(workdir),
                              *opts, "--", *cmd]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def policy_file():
    path = write_policy(POLICY)
    yield path
    os.unlink(path)


# --- exit codes ----------------------------------------------------------------

@pytest.mark.parametrize("code", [0, 1, 42])
def test_workload_exit_code(identity, workdir, code):
    proc = run(identity, workdir, sh(f"exit {code}"))
    assert proc.returncode == code, describe(proc)


def test_killed_by_signal_is_128_plus_n(identity, workdir):
    proc = run(identity, workdir, sh("kill -KILL $$"))
    assert proc.returncode == 128 + signal.SIGKILL, describe(proc)


def test_missing_command_is_127(identity, workdir):
    proc = run(identity, workdir, ["no-such-command-lsk"])
    assert proc.returncode == 127, describe(proc)
    assert "command not found: no-such-command-lsk" in proc.stderr, describe(proc)


def test_non_executable_file_is_126(identity, workdir):
    script = Path(workdir) / "not-executable"
    script.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o644)
    proc = run(identity, workdir, ["./not-executable"])
    assert proc.returncode == 126, describe(proc)
    assert "cannot execute ./not-executable: Permission denied" in proc.stderr, describe(proc)


def test_invalid_policy_is_125_with_location(identity, workdir):
    proc = run(identity, workdir, ["/bin/true"], policy="version: 1\nfilesystem_policy: [\n")
    assert proc.returncode == 125, describe(proc)
    assert re.search(r"lockshell-policy-\w+\.yaml:\d+:\d+: ", proc.stderr), describe(proc)
    assert "invalid" in one_error_line(proc)


def test_policy_naming_root_is_125(identity, workdir):
    text = policy_yaml(read_only=SYSTEM_READ_ONLY, include_workdir=True, run_as_user="root")
    marker = Path(workdir) / "ran"
    proc = run(identity, workdir, ["/usr/bin/touch", marker], policy=text)
    assert proc.returncode == 125, describe(proc)
    assert "policy" in one_error_line(proc)
    assert re.search(r"\.yaml:\d+:\d+: error: process\.run_as_user: root is refused", proc.stderr)
    assert not marker.exists()


def test_unprivileged_policy_naming_another_user_is_125(workdir):
    text = policy_yaml(read_only=SYSTEM_READ_ONLY, include_workdir=True, run_as_user="nobody")
    proc = run(identity_for("user"), workdir, ["/bin/true"], policy=text)
    assert proc.returncode == 125, describe(proc)
    assert "needs root" in one_error_line(proc)


@pytest.mark.parametrize("opts", [[], ["-t", "soon"], ["-e", "NOEQUALS"], ["-e", "1X=y"],
                                  ["--bogus"], ["-w", "/no/such/dir"],
                                  ["-p", "/no/such/policy.yaml"]])
def test_usage_errors_are_125(identity, workdir, opts):
    cmd = [] if opts == [] else ["/bin/true"]
    proc = run_lockshell(["run", *opts, *cmd], as_user=identity, workdir=workdir)
    assert proc.returncode == 125, describe(proc)
    one_error_line(proc)


def test_default_workdir_is_the_current_directory(identity, workdir, policy_file):
    proc = run_lockshell(["run", "-p", policy_file, "--", "/bin/pwd"], as_user=identity,
                         cwd=workdir)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.strip() == str(Path(workdir).resolve()), describe(proc)


# --- signals, timeout, reaping -------------------------------------------------

@pytest.mark.parametrize("name", sorted(FORWARDED))
def test_signal_forwarded_to_workload(identity, workdir, policy_file, name):
    code = FORWARDED[name]
    script = f"trap 'exit {code}' {name}; echo ready; while :; do sleep 0.05; done"
    p = popen(identity, workdir, sh(script), policy_file=policy_file)
    try:
        assert p.stdout.readline().strip() == "ready"
        p.send_signal(getattr(signal, "SIG" + name))
        assert p.wait(timeout=10) == code, p.stderr.read()
    finally:
        p.kill()
        p.wait()


def test_timeout_is_124(identity, workdir):
    start = time.monotonic()
    proc = run(identity, workdir, ["/bin/sleep", "30"], "-t", "0.3")
    assert proc.returncode == 124, describe(proc)
    assert time.monotonic() - start < 5


def test_timeout_kills_a_workload_ignoring_sigterm(identity, workdir):
    """The workload sees SIGTERM (trap writes a mark) and survives it; only
    the SIGKILL --kill-after later ends it, well before the default 5 s."""
    mark = Path(workdir) / "got-term"
    script = f"trap 'echo term > {mark}' TERM; while :; do sleep 0.05; done"
    start = time.monotonic()
    proc = run(identity, workdir, sh(script), "-t", "0.3", "--kill-after", "0.7")
    elapsed = time.monotonic() - start
    assert proc.returncode == 124, describe(proc)
    assert mark.read_text() == "term\n"
    assert 1.0 <= elapsed < 4.5, elapsed


def children_of(pid):
    """(pid, state) of each child of pid."""
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            for child in f.read().split():
                with open(f"/proc/{child}/stat") as st:
                    state = st.read().rsplit(")", 1)[1].split()[0]
                out.append((int(child), state))
    return out


def ns_pid(pid):
    """The pid of a host process as its own PID namespace numbers it."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[-1]) for l in f if l.startswith("NSpid:"))


def test_orphans_are_adopted_and_reaped(identity, workdir, policy_file):
    """A double-forked grandchild becomes a child of the sandbox's PID 1,
    the supervisor's child, and, once it exits, leaves no zombie behind."""
    script = "(/bin/sleep 0.6 & echo $! > orphan); echo ready; sleep 3; echo done"
    p = popen(identity, workdir, sh(script), policy_file=policy_file)
    try:
        assert p.stdout.readline().strip() == "ready"
        orphan = int((Path(workdir) / "orphan").read_text())
        [(init, _)] = children_of(p.pid)
        assert orphan in [ns_pid(c) for c, _ in children_of(init)]
        time.sleep(1.5)
        kids = children_of(init)
        assert orphan not in [ns_pid(c) for c, _ in kids]
        assert all(state != "Z" for _, state in kids), kids
        assert p.wait(timeout=10) == 0
    finally:
        p.kill()
        p.wait()


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


def test_remaining_processes_end_with_the_workload(identity, workdir):
    """Escaped descendants (own session, own process group) are killed and
    reaped when the main process exits, and lockshell returns at once."""
    start = time.monotonic()
    proc = run(identity, workdir,
               sh("setsid /bin/sleep 3917 & (/bin/sleep 3918 &); exit 3"), timeout=20)
    assert proc.returncode == 3, describe(proc)
    assert time.monotonic() - start < 10
    assert processes_with_arg("3917") == [] and processes_with_arg("3918") == []


# --- environment, identity -----------------------------------------------------

def test_environment(identity, workdir):
    pw = pwd.getpwuid(identity.workload_uid)
    proc = run(identity, workdir, ["/usr/bin/env"], "-e", "FOO=bar baz", "-e", "EMPTY=",
               "-e", "LOCKSHELL_SANDBOX=0", env={"INHERITED": "yes", "HOME": "/root"})
    assert proc.returncode == 0, describe(proc)
    env = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    assert env["LOCKSHELL_SANDBOX"] == "1"
    assert env["FOO"] == "bar baz" and env["EMPTY"] == ""
    assert env["INHERITED"] == "yes"
    assert env["PATH"] == os.environ["PATH"]
    assert (env["HOME"], env["USER"], env["LOGNAME"]) == (pw.pw_dir, pw.pw_name, pw.pw_name)


def test_env_option_overrides_identity_variables(identity, workdir):
    proc = run(identity, workdir, sh('echo "$HOME"'), "-e", "HOME=/tmp")
    assert proc.stdout == "/tmp\n", describe(proc)


def test_env_path_is_searched(identity, workdir):
    tool = Path(workdir) / "bin" / "lsk-tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho tool-ran\n")
    os.chmod(tool.parent, 0o755)
    os.chmod(tool, 0o755)
    proc = run(identity, workdir, ["lsk-tool"], "-e", f"PATH={tool.parent}:/usr/bin")
    assert proc.returncode == 0 and proc.stdout == "tool-ran\n", describe(proc)


def status_fields(text):
    return {k: v.split() for k, _, v in (l.partition(":") for l in text.splitlines())}


def test_dropped_identity_in_proc_status(identity, workdir):
    """Under the built-in default policy (it lists /usr and /proc)."""
    proc = run(identity, workdir, ["cat", "/proc/self/status"], policy=None)
    assert proc.returncode == 0, describe(proc)
    f = status_fields(proc.stdout)
    uid, gid = identity.workload_uid, identity.workload_gid
    assert f["Uid"] == [str(uid)] * 4 and f["Gid"] == [str(gid)] * 4, describe(proc)
    if identity.name == "root":
        # The "sandbox" user's groups when it exists; none for the 65534 fallback.
        try:
            expected = set(os.getgrouplist(pwd.getpwnam("sandbox").pw_name, gid))
        except KeyError:
            expected = set()
        assert {int(g) for g in f["Groups"]} == expected
        assert int(f["CapBnd"][0], 16) == 0
    else:
        assert f["Groups"] == []  # setpriv --clear-groups: nothing to change
        assert int(f["CapBnd"][0], 16) != 0  # only root may shrink it
    for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(f[cap][0], 16) == 0, (cap, f[cap])
    assert f["NoNewPrivs"] == ["1"]


# --- logging -------------------------------------------------------------------

def test_quiet_by_default(identity, workdir):
    proc = run(identity, workdir, sh("echo out"))
    assert proc.returncode == 0 and proc.stdout == "out\n", describe(proc)
    assert proc.stderr == "", describe(proc)


def test_log_level_info_shows_each_step(identity, workdir):
    proc = run(identity, workdir, sh("exit 5"), "--log-level", "info")
    assert proc.returncode == 5, describe(proc)
    for step in (r"policy \S+ loaded", r"Landlock ABI \d", r"seccomp filter installed: \d+ rules",
                 rf"identity: .*uid {identity.workload_uid}", r"launched pid \d+: /bin/sh",
                 r"workload exited with code 5"):
        assert re.search(step, proc.stderr), (step, proc.stderr)


def test_log_file_is_json_lines(identity, workdir):
    log = Path(workdir) / "log.jsonl"
    proc = run(identity, workdir, sh("kill -TERM $$"), "--log-file", str(log))
    assert proc.returncode == 128 + signal.SIGTERM, describe(proc)
    assert proc.stderr == "", describe(proc)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    names = [e["event"] for e in events]
    for name in ("policy", "identity", "seccomp", "launch", "exit"):
        assert name in names, names
    assert all({"ts", "level", "event", "message"} <= e.keys() for e in events)
    assert "signal 15" in events[names.index("exit")]["message"]


# --- job control ---------------------------------------------------------------

class Pane:
    """An interactive bash (prompt "outer$ ") in a tmux pane, run by the
    identity that invokes lockshell."""

    def __init__(self, identity, socket):
        self.tmux = identity.tmux(socket)
        subprocess.run(self.tmux + ["new-session", "-d", "-s", "t", "-x", "200", "-y", "50",
                                    "env 'PS1=outer$ ' /bin/bash --norc --noprofile -i"],
                       check=True)
        self.wait_for(r"^outer\$")

    def text(self):
        return subprocess.run(self.tmux + ["capture-pane", "-p", "-t", "t"],
                              capture_output=True, text=True).stdout

    def wait_for(self, pattern):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if re.search(pattern, self.text(), re.M):
                return
            time.sleep(0.1)
        pytest.fail(f"pane never showed {pattern!r}:\n{self.text()}")

    def send(self, *keys):
        subprocess.run(self.tmux + ["send-keys", "-t", "t", *keys], check=True)

    def close(self):
        subprocess.run(self.tmux + ["kill-server"], capture_output=True)


@pytest.fixture
def pane(identity, make_scratch):
    scratch = make_scratch(identity)
    os.chown(scratch, identity.uid, identity.gid)
    p = Pane(identity, scratch / "tmux.sock")
    yield p
    p.close()


def test_ctrl_z_suspends_and_fg_resumes(pane, workdir, policy_file):
    """Ctrl-Z on a sandboxed command stops lockshell as a job of the outer
    shell, `fg` resumes the workload, Ctrl-C then ends it."""
    pane.send(f"{LOCKSHELL} run -p {policy_file} -w {workdir} -- /bin/sleep 100", "Enter")
    time.sleep(1)
    pane.send("C-z")
    pane.wait_for(r"Stopped")
    pane.send("echo jobs-$(jobs | wc -l)", "Enter")
    pane.wait_for(r"^jobs-1$")
    pane.send("fg", "Enter")
    time.sleep(1)
    pane.send("C-c")
    pane.send("echo status=$?", "Enter")
    pane.wait_for(r"^status=130$")


def test_background_job_reading_the_terminal(pane, workdir, policy_file):
    """Started in the background, a workload reading the terminal stops
    (SIGTTIN) and lockshell stops with it; `fg` gives it the terminal."""
    script = "read -r line; echo got-$line"
    pane.send(f"{LOCKSHELL} run -p {policy_file} -w {workdir} -- /bin/sh -c '{script}' &",
              "Enter")
    time.sleep(1)
    pane.send("jobs -l", "Enter")
    pane.wait_for(r"Stopped")
    pane.send("fg", "Enter")
    time.sleep(0.5)
    pane.send("hello", "Enter")
    pane.wait_for(r"^got-hello$")
    pane.send("echo status=$?", "Enter")
    pane.wait_for(r"^status=0$")
