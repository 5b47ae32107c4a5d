"""fence_ec2 next to Debian's fence_aws (fence-agents 4.12.1) in the same situations.

fence_aws uses boto3 1.26 / botocore 1.29, which read neither AWS_ENDPOINT_URL_EC2 nor an
IMDS endpoint variable, and it calls http://169.254.169.254 with requests.  It is pointed
at ec2sim without touching its code: AWS_CA_BUNDLE for TLS plus a sitecustomize.py on
PYTHONPATH that (a) gives botocore's EC2 client the sim's endpoint_url and (b) rewrites
requests' URLs for 169.254.169.254 to the sim's IMDS.  Where fence_aws is itself wrong it
is not used as the reference:
- list: Debian's fence_aws prints "<id>," with an empty alias (upstream later added the
  Name tag); we print the tag_key value, so only the ids are compared.
- list-status: Debian's prints UNKNOWN for every instance; not compared.
- skip_race_check=false on stdin means true for fence_aws; not compared.
"""
import time

import pytest

from test_fence_support import NODE1, NODE2, fast_state, fence, fence_env

FENCE_AWS = "/usr/sbin/fence_aws"

SITECUSTOMIZE = '''
import os
_ep = os.environ.get("EC2SIM_ENDPOINT")
_imds = os.environ.get("EC2SIM_IMDS")
if _ep:
    import botocore.session
    _orig_create = botocore.session.Session.create_client
    def _create_client(self, service_name, *args, **kw):
        if service_name == "ec2" and not kw.get("endpoint_url"):
            kw["endpoint_url"] = _ep
        return _orig_create(self, service_name, *args, **kw)
    botocore.session.Session.create_client = _create_client
if _imds:
    import requests.sessions
    _orig_request = requests.sessions.Session.request
    def _request(self, method, url, *args, **kw):
        if url.startswith("http://169.254.169.254"):
            url = _imds + url[len("http://169.254.169.254"):]
        return _orig_request(self, method, url, *args, **kw)
    requests.sessions.Session.request = _request
'''


@pytest.fixture
def sim(ec2sim_factory):
    return ec2sim_factory(fast_state())


def run_fence_aws(sim, tmp_path, args=(), stdin=None):
    import subprocess
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = fence_env(sim, tmp_path)
    env.update({"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(site),
                "EC2SIM_ENDPOINT": sim.endpoint, "EC2SIM_IMDS": sim.imds_endpoint})
    proc = subprocess.run([FENCE_AWS, *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120)
    return proc


def both(sim, tmp_path, args, reset=None):
    """Run fence_aws, then fence_ec2, from the same starting state (reset() before each)."""
    if reset:
        reset()
    theirs = run_fence_aws(sim, tmp_path, args)
    if reset:
        reset()
    ours = fence(sim, tmp_path, *args)
    return theirs, ours


def _set(sim, **states):
    def reset():
        for iid, st in states.items():
            sim.set(iid, state=st)
    return reset


@pytest.mark.parametrize("start,args,expect", [
    ("running", ["-o", "status"], (0, "Status: ON\n")),
    ("stopped", ["-o", "status"], (2, "Status: OFF\n")),
    ("running", ["-o", "off"], (0, "Success: Powered OFF\n")),
    ("stopped", ["-o", "off"], (0, "Success: Already OFF\n")),
    ("stopped", ["-o", "on"], (0, "Success: Powered ON\n")),
    ("running", ["-o", "on"], (0, "Success: Already ON\n")),
    ("running", ["-o", "reboot"], (0, "Success: Rebooted\n")),
])
def test_same_output_as_fence_aws(sim, tmp_path, start, args, expect):
    args = args + ["-n", NODE2]
    theirs, ours = both(sim, tmp_path, args, reset=_set(sim, **{NODE2: start}))
    assert (theirs.returncode, theirs.stdout) == expect, theirs.stderr
    assert (ours.returncode, ours.stdout) == expect, ours.stderr


def test_same_output_as_fence_aws_from_stdin(sim, tmp_path):
    lines = "action=off\nport=%s\nnodename=node2\n" % NODE2
    theirs = run_fence_aws(sim, tmp_path, stdin=lines)
    sim.set(NODE2, state="running")
    ours = fence(sim, tmp_path, stdin=lines)
    assert (theirs.returncode, theirs.stdout) == (0, "Success: Powered OFF\n"), theirs.stderr
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), ours.stderr


def test_monitor_and_list_like_fence_aws(sim, tmp_path):
    theirs, ours = both(sim, tmp_path, ["-o", "monitor"])
    assert (theirs.returncode, theirs.stdout) == (0, "")
    assert (ours.returncode, ours.stdout) == (0, "")
    theirs, ours = both(sim, tmp_path, ["-o", "list"])
    assert theirs.returncode == ours.returncode == 0
    ids = lambda out: sorted(line.split(",")[0] for line in out.splitlines())
    assert ids(theirs.stdout) == ids(ours.stdout) == [NODE1, NODE2]
    assert sorted(ours.stdout.splitlines()) == [NODE1 + ",node1", NODE2 + ",node2"]


def test_unknown_instance_fails_like_fence_aws(sim, tmp_path):
    args = ["-o", "status", "-n", "i-0000000000000dddd"]
    theirs, ours = both(sim, tmp_path, args)
    assert theirs.returncode == ours.returncode == 1
    assert theirs.stdout == ours.stdout == ""


def test_faster_than_fence_aws(sim, tmp_path):
    """Not a benchmark (bench/ does that): a sanity check that the C agent is not slower."""
    t = time.time()
    run_fence_aws(sim, tmp_path, ["-o", "status", "-n", NODE2])
    theirs = time.time() - t
    ours = fence(sim, tmp_path, "-o", "status", "-n", NODE2).elapsed
    assert ours < theirs
