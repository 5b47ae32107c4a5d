"""Adversarial safety review of fence_ec2 and ocf:ec2ha:eip (black-box, against ec2sim).

Two kinds of tests live here:
  test_review_bug_*   demonstrate a finding of the review: they FAIL on the code as reviewed
                      and pass once the fix described in the docstring is in;
  test_review_pin_*   pin a safety property the code already has (they pass now and must
                      keep passing).
"""
import copy
import os
import sys
import time

import pytest

from conftest import run_program
from ec2sim.testing import ALLOC, NODE1, NODE2, default_state
from test_fence_support import calls, fast_state, fence, instance_state

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cib"))
from cibfixture import make_cib  # noqa: E402

FAST = "--stonith-status-sleep=0.2"
OLD2 = "i-0000000000000cccc"      # node2's previous instance (before it was replaced)
NODE3 = "i-0000000000000dddd"

OCF_ROOT = "/usr/lib/ocf"
OCF_SUCCESS, OCF_ERR_GENERIC, OCF_NOT_RUNNING = 0, 1, 7


# ---- helpers -------------------------------------------------------------------------------

def eip_env(sim, tmp_path, cib, name="node1", timeout_ms=20000, interval=None, **params):
    rsc = tmp_path / ("rsctmp-" + name)
    rsc.mkdir(exist_ok=True)
    env = sim.env()
    env.update({
        "OCF_ROOT": OCF_ROOT,
        "OCF_RESOURCE_INSTANCE": "eip",
        "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms),
        "OCF_RESKEY_CRM_meta_on_node": name,
        "HA_RSCTMP": str(rsc),
        "OCF_RESKEY_allocation_id": ALLOC,
    })
    if cib is not None:
        env["CIB_file"] = str(cib)
    if interval is not None:
        env["OCF_RESKEY_CRM_meta_interval"] = str(interval)
    for k, v in params.items():
        env["OCF_RESKEY_" + k] = v
    return env


def eip(action, env):
    return run_program("eip", [action], env=env)


def exit_reason(result):
    lines = [l for l in result.stderr.splitlines() if l.startswith("ocf-exit-reason:")]
    return lines[-1][len("ocf-exit-reason:"):] if lines else ""


def association(sim):
    return sim.address(ALLOC).get("instance_id")


# ---- FINDING 1 (high): a stale/wrong ec2-instance-id in the CIB gives "Success" ------------------
#
# The CIB attribute is permanent (DESIGN 7) and is only rewritten when the eip resource
# starts on that node (or by `ec2ha register`).  When node2 is rebuilt on a new instance
# with the same node name (the usual way a dead EC2 node is replaced), the attribute still
# names the old instance.  fence_ec2 (identity=auto) takes the CIB answer at face value:
# the old instance is terminated/stopped, so `off node2` prints "Success: Already OFF" and
# exits 0 while node2's real instance keeps running.  The same happens when the attribute
# names some other running instance (a copy/paste mistake): that one is stopped and node2
# is reported fenced.

@pytest.mark.parametrize("old_state", ["terminated", "stopped", "running-other-node"])
def test_review_bug_stale_cib_instance_id_is_not_proof_that_the_node_is_off(
        ec2sim_factory, tmp_path, old_state):
    state = fast_state()
    if old_state == "running-other-node":
        state["instances"].append({"instance_id": OLD2, "state": "running",
                                   "tags": {"Name": "node3"}})
    else:
        state["instances"].append({"instance_id": OLD2, "state": old_state,
                                   "tags": {"Name": "node2"}})
    sim = ec2sim_factory(state)
    cib = make_cib(tmp_path / "cib.xml", instance_ids={"node2": OLD2})

    res = fence(sim, tmp_path, "-o", "off", "-n", "node2", FAST, CIB_file=cib)

    # node2 (tag Name=node2, the only non-terminated namesake besides a stale record)
    # must never be reported fenced while EC2 says it is running.
    still_running = instance_state(sim, NODE2) == "running"
    assert not (res.returncode == 0 and still_running), (
        "fence_ec2 reported %r for node2 while its instance %s is still running "
        "(CIB ec2-instance-id=%s is %s)\n%s" % (res.stdout.strip(), NODE2, OLD2, old_state,
                                                  res.stderr))
    if res.returncode != 0:
        assert res.stdout == "" and OLD2 in res.stderr, res.stderr


# ---- FINDING 2 (medium): the takeover guard fails open for a member without a record -----------
#
# judge_owner() (agents/eip/guard.c) recognises a cluster member only through its
# ec2-instance-id attribute.  An online member that has no record (never ran eip start, the
# CIB write failed and was only warned about, or the EIP came from awseip before the switch)
# is declared "not a node of this cluster" and the address is taken from it while it runs.

def test_review_bug_takeover_guard_fails_open_for_an_online_member_without_a_record(
        ec2sim, tmp_path):
    cib = make_cib(tmp_path / "cib.xml", instance_ids={"node2": None})   # node2 online
    ec2sim.set(ALLOC, instance_id=NODE2)                                # node2 holds the EIP
    seq = ec2sim.events()[-1]["seq"]
    r = eip("start", eip_env(ec2sim, tmp_path, cib, timeout_ms=6000))
    assert association(ec2sim) == NODE2, (
        "the EIP was taken from %s, which EC2 reports running and whose Name tag is node2, "
        "an online member of this cluster\n%s" % (NODE2, r.stderr))
    assert r.returncode == OCF_ERR_GENERIC, r.stderr
    assert [c for c in calls(ec2sim, "AssociateAddress", since=seq)] == []


def test_review_pin_takeover_allowed_from_a_running_non_member(ec2sim_factory, tmp_path):
    """The fix for finding 2 must still let the address leave an instance that is no node."""
    state = copy.deepcopy(default_state())
    state["instances"].append({"instance_id": NODE3, "state": "running",
                               "tags": {"Name": "bastion"}})
    sim = ec2sim_factory(state)
    cib = make_cib(tmp_path / "cib.xml", instance_ids={"node1": NODE1, "node2": NODE2})
    sim.set(ALLOC, instance_id=NODE3)
    r = eip("start", eip_env(sim, tmp_path, cib))
    assert r.returncode == OCF_SUCCESS, r.stderr
    assert association(sim) == NODE1


# ---- FINDING 3 (medium): monitor is green while every off would be refused ----------------------
#
# do_monitor() (fence/actions.c) falls back to a DescribeInstances DryRun when IMDS cannot
# name this instance, whatever skip_race_check says.  With skip_race_check=false the race
# guard then refuses every off/reboot, so the device monitors healthy and fails the first
# real fencing request: the operator learns it at the worst possible moment.

def test_review_bug_monitor_fails_when_the_race_guard_cannot_work(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(fast_state())
    sim.imds(down=True)
    off = fence(sim, tmp_path, "-o", "off", "-n", NODE2)
    assert off.returncode == 1 and "race guard" in off.stderr     # as designed
    mon = fence(sim, tmp_path, "-o", "monitor")
    assert mon.returncode == 1, (
        "monitor succeeded although off is certain to be refused by the race guard\n"
        + mon.stderr)
    assert "skip_race_check" in mon.stderr or "race guard" in mon.stderr
    # the documented off-EC2 set-up (skip_race_check=true) still monitors with a DryRun
    mon = fence(sim, tmp_path, "-o", "monitor", "--skip-race-check")
    assert mon.returncode == 0, mon.stderr


# ---- FINDING 4 (low): a proxy password is logged ----------------------------------------------
#
# `proxy` is not flagged EC2HA_OPT_SECRET in fence/options.c, so ec2ha_opts_log_effective()
# prints "option proxy=http://user:password@host" at debug (stderr, syslog, debug_file),
# although lib/ec2_client.c itself treats the proxy string as a secret.

def test_review_bug_proxy_password_is_never_logged(ec2sim, tmp_path):
    secret = "Pr0xyPassw0rdX"
    res = fence(ec2sim, tmp_path, "-o", "list", "-v", "--login-timeout=1",
                "--power-timeout=1", "--shell-timeout=1",
                "--proxy=http://alice:%s@127.0.0.1:9" % secret)
    debug_file = tmp_path / "debug.log"
    res2 = fence(ec2sim, tmp_path, "-o", "list", "--login-timeout=1", "--power-timeout=1",
                 "--shell-timeout=1", "--debug-file=%s" % debug_file,
                 "--proxy=http://alice:%s@127.0.0.1:9" % secret)
    logged = res.stderr + res2.stderr + (debug_file.read_text() if debug_file.exists() else "")
    assert secret not in logged, [l for l in logged.splitlines() if secret in l]


# ---- pins: properties the code has and must keep ------------------------------------------------

def test_review_pin_describe_failing_after_the_stop_is_never_success(ec2sim_factory, tmp_path):
    """Stop accepted, then every DescribeInstances fails: failure, stdout empty."""
    sim = ec2sim_factory(fast_state(stop_delay=60, force_stop_delay=60))
    # the target's first look and the race guard succeed; once EC2 has accepted the stop,
    # no DescribeInstances answers any more
    import threading

    def arm():
        deadline = time.time() + 20
        while time.time() < deadline:
            if [c for c in calls(sim, "StopInstances") if c["code"] == "Success"]:
                sim.fault(action="DescribeInstances", kind="internal", count=100000)
                sim.set(NODE2, state="stopped")       # it did stop, but nobody can see it
                return
            time.sleep(0.02)

    t = threading.Thread(target=arm)
    t.start()
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST, "--power-timeout=3")
    t.join()
    assert res.returncode == 1 and "Success" not in res.stdout, res.stdout + res.stderr


@pytest.mark.parametrize("kind", ["throttle", "truncate", "unavailable"])
def test_review_pin_eip_monitor_is_1_never_7_when_ec2_cannot_tell(ec2sim, tmp_path, kind):
    cib = make_cib(tmp_path / "cib.xml")
    assert eip("start", eip_env(ec2sim, tmp_path, cib)).returncode == 0
    ec2sim.fault(action="DescribeAddresses", kind=kind, count=100000)
    for interval in (30000, 0):         # monitor and probe
        t0 = time.monotonic()
        r = eip("monitor", eip_env(ec2sim, tmp_path, cib, timeout_ms=3000, interval=interval))
        assert r.returncode == OCF_ERR_GENERIC, (kind, interval, r.returncode, r.stderr)
        assert time.monotonic() - t0 < 3.0
    ec2sim.clear_faults()
    r = eip("monitor", eip_env(ec2sim, tmp_path, cib, interval=30000))
    assert r.returncode == OCF_SUCCESS, r.stderr


def test_review_pin_eip_monitor_is_1_when_it_cannot_tell_who_it_is(ec2sim, tmp_path):
    """Associated somewhere, IMDS down, no cache: the answer is unknown (1), never 7."""
    cib = make_cib(tmp_path / "cib.xml")
    ec2sim.set(ALLOC, instance_id=NODE1)
    ec2sim.imds(down=True)
    r = eip("monitor", eip_env(ec2sim, tmp_path, cib, name="fresh", timeout_ms=4000,
                               interval=30000))
    assert r.returncode not in (OCF_SUCCESS, OCF_NOT_RUNNING), r.stderr


def test_review_pin_eip_start_refuses_without_readable_cib_when_fencing_required(
        ec2sim, tmp_path):
    """Decision: require_fencing + unreadable CIB = fail closed with a soft error (1), so
    Pacemaker may recover elsewhere; never associate on an unverified fencing setting."""
    r = eip("start", eip_env(ec2sim, tmp_path, tmp_path / "no-cib.xml"))
    assert r.returncode == OCF_ERR_GENERIC, r.stderr
    assert association(ec2sim) is None
    assert calls(ec2sim, "AssociateAddress") == []


def test_review_pin_eip_stop_leaves_a_newer_association_alone(ec2sim, tmp_path):
    """Our association replaced by node2's between our Describe and Disassociate: the
    disassociation is by association id, so node2 keeps the address."""
    cib = make_cib(tmp_path / "cib.xml")
    assert eip("start", eip_env(ec2sim, tmp_path, cib)).returncode == 0
    # node2 takes it while our stop is in flight (slow Disassociate, before it runs)
    fid = ec2sim.fault(action="DisassociateAddress", kind="slow", delay=2.0, when="before")
    import threading

    def move_when_the_disassociate_is_in_flight():
        end = time.time() + 20
        while time.time() < end:
            if any(e.get("fault_id") == fid for e in ec2sim.events(type="fault")):
                ec2sim.set(ALLOC, instance_id=NODE2)
                return
            time.sleep(0.02)

    t = threading.Thread(target=move_when_the_disassociate_is_in_flight)
    t.start()
    r = eip("stop", eip_env(ec2sim, tmp_path, cib))
    t.join()
    assert r.returncode == OCF_SUCCESS, r.stderr
    assert calls(ec2sim, "DisassociateAddress"), "the race was not exercised"
    assert association(ec2sim) == NODE2


# ---- FINDING 5 (low-medium): the IMDS session token is logged at trace -------------------------
#
# lib/http.c ec2ha_http_perform() traces every response body; the body of
# PUT /latest/api/token IS the IMDS session token, and it is logged before lib/imds.c
# registers it as a secret (DESIGN 2, log: "never prints ... IMDS token").  fence_ec2 -vv
# (verbose_level=2) writes it to stderr and syslog.

def test_review_bug_imds_token_is_never_logged(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(fast_state())
    res = fence(sim, tmp_path, "-o", "monitor", "-vv")
    assert res.returncode == 0, res.stderr
    cache = tmp_path / "rsc" / "imds-cache"
    tokens = [l.split()[2] for l in cache.read_text().splitlines() if l.startswith("token ")]
    assert tokens, "no IMDS token was cached: the test did not exercise the token path"
    leaked = [l for l in res.stderr.splitlines() if any(t in l for t in tokens)]
    assert leaked == [], leaked
