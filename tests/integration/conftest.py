"""Shared fixtures and helpers for lockshell's black-box tests.

The binary comes from $LOCKSHELL (default <repo>/build/lockshell) and the
probe programs from $LOCKSHELL_BUILD/probes (default <repo>/build/probes).
Test files import the plain helpers with `from conftest import ...` and use
the fixtures by name:

- `identity`: parametrized over "root" (lockshell invoked as root) and "user"
  (invoked as the unprivileged test user through setpriv). Each Identity
  knows who invokes lockshell and who the workload runs as.
- `make_scratch(owner=None)`: a fresh directory the given identity's
  workload owns, removed after the test.
- `run_lockshell(args, policy_text=None, as_user=None, ...)`: runs the
  binary and returns a CompletedProcess with text stdout and stderr.
"""

import errno
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCKSHELL = Path(os.environ.get("LOCKSHELL", REPO_ROOT / "build" / "lockshell"))
BUILD_DIR = Path(os.environ.get("LOCKSHELL_BUILD", REPO_ROOT / "build"))
PROBES_DIR = BUILD_DIR / "probes"

TEST_USER = "lockshell-test"
# The documented default workload identity when lockshell runs as root and
# the policy names no user: user "sandbox" if it exists, else 65534.
SANDBOX_USER = "sandbox"
NOBODY_ID = 65534


def probe(name):
    """Absolute path of a built probe; fails (never skips) when missing."""
    path = PROBES_DIR / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"probe {path} is missing: run `make tests-build`")
    return str(path)


def setpriv_prefix(uid, gid):
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


def sandbox_default_ids():
    """uid and gid the workload gets when root runs lockshell without a user."""
    try:
        pw = pwd.getpwnam(SANDBOX_USER)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return NOBODY_ID, NOBODY_ID


def ensure_test_user():
    """Creates the unprivileged test user once; returns its passwd entry."""
    for _ in range(20):
        try:
            return pwd.getpwnam(TEST_USER)
        except KeyError:
            pass
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", TEST_USER],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        time.sleep(0.1)  # another test run may hold the passwd lock
    pytest.fail(f"could not create the test user {TEST_USER}")


@dataclass(frozen=True)
class Identity:
    """Who invokes lockshell and who the workload runs as."""

    name: str  # "root" or "user"
    uid: int
    gid: int
    workload_uid: int
    workload_gid: int

    @property
    def prefix(self):
        """argv prefix that runs a command as the invoking identity."""
        if self.uid == 0:
            return []
        return setpriv_prefix(self.uid, self.gid)

    def tmux(self, socket):
        """argv prefix of a tmux client, as this identity, on a server of its
        own. tmux runs pane commands through $SHELL and, when that is unset,
        through the passwd shell, which for the test user is nologin."""
        return self.prefix + ["env", "SHELL=/bin/sh", "tmux", "-S", str(socket)]

    @property
    def workload_prefix(self):
        """argv prefix that runs a command outside the sandbox with the
        workload's uid and gid (for targets only Landlock may protect)."""
        return setpriv_prefix(self.workload_uid, self.workload_gid)


def root_identity():
    uid, gid = sandbox_default_ids()
    return Identity("root", 0, 0, uid, gid)


def user_identity():
    pw = ensure_test_user()
    return Identity("user", pw.pw_uid, pw.pw_gid, pw.pw_uid, pw.pw_gid)


def identity_for(as_user):
    if as_user is None or as_user == "root":
        return root_identity()
    if as_user == "user":
        return user_identity()
    if isinstance(as_user, Identity):
        return as_user
    raise ValueError(f"unknown identity {as_user!r}")


@pytest.fixture(params=["root", "user"])
def identity(request):
    return identity_for(request.param)


def chown_tree(path, uid, gid):
    for root, dirs, files in os.walk(path):
        os.lchown(root, uid, gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def new_scratch_dir(owner=None, parent="/tmp", mode=0o755):
    """A directory the owner's workload can use (traversable by everyone)."""
    path = Path(tempfile.mkdtemp(prefix="lockshell-test-", dir=parent))
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner.workload_uid, owner.workload_gid)
    return path


@pytest.fixture
def make_scratch():
    made = []

    def make(owner=None, parent="/tmp", mode=0o755):
        path = new_scratch_dir(owner, parent, mode)
        made.append(path)
        return path

    yield make
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def yaml_list(items):
    return "[" + ", ".join(f'"{p}"' for p in items) + "]"


def policy_yaml(read_only=(), read_write=(), include_workdir=False,
                compatibility="hard_requirement", run_as_user=None, run_as_group=None,
                extra=""):
    """An OpenShell-schema policy; `extra` is appended verbatim."""
    text = (
        "version: 1\n"
        "filesystem_policy:\n"
        f"  include_workdir: {'true' if include_workdir else 'false'}\n"
        f"  read_only: {yaml_list(read_only)}\n"
        f"  read_write: {yaml_list(read_write)}\n"
        "landlock:\n"
        f"  compatibility: {compatibility}\n"
    )
    if run_as_user is not None or run_as_group is not None:
        text += "process:\n"
        if run_as_user is not None:
            text += f"  run_as_user: {run_as_user}\n"
        if run_as_group is not None:
            text += f"  run_as_group: {run_as_group}\n"
    return text + extra


def write_policy(text, directory=None):
    """Writes a policy file readable by every identity; returns its path.
    Without a directory the file lands in /tmp and the caller removes it."""
    fd, name = tempfile.mkstemp(prefix="lockshell-policy-", suffix=".yaml",
                                dir=str(directory) if directory else "/tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(name, 0o644)
    return name


def _with_options(args, policy_file, workdir):
    """Puts -p/-w right after `run`; `policy ...` commands get FILE last."""
    args = [str(a) for a in args]
    if args and args[0] == "run":
        opts = []
        if policy_file:
            opts += ["-p", policy_file]
        if workdir is not None:
            opts += ["-w", str(workdir)]
        return args[:1] + opts + args[1:]
    if policy_file:
        return args + [policy_file]
    return args


def run_lockshell(args, policy_text=None, as_user=None, *, workdir=None, env=None,
                  outer=(), inner=(), timeout=60, input=None, cwd="/", pass_fds=()):
    """Runs `lockshell ARGS` and returns the CompletedProcess (text).

    policy_text: written to a temporary file passed as `-p FILE` after `run`,
      or appended as FILE for other commands.
    as_user: None/"root", "user" or an Identity: who invokes lockshell.
    workdir: passed as `-w DIR` to `run`.
    env: variables added to (None values removed from) the environment.
    outer: argv run before the identity change (e.g. unshare as root).
    inner: argv run after it, right before lockshell (e.g. no-landlock-exec).
    pass_fds: descriptors lockshell inherits besides 0, 1 and 2.
    """
    who = identity_for(as_user)
    policy_file = write_policy(policy_text) if policy_text is not None else None
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    argv = ([str(a) for a in outer] + who.prefix + [str(a) for a in inner] +
            [str(LOCKSHELL)] + _with_options(args, policy_file, workdir))
    try:
        return subprocess.run(argv, input=input, capture_output=True, text=True,
                              env=full_env, timeout=timeout, cwd=cwd, pass_fds=pass_fds)
    finally:
        if policy_file:
            os.unlink(policy_file)


_OUTCOME = re.compile(r" (?:(ok)$|errno=(\d+)\b)")


def probe_outcome(output, op=None):
    """The outcome a probe printed ("... ok" or "... errno=N ..."): "ok" or
    the errno's name such as "EACCES". With `op`, only lines starting with it
    count. None when no line matched."""
    for line in output.splitlines():
        if op is not None and not line.startswith(op + " "):
            continue
        m = _OUTCOME.search(line)
        if m:
            return "ok" if m.group(1) else errno.errorcode.get(int(m.group(2)), m.group(2))
    return None


def wait_for_comm(pid, comm):
    """Waits until the process has executed `comm` (and so changed uid)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() == comm:
                return
        time.sleep(0.01)
    pytest.fail(f"process {pid} never became {comm}")


def describe(proc):
    """Text for assertion messages."""
    return (f"rc={proc.returncode}\nargv={proc.args}\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr}")


def assert_lockshell_available():
    if not os.access(LOCKSHELL, os.X_OK):
        pytest.fail(f"{LOCKSHELL} is missing: run `make` (or set LOCKSHELL)")


@pytest.fixture(autouse=True, scope="session")
def _lockshell_built():
    assert_lockshell_available()
