"""fence_ec2's safety contract (DESIGN.md section 3), one test (or more) per line.

1. off succeeds only after DescribeInstances shows the target stopped/terminated;
   timeout, throttling, ambiguous state, unknown instance: failure, never success.
2. StopInstances Force=true (+ SkipOsShutdown=true unless skip_os_shutdown=false; retried
   without it when EC2 rejects it); a target already stopping gets the forced stop again.
3. race guard: own instance must be running; stopping or undeterminable -> refuse
   (unless skip_race_check); never stops its own instance.
4. target resolution (also in test_fence.py): unknown plug, ambiguous tag.
5. reboot never uses RebootInstances (test_fence.py).
Plus: every run ends within its deadline, even when EC2 keeps failing.
"""
import os

from test_fence_support import (NODE1, NODE2, calls, fast_state, fence, instance_state,
                                state_events, stdin_lines)

FAST = "--stonith-status-sleep=0.2"


def _sim_with(ec2sim_factory, tmp_path, hook=False, **defaults):
    state = fast_state(**defaults)
    if hook:
        # The stop hook records whether EC2 saw Force=true (its env says so).
        state["hooks"] = {"stop": 'echo "$EC2SIM_INSTANCE_ID force=$EC2SIM_FORCE" >> %s'
                          % (tmp_path / "stops.log")}
    return ec2sim_factory(state)


def _stops_log(tmp_path):
    path = tmp_path / "stops.log"
    return path.read_text().splitlines() if path.exists() else []


def _after(events, seq):
    return [e for e in events if e["seq"] > seq]


# ---- 1. success only once stopped is visible ----------------------------------------------

def test_off_returns_only_after_ec2_shows_stopped(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path, stop_delay=1.0, force_stop_delay=1.0)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    stopped = [e for e in state_events(sim, NODE2) if e["state"] == "stopped"]
    assert len(stopped) == 1 and stopped[0]["ts"] <= res.exited_at
    stop = [c for c in calls(sim, "StopInstances") if c["code"] == "Success"][0]
    describes = _after(calls(sim, "DescribeInstances"), stop["seq"])
    # polled while stopping, and the last look came after the transition
    assert len(describes) >= 2
    assert describes[-1]["seq"] > stopped[0]["seq"]


def test_stale_describe_after_the_stop_does_not_give_early_success(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.fault(action="StopInstances", kind="stale", calls=5)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    stop = [c for c in calls(sim, "StopInstances") if c["code"] == "Success"][0]
    # five stale answers ("running") were not enough: it kept asking until it saw stopped
    assert len(_after(calls(sim, "DescribeInstances"), stop["seq"])) >= 6


def test_stale_old_stopped_is_not_believed(ec2sim_factory, tmp_path):
    """A stale view can show an OLD stopped: the instance was started a moment ago."""
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.set(NODE2, state="stopped")
    sim.fault(action="StartInstances", kind="stale", calls=40)
    sim.boto3_client().start_instances(InstanceIds=[NODE2])
    seq = sim.mark()
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    # not "Already OFF": EC2 itself said pending/running, so it was stopped and waited for
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    stopped = [e for e in state_events(sim, NODE2, since=seq) if e["state"] == "stopped"]
    assert stopped and stopped[0]["ts"] <= res.exited_at
    assert "stale" in res.stderr
    assert instance_state(sim, NODE2) == "stopped"


def test_stop_never_visible_is_a_failure_even_if_it_happened(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.fault(action="StopInstances", kind="stale", calls=100000)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST, "--power-timeout=2")
    assert res.returncode == 1 and res.stdout == ""
    assert "Timed out waiting to power OFF" in res.stderr
    assert instance_state(sim, NODE2) == "stopped"   # EC2 did it, but never said so


def test_target_never_stops_within_power_timeout(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path, stop_delay=60, force_stop_delay=60)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST, "--power-timeout=2")
    assert res.returncode == 1 and res.stdout == ""
    assert "Timed out waiting to power OFF" in res.stderr and "stopping" in res.stderr
    assert 2 <= res.elapsed < 10
    res = fence(sim, tmp_path, stdin=stdin_lines(action="reboot", plug=NODE2, power_timeout=1,
                                                 stonith_status_sleep=0.2))
    assert res.returncode == 1 and "Success" not in res.stdout


def test_shutting_down_target_waits_for_terminated(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.set(NODE2, state="shutting-down", delay=1.0)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    terminated = [e for e in state_events(sim, NODE2) if e["state"] == "terminated"]
    assert terminated and terminated[0]["ts"] <= res.exited_at
    assert calls(sim, "StopInstances") == []


def test_unknown_plug_fails(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    res = fence(sim, tmp_path, "-o", "off", "-n", "node3")
    assert res.returncode == 1 and res.stdout == ""
    assert "node3" in res.stderr
    res = fence(sim, tmp_path, "-o", "off", "-n", "i-0000000000000dddd")
    assert res.returncode == 1 and res.stdout == ""
    assert "i-0000000000000dddd" in res.stderr and "does not exist" in res.stderr
    res = fence(sim, tmp_path, "-o", "status", "-n", "i-0000000000000dddd")
    assert res.returncode == 1 and res.stdout == ""
    assert calls(sim, "StopInstances") == []


def test_ambiguous_tag_fails_naming_the_candidates(ec2sim_factory, tmp_path):
    state = fast_state()
    state["instances"].append({"instance_id": "i-0000000000000cccc", "state": "stopped",
                               "tags": {"Name": "node2"}})
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, "-o", "off", "-n", "node2")
    assert res.returncode == 1 and res.stdout == ""
    assert "ambiguous" in res.stderr
    assert NODE2 in res.stderr and "i-0000000000000cccc" in res.stderr
    assert calls(sim, "StopInstances") == []
    assert instance_state(sim, NODE2) == "running"


# ---- 2. how it stops ---------------------------------------------------------------------

def test_stop_is_forced_with_skip_os_shutdown(ec2sim_factory, tmp_path):
    # a graceful stop would take 60 s here; a forced one 0.3 s
    state = fast_state(stop_delay=60, force_stop_delay=0.3)
    state["unsupported_params"] = ["SkipOsShutdown"]
    state["hooks"] = {"stop": 'echo "$EC2SIM_INSTANCE_ID force=$EC2SIM_FORCE" >> %s'
                      % (tmp_path / "stops.log")}
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    # SkipOsShutdown was sent (and refused), then the stop went through without it
    # (the last call is the cross-check of the stopped state, without SkipOsShutdown now)
    assert [c["code"] for c in calls(sim, "StopInstances")] == \
        ["UnknownParameter", "Success", "Success"]
    assert "SkipOsShutdown" in res.stderr
    assert _stops_log(tmp_path) == [NODE2 + " force=true"]
    assert res.elapsed < 10


def test_skip_os_shutdown_accepted_at_once(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path, hook=True, stop_delay=60, force_stop_delay=0.3)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    # the stop, then the cross-check of the stopped state
    assert [c["code"] for c in calls(sim, "StopInstances")] == ["Success", "Success"]
    assert _stops_log(tmp_path) == [NODE2 + " force=true"]


def test_skip_os_shutdown_false_is_not_sent(ec2sim_factory, tmp_path):
    state = fast_state()
    state["unsupported_params"] = ["SkipOsShutdown"]
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, stdin=stdin_lines(action="off", plug=NODE2,
                                                 skip_os_shutdown="false",
                                                 stonith_status_sleep=0.2))
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert [c["code"] for c in calls(sim, "StopInstances")] == ["Success", "Success"]
    res = fence(sim, tmp_path, "-o", "validate-all", "--skip-os-shutdown=perhaps")
    assert res.returncode == 1 and "skip_os_shutdown" in res.stderr


def test_target_already_stopping_gets_the_forced_stop(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path, stop_delay=60, force_stop_delay=0.3)
    sim.set(NODE2, state="stopping", delay=60)     # a graceful stop that would hang
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert [c["code"] for c in calls(sim, "StopInstances")] == ["Success", "Success"]
    assert [e["instance_id"] for e in sim.events(type="force")] == [NODE2]
    assert res.elapsed < 10


def test_pending_target_is_stopped_once_ec2_accepts_it(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.set(NODE2, state="pending", delay=1.0)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    codes = [c["code"] for c in calls(sim, "StopInstances")]
    assert codes[0] == "IncorrectInstanceState" and codes[-1] == "Success"


def test_throttling_and_5xx_during_off_are_retried(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.fault(action="DescribeInstances", kind="throttle", count=2)
    sim.fault(action="StopInstances", kind="internal", count=2)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert [c["code"] for c in calls(sim, "StopInstances")] == \
        ["InternalError", "InternalError", "Success", "Success"]
    assert [c["code"] for c in calls(sim, "DescribeInstances")][:2] == \
        ["RequestLimitExceeded", "RequestLimitExceeded"]
    assert instance_state(sim, NODE2) == "stopped"


def test_lost_stop_answer_is_retried_safely(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    # the stop happens, then the connection is reset: the retry meets a stopping instance
    sim.fault(action="StopInstances", kind="reset", count=1, when="after")
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert [c["code"] for c in calls(sim, "StopInstances")][-1] == "Success"


def test_endless_throttling_ends_within_the_deadline(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.fault(action="DescribeInstances", kind="throttle", probability=1.0)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, "--power-timeout=2",
                "--login-timeout=1", "--shell-timeout=1")
    assert res.returncode == 1 and res.stdout == ""
    assert "RequestLimitExceeded" in res.stderr
    assert res.elapsed < 8          # the run's budget is 1 + 1 + 2 s
    assert calls(sim, "StopInstances") == []


def test_api_unreachable_fails_within_the_deadline(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, "--power-timeout=2",
                "--login-timeout=1", "--shell-timeout=1",
                AWS_ENDPOINT_URL_EC2="https://127.0.0.1:9")
    assert res.returncode == 1 and res.stdout == ""
    assert res.elapsed < 8


# ---- 3. race guard ------------------------------------------------------------------------

def test_refuses_when_own_instance_is_stopping(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.set(NODE1, state="stopping", delay=60)     # IMDS answers as node1: us
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2)
    assert res.returncode == 1 and res.stdout == ""
    assert "race guard" in res.stderr and NODE1 in res.stderr and "stopping" in res.stderr
    assert calls(sim, "StopInstances") == []
    assert instance_state(sim, NODE2) == "running"
    res = fence(sim, tmp_path, "-o", "reboot", "-n", NODE2)
    assert res.returncode == 1 and calls(sim, "StopInstances") == []


def test_refuses_when_imds_is_unreachable(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.imds(down=True)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2)
    assert res.returncode == 1 and res.stdout == ""
    assert "race guard" in res.stderr and "skip_race_check" in res.stderr
    assert calls(sim, "StopInstances") == []
    # boolean words mean what they say (fence_aws takes skip_race_check=false as true)
    res = fence(sim, tmp_path, stdin=stdin_lines(action="off", plug=NODE2,
                                                 skip_race_check="false"))
    assert res.returncode == 1 and calls(sim, "StopInstances") == []
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, "--skip-race-check=false")
    assert res.returncode == 1 and calls(sim, "StopInstances") == []


def test_imds_endpoint_closed_refuses(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2,
                AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9")
    assert res.returncode == 1 and "race guard" in res.stderr
    assert calls(sim, "StopInstances") == []
    assert res.elapsed < 10


def test_skip_race_check_fences_without_imds(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.imds(down=True)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, "--skip-race-check", FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    sim.set(NODE2, state="running")
    res = fence(sim, tmp_path, stdin=stdin_lines(action="off", plug=NODE2, skip_race_check="yes",
                                                 stonith_status_sleep=0.2))
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr


def test_skip_race_check_ignores_own_stopping_state(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.set(NODE1, state="stopping", delay=60)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, "--skip-race-check", FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr


def test_never_stops_its_own_instance(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    for args in (["-n", NODE1], ["-n", "node1"], ["-n", NODE1, "--skip-race-check"]):
        res = fence(sim, tmp_path, "-o", "off", *args)
        assert res.returncode == 1 and res.stdout == ""
        assert "own instance" in res.stderr
    res = fence(sim, tmp_path, "-o", "reboot", "-n", NODE1, "--skip-race-check")
    assert res.returncode == 1
    assert calls(sim, "StopInstances") == []
    assert instance_state(sim, NODE1) == "running"
    # IMDS answering as node2 (fresh runtime dir: the identity is cached per node)
    sim.imds(clients={"127.0.0.1": NODE2})
    res = fence(sim, tmp_path / "as-node2", "-o", "off", "-n", NODE2)
    assert res.returncode == 1 and "own instance" in res.stderr
    assert calls(sim, "StopInstances") == []


def test_never_stops_its_own_instance_known_only_from_the_cib(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    sim.imds(down=True)
    me = os.uname().nodename
    cib = tmp_path / "cib.xml"
    cib.write_text(
        '<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.8" epoch="1" num_updates="0" '
        'admin_epoch="0"><configuration><crm_config/><nodes><node id="1" uname="%s">'
        '<instance_attributes id="nodes-1"><nvpair id="nodes-1-ec2-instance-id" '
        'name="ec2-instance-id" value="%s"/></instance_attributes></node></nodes><resources/>'
        '<constraints/></configuration><status/></cib>' % (me, NODE2))
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, "--skip-race-check", CIB_file=str(cib))
    assert res.returncode == 1 and "own instance" in res.stderr
    assert calls(sim, "StopInstances") == []


def test_delay_applies_to_off_only(ec2sim_factory, tmp_path):
    sim = _sim_with(ec2sim_factory, tmp_path)
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "--delay=6")
    assert res.returncode == 0 and res.elapsed < 6
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, "--delay=1.5", FAST)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert res.elapsed >= 1.5


def test_refused_stop_fails_with_code_and_request_id(ec2sim_factory, tmp_path):
    state = fast_state()
    state["keys"][0]["permissions"] = ["ec2:Describe*"]
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2)
    assert res.returncode == 1 and res.stdout == ""
    stop = calls(sim, "StopInstances")
    assert [c["code"] for c in stop] == ["UnauthorizedOperation"]
    assert "UnauthorizedOperation" in res.stderr and stop[0]["request_id"] in res.stderr
    assert instance_state(sim, NODE2) == "running"
