"""GPU sandboxes without a GPU: each test runs lockshell in a private mount
namespace whose /dev is a tmpfs holding the usual nodes plus stand-in GPU
nodes (character devices 1:3 and 1:5, so an O_RDWR open succeeds without a
driver). lockshell's host probe reads the real /dev, so the stand-ins are what
it finds. Every enforcement check is an errno seen inside the sandbox."""

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import (
    PROBES_DIR,
    chown_tree,
    describe,
    new_scratch_dir,
    policy_yaml,
    probe,
    probe_outcome,
    root_identity,
    run_lockshell,
    wait_for_comm,
    write_policy,
)

PRIVATE_DEV = r"""#!/bin/sh
# privdev.sh gpu|none [--] CMD...: a private /dev, then CMD.
set -eu
kind=$1
shift
if [ "${1:-}" = -- ]; then shift; fi
mount -t tmpfs -o mode=0755,size=1m lockshell-test-dev /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mknod -m 666 /dev/tty c 5 0
mkdir /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,size=1m shm /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
if [ "$kind" = gpu ]; then
	for n in nvidiactl nvidia-uvm nvidia-uvm-tools nvidia-modeset; do
		mknod -m 666 /dev/$n c 1 3
	done
	mknod -m 666 /dev/nvidia0 c 1 5
	mknod -m 666 /dev/nvidia1 c 1 5
	mkdir /dev/nvidia-caps
	mknod -m 666 /dev/nvidia-caps/nvidia-cap1 c 1 3
fi
exec "$@"
"""

GPU_NODES = [
    "/dev/nvidiactl",
    "/dev/nvidia0",
    "/dev/nvidia1",
    "/dev/nvidia-uvm",
    "/dev/nvidia-uvm-tools",
    "/dev/nvidia-modeset",
    "/dev/nvidia-caps/nvidia-cap1",
]

GRANDCHILD_SCRIPT = """#!/bin/sh
# A shell that starts a program that starts another, which names a thread
# other than its own and writes its own comm; then the shell's own `>`.
{probe} spawn 2
{{ echo lsk-shell > /proc/self/comm; }} 2>&1 && echo "shell-comm ok"
echo "shell-comm-now=$(cat /proc/$$/comm)"
"""


@pytest.fixture(scope="module")
def privdev_script():
    d = new_scratch_dir(None)
    path = d / "privdev.sh"
    path.write_text(PRIVATE_DEV)
    yield path
    shutil.rmtree(d, ignore_errors=True)


class GpuTree:
    """Scratch tree (ro/ listed read_only, rw/ read_write) and runner."""

    def __init__(self, identity, privdev):
        self.identity = identity
        self.privdev = privdev
        self.base = new_scratch_dir(identity)
        self.ro = self.base / "ro"
        self.rw = self.base / "rw"
        for d in (self.ro, self.rw):
            d.mkdir()
            (d / "file").write_text("data\n")
        script = self.ro / "grandchild.sh"
        script.write_text(GRANDCHILD_SCRIPT.format(probe=probe("thread-name-probe")))
        os.chmod(script, 0o755)
        chown_tree(self.base, identity.workload_uid, identity.workload_gid)

    def policy(self, read_only=(), read_write=()):
        return policy_yaml(
            read_only=["/usr", "/lib", "/etc", "/proc", "/dev/urandom", str(PROBES_DIR),
                       str(self.ro)] + list(read_only),
            read_write=["/dev/null", str(self.rw)] + list(read_write))

    def lockshell(self, args, dev="gpu", policy_text=None, **kw):
        """lockshell ARGS inside a private /dev (dev: "gpu" or "none")."""
        return run_lockshell(args, policy_text=policy_text, as_user=self.identity,
                             outer=["unshare", "--mount", "--propagation", "private",
                                    "/bin/sh", str(self.privdev), dev, "--"], **kw)

    def run(self, argv, gpu=None, dev="gpu", policy_text=None, options=()):
        """`lockshell run [--gpu[=SEL]] OPTIONS -- ARGV`; gpu None: no flag."""
        flags = [] if gpu is None else ["--gpu" if gpu == "all" else f"--gpu={gpu}"]
        text = policy_text if policy_text is not None else self.policy()
        return self.lockshell(["run"] + flags + list(options) + ["--"] + [str(a) for a in argv],
                              dev=dev, policy_text=text, workdir=self.base)

    def effective(self, gpu=None, policy_text=None, dev="gpu"):
        flags = [] if gpu is None else ["--gpu" if gpu == "all" else f"--gpu={gpu}"]
        text = policy_text if policy_text is not None else self.policy()
        proc = self.lockshell(["policy", "show", "--effective"] + flags + ["--format", "json"],
                              dev=dev, policy_text=text)
        assert proc.returncode == 0, describe(proc)
        return json.loads(proc.stdout)


@pytest.fixture
def gpu_tree(identity, privdev_script):
    t = GpuTree(identity, privdev_script)
    yield t
    shutil.rmtree(t.base, ignore_errors=True)


@pytest.fixture
def root_gpu_tree(privdev_script):
    t = GpuTree(root_identity(), privdev_script)
    yield t
    shutil.rmtree(t.base, ignore_errors=True)


def fs(tree, op, path, gpu=None, **kw):
    proc = tree.run([probe("fsprobe"), op, path], gpu=gpu, **kw)
    assert proc.returncode == 0, describe(proc)
    result = probe_outcome(proc.stdout, op)
    assert result is not None, describe(proc)
    return result, proc


# --- /proc: thread names and comm from a grandchild ---------------------------

def test_grandchild_names_threads_with_gpu(gpu_tree):
    proc = gpu_tree.run([gpu_tree.ro / "grandchild.sh"], gpu="all")
    assert proc.returncode == 0, describe(proc)
    assert probe_outcome(proc.stdout, "setname-other") == "ok", describe(proc)
    assert probe_outcome(proc.stdout, "comm-self") == "ok", describe(proc)
    assert "shell-comm ok" in proc.stdout, describe(proc)
    assert "shell-comm-now=lsk-shell" in proc.stdout, describe(proc)


def test_grandchild_thread_naming_refused_without_gpu(gpu_tree):
    proc = gpu_tree.run([gpu_tree.ro / "grandchild.sh"])
    assert proc.returncode == 0, describe(proc)
    assert probe_outcome(proc.stdout, "setname-other") == "EACCES", describe(proc)
    assert probe_outcome(proc.stdout, "comm-self") == "EACCES", describe(proc)
    assert "Permission denied" in proc.stdout, describe(proc)
    assert "shell-comm ok" not in proc.stdout, describe(proc)
    assert "shell-comm-now=lsk-shell" not in proc.stdout, describe(proc)


def test_withheld_procfs_addition_refuses_thread_naming(root_gpu_tree):
    """The diagnostic option leaves out the /proc write right: thread naming
    fails as it would in CUDA (error 304) while the device nodes open."""
    tree = root_gpu_tree
    proc = tree.run([tree.ro / "grandchild.sh"], gpu="all",
                    options=["--diagnostic-withhold-procfs-write"])
    assert proc.returncode == 0, describe(proc)
    assert probe_outcome(proc.stdout, "setname-other") == "EACCES", describe(proc)
    got, proc = fs(tree, "open-rdwr", "/dev/nvidiactl", gpu="all",
                   options=["--diagnostic-withhold-procfs-write"])
    assert got == "ok", describe(proc)


# --- device nodes -------------------------------------------------------------

@pytest.mark.parametrize("node", GPU_NODES)
def test_gpu_node_opens_read_write_with_gpu(gpu_tree, node):
    got, proc = fs(gpu_tree, "open-rdwr", node, gpu="all")
    assert got == "ok", describe(proc)


@pytest.mark.parametrize("node", GPU_NODES)
def test_gpu_node_refused_without_gpu(gpu_tree, node):
    """The sandbox's private /dev holds no GPU node at all."""
    got, proc = fs(gpu_tree, "open-rdwr", node)
    assert got == "ENOENT", describe(proc)


@pytest.mark.parametrize("node,expected", [
    ("/dev/nvidia0", "ok"),
    ("/dev/nvidia1", "ENOENT"),  # not in the sandbox's private /dev
    ("/dev/nvidiactl", "ok"),
    ("/dev/nvidia-uvm", "ok"),
])
def test_gpu_selection_opens_only_selected_node(root_gpu_tree, node, expected):
    got, proc = fs(root_gpu_tree, "open-rdwr", node, gpu="0")
    assert got == expected, describe(proc)


def test_gpu_node_ioctl_allowed_with_gpu(root_gpu_tree):
    """GPU device rules carry ioctl_dev: FIONREAD reaches the (null) driver,
    which answers ENOTTY, instead of Landlock answering EACCES."""
    got, proc = fs(root_gpu_tree, "ioctl", "/dev/nvidiactl", gpu="all")
    assert got == "ENOTTY", describe(proc)


# --- what a GPU sandbox still cannot do -----------------------------------------

@pytest.fixture
def outside_sleep(identity):
    p = subprocess.Popen(identity.workload_prefix + ["/usr/bin/sleep", "1000"])
    wait_for_comm(p.pid, "sleep")
    yield p
    p.kill()
    p.wait()


def test_gpu_cannot_write_comm_outside_sandbox(gpu_tree, outside_sleep):
    comm = f"/proc/{outside_sleep.pid}/comm"
    got, proc = fs(gpu_tree, "write", comm, gpu="all")
    assert got != "ok", describe(proc)
    with open(comm) as f:
        assert f.read().strip() == "sleep"


def test_gpu_cannot_write_proc_sys(gpu_tree):
    for path in ("/proc/sys/kernel/domainname", "/proc/sys/vm/drop_caches"):
        got, proc = fs(gpu_tree, "write", path, gpu="all")
        assert got == "EACCES", describe(proc)


def test_gpu_cannot_open_mem_outside_sandbox(gpu_tree, outside_sleep):
    mem = f"/proc/{outside_sleep.pid}/mem"
    control = subprocess.run(gpu_tree.identity.workload_prefix + [probe("fsprobe"), "open-rdwr", mem],
                             capture_output=True, text=True, timeout=30)
    assert probe_outcome(control.stdout) == "ok", "DAC must allow it: " + describe(control)
    got, proc = fs(gpu_tree, "open-rdwr", mem, gpu="all")
    assert got == "ENOENT", describe(proc)  # outside the sandbox's PID namespace


@pytest.mark.parametrize("op", ["write", "open-trunc", "create"])
def test_gpu_read_only_paths_stay_read_only(gpu_tree, op):
    """The GPU additions make a read_only path neither writable (its mount
    stays read-only: EROFS) nor an unlisted file of the writable workdir
    (Landlock: EACCES)."""
    target = gpu_tree.ro / ("new" if op == "create" else "file")
    got, proc = fs(gpu_tree, op, target, gpu="all")
    assert got == "EROFS", describe(proc)
    assert (gpu_tree.ro / "file").read_text() == "data\n"
    unlisted = gpu_tree.base / "unlisted"
    unlisted.write_text("data\n")
    os.chown(unlisted, gpu_tree.identity.workload_uid, gpu_tree.identity.workload_gid)
    target = gpu_tree.base / "new" if op == "create" else unlisted
    got, proc = fs(gpu_tree, op, target, gpu="all")
    assert got == "EACCES", describe(proc)
    assert unlisted.read_text() == "data\n" and not (gpu_tree.base / "new").exists()


def test_gpu_unlisted_device_still_refused(gpu_tree):
    got, proc = fs(gpu_tree, "read", "/dev/zero", gpu="all")
    assert got == "EACCES", describe(proc)


# --- the effective policy -------------------------------------------------------

def all_paths(eff):
    fp = eff["filesystem_policy"]
    paths = list(fp["read_only"]) + list(fp["read_write"]) + list(fp.get("sources", {}))
    paths += [a["path"] for a in eff["runtime_additions"]]
    return paths


def test_effective_without_gpu_has_no_gpu_rights(root_gpu_tree):
    eff = root_gpu_tree.effective()
    gpu_like = [p for p in all_paths(eff) if "nvidia" in p or "dxg" in p]
    assert gpu_like == [], eff
    assert eff["runtime_additions"] == [], eff
    assert "gpu" not in eff["filesystem_policy"].get("sources", {}).values(), eff
    assert eff["gpu"]["requested"] is False, eff


def test_effective_with_gpu(root_gpu_tree):
    eff = root_gpu_tree.effective(gpu="all")
    fp = eff["filesystem_policy"]
    for node in GPU_NODES:
        assert node in fp["read_write"], (node, eff)
        assert fp["sources"].get(node) == "gpu", (node, eff)
    assert "/proc" in fp["read_only"] and "/proc" not in fp["read_write"], eff
    procfs = [a for a in eff["runtime_additions"] if a["path"] == "/proc"]
    assert len(procfs) == 1, eff
    assert set(procfs[0]["access"]) == {"write_file", "truncate"}, eff
    assert "304" in procfs[0]["reason"], eff
    assert eff["gpu"]["requested"] is True, eff
    # Entries the user wrote are not marked as GPU additions.
    for path in ("/usr", "/dev/null", str(root_gpu_tree.rw)):
        assert fp["sources"].get(path) != "gpu", (path, eff)


def test_effective_with_gpu_selection(root_gpu_tree):
    eff = root_gpu_tree.effective(gpu="0")
    rw = eff["filesystem_policy"]["read_write"]
    assert "/dev/nvidia0" in rw and "/dev/nvidiactl" in rw, eff
    assert "/dev/nvidia1" not in rw, eff


def test_effective_yaml_marks_gpu_entries(root_gpu_tree):
    proc = root_gpu_tree.lockshell(["policy", "show", "--effective", "--gpu", "--format", "yaml"],
                                   policy_text=root_gpu_tree.policy())
    assert proc.returncode == 0, describe(proc)
    line = next((l for l in proc.stdout.splitlines() if "/dev/nvidiactl" in l), "")
    assert "gpu" in line.split("/dev/nvidiactl", 1)[1], describe(proc)
    assert "runtime_additions" in proc.stdout and "304" in proc.stdout, describe(proc)


def test_effective_proc_read_write_makes_no_addition(root_gpu_tree):
    text = policy_yaml(read_only=["/usr", "/lib", "/etc", str(PROBES_DIR)],
                       read_write=["/dev/null", "/proc"])
    eff = root_gpu_tree.effective(gpu="all", policy_text=text)
    assert eff["runtime_additions"] == [], eff
    assert any("/proc" in note for note in eff["notes"]), eff


def test_info_log_reports_procfs_addition(root_gpu_tree):
    proc = root_gpu_tree.run(["/usr/bin/true"], gpu="all", options=["--log-level", "info"])
    assert proc.returncode == 0, describe(proc)
    lines = [l for l in proc.stderr.splitlines() if "/proc" in l and "write_file" in l]
    assert lines, describe(proc)
    assert "304" in proc.stderr, describe(proc)


# --- conflicts, requests the host cannot satisfy, no network ----------------------

def conflict_policy():
    return policy_yaml(read_only=["/usr", "/lib", "/etc", "/proc", "/dev", str(PROBES_DIR)],
                       read_write=[])


def test_conflict_read_only_dev_refused_by_run(root_gpu_tree):
    marker = root_gpu_tree.rw / "ran"
    proc = root_gpu_tree.run(["/usr/bin/touch", marker], gpu="all",
                             policy_text=conflict_policy())
    assert proc.returncode == 125, describe(proc)
    assert re.search(r"/dev\b", proc.stderr), describe(proc)
    assert not marker.exists()
    # The same policy without a GPU request runs.
    proc = root_gpu_tree.run(["/usr/bin/true"], policy_text=conflict_policy())
    assert proc.returncode == 0, describe(proc)


def test_conflict_reported_by_policy_check(root_gpu_tree):
    path = write_policy(conflict_policy())
    try:
        proc = root_gpu_tree.lockshell(["policy", "check", "--gpu", path])
        assert proc.returncode == 1, describe(proc)
        assert re.search(r"/dev\b", proc.stdout + proc.stderr), describe(proc)
        proc = root_gpu_tree.lockshell(["policy", "check", path])
        assert proc.returncode == 0, describe(proc)
    finally:
        os.unlink(path)


def test_no_network_policy_gpu_sandbox_works(root_gpu_tree):
    text = root_gpu_tree.policy()
    assert "network_policies" not in text
    got, proc = fs(root_gpu_tree, "open-rdwr", "/dev/nvidia0", gpu="all", policy_text=text)
    assert got == "ok", describe(proc)
    eff = root_gpu_tree.effective(gpu="all", policy_text=text)
    assert "mode" in eff["network"], eff


def test_gpu_requested_without_gpu_nodes(root_gpu_tree):
    proc = root_gpu_tree.run(["/usr/bin/true"], gpu="all", dev="none")
    assert proc.returncode == 125, describe(proc)
    assert "/dev/nvidiactl" in proc.stderr and "/dev/dxg" in proc.stderr, describe(proc)


def test_gpu_index_that_does_not_exist(root_gpu_tree):
    proc = root_gpu_tree.run(["/usr/bin/true"], gpu="7")
    assert proc.returncode == 125, describe(proc)
    assert re.search(r"\b7\b", proc.stderr), describe(proc)
