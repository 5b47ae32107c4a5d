"""ocf:ec2ha:eip against ec2sim: OCF actions, the semantics of DESIGN.md section 4.

Every test runs the agent as Pacemaker would: OCF_ROOT, OCF_RESKEY_* parameters,
OCF_RESKEY_CRM_meta_timeout / _interval / _on_node, HA_RSCTMP for the IMDS cache, and a
CIB through CIB_file (tests/agents/cib).
"""
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import program_path, run_program

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cib"))
from cibfixture import make_cib, node_instance_id  # noqa: E402
from ec2sim.testing import ALLOC, EIP, NODE1, NODE2, default_state  # noqa: E402

OCF_ROOT = "/usr/lib/ocf"
DTD = "/usr/share/resource-agents/ra-api-1.dtd"
RNG = "/usr/share/resource-agents/metadata.rng"
ENI1 = "eni-0000000000000aaaa"
ENI1B = "eni-000000000000000a2"
ENI2 = "eni-0000000000000bbbb"

OCF_SUCCESS, OCF_ERR_GENERIC, OCF_ERR_ARGS, OCF_ERR_UNIMPLEMENTED = 0, 1, 2, 3
OCF_ERR_PERM, OCF_ERR_INSTALLED, OCF_ERR_CONFIGURED, OCF_NOT_RUNNING = 4, 5, 6, 7


class Node:
    """One cluster node's view: its IMDS cache dir, its name, the shared CIB file."""

    def __init__(self, sim, tmp_path, cib, name="node1", timeout_ms=20000, **params):
        self.sim = sim
        self.name = name
        self.cib = cib
        self.rsctmp = tmp_path / ("rsctmp-" + name)
        self.rsctmp.mkdir(exist_ok=True)
        self.timeout_ms = timeout_ms
        self.params = {"allocation_id": ALLOC}
        self.params.update(params)
        self.extra_env = {}

    def env(self, interval=None, **extra):
        env = self.sim.env()
        env.update({
            "OCF_ROOT": OCF_ROOT,
            "OCF_RESOURCE_INSTANCE": "eip",
            "OCF_RESKEY_CRM_meta_timeout": str(self.timeout_ms),
            "OCF_RESKEY_CRM_meta_on_node": self.name,
            "HA_RSCTMP": str(self.rsctmp),
        })
        if self.cib is not None:
            env["CIB_file"] = str(self.cib)
        if interval is not None:
            env["OCF_RESKEY_CRM_meta_interval"] = str(interval)
        for k, v in self.params.items():
            if v is not None:
                env["OCF_RESKEY_" + k] = v
        env.update(self.extra_env)
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def run(self, action, interval=None, **extra):
        return run_program("eip", [action], env=self.env(interval=interval, **extra))

    def monitor(self, **extra):
        return self.run("monitor", interval=30000, **extra)

    def probe(self, **extra):
        return self.run("monitor", interval=0, **extra)


def exit_reason(result):
    lines = [l for l in result.stderr.splitlines() if l.startswith("ocf-exit-reason:")]
    return lines[-1][len("ocf-exit-reason:"):] if lines else ""


def calls(sim, since=0, action=None):
    evs = sim.events(type="call", since=since)
    return [e for e in evs if action is None or e["action"] == action]


def assoc(sim):
    a = sim.address(ALLOC)
    return a.get("instance_id"), a.get("network_interface_id"), a.get("private_ip_address")


def last_seq(sim):
    evs = sim.events()
    return evs[-1]["seq"] if evs else 0


@pytest.fixture
def cib(tmp_path):
    return make_cib(tmp_path / "cib.xml")


@pytest.fixture
def node1(ec2sim, tmp_path, cib):
    return Node(ec2sim, tmp_path, cib)


# ---- meta-data, usage, unknown actions ---------------------------------------------------

def test_meta_data_valid_against_dtd_and_schema(tmp_path):
    r = run_program("eip", ["meta-data"], env={"OCF_ROOT": OCF_ROOT})
    assert r.returncode == 0, r.stderr
    md = tmp_path / "eip.xml"
    md.write_text(r.stdout)
    for cmd in (["xmllint", "--noout", "--dtdvalid", DTD, str(md)],
                ["xmllint", "--noout", "--relaxng", RNG, str(md)]):
        v = subprocess.run(cmd, capture_output=True, text=True)
        assert v.returncode == 0, v.stderr
    # what ocf-tester does: the DOCTYPE resolved from the resource-agents directory
    v = subprocess.run(["xmllint", "--noout", "--valid", "-"], input=r.stdout, text=True,
                       capture_output=True, cwd=os.path.dirname(DTD))
    assert v.returncode == 0, v.stderr
    for name in ("allocation_id", "elastic_ip", "private_ip_address", "network_interface_id",
                 "interface", "region", "profile", "endpoint_url", "ca_bundle",
                 "require_fencing", "awscli", "auth_type", "api_delay", "curl_retries",
                 "curl_sleep"):
        assert f'<parameter name="{name}"' in r.stdout
    assert '<action name="start" timeout="60s"' in r.stdout
    assert 'name="monitor" timeout="30s" interval="30s"' in r.stdout


@pytest.mark.skipif(not os.path.exists("/usr/lib/ocf/resource.d/ec2ha/eip"),
                    reason="ocf:ec2ha:eip is not installed (make install)")
def test_installed_agent_metadata_through_pacemaker(tmp_path):
    r = subprocess.run(["crm_resource", "--show-metadata", "ocf:ec2ha:eip"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    md = tmp_path / "installed.xml"
    md.write_text(r.stdout)
    for cmd in (["xmllint", "--noout", "--dtdvalid", DTD, str(md)],
                ["xmllint", "--noout", "--relaxng", RNG, str(md)]):
        v = subprocess.run(cmd, capture_output=True, text=True)
        assert v.returncode == 0, v.stderr


def test_meta_data_is_the_same_without_ocf_root_and_manpage_renders():
    a = run_program("eip", ["meta-data"], env={"OCF_ROOT": OCF_ROOT})
    b = run_program("eip", ["meta-data"], env={})
    assert a.stdout == b.stdout
    m = run_program("eip", ["manpage"], env={"OCF_ROOT": OCF_ROOT})
    assert m.returncode == 0 and m.stdout.startswith(".TH")
    assert "require_fencing" in m.stdout and "LSB MODE" in m.stdout


def test_usage_and_unknown_actions():
    r = run_program("eip", ["usage"], env={"OCF_ROOT": OCF_ROOT})
    assert r.returncode == 0 and "start|stop|monitor" in r.stdout
    for action in ("notify", "promote", "demote", "migrate_to", "reload", "bogus"):
        r = run_program("eip", [action], env={"OCF_ROOT": OCF_ROOT})
        assert r.returncode == OCF_ERR_UNIMPLEMENTED, (action, r)
    r = run_program("eip", [], env={"OCF_ROOT": OCF_ROOT})
    assert r.returncode == OCF_ERR_ARGS


# ---- ocf-tester ---------------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="ocf-tester checks permissions as root")
def test_ocf_tester_passes(ec2sim, tmp_path, cib):
    # ocf-tester runs meta-data as nobody: the agent must sit in a directory nobody can read
    agent_dir = tempfile.mkdtemp(prefix="ec2ha-ocf-tester-")
    try:
        os.chmod(agent_dir, 0o755)
        agent = os.path.join(agent_dir, "eip")
        shutil.copy(program_path("eip"), agent)
        os.chmod(agent, 0o755)
        rsctmp = tmp_path / "rsctmp"
        rsctmp.mkdir()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        env.update(ec2sim.env())
        env.update({"CIB_file": cib, "HA_RSCTMP": str(rsctmp),
                    "OCF_RESKEY_CRM_meta_on_node": "node1"})
        if os.environ.get("EC2HA_SANITIZED") == "1":
            env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=86"
        r = subprocess.run(["ocf-tester", "-n", "eip", "-o", f"allocation_id={ALLOC}", agent],
                           env=env, capture_output=True, text=True, timeout=240)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "passed all tests" in r.stdout
    finally:
        shutil.rmtree(agent_dir, ignore_errors=True)
    assert ec2sim.address(ALLOC)["instance_id"] is None
    assert node_instance_id(cib, "node1") == NODE1


# ---- the basic cycle ------------------------------------------------------------------------

def test_start_monitor_stop_cycle_and_idempotence(node1, ec2sim, cib):
    sim = ec2sim
    assert node1.probe().returncode == OCF_NOT_RUNNING
    r = node1.run("start")
    assert r.returncode == 0, r.stderr
    assert assoc(sim)[0] == NODE1
    assert node_instance_id(cib, "node1") == NODE1
    assert node1.monitor().returncode == 0
    assert node1.probe().returncode == 0

    seq = last_seq(sim)
    r = node1.run("start")
    assert r.returncode == 0, r.stderr
    assert calls(sim, seq, "AssociateAddress") == []   # already here: nothing to do

    r = node1.run("stop")
    assert r.returncode == 0, r.stderr
    assert assoc(sim)[0] is None
    assert node1.monitor().returncode == OCF_NOT_RUNNING
    seq = last_seq(sim)
    r = node1.run("stop")
    assert r.returncode == 0, r.stderr
    assert calls(sim, seq, "DisassociateAddress") == []


def test_monitor_costs_one_ec2_call_with_a_warm_cache(node1, ec2sim):
    assert node1.run("start").returncode == 0
    assert node1.monitor().returncode == 0     # warms the cache, if start did not
    seq = last_seq(ec2sim)
    assert node1.monitor().returncode == 0
    made = calls(ec2sim, seq)
    assert [c["action"] for c in made] == ["DescribeAddresses"], made
    imds = [e for e in ec2sim.events(since=seq) if e["type"] == "imds"]
    assert imds == [], imds
    cache = list(node1.rsctmp.iterdir())
    assert cache, "no IMDS cache in HA_RSCTMP"
    for p in node1.rsctmp.rglob("*"):
        if p.is_file():
            assert (p.stat().st_mode & 0o077) == 0, oct(p.stat().st_mode)


def test_elastic_ip_parameter_is_resolved(ec2sim, tmp_path, cib):
    n = Node(ec2sim, tmp_path, cib, allocation_id=None, elastic_ip=EIP)
    assert n.run("validate-all").returncode == 0
    assert n.run("start").returncode == 0
    assert assoc(ec2sim)[0] == NODE1
    assert n.monitor().returncode == 0
    assert n.run("stop").returncode == 0
    assert n.monitor().returncode == OCF_NOT_RUNNING


def test_awseip_parameters_are_accepted(ec2sim, tmp_path, cib):
    # an awseip configuration as its meta-data asks for it: both ids, awscli, api_delay
    n = Node(ec2sim, tmp_path, cib, elastic_ip=EIP, awscli="/usr/bin/aws", api_delay="3",
             auth_type="key", curl_retries="3", curl_sleep="1")
    r = n.run("validate-all")
    assert r.returncode == 0, r.stderr
    assert "ignored" in r.stderr
    assert n.run("start").returncode == 0
    assert n.run("stop").returncode == 0
    n.params["elastic_ip"] = "198.51.100.7"      # names another address than allocation_id
    r = n.run("start")
    assert r.returncode == OCF_ERR_CONFIGURED
    assert "198.51.100.7" in exit_reason(r)


# ---- monitor: 7 only when EC2 confirms, 1 when it cannot tell ----------------------------------

def test_monitor_7_when_associated_elsewhere(node1, ec2sim):
    ec2sim.set(ALLOC, instance_id=NODE2)
    assert node1.monitor().returncode == OCF_NOT_RUNNING
    assert node1.probe().returncode == OCF_NOT_RUNNING


@pytest.mark.parametrize("kind", ["internal", "garbage", "reset"])
def test_monitor_1_when_the_api_cannot_tell(node1, ec2sim, kind):
    assert node1.run("start").returncode == 0
    node1.timeout_ms = 4000
    ec2sim.fault(action="DescribeAddresses", kind=kind, count=1000)
    t0 = time.monotonic()
    r = node1.monitor()
    took = time.monotonic() - t0
    assert r.returncode == OCF_ERR_GENERIC, r.stderr
    assert exit_reason(r), r.stderr
    assert took < 4.0, f"monitor took {took:.1f}s with a 4s timeout"
    r = node1.probe()
    assert r.returncode == OCF_ERR_GENERIC
    ec2sim.clear_faults()
    assert node1.monitor().returncode == 0


def test_monitor_ends_before_the_operation_timeout(node1, ec2sim):
    assert node1.run("start").returncode == 0
    node1.timeout_ms = 3000
    ec2sim.fault(action="DescribeAddresses", kind="slow", delay=5, count=10)
    t0 = time.monotonic()
    r = node1.monitor()
    took = time.monotonic() - t0
    assert r.returncode == OCF_ERR_GENERIC
    assert took < 3.0, f"monitor took {took:.1f}s, Pacemaker would have killed it at 3s"


def test_throttling_during_monitor_does_not_flap(node1, ec2sim):
    assert node1.run("start").returncode == 0
    seq = last_seq(ec2sim)
    ec2sim.fault(action="DescribeAddresses", kind="throttle", count=3)
    r = node1.monitor()
    assert r.returncode == 0, r.stderr
    codes = [c["code"] for c in calls(ec2sim, seq, "DescribeAddresses")]
    assert codes.count("RequestLimitExceeded") == 3 and codes[-1] == "Success", codes


# ---- start: eventual consistency, fencing, the takeover guard ---------------------------------

def test_start_waits_for_eventual_consistency(node1, ec2sim):
    ec2sim.fault(action="AssociateAddress", kind="stale", calls=3)
    seq = last_seq(ec2sim)
    r = node1.run("start")
    assert r.returncode == 0, r.stderr
    after = calls(ec2sim, seq)
    actions = [c["action"] for c in after]
    i = actions.index("AssociateAddress")
    assert actions[i + 1:].count("DescribeAddresses") >= 4, actions
    assert node1.monitor().returncode == 0


def test_stonith_disabled_refuses_start_and_validate(ec2sim, tmp_path):
    cib = make_cib(tmp_path / "cib.xml", stonith_enabled="false")
    n = Node(ec2sim, tmp_path, cib)
    for action in ("start", "validate-all"):
        r = n.run(action)
        assert r.returncode == OCF_ERR_CONFIGURED, r.stderr
        assert "stonith-enabled" in exit_reason(r)
    assert assoc(ec2sim)[0] is None
    assert calls(ec2sim, 0, "AssociateAddress") == []
    # the monitor and stop still work, so Pacemaker can clean up
    assert n.probe().returncode == OCF_NOT_RUNNING
    assert n.run("stop").returncode == 0

    n.params["require_fencing"] = "false"
    assert n.run("validate-all").returncode == 0
    r = n.run("start")
    assert r.returncode == 0, r.stderr
    assert assoc(ec2sim)[0] == NODE1


def test_stonith_enabled_by_default_when_unset(ec2sim, tmp_path):
    cib = make_cib(tmp_path / "cib.xml", stonith_enabled=None)
    n = Node(ec2sim, tmp_path, cib)
    assert n.run("start").returncode == 0


def test_takeover_refused_from_a_running_online_member(ec2sim, tmp_path, cib):
    ec2sim.set(ALLOC, instance_id=NODE2)
    n = Node(ec2sim, tmp_path, cib, timeout_ms=6000)
    seq = last_seq(ec2sim)
    r = n.run("start")
    assert r.returncode == OCF_ERR_GENERIC, r.stderr
    reason = exit_reason(r)
    assert NODE2 in reason and "node2" in reason and "online" in reason, reason
    assert assoc(ec2sim)[0] == NODE2
    assert calls(ec2sim, seq, "AssociateAddress") == []


def test_takeover_allowed_after_the_owner_disassociates_during_the_grace(ec2sim, tmp_path, cib):
    # EC2 still shows node2's association for a moment after node2's stop: start waits
    ec2sim.set(ALLOC, instance_id=NODE2)
    n = Node(ec2sim, tmp_path, cib, timeout_ms=20000)
    env = n.env()
    proc = subprocess.Popen([program_path("eip"), "start"], env={"PATH": "/usr/bin:/bin", **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    ec2sim.set(ALLOC, instance_id=None)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert assoc(ec2sim)[0] == NODE1


NODE3 = "i-0000000000000dddd"


def _sim_with_bastion(ec2sim_factory):
    """default state plus NODE3, a running instance that is no node (Name=bastion)."""
    state = copy.deepcopy(default_state())
    state["instances"].append({"instance_id": NODE3, "state": "running",
                               "tags": {"Name": "bastion"}})
    return ec2sim_factory(state)


@pytest.mark.parametrize("case", ["stopped", "offline", "unclean", "non-member"])
def test_takeover_allowed(ec2sim_factory, tmp_path, case):
    sim = _sim_with_bastion(ec2sim_factory)
    states, owner = {}, NODE2
    if case == "stopped":
        sim.set(NODE2, state="stopped")
    elif case in ("offline", "unclean"):
        states["node2"] = case
    else:
        # an instance really outside the cluster (node2 online and recorded as NODE2); an
        # online node2 without a record is no proof of non-membership (test_review_safety)
        owner = NODE3
    cib = make_cib(tmp_path / "cib.xml", states=states, instance_ids={"node2": NODE2})
    sim.set(ALLOC, instance_id=owner)
    n = Node(sim, tmp_path, cib)
    r = n.run("start")
    assert r.returncode == 0, r.stderr
    assert "takeover allowed" in r.stderr
    assert assoc(sim)[0] == NODE1


def test_takeover_refused_while_an_online_node_has_no_record(ec2sim_factory, tmp_path):
    # the owner looks like no node, but node2 (online, unrecorded) could be it
    sim = _sim_with_bastion(ec2sim_factory)
    cib = make_cib(tmp_path / "cib.xml", instance_ids={"node2": None})
    sim.set(ALLOC, instance_id=NODE3)
    n = Node(sim, tmp_path, cib, timeout_ms=4000)
    seq = last_seq(sim)
    r = n.run("start")
    assert r.returncode == OCF_ERR_GENERIC, r.stderr
    reason = exit_reason(r)
    assert "node2" in reason and "ec2ha register" in reason and NODE3 in reason, reason
    assert assoc(sim)[0] == NODE3
    assert calls(sim, seq, "AssociateAddress") == []
    # once node2 is recorded, NODE3 is provably no member
    cib = make_cib(tmp_path / "cib.xml", instance_ids={"node2": NODE2})
    assert n.run("start").returncode == 0
    assert assoc(sim)[0] == NODE1


def test_probe_and_monitor_refresh_a_stale_instance_record(ec2sim, tmp_path):
    """node1 rebuilt on a new instance under its old name: its record names the old one
    until a probe (on join, even where the address is not) or a monitor corrects it, so
    fence_ec2 does not act on it.  Still one EC2 call per monitor."""
    old = "i-0000000000000cccc"
    cib = make_cib(tmp_path / "cib.xml", instance_ids={"node1": old})
    n = Node(ec2sim, tmp_path, cib)
    seq = last_seq(ec2sim)
    assert n.probe().returncode == OCF_NOT_RUNNING
    assert node_instance_id(cib, "node1") == NODE1
    assert [c["action"] for c in calls(ec2sim, seq)] == ["DescribeAddresses"]
    assert n.run("start").returncode == 0
    cib = make_cib(tmp_path / "cib.xml", instance_ids={"node1": old})
    # the record was right at start less than 10 minutes ago: a recurring monitor trusts that
    seq = last_seq(ec2sim)
    r = n.monitor()
    assert r.returncode == OCF_SUCCESS, r.stderr
    assert node_instance_id(cib, "node1") == old
    # once the check is 10 minutes old, the next recurring monitor reads the CIB again
    marker = n.rsctmp / "eip-record"
    assert marker.read_text() == "node1 %s\n" % NODE1
    aged = time.time() - 601
    os.utime(marker, (aged, aged))
    r = n.monitor()
    assert r.returncode == OCF_SUCCESS, r.stderr
    assert node_instance_id(cib, "node1") == NODE1
    assert [c["action"] for c in calls(ec2sim, seq)] == ["DescribeAddresses"] * 2
    # a probe never trusts the marker
    cib = make_cib(tmp_path / "cib.xml", instance_ids={"node1": old})
    assert n.probe().returncode == OCF_SUCCESS
    assert node_instance_id(cib, "node1") == NODE1


def test_recurring_monitor_does_not_load_pacemaker_while_the_record_is_fresh(node1, ec2sim,
                                                                            tmp_path):
    """The monitor that runs every few seconds costs one EC2 call and no CIB sign-on: with
    the CIB gone, a fresh marker still gives a clean monitor and no CIB message; a stale
    marker for another instance (the node was rebuilt) is not trusted."""
    assert node1.run("start").returncode == 0
    node1.extra_env["CIB_file"] = str(tmp_path / "missing-cib.xml")
    r = node1.monitor(HA_debug="1")
    assert r.returncode == OCF_SUCCESS, r.stderr
    assert "checked less than 600 s ago" in r.stderr
    assert "CIB not reachable" not in r.stderr
    (node1.rsctmp / "eip-record").write_text("node1 i-0000000000000cccc\n")
    (node1.rsctmp / "eip-record").chmod(0o600)
    r = node1.monitor(HA_debug="1")
    assert r.returncode == OCF_SUCCESS, r.stderr
    assert "CIB not reachable" in r.stderr
    assert not (node1.rsctmp / "eip-record").exists()


def test_takeover_refused_when_the_cib_cannot_tell(ec2sim, tmp_path):
    ec2sim.set(ALLOC, instance_id=NODE2)
    n = Node(ec2sim, tmp_path, None, require_fencing="false", timeout_ms=6000)
    n.extra_env["CIB_file"] = str(tmp_path / "missing-cib.xml")
    r = n.run("start")
    assert r.returncode == OCF_ERR_GENERIC
    assert "CIB" in exit_reason(r)
    assert assoc(ec2sim)[0] == NODE2


def test_start_without_cib_warns_and_skips_recording(ec2sim, tmp_path):
    n = Node(ec2sim, tmp_path, None, require_fencing="false")
    n.extra_env["CIB_file"] = str(tmp_path / "missing-cib.xml")
    r = n.run("start")
    assert r.returncode == 0, r.stderr
    assert "not recording ec2-instance-id" in r.stderr
    assert assoc(ec2sim)[0] == NODE1


def test_require_fencing_without_cib_refuses(ec2sim, tmp_path):
    n = Node(ec2sim, tmp_path, None)
    n.extra_env["CIB_file"] = str(tmp_path / "missing-cib.xml")
    r = n.run("start")
    assert r.returncode == OCF_ERR_GENERIC
    assert "require_fencing" in exit_reason(r)
    assert assoc(ec2sim)[0] is None


# ---- stop ---------------------------------------------------------------------------------

def test_stop_never_touches_another_nodes_association(node1, ec2sim):
    ec2sim.set(ALLOC, instance_id=NODE2)
    seq = last_seq(ec2sim)
    r = node1.run("stop")
    assert r.returncode == 0, r.stderr
    assert assoc(ec2sim)[0] == NODE2
    assert calls(ec2sim, seq, "DisassociateAddress") == []


def test_stop_failure_is_never_7(node1, ec2sim):
    assert node1.run("start").returncode == 0
    node1.timeout_ms = 3000
    ec2sim.fault(action="*", kind="internal", count=1000)
    r = node1.run("stop")
    assert r.returncode == OCF_ERR_GENERIC
    ec2sim.clear_faults()
    assert assoc(ec2sim)[0] == NODE1


def test_stop_waits_for_eventual_consistency(node1, ec2sim):
    assert node1.run("start").returncode == 0
    ec2sim.fault(action="DisassociateAddress", kind="stale", calls=2)
    r = node1.run("stop")
    assert r.returncode == 0, r.stderr
    assert node1.monitor().returncode == OCF_NOT_RUNNING


# ---- configuration errors ----------------------------------------------------------------

def multi_eni_state():
    state = copy.deepcopy(default_state())
    state["instances"][0]["network_interfaces"].append(
        {"network_interface_id": ENI1B, "mac_address": "0e:00:00:00:aa:a2",
         "private_ip_address": "10.0.1.11", "device_index": 1})
    return state


def test_multi_eni_needs_an_interface(ec2sim_factory, tmp_path, cib):
    sim = ec2sim_factory(multi_eni_state())
    n = Node(sim, tmp_path, cib)
    for action in ("validate-all", "start"):
        r = n.run(action)
        assert r.returncode == OCF_ERR_CONFIGURED, r.stderr
        assert "network_interface_id" in exit_reason(r)
    assert sim.address(ALLOC)["instance_id"] is None

    n.params["network_interface_id"] = ENI1B
    r = n.run("start")
    assert r.returncode == 0, r.stderr
    assert sim.address(ALLOC)["network_interface_id"] == ENI1B
    assert n.monitor().returncode == 0
    assert n.run("stop").returncode == 0


def test_multi_eni_by_interface_name(ec2sim_factory, tmp_path, cib):
    sim = ec2sim_factory(multi_eni_state())
    sysnet = tmp_path / "sys-class-net"
    for ifname, mac in (("eth0", "0e:00:00:00:aa:aa"), ("eth1", "0E:00:00:00:AA:A2")):
        (sysnet / ifname).mkdir(parents=True)
        (sysnet / ifname / "address").write_text(mac + "\n")
    n = Node(sim, tmp_path, cib, interface="eth1")
    n.extra_env["EC2HA_SYS_CLASS_NET"] = str(sysnet)
    r = n.run("start")
    assert r.returncode == 0, r.stderr
    assert sim.address(ALLOC)["network_interface_id"] == ENI1B
    assert n.monitor().returncode == 0
    n.params["interface"] = "eth9"
    r = n.run("validate-all")
    assert r.returncode == OCF_ERR_CONFIGURED
    assert "eth9" in exit_reason(r)


def test_network_interface_of_another_instance_is_refused(node1, ec2sim):
    node1.params["network_interface_id"] = ENI2
    r = node1.run("start")
    assert r.returncode == OCF_ERR_CONFIGURED
    assert ENI2 in exit_reason(r)
    assert assoc(ec2sim)[0] is None


def test_private_ip(ec2sim_factory, tmp_path, cib):
    state = copy.deepcopy(default_state())
    state["instances"][0]["network_interfaces"][0]["secondary_private_ip_addresses"] = \
        ["10.0.0.111"]
    sim = ec2sim_factory(state)
    n = Node(sim, tmp_path, cib, private_ip_address="10.0.0.111")
    r = n.run("start")
    assert r.returncode == 0, r.stderr
    a = sim.address(ALLOC)
    assert (a["instance_id"], a["private_ip_address"]) == (NODE1, "10.0.0.111")
    assert n.monitor().returncode == 0
    # on this instance, but on the primary address: not what is configured
    sim.set(ALLOC, instance_id=NODE1, private_ip_address="10.0.0.11")
    assert n.monitor().returncode == OCF_NOT_RUNNING
    assert n.run("start").returncode == 0
    assert sim.address(ALLOC)["private_ip_address"] == "10.0.0.111"
    # stop removes this instance's association whichever address it is on
    assert n.run("stop").returncode == 0
    assert sim.address(ALLOC)["instance_id"] is None


def test_wrong_allocation_id(node1, ec2sim):
    node1.params["allocation_id"] = "eipalloc-0000000000000dead"
    for action in ("start", "validate-all"):
        r = node1.run(action)
        assert r.returncode == OCF_ERR_CONFIGURED, r.stderr
        assert "eipalloc-0000000000000dead" in exit_reason(r)
    assert node1.probe().returncode == OCF_ERR_CONFIGURED
    # an address that does not exist is not here: stop succeeds (no fencing for a typo)
    r = node1.run("stop")
    assert r.returncode == 0, r.stderr


def test_multi_eni_private_ip_finds_its_interface(ec2sim_factory, tmp_path, cib):
    sim = ec2sim_factory(multi_eni_state())
    n = Node(sim, tmp_path, cib, private_ip_address="10.0.1.11")
    r = n.run("start")
    assert r.returncode == 0, r.stderr
    a = sim.address(ALLOC)
    assert (a["network_interface_id"], a["private_ip_address"]) == (ENI1B, "10.0.1.11")
    assert n.monitor().returncode == 0
    assert n.run("stop").returncode == 0
    n.params["private_ip_address"] = "10.9.9.9"
    r = n.run("validate-all")
    assert r.returncode == OCF_ERR_CONFIGURED
    assert "10.9.9.9" in exit_reason(r)


def test_probe_without_instance_metadata(node1, ec2sim):
    # unassociated: EC2 alone says "not here", who we are does not matter
    ec2sim.imds(down=True)
    node1.timeout_ms = 4000
    assert node1.probe().returncode == OCF_NOT_RUNNING
    # associated somewhere: without knowing this instance the answer is "cannot tell"
    ec2sim.set(ALLOC, instance_id=NODE2)
    r = node1.probe()
    assert r.returncode == OCF_ERR_GENERIC, r.stderr
    assert "instance metadata" in exit_reason(r)
    ec2sim.imds(down=False)
    assert node1.probe().returncode == OCF_NOT_RUNNING
    # with the identity cached, IMDS going away does not matter to the monitor
    ec2sim.imds(down=True)
    assert node1.probe().returncode == OCF_NOT_RUNNING


def test_malformed_parameters_need_no_api_call(node1, ec2sim):
    for params in ({"allocation_id": "not-an-id"}, {"allocation_id": None},
                   {"private_ip_address": "10.0.0.300"}, {"require_fencing": "maybe"},
                   {"network_interface_id": "eth0"}):
        n = copy.copy(node1)
        n.params = dict(node1.params, **params)
        seq = last_seq(ec2sim)
        r = n.run("start")
        assert r.returncode == OCF_ERR_CONFIGURED, (params, r.stderr)
        assert exit_reason(r), params
        assert calls(ec2sim, seq) == [], params


def test_missing_credentials(ec2sim, tmp_path, cib):
    ec2sim.set(NODE1, iam_role=None)          # no instance role to fall back to
    n = Node(ec2sim, tmp_path, cib)
    n.extra_env = {}
    env = n.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    r = run_program("eip", ["start"], env=env)
    assert r.returncode == OCF_ERR_INSTALLED, r.stderr
    assert "credential" in exit_reason(r).lower()
    env["OCF_RESKEY_CRM_meta_interval"] = "0"
    r = run_program("eip", ["monitor"], env=env)
    assert r.returncode == OCF_ERR_INSTALLED     # probe: "cannot run here", not "failed"
    env["OCF_RESKEY_CRM_meta_interval"] = "10000"
    r = run_program("eip", ["monitor"], env=env)
    assert r.returncode == 1                     # recurring monitor: cannot tell, never 5 or 7
    assert exit_reason(r)
    assert assoc(ec2sim)[0] is None


def test_wrong_secret_is_a_permission_error(node1, ec2sim):
    r = node1.run("start", AWS_SECRET_ACCESS_KEY="wrong-secret-key-0000000000000000000000")
    assert r.returncode == OCF_ERR_PERM, r.stderr
    assert "wrong-secret" not in r.stderr


def test_instance_role_credentials(ec2sim, node1):
    r = node1.run("start", AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    assert r.returncode == 0, r.stderr
    assert assoc(ec2sim)[0] == NODE1
    assert node1.monitor(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None).returncode == 0
