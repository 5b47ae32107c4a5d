"""fence_ec2: the fence-agents interface and every action, against ec2sim over HTTPS.

Both input styles (getopt and Pacemaker's stdin key=value lines), every exit code and
stdout line.  The safety contract is in test_fence_safety.py, credentials / TLS / proxy in
test_fence_creds.py, the comparison with fence_aws in test_fence_compat.py.
"""
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import program_path
from test_fence_support import (NODE1, NODE2, calls, fast_state, fence, fence_env,
                                instance_state, state_events, stdin_lines)

RNG = "/usr/share/cluster/relaxng/metadata.rng"


@pytest.fixture
def sim(ec2sim_factory):
    return ec2sim_factory(fast_state())


# ---- documentation actions (no EC2) ---------------------------------------------------

def test_metadata_validates_against_pacemaker_schema(tmp_path):
    res = fence(None, tmp_path, "-o", "metadata", env={})
    assert res.returncode == 0, res.stderr
    path = tmp_path / "meta.xml"
    path.write_text(res.stdout)
    check = subprocess.run(["xmllint", "--noout", "--relaxng", RNG, str(path)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    root = ET.fromstring(res.stdout)
    assert root.get("name") == "fence_ec2"
    params = {p.get("name"): p for p in root.iter("parameter")}
    assert params["plug"].get("obsoletes") == "port"
    assert params["port"].get("deprecated") == "1"
    assert params["power_timeout"].find("content").get("default") == "120"
    assert params["tag_key"].find("content").get("default") == "Name"
    for new in ("profile", "endpoint_url", "ca_bundle", "proxy", "tag_key", "identity",
                "connect_timeout", "skip_race_check", "skip_os_shutdown"):
        assert new in params, new
    actions = [a.get("name") for a in root.iter("action")]
    assert actions == ["on", "off", "reboot", "status", "list", "list-status", "monitor",
                       "metadata", "manpage", "validate-all"]
    on = [a for a in root.iter("action") if a.get("name") == "on"][0]
    assert on.get("automatic") == "0"
    # OCF habit: meta-data is the same thing, also from stdin
    res2 = fence(None, tmp_path, stdin="action=meta-data\n", env={})
    assert res2.returncode == 0 and res2.stdout == res.stdout


def _getopt_letter(mixed):
    m = re.match(r"-(\w), ", mixed)
    return m.group(1) if m else None


def test_every_fence_aws_parameter_with_same_name_and_letter(tmp_path):
    aws = subprocess.run(["/usr/sbin/fence_aws", "-o", "metadata"], capture_output=True,
                         text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert aws.returncode == 0, aws.stderr
    ours = fence(None, tmp_path, "-o", "metadata", env={})
    theirs = {p.get("name"): _getopt_letter(p.find("getopt").get("mixed"))
              for p in ET.fromstring(aws.stdout).iter("parameter")}
    mine = {p.get("name"): _getopt_letter(p.find("getopt").get("mixed"))
            for p in ET.fromstring(ours.stdout).iter("parameter")}
    # upstream fence_aws (newer than Debian's 4.12) adds these two
    theirs.update({"skip_race_check": None, "skip_os_shutdown": None})
    for name, letter in theirs.items():
        assert name in mine, "fence_aws parameter %s missing" % name
        assert mine[name] == letter, "%s: -%s here, -%s in fence_aws" % (name, mine[name], letter)


def test_help_version_manpage(tmp_path):
    res = fence(None, tmp_path, "-h", env={})
    assert res.returncode == 0
    assert res.stdout.startswith("Usage:")
    for opt in ("--plug", "--region", "--skip-race-check", "--tag-key", "--power-timeout"):
        assert opt in res.stdout
    res = fence(None, tmp_path, "-V", env={})
    assert res.returncode == 0 and re.match(r"^\d+\.\d+", res.stdout)
    res = fence(None, tmp_path, "-o", "manpage", env={})
    assert res.returncode == 0
    assert res.stdout.startswith(".TH FENCE_EC2 8")
    assert "EXIT STATUS" in res.stdout and "power_timeout" in res.stdout


def test_validate_all(tmp_path):
    ok = fence(None, tmp_path, "-o", "validate-all", env={})
    assert ok.returncode == 0, ok.stderr
    bad = fence(None, tmp_path, stdin=stdin_lines(action="validate-all", access_key="AKID"),
                env={})
    assert bad.returncode == 1
    assert "secret_key" in bad.stderr
    bad = fence(None, tmp_path, "-o", "validate-all", "--power-timeout=2min", env={})
    assert bad.returncode == 1 and "power_timeout" in bad.stderr
    bad = fence(None, tmp_path, "-o", "validate-all", "--identity=dns", env={})
    assert bad.returncode == 1 and "identity" in bad.stderr
    bad = fence(None, tmp_path, "-o", "validate-all", "--filter=vpc-id", env={})
    assert bad.returncode == 1 and "filter" in bad.stderr


def test_usage_errors(tmp_path):
    res = fence(None, tmp_path, "-o", "frobnicate", "-n", NODE2, env={})
    assert res.returncode == 1 and "Unrecognised action 'frobnicate'" in res.stderr
    res = fence(None, tmp_path, "-o", "off", env={})
    assert res.returncode == 1 and "plug" in res.stderr
    res = fence(None, tmp_path, "--no-such-option", env={})
    assert res.returncode == 1 and "Please use '-h' for usage" in res.stderr
    res = fence(None, tmp_path, stdin="action=status\nskip_race_check=maybe\nplug=%s\n" % NODE2,
                env={})
    assert res.returncode == 1 and "skip_race_check" in res.stderr
    assert res.stdout == ""


# ---- status -------------------------------------------------------------------------

def test_status_on_argv_and_stdin(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2)
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr
    res = fence(sim, tmp_path, "--action=status", "--plug=" + NODE2)
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr
    # Pacemaker's fencer: stdin, port= instead of plug=, nodename=, comments, quotes
    res = fence(sim, tmp_path,
                stdin="# fencer\naction=status\nnodename=node2\n\nport=\"%s\"\n" % NODE2)
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr
    assert "nodename" not in res.stderr


@pytest.mark.parametrize("state", ["stopped", "terminated"])
def test_status_off_exit_2(sim, tmp_path, state):
    sim.set(NODE2, state=state)
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2)
    assert (res.returncode, res.stdout) == (2, "Status: OFF\n"), res.stderr
    res = fence(sim, tmp_path, stdin=stdin_lines(action="status", plug=NODE2))
    assert (res.returncode, res.stdout) == (2, "Status: OFF\n"), res.stderr


def test_status_pending_is_on(sim, tmp_path):
    sim.set(NODE2, state="pending", delay=30)
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2)
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr


@pytest.mark.parametrize("state", ["stopping", "shutting-down"])
def test_status_in_transition_is_a_failure_naming_the_state(sim, tmp_path, state):
    sim.set(NODE2, state=state, delay=30)
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2)
    assert res.returncode == 1
    assert res.stdout == ""
    assert state in res.stderr and NODE2 in res.stderr


def test_status_of_several_plugs(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "status", "-n", "node1,node2")
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr
    sim.set(NODE2, state="stopped")
    res = fence(sim, tmp_path, "-o", "status", "-n", "%s+%s" % (NODE1, NODE2),
                "--plug-separator=+")
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr
    sim.set(NODE1, state="stopped")
    res = fence(sim, tmp_path, "-o", "status", "-n", "node1,node2")
    assert (res.returncode, res.stdout) == (2, "Status: OFF\n"), res.stderr


# ---- off / on / reboot ----------------------------------------------------------------

def test_off_argv(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    stopped = [e for e in state_events(sim, NODE2) if e["state"] == "stopped"]
    assert stopped and stopped[0]["ts"] <= res.exited_at
    assert instance_state(sim, NODE1) == "running"


def test_off_stdin_as_the_fencer_sends_it(sim, tmp_path):
    res = fence(sim, tmp_path, stdin=stdin_lines(action="off", nodename="node2", port="node2",
                                                 stonith_status_sleep="0.2"))
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert instance_state(sim, NODE2) == "stopped"


@pytest.mark.parametrize("state", ["stopped", "terminated"])
def test_off_already_off(sim, tmp_path, state):
    sim.set(NODE2, state=state)
    seq = sim.mark()
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2)
    assert (res.returncode, res.stdout) == (0, "Success: Already OFF\n"), res.stderr
    assert state_events(sim, NODE2, since=seq) == []
    # terminated is final; a "stopped" is cross-checked by a (harmless) forced stop
    assert [c["code"] for c in calls(sim, "StopInstances")] == \
        ([] if state == "terminated" else ["Success"])


def test_on(sim, tmp_path):
    sim.set(NODE2, state="stopped")
    res = fence(sim, tmp_path, "-o", "on", "-n", "node2", "--stonith-status-sleep=0.2")
    assert (res.returncode, res.stdout) == (0, "Success: Powered ON\n"), res.stderr
    running = [e for e in state_events(sim, NODE2) if e["state"] == "running"]
    assert running and running[-1]["ts"] <= res.exited_at
    res = fence(sim, tmp_path, stdin=stdin_lines(action="on", plug=NODE2))
    assert (res.returncode, res.stdout) == (0, "Success: Already ON\n"), res.stderr


def test_on_waits_for_a_stopping_instance(sim, tmp_path):
    sim.set(NODE2, state="stopping", delay=1.5)
    res = fence(sim, tmp_path, "-o", "on", "-n", NODE2, "--stonith-status-sleep=0.2")
    assert (res.returncode, res.stdout) == (0, "Success: Powered ON\n"), res.stderr
    codes = [c["code"] for c in calls(sim, "StartInstances")]
    assert codes and codes[-1] == "Success"


def test_on_terminated_fails(sim, tmp_path):
    sim.set(NODE2, state="terminated")
    res = fence(sim, tmp_path, "-o", "on", "-n", NODE2)
    assert res.returncode == 1 and res.stdout == ""
    assert "terminated" in res.stderr


def test_on_times_out(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(fast_state(start_delay=30))
    sim.set(NODE2, state="stopped")
    res = fence(sim, tmp_path, "-o", "on", "-n", NODE2, "--power-timeout=1.5",
                "--stonith-status-sleep=0.2")
    assert res.returncode == 1 and res.stdout == ""
    assert "Timed out waiting to power ON" in res.stderr
    assert res.elapsed < 15


def test_on_retries_a_refused_start(sim, tmp_path):
    sim.set(NODE2, state="stopped")
    sim.fault(action="StartInstances", kind="error", code="InsufficientInstanceCapacity",
              status=400, message="Insufficient capacity.", count=1)
    res = fence(sim, tmp_path, "-o", "on", "-n", NODE2, "--stonith-status-sleep=0.2")
    assert (res.returncode, res.stdout) == (0, "Success: Powered ON\n"), res.stderr
    assert [c["code"] for c in calls(sim, "StartInstances")] == \
        ["InsufficientInstanceCapacity", "Success"]
    assert res.elapsed < 8


def test_on_gives_up_after_retry_on_attempts(sim, tmp_path):
    sim.set(NODE2, state="stopped")
    sim.fault(action="StartInstances", kind="error", code="InsufficientInstanceCapacity",
              status=400, message="Insufficient capacity.", count=10)
    res = fence(sim, tmp_path, "-o", "on", "-n", NODE2, "--retry-on=2",
                "--stonith-status-sleep=0.2")
    assert res.returncode == 1 and res.stdout == ""
    assert "InsufficientInstanceCapacity" in res.stderr and "3 StartInstances" in res.stderr
    assert len(calls(sim, "StartInstances")) == 3


def test_reboot_succeeds_once_off_is_confirmed_even_if_on_fails(sim, tmp_path):
    """As fence-agents: the node is fenced once it is off; a failed power-on is logged."""
    sim.fault(action="StartInstances", kind="error", code="InsufficientInstanceCapacity",
              status=400, message="Insufficient capacity.", count=10)
    res = fence(sim, tmp_path, "-o", "reboot", "-n", NODE2, "--stonith-status-sleep=0.2")
    assert (res.returncode, res.stdout) == (0, "Success: Rebooted\n"), res.stderr
    assert "Timed out waiting to power ON" in res.stderr
    assert "InsufficientInstanceCapacity" in res.stderr
    assert instance_state(sim, NODE2) == "stopped"


def test_reboot_is_off_then_on_both_confirmed(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "reboot", "-n", "node2", "--stonith-status-sleep=0.2")
    assert (res.returncode, res.stdout) == (0, "Success: Rebooted\n"), res.stderr
    seq = [e["state"] for e in state_events(sim, NODE2)]
    assert seq.index("stopped") < len(seq) - 1 - seq[::-1].index("running")
    assert [e for e in state_events(sim, NODE2) if e["state"] == "running"][-1]["ts"] \
        <= res.exited_at
    assert calls(sim, "RebootInstances") == []
    assert instance_state(sim, NODE2) == "running"
    # the fencer's default action (no action= line) is reboot
    res = fence(sim, tmp_path, stdin=stdin_lines(plug=NODE2, stonith_status_sleep="0.2"))
    assert (res.returncode, res.stdout) == (0, "Success: Rebooted\n"), res.stderr


def test_reboot_of_a_stopped_instance_starts_it(sim, tmp_path):
    sim.set(NODE2, state="stopped")
    res = fence(sim, tmp_path, "-o", "reboot", "-n", NODE2, "--stonith-status-sleep=0.2")
    assert (res.returncode, res.stdout) == (0, "Success: Rebooted\n"), res.stderr
    assert [e["state"] for e in state_events(sim, NODE2)][-2:] == ["pending", "running"]
    assert instance_state(sim, NODE2) == "running"


def test_off_several_plugs(ec2sim_factory, tmp_path):
    state = fast_state()
    state["instances"].append({"instance_id": "i-0000000000000cccc", "state": "running",
                               "tags": {"Name": "node3"}})
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, "-o", "off", "-n", "node2, node3", "--stonith-status-sleep=0.2")
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert instance_state(sim, NODE2) == "stopped"
    assert instance_state(sim, "i-0000000000000cccc") == "stopped"
    assert instance_state(sim, NODE1) == "running"


# ---- list / list-status / monitor ------------------------------------------------------

def test_list_and_list_status(sim, tmp_path):
    sim.set(NODE2, state="stopped")
    res = fence(sim, tmp_path, "-o", "list")
    assert res.returncode == 0, res.stderr
    assert sorted(res.stdout.splitlines()) == [NODE1 + ",node1", NODE2 + ",node2"]
    res = fence(sim, tmp_path, stdin=stdin_lines(action="list-status"))
    assert res.returncode == 0, res.stderr
    assert sorted(res.stdout.splitlines()) == [NODE1 + ",node1,on", NODE2 + ",node2,off"]
    res = fence(sim, tmp_path, "-o", "list-status", "-C", ";")
    assert sorted(res.stdout.splitlines()) == [NODE1 + ";node1;on", NODE2 + ";node2;off"]


def test_list_status_unknown_for_transitions(sim, tmp_path):
    sim.set(NODE2, state="stopping", delay=30)
    res = fence(sim, tmp_path, "-o", "list-status")
    assert res.returncode == 0, res.stderr
    assert NODE2 + ",node2,UNKNOWN" in res.stdout.splitlines()


def test_list_filter_and_alias_tag(ec2sim_factory, tmp_path):
    state = fast_state()
    state["instances"][0]["tags"]["cluster"] = "prod"
    state["instances"][1]["tags"]["cluster"] = "prod"
    state["instances"].append({"instance_id": "i-0000000000000cccc", "state": "stopped",
                               "tags": {"Name": "other", "cluster": "test"}})
    for inst, host in zip(state["instances"], ("alpha", "beta", "gamma")):
        inst["tags"]["hostname"] = host
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, "-o", "list", "--filter=tag:cluster=prod")
    assert sorted(res.stdout.splitlines()) == [NODE1 + ",node1", NODE2 + ",node2"], res.stderr
    res = fence(sim, tmp_path, "-o", "list-status", "--tag-key=hostname",
                "--filter=tag:cluster=prod,tag:cluster=test, instance-state-name=stopped")
    assert res.stdout.splitlines() == ["i-0000000000000cccc,gamma,off"], res.stderr
    filt = [c for c in calls(sim, "DescribeInstances")]
    assert filt and all(c["code"] == "Success" for c in filt)


def test_list_follows_pagination(ec2sim_factory, tmp_path):
    # the core asks for pages of EC2's maximum, MaxResults=1000: 1005 instances are 2 pages
    state = fast_state()
    for i in range(1003):
        state["instances"].append({"instance_id": "i-%017x" % (0x100000 + i),
                                   "state": "running", "tags": {"Name": "n%d" % i}})
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, "-o", "list")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 1005 and len(set(lines)) == 1005
    assert len(calls(sim, "DescribeInstances")) == 2


def test_monitor_on_ec2_is_one_small_call(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "monitor")
    assert (res.returncode, res.stdout) == (0, ""), res.stderr
    assert [c["action"] for c in calls(sim)] == ["DescribeInstances"]
    res = fence(sim, tmp_path, stdin="action=monitor\n")
    assert (res.returncode, res.stdout) == (0, ""), res.stderr


def test_monitor_off_ec2_uses_a_dry_run(sim, tmp_path):
    # off EC2 is only a working set-up with skip_race_check=true (otherwise the race guard
    # refuses every off, and monitor says so: test_review_safety finding 3)
    sim.imds(down=True)
    res = fence(sim, tmp_path, "-o", "monitor", "--skip-race-check")
    assert (res.returncode, res.stdout) == (0, ""), res.stderr
    cs = calls(sim)
    assert [(c["action"], c["code"]) for c in cs] == [("DescribeInstances", "DryRunOperation")]


def test_monitor_fails_with_bad_credentials(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "monitor", AWS_SECRET_ACCESS_KEY="not-the-secret")
    assert res.returncode == 1
    assert "SignatureDoesNotMatch" in res.stderr
    assert "not-the-secret" not in res.stderr


def test_monitor_fails_when_own_instance_is_stopping(sim, tmp_path):
    sim.set(NODE1, state="stopping", delay=30)
    res = fence(sim, tmp_path, "-o", "monitor")
    assert res.returncode == 1 and "stopping" in res.stderr


# ---- target resolution -------------------------------------------------------------------

def test_plug_by_tag_value(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "off", "-n", "node2", "--stonith-status-sleep=0.2")
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert instance_state(sim, NODE2) == "stopped"


def test_plug_by_other_tag_key(ec2sim_factory, tmp_path):
    state = fast_state()
    state["instances"][1]["tags"]["pcmk-node"] = "db-b"
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, "-o", "status", "-n", "db-b", "--tag-key=pcmk-node")
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr
    res = fence(sim, tmp_path, "-o", "status", "-n", "db-b")
    assert res.returncode == 1 and "db-b" in res.stderr


def test_tag_match_is_exact(ec2sim_factory, tmp_path):
    state = fast_state()
    state["instances"].append({"instance_id": "i-0000000000000cccc", "state": "running",
                               "tags": {"Name": "node2-old"}})
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, "-o", "status", "-n", "node*")
    assert res.returncode == 1 and "no non-terminated instance" in res.stderr
    res = fence(sim, tmp_path, "-o", "status", "-n", "node2")
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr


def test_terminated_namesake_is_ignored(ec2sim_factory, tmp_path):
    state = fast_state()
    state["instances"].append({"instance_id": "i-0000000000000cccc", "state": "terminated",
                               "tags": {"Name": "node2"}})
    sim = ec2sim_factory(state)
    res = fence(sim, tmp_path, "-o", "off", "-n", "node2", "--stonith-status-sleep=0.2")
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert instance_state(sim, NODE2) == "stopped"


def test_identity_instance_id_refuses_names(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "status", "-n", "node2", "--identity=instance-id")
    assert res.returncode == 1 and "not an instance id" in res.stderr
    assert calls(sim) == []


def _cib_file(tmp_path, nodes):
    """A CIB with the given {uname: instance_id or None} nodes, as CIB_file= reads it."""
    entries = []
    for i, (uname, iid) in enumerate(nodes.items(), 1):
        attrs = ""
        if iid:
            attrs = ('<instance_attributes id="nodes-%d"><nvpair id="nodes-%d-ec2-instance-id" '
                     'name="ec2-instance-id" value="%s"/></instance_attributes>' % (i, i, iid))
        entries.append('<node id="%d" uname="%s">%s</node>' % (i, uname, attrs))
    cib = ('<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.8" epoch="1" '
           'num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes>%s</nodes>'
           '<resources/><constraints/></configuration><status/></cib>' % "".join(entries))
    path = tmp_path / "cib.xml"
    path.write_text(cib)
    return str(path)


def test_plug_by_cib_node_attribute(sim, tmp_path):
    # node names that match no tag: only the CIB knows them
    cib = _cib_file(tmp_path, {"alpha": NODE1, "beta": NODE2, "gamma": None})
    res = fence(sim, tmp_path, "-o", "off", "-n", "beta", "--stonith-status-sleep=0.2",
                CIB_file=cib)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    assert instance_state(sim, NODE2) == "stopped"
    res = fence(sim, tmp_path, "-o", "status", "-n", "beta", "--identity=cib", CIB_file=cib)
    assert (res.returncode, res.stdout) == (2, "Status: OFF\n"), res.stderr
    res = fence(sim, tmp_path, "-o", "status", "-n", "gamma", "--identity=cib", CIB_file=cib)
    assert res.returncode == 1 and "gamma" in res.stderr and "ec2-instance-id" in res.stderr
    # tag lookup is not consulted with identity=cib
    res = fence(sim, tmp_path, "-o", "status", "-n", "node2", "--identity=cib", CIB_file=cib)
    assert res.returncode == 1


OLD2 = "i-0000000000000cccc"


def _sim_with_old(ec2sim_factory, state, tags):
    st = fast_state()
    st["instances"].append({"instance_id": OLD2, "state": state, "tags": tags})
    return ec2sim_factory(st)


def test_cib_record_naming_another_nodes_instance_is_refused(sim, tmp_path):
    # beta's record names node2's instance: a duplicate record, and its Name tag is node2
    cib = _cib_file(tmp_path, {"node2": NODE2, "beta": NODE2})
    res = fence(sim, tmp_path, "-o", "off", "-n", "beta", "--stonith-status-sleep=0.2",
                CIB_file=cib)
    assert res.returncode == 1 and res.stdout == "", res.stderr
    assert "both have ec2-instance-id" in res.stderr and "ec2ha register" in res.stderr
    cib = _cib_file(tmp_path, {"node2": None, "beta": NODE2})
    res = fence(sim, tmp_path, "-o", "off", "-n", "beta", "--stonith-status-sleep=0.2",
                CIB_file=cib)
    assert res.returncode == 1 and res.stdout == "", res.stderr
    assert "cluster node 'node2'" in res.stderr and NODE2 in res.stderr
    assert calls(sim, "StopInstances") == []
    assert instance_state(sim, NODE2) == "running"


@pytest.mark.parametrize("old_state", ["stopped", "terminated"])
def test_stale_cib_record_with_an_off_namesake_is_already_off(ec2sim_factory, tmp_path,
                                                                old_state):
    # node2 rebuilt; its new instance is stopped as well: nothing contradicts "off"
    sim = _sim_with_old(ec2sim_factory, old_state, {"Name": "node2"})
    sim.set(NODE2, state="stopped")
    cib = _cib_file(tmp_path, {"node1": NODE1, "node2": OLD2})
    res = fence(sim, tmp_path, "-o", "off", "-n", "node2", "--stonith-status-sleep=0.2",
                CIB_file=cib)
    assert (res.returncode, res.stdout) == (0, "Success: Already OFF\n"), res.stderr


def test_unknown_cib_record_with_a_running_namesake_is_refused(sim, tmp_path):
    cib = _cib_file(tmp_path, {"node1": NODE1, "node2": OLD2})    # OLD2 unknown to EC2
    for action in ("off", "status"):
        res = fence(sim, tmp_path, "-o", action, "-n", "node2", "--stonith-status-sleep=0.2",
                    CIB_file=cib)
        assert res.returncode == 1 and res.stdout == "", res.stderr
        assert OLD2 in res.stderr and NODE2 in res.stderr and "ec2ha register" in res.stderr
    assert calls(sim, "StopInstances") == []
    assert instance_state(sim, NODE2) == "running"


def test_unreachable_cib_only_skips_the_cib_step(sim, tmp_path):
    cib = str(tmp_path / "no-such-cib.xml")
    res = fence(sim, tmp_path, "-o", "status", "-n", "node2", CIB_file=cib)
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr
    res = fence(sim, tmp_path, "-o", "status", "-n", "node2", "--identity=cib", CIB_file=cib)
    assert res.returncode == 1 and "CIB" in res.stderr


def test_logging_options(sim, tmp_path):
    log = tmp_path / "debug.log"
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "-q", "-D", str(log))
    assert (res.returncode, res.stdout) == (0, "Status: ON\n")
    assert res.stderr == ""
    text = log.read_text()
    assert "DEBUG" in text and NODE2 in text
    assert sim.secret_access_key not in text
    res = fence(sim, tmp_path, stdin=stdin_lines(action="status", plug=NODE2, verbose=1))
    assert "DEBUG" in res.stderr
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "-vv")
    assert "TRACE" in res.stderr or "DEBUG" in res.stderr
    assert sim.secret_access_key not in res.stderr


def test_program_exists():
    assert os.access(program_path("fence_ec2"), os.X_OK)


def test_stonith_admin_prints_the_metadata_once_installed(tmp_path):
    """Pacemaker's fencer CLI reads the metadata of the agent in /usr/sbin (make install)."""
    installed = "/usr/sbin/fence_ec2"
    if not os.path.exists(installed):
        pytest.skip("fence_ec2 is not installed (make install)")
    with open(installed, "rb") as f:
        if f.read(4) != b"\x7fELF":
            pytest.skip("%s is not the built agent (a script of the same name)" % installed)
    proc = subprocess.run(["stonith_admin", "--metadata", "-a", "fence_ec2"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    # the installed build may be older than this tree: compare with its own metadata
    direct = subprocess.run([installed, "-o", "metadata"], capture_output=True, text=True,
                            timeout=60, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert direct.returncode == 0
    names = lambda xml: [p.get("name") for p in ET.fromstring(xml).iter("parameter")]
    assert names(proc.stdout) == names(direct.stdout)
    assert "plug" in names(proc.stdout) and "skip_race_check" in names(proc.stdout)
