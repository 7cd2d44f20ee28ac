"""`lockshell policy check` and `lockshell policy show`: exit codes, the
FILE:LINE:COL diagnostics, and the canonical YAML/JSON output."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import LOCKSHELL, REPO_ROOT, describe, run_lockshell, write_policy

EXAMPLES = REPO_ROOT / "examples" / "policies"
EXAMPLE_NAMES = ["default.yaml", "developer.yaml", "gpu.yaml", "network.yaml"]
CANONICAL_KEYS = ["version", "filesystem_policy", "landlock", "network_policies",
                  "network_middlewares"]


def lockshell(*args, **kwargs):
    return run_lockshell([str(a) for a in args], **kwargs)


def canonical_default():
    """examples/policies/default.yaml without its leading comment."""
    text = (EXAMPLES / "default.yaml").read_text()
    return text[text.index("version: 1\n"):]


@pytest.fixture
def policy_file():
    """write(text or bytes) -> path of a policy file removed after the test."""
    made = []

    def write(content):
        if isinstance(content, bytes):
            path = write_policy("")
            Path(path).write_bytes(content)
        else:
            path = write_policy(content)
        made.append(path)
        return path

    yield write
    for path in made:
        if os.path.exists(path):
            os.unlink(path)


# --- usage -----------------------------------------------------------------

@pytest.mark.parametrize("args", [["policy", "--help"], ["policy", "check", "--help"],
                                  ["policy", "show", "--help"], ["policy", "-h"]])
def test_help(args):
    proc = lockshell(*args)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.startswith("Usage: lockshell policy"), describe(proc)


@pytest.mark.parametrize("args,message", [
    (["policy"], "Usage: lockshell policy"),
    (["policy", "frobnicate"], "unknown policy command 'frobnicate'"),
    (["policy", "check"], "'policy check' needs at least one FILE"),
    (["policy", "check", "--bogus", "x.yaml"], "Usage: lockshell policy check"),
    (["policy", "check", "--format", "json", "x.yaml"], "'check' takes no --format"),
    (["policy", "show", "a.yaml", "b.yaml"], "'policy show' takes at most one FILE"),
    (["policy", "show", "--format", "toml"], "unknown format 'toml' (yaml or json)"),
])
def test_usage_errors(args, message):
    proc = lockshell(*args)
    assert proc.returncode == 2, describe(proc)
    assert message in proc.stderr, describe(proc)
    assert proc.stdout == "", describe(proc)


def test_show_gpu_without_a_gpu_names_what_was_looked_for():
    # This machine has no GPU: /dev/nvidiactl and /dev/dxg are absent.
    proc = lockshell("policy", "show", "--gpu=all", EXAMPLES / "gpu.yaml")
    assert proc.returncode == 1, describe(proc)
    assert "/dev/nvidiactl" in proc.stderr and "/dev/dxg" in proc.stderr, describe(proc)
    assert proc.stdout == "", describe(proc)


def test_check_gpu_rejects_bad_selection():
    proc = lockshell("policy", "check", "--gpu=0,x", EXAMPLES / "gpu.yaml")
    assert proc.returncode == 2, describe(proc)
    assert "'x' is not a GPU index" in proc.stderr, describe(proc)


def test_show_effective_adds_the_workdir(tmp_path):
    proc = lockshell("policy", "show", "--effective", "--format", "json", "-w", tmp_path)
    assert proc.returncode == 0, describe(proc)
    eff = json.loads(proc.stdout)
    assert str(tmp_path) in eff["filesystem_policy"]["read_write"], eff
    assert eff["filesystem_policy"]["sources"] == {str(tmp_path): "workdir"}, eff
    assert eff["runtime_additions"] == [], eff


# --- check -----------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_check_examples(name):
    path = EXAMPLES / name
    proc = lockshell("policy", "check", path)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout == f"{path}: valid\n", describe(proc)
    assert proc.stderr == "", describe(proc)


def test_check_reports_every_violation_of_every_file(policy_file):
    bad = policy_file("version: 1\n"
                      "filesystem_policy:\n"
                      "  read_onyl: [/usr]\n"
                      "  read_write: [/]\n"
                      "landlock:\n"
                      "  compatibility: best_efort\n")
    worse = policy_file("version: 2\nprocess:\n  run_as_user: root\n")
    good = EXAMPLES / "default.yaml"
    proc = lockshell("policy", "check", bad, good, worse)
    assert proc.returncode == 1, describe(proc)
    assert proc.stderr.splitlines() == [
        f"{bad}:3:3: error: unknown key 'read_onyl' in filesystem_policy; "
        "did you mean 'read_only'?",
        f"{bad}:4:16: error: read_write path '/' is too broad: it makes the whole "
        "filesystem writable",
        f"{bad}:6:18: error: landlock.compatibility: unknown value 'best_efort' "
        "(expected best_effort or hard_requirement); did you mean 'best_effort'?",
        f"{worse}:1:10: error: unsupported policy version 2; lockshell reads version 1",
        f"{worse}:3:16: error: process.run_as_user: root is refused",
    ], describe(proc)
    assert proc.stdout.splitlines() == [f"{bad}: invalid (3 errors)", f"{good}: valid",
                                        f"{worse}: invalid (2 errors)"], describe(proc)


def test_check_warnings_keep_exit_zero(policy_file):
    path = policy_file("version: 1\nfilesystem_policy:\n"
                       "  read_only: [/usr, /usr/, /data]\n  read_write: [/data]\n")
    proc = lockshell("policy", "check", path)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout == f"{path}: valid (2 warnings)\n", describe(proc)
    assert proc.stderr.splitlines() == [
        f"{path}:3:21: warning: duplicate path '/usr/' in filesystem_policy.read_only "
        "(first at 3:15)",
        f"{path}:4:16: warning: path '/data' is in both read_only (at 3:28) and read_write; "
        "it gets read_write access",
    ], describe(proc)


@pytest.mark.parametrize("content,line_col,message", [
    ("version: 1\nfilesystem_policy:\n  read_only: [/usr\n", "4:1", "YAML syntax error"),
    ("", "1:1", "the policy file is empty"),
    ("version: 1\n---\nversion: 1\n", "2:1", "a policy file holds one YAML document"),
    (b"version: 1\nx: \x00\n", "2:4", "a NUL byte in the policy file"),
    (b"version: 1\nlandlock: {compatibility: \xc3\x28}\n", "2:27", "invalid UTF-8 (byte 0xc3)"),
    ("a: &a [x, x]\nb: [*a, *a]\n", "2:5", "YAML aliases ('*a') are not supported"),
    ("version: 1\nfilesystem_policy: [/usr]\n", "2:20",
     "filesystem_policy: expected a mapping, found a sequence"),
    ("version: 1\n" + "x: " + "[" * 80 + "]" * 80 + "\n", "2:67",
     "the policy is nested deeper than 64 levels"),
])
def test_check_bad_input(policy_file, content, line_col, message):
    path = policy_file(content)
    proc = lockshell("policy", "check", path)
    assert proc.returncode == 1, describe(proc)
    assert f"{path}:{line_col}: error: {message}" in proc.stderr, describe(proc)


def test_check_file_over_one_mebibyte(policy_file):
    path = policy_file("version: 1\n" + "#" * (1024 * 1024) + "\n")
    proc = lockshell("policy", "check", path)
    assert proc.returncode == 1, describe(proc)
    assert f"{path}: error: the policy file is larger than 1 MiB" in proc.stderr, describe(proc)


def test_check_missing_file_and_directory(tmp_path):
    missing = tmp_path / "missing.yaml"
    proc = lockshell("policy", "check", missing, tmp_path)
    assert proc.returncode == 1, describe(proc)
    assert proc.stderr.splitlines() == [
        f"{missing}: error: cannot open the policy file: No such file or directory",
        f"{tmp_path}: error: cannot read the policy file: Is a directory",
    ], describe(proc)


def test_check_unreadable_file(policy_file):
    path = policy_file("version: 1\n")
    os.chmod(path, 0o600)
    proc = lockshell("policy", "check", path, as_user="user")
    assert proc.returncode == 1, describe(proc)
    assert f"{path}: error: cannot open the policy file: Permission denied" in proc.stderr, \
        describe(proc)


def test_check_runs_unprivileged(policy_file):
    path = policy_file("version: 1\n")
    proc = lockshell("policy", "check", path, as_user="user")
    assert proc.returncode == 0, describe(proc)


# --- show ------------------------------------------------------------------

def test_show_default_is_the_default_example():
    proc = lockshell("policy", "show")
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout == canonical_default(), describe(proc)
    assert proc.stderr == "", describe(proc)


@pytest.mark.parametrize("args", [["--format", "json"], ["--format=json"]])
def test_show_default_json(args):
    proc = lockshell("policy", "show", *args)
    assert proc.returncode == 0, describe(proc)
    doc = json.loads(proc.stdout)
    assert list(doc) == CANONICAL_KEYS
    assert list(doc["filesystem_policy"]) == ["include_workdir", "read_only", "read_write"]
    assert doc["version"] == 1
    assert doc["filesystem_policy"]["include_workdir"] is True
    assert doc["filesystem_policy"]["read_only"] == ["/usr", "/lib", "/proc", "/dev/urandom",
                                                     "/app", "/etc", "/var/log"]
    assert doc["filesystem_policy"]["read_write"] == ["/tmp", "/dev/null"]
    assert doc["landlock"] == {"compatibility": "best_effort"}
    assert doc["network_policies"] == {} and doc["network_middlewares"] == {}


def test_show_makes_defaults_explicit(policy_file):
    path = policy_file("version: 1\nfilesystem_policy:\n  read_write: [/work]\n"
                       "process:\n  run_as_user: 1500\n")
    proc = lockshell("policy", "show", path)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout == ("version: 1\n"
                           "filesystem_policy:\n"
                           "  include_workdir: false\n"
                           "  read_only: []\n"
                           "  read_write:\n"
                           "  - /work\n"
                           "landlock:\n"
                           "  compatibility: best_effort\n"
                           "process:\n"
                           "  run_as_user: '1500'\n"
                           "network_policies: {}\n"
                           "network_middlewares: {}\n"), describe(proc)


def test_show_network_policy_json():
    proc = lockshell("policy", "show", "--format", "json", EXAMPLES / "network.yaml")
    assert proc.returncode == 0, describe(proc)
    doc = json.loads(proc.stdout)
    assert list(doc) == CANONICAL_KEYS[:3] + ["process"] + CANONICAL_KEYS[3:]
    index = doc["network_policies"]["package_index"]
    assert index["name"] == "package-index"
    assert index["endpoints"][0] == {"host": "pypi.org", "ports": [443]}
    git = doc["network_policies"]["git_read_only"]["endpoints"][0]
    assert git["rules"][1] == {"allow": {"method": "POST", "path": "/**/git-upload-pack"}}
    assert doc["network_policies"]["rest_api"]["name"] == "rest_api"
    assert doc["network_middlewares"]["redactor"]["config"]["patterns"] == ["token=[a-z0-9]+"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_show_output_is_a_fixed_point(policy_file, name, fmt):
    """The canonical form checks clean and shows as itself."""
    first = lockshell("policy", "show", "--format", fmt, EXAMPLES / name)
    assert first.returncode == 0, describe(first)
    path = policy_file(first.stdout)
    check = lockshell("policy", "check", path)
    assert check.returncode == 0 and check.stderr == "", describe(check)
    again = lockshell("policy", "show", "--format", fmt, path)
    assert again.returncode == 0, describe(again)
    assert again.stdout == first.stdout


def test_show_invalid_policy(policy_file):
    path = policy_file("version: 1\nlandlock:\n  compatibility: hard\n")
    proc = lockshell("policy", "show", path)
    assert proc.returncode == 1, describe(proc)
    assert proc.stdout == "", describe(proc)
    assert proc.stderr.startswith(f"{path}:3:18: error: landlock.compatibility: unknown value "
                                  "'hard'"), describe(proc)


def test_show_prints_warnings_on_stderr(policy_file):
    path = policy_file("version: 1\nfilesystem_policy:\n  read_only: [/usr, /usr]\n")
    proc = lockshell("policy", "show", "--format", "json", path)
    assert proc.returncode == 0, describe(proc)
    assert json.loads(proc.stdout)["filesystem_policy"]["read_only"] == ["/usr", "/usr"]
    assert f"{path}:3:21: warning: duplicate path '/usr'" in proc.stderr, describe(proc)


def test_show_write_error():
    with open("/dev/full", "w") as full:
        proc = subprocess.run([str(LOCKSHELL), "policy", "show"], stdout=full,
                              stderr=subprocess.PIPE, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "lockshell: error: cannot write" in proc.stderr, proc.stderr
