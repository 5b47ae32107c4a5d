"""Shared fixtures for the black-box tests of fence_ec2, eip and ec2ha against ec2sim.

The programs under test come from $EC2HA_BUILD (default: <repo>/build).  ec2sim comes from
tests/ec2sim and is started per test by its pytest plugin (fixtures ``ec2sim`` and
``ec2sim_factory``).  ``run_program`` runs a program with a clean environment: only what the
test passes plus PATH, so the developer's own AWS settings can never leak into a test.
"""
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "ec2sim"))

pytest_plugins = ["ec2sim.pytest_plugin"]

BUILD = os.environ.get("EC2HA_BUILD", os.path.join(REPO, "build"))
SANITIZED = os.environ.get("EC2HA_SANITIZED") == "1"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def program_path(name):
    return os.path.join(BUILD, name)


def run_program(name, args=(), stdin=None, env=None, timeout=120):
    """Run build/<name> with exactly `env` (plus PATH) and return a Result."""
    child_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if SANITIZED:
        child_env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=86"
        child_env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=86"
    child_env.update(env or {})
    proc = subprocess.run([program_path(name), *args], input=stdin, env=child_env,
                          capture_output=True, text=True, timeout=timeout)
    # A sanitizer report is a failure whatever the exit code the test expects.
    assert proc.returncode != 86, f"sanitizer error in {name}:\n{proc.stderr}"
    assert "runtime error:" not in proc.stderr, f"UBSan report in {name}:\n{proc.stderr}"
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def run():
    return run_program
