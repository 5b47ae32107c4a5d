"""Two robustness rules of the EC2 client, seen from fence_ec2 and ec2ha against ec2sim.

1. A hung request leaves time for a retry.  Each attempt gets at most half of what is left
   of the deadline (5 s .. 60 s, lib/retry.c ec2ha_attempt_budget_ms), so when the first
   DescribeInstances never answers, the agent gives up on it, retries on a new connection
   and succeeds within its deadline.  Before, the first attempt got the whole deadline and
   the agent failed although EC2 was fine.

2. Clock skew is corrected as the AWS SDKs do.  With ec2sim's clock 15 minutes away from
   ours, EC2 answers RequestExpired with a Date header; the client then signs with EC2's
   time (one extra call, not more), keeps that offset for every later call of the process,
   and warns that the local clock is wrong.  A Date more than a day away is not trusted.
"""
import json
import os
import re
import sys
import time

import pytest

from conftest import SANITIZED, run_program

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cib"))
from cibfixture import make_cib  # noqa: E402
from ec2sim.testing import NODE2, default_state  # noqa: E402

SLACK_S = 10.0 if SANITIZED else 5.0

# status/off budget: login 5 + power 15 + shell 1 = 21 s; an attempt gets at most ~10.5 s
TIMEOUTS = {"login_timeout": "5", "power_timeout": "15", "shell_timeout": "1",
            "stonith_status_sleep": "0.2"}
BUDGET_S = 5 + 15 + 1


def fast_state():
    state = default_state()
    state["defaults"] = {"stop_delay": 0.3, "start_delay": 0.3, "force_stop_delay": 0.2}
    return state


def fence(sim, tmp_path, action, **extra):
    env = sim.env()
    env.update({"HA_RSCTMP": str(tmp_path / "rsctmp"), "HA_LOGFACILITY": "none",
                "CIB_file": make_cib(tmp_path / "cib.xml")})
    opts = dict(TIMEOUTS)
    opts.update(extra)
    lines = [f"action={action}", "nodename=node2", f"plug={NODE2}"]
    lines += [f"{k}={v}" for k, v in opts.items()]
    t0 = time.monotonic()
    r = run_program("fence_ec2", stdin="\n".join(lines) + "\n", env=env,
                    timeout=BUDGET_S + 60)
    return r, time.monotonic() - t0


def calls(sim, action=None):
    return [e for e in sim.events(type="call") if action is None or e["action"] == action]


# ---- 1. a hung request ---------------------------------------------------------------------

@pytest.mark.parametrize("action", ["status", "off"])
def test_a_hung_describe_instances_is_retried_within_the_deadline(ec2sim_factory, tmp_path,
                                                                   action):
    sim = ec2sim_factory(fast_state(), workdir=tmp_path / "sim")
    # The first DescribeInstances (status: the target; off: the race check of this node)
    # gets no answer for longer than the whole run may last.
    sim.fault(action="DescribeInstances", kind="slow", count=1, when="before",
              delay=BUDGET_S + SLACK_S + 30)
    r, seconds = fence(sim, tmp_path, action)
    assert r.returncode == 0, r.stdout + r.stderr
    if action == "status":
        assert "Status: ON" in r.stdout
        assert sim.instance(NODE2)["state"] == "running"
    else:
        assert "Success: Powered OFF" in r.stdout
        assert sim.instance(NODE2)["state"] == "stopped"
    # the hung attempt was given up after its share (about half the deadline), not the whole
    assert seconds < BUDGET_S + SLACK_S, seconds
    assert seconds >= 5.0, seconds     # it really waited on the hung attempt first
    faults = [e for e in sim.events(type="fault") if e["kind"] == "slow"]
    assert len(faults) == 1, faults
    # the hung call is still asleep in ec2sim: every answered DescribeInstances came on a
    # new connection and succeeded
    answered = calls(sim, "DescribeInstances")
    assert answered and all(e["code"] == "Success" for e in answered), answered


def test_a_hang_longer_than_the_deadline_still_fails_cleanly(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(fast_state(), workdir=tmp_path / "sim")
    sim.fault(action="DescribeInstances", kind="slow", count=100, when="before",
              delay=BUDGET_S + SLACK_S + 30)
    r, seconds = fence(sim, tmp_path, "status")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Status:" not in r.stdout
    assert re.search(r"Failed:.*(time|deadline)", r.stderr, re.I), r.stderr
    assert seconds < BUDGET_S + SLACK_S, seconds
    # two attempts at least: the first was capped, the second ran into the deadline
    assert len([e for e in sim.events(type="fault") if e["kind"] == "slow"]) >= 2


# ---- 2. clock skew ------------------------------------------------------------------------

def skew_seen(stderr):
    m = re.search(r"local clock is (\d+) s (behind|ahead of) EC2's Date header", stderr)
    assert m, stderr
    return int(m.group(1)), m.group(2)


@pytest.mark.parametrize("offset", [900, -900])
def test_status_corrects_a_skewed_clock_with_one_extra_call(ec2sim_factory, tmp_path, offset):
    sim = ec2sim_factory(fast_state(), workdir=tmp_path / "sim")
    sim.clock(offset)
    r, _ = fence(sim, tmp_path, "status")
    assert r.returncode == 0 and "Status: ON" in r.stdout, r.stdout + r.stderr
    seconds, way = skew_seen(r.stderr)
    assert abs(seconds - abs(offset)) <= 3, seconds
    assert way == ("behind" if offset > 0 else "ahead of")
    assert "NTP" in r.stderr or "chrony" in r.stderr
    # exactly one extra call: one RequestExpired, then success
    codes = [e["code"] for e in calls(sim, "DescribeInstances")]
    assert codes == ["RequestExpired", "Success"], codes


def test_off_keeps_the_offset_for_every_later_call(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(fast_state(), workdir=tmp_path / "sim")
    sim.clock(900)
    r, _ = fence(sim, tmp_path, "off")
    assert r.returncode == 0 and "Success: Powered OFF" in r.stdout, r.stdout + r.stderr
    assert sim.instance(NODE2)["state"] == "stopped"
    every = calls(sim)
    codes = [e["code"] for e in every]
    # race check, stop, polls: only the first call of the process is refused
    assert codes[0] == "RequestExpired" and codes.count("RequestExpired") == 1, codes
    assert len(every) >= 3 and all(c == "Success" for c in codes[1:]), codes
    assert len(re.findall(r"local clock is \d+ s behind", r.stderr)) == 1, r.stderr


def test_a_skew_under_the_threshold_changes_nothing(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(fast_state(), workdir=tmp_path / "sim")
    sim.clock(120)      # EC2 allows 5 minutes: no error, no correction, no warning
    r, _ = fence(sim, tmp_path, "status")
    assert r.returncode == 0 and "Status: ON" in r.stdout, r.stdout + r.stderr
    assert "local clock is" not in r.stderr
    assert [e["code"] for e in calls(sim)] == ["Success"]


def test_a_date_more_than_a_day_off_is_not_trusted(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(fast_state(), workdir=tmp_path / "sim")
    sim.clock(2 * 86400)
    r, _ = fence(sim, tmp_path, "status")
    assert r.returncode == 1 and "Status:" not in r.stdout, r.stdout + r.stderr
    assert re.search(r"Failed:.*RequestExpired", r.stderr), r.stderr
    assert re.search(r"local clock is 1728\d\d s behind EC2's Date header .*not corrected",
                     r.stderr), r.stderr
    codes = [e["code"] for e in calls(sim)]
    assert codes and set(codes) == {"RequestExpired"} and len(codes) <= 2, codes


def test_an_expired_session_token_is_not_mistaken_for_skew(ec2sim_factory, tmp_path):
    state = fast_state()
    key = {"access_key_id": "ASIAEXPIREDEXAMPLE01",
           "secret_access_key": "ExpiredSecretKeyEXAMPLE/K7MDENG+bPxRfiCY",
           "session_token": "IQoJb3JpZ2luX2VjEXPIRED//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
           "expiration": "2020-01-01T00:00:00Z", "permissions": ["*"]}
    state["keys"].append(dict(key))
    sim = ec2sim_factory(state, workdir=tmp_path / "sim")
    env = sim.env()
    env.update({"AWS_ACCESS_KEY_ID": key["access_key_id"],
                "AWS_SECRET_ACCESS_KEY": key["secret_access_key"],
                "AWS_SESSION_TOKEN": key["session_token"],
                "HA_RSCTMP": str(tmp_path / "rsctmp"), "HA_LOGFACILITY": "none",
                "CIB_file": make_cib(tmp_path / "cib.xml")})
    stdin = "\n".join(["action=status", f"plug={NODE2}"] +
                      [f"{k}={v}" for k, v in TIMEOUTS.items()]) + "\n"
    r = run_program("fence_ec2", stdin=stdin, env=env, timeout=BUDGET_S + 60)
    assert r.returncode == 1 and "RequestExpired" in r.stderr, r.stdout + r.stderr
    assert "local clock is" not in r.stderr
    # the old rule: one re-sign with a fresh clock, then give up
    assert [e["code"] for e in calls(sim)] == ["RequestExpired", "RequestExpired"]


def test_preflight_reports_the_skew_the_agents_correct(ec2sim_factory, tmp_path):
    """preflight still fails the clock check (the operator must fix it) while its calls work."""
    sim = ec2sim_factory(fast_state(), workdir=tmp_path / "sim")
    sim.clock(900)
    env = sim.env()
    env.update({"HA_RSCTMP": str(tmp_path / "rsctmp"),
                "CIB_file": make_cib(tmp_path / "cib.xml"),
                "OCF_RESKEY_CRM_meta_on_node": "node1"})
    (tmp_path / "rsctmp").mkdir(exist_ok=True)
    r = run_program("ec2ha", ["--json", "preflight"], env=env)
    doc = json.loads(r.stdout)
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["EC2 endpoint"]["status"] == "ok", checks["EC2 endpoint"]
    skew = checks["clock skew"]
    assert skew["status"] == "fail" and "behind" in skew["detail"], skew
    m = re.search(r"(\d+) s behind", skew["detail"])
    assert m and abs(int(m.group(1)) - 900) <= 3, skew
    assert r.returncode == 1
