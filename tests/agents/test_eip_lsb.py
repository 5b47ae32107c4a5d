"""ocf:ec2ha:eip as an LSB init script (the seed's `primitive eip lsb:eip`).

Run without OCF_ROOT, through a symlink as /etc/init.d/eip would be, with KEY=value
settings from $EC2HA_EIP_CONFIG.
"""
import os
import subprocess
import sys

import pytest

from conftest import SANITIZED, program_path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cib"))
from cibfixture import make_cib  # noqa: E402
from ec2sim.testing import ALLOC, NODE1, NODE2  # noqa: E402

LSB_OK, LSB_STATUS_NOT_RUNNING, LSB_STATUS_UNKNOWN, LSB_NOT_CONFIGURED = 0, 3, 4, 6


@pytest.fixture
def initd(tmp_path):
    d = tmp_path / "init.d"
    d.mkdir()
    link = d / "eip"
    os.symlink(program_path("eip"), link)
    return str(link)


def lsb(initd, action, env):
    child = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if SANITIZED:
        child["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=86"
    child.update(env)
    assert "OCF_ROOT" not in child
    p = subprocess.run([initd, action], env=child, capture_output=True, text=True, timeout=120)
    assert p.returncode != 86, p.stderr
    return p


def settings(tmp_path, text):
    path = tmp_path / "eip.conf"
    path.write_text(text)
    return str(path)


def lsb_env(sim, tmp_path, config, **extra):
    rsctmp = tmp_path / "rsctmp"
    rsctmp.mkdir(exist_ok=True)
    env = sim.env()
    env.update({"EC2HA_EIP_CONFIG": config, "HA_RSCTMP": str(rsctmp),
                "CIB_file": make_cib(tmp_path / "cib.xml")})
    env.update(extra)
    return env


def test_lsb_start_status_stop_status(ec2sim, tmp_path, initd):
    config = settings(tmp_path, f"""# /etc/sysconfig/eip
ALLOCATION_ID="{ALLOC}"
export REQUIRE_FENCING=yes
""")
    env = lsb_env(ec2sim, tmp_path, config)
    assert lsb(initd, "status", env).returncode == LSB_STATUS_NOT_RUNNING
    r = lsb(initd, "start", env)
    assert r.returncode == LSB_OK, r.stderr
    assert ec2sim.address(ALLOC)["instance_id"] == NODE1
    r = lsb(initd, "status", env)
    assert r.returncode == LSB_OK and "running" in r.stdout
    r = lsb(initd, "restart", env)
    assert r.returncode == LSB_OK, r.stderr
    assert lsb(initd, "force-reload", env).returncode == LSB_OK
    assert ec2sim.address(ALLOC)["instance_id"] == NODE1
    r = lsb(initd, "stop", env)
    assert r.returncode == LSB_OK, r.stderr
    assert lsb(initd, "status", env).returncode == LSB_STATUS_NOT_RUNNING
    assert lsb(initd, "stop", env).returncode == LSB_OK
    assert ec2sim.address(ALLOC)["instance_id"] is None


def test_lsb_status_elsewhere_and_unknown(ec2sim, tmp_path, initd):
    env = lsb_env(ec2sim, tmp_path, settings(tmp_path, f"ALLOCATION_ID={ALLOC}\n"),
                  OCF_RESKEY_CRM_meta_timeout="3000")
    ec2sim.set(ALLOC, instance_id=NODE2)
    assert lsb(initd, "status", env).returncode == LSB_STATUS_NOT_RUNNING
    ec2sim.fault(action="DescribeAddresses", kind="internal", count=1000)
    assert lsb(initd, "status", env).returncode == LSB_STATUS_UNKNOWN
    ec2sim.clear_faults()


def test_lsb_without_settings(ec2sim, tmp_path, initd):
    env = lsb_env(ec2sim, tmp_path, str(tmp_path / "missing.conf"))
    r = lsb(initd, "start", env)
    assert r.returncode == LSB_NOT_CONFIGURED
    assert "ALLOCATION_ID" in r.stderr
    assert lsb(initd, "status", env).returncode == LSB_STATUS_UNKNOWN
    assert lsb(initd, "bogus", env).returncode == 3


def test_lsb_honours_require_fencing(ec2sim, tmp_path, initd):
    config = settings(tmp_path, f"ALLOCATION_ID={ALLOC}\n")
    env = lsb_env(ec2sim, tmp_path, config)
    env["CIB_file"] = make_cib(tmp_path / "cib-nostonith.xml", stonith_enabled="false")
    assert lsb(initd, "start", env).returncode == LSB_NOT_CONFIGURED
    with open(config, "a") as f:
        f.write("REQUIRE_FENCING=false\n")
    assert lsb(initd, "start", env).returncode == LSB_OK
    assert ec2sim.address(ALLOC)["instance_id"] == NODE1
