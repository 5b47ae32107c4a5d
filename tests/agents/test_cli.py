"""ec2ha, the operator CLI, against ec2sim: every command, human and --json output."""
import json
import os
import sys

import pytest

from conftest import run_program

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cib"))
from cibfixture import make_cib, node_instance_id  # noqa: E402
from ec2sim.testing import ALLOC, EIP, NODE1, NODE2  # noqa: E402


class Cli:
    def __init__(self, sim, tmp_path, cib):
        self.sim = sim
        self.rsctmp = tmp_path / "rsctmp"
        self.rsctmp.mkdir(exist_ok=True)
        self.corosync = tmp_path / "corosync.conf"
        self.corosync.write_text("totem {\n  version: 2\n}\nquorum {\n"
                                 "  provider: corosync_votequorum\n  two_node: 1\n}\n")
        self.env = sim.env()
        self.env.update({"HA_RSCTMP": str(self.rsctmp), "EC2HA_COROSYNC_CONF": str(self.corosync)})
        if cib is not None:
            self.env["CIB_file"] = cib
        self.env["OCF_RESKEY_CRM_meta_on_node"] = "node1"

    def run(self, *args, **extra):
        env = dict(self.env)
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return run_program("ec2ha", list(args), env=env)

    def json(self, *args, expect=0, **extra):
        r = self.run("--json", *args, **extra)
        assert r.returncode == expect, r.stdout + r.stderr
        doc = json.loads(r.stdout)
        assert isinstance(doc, dict)
        return doc


@pytest.fixture
def cib(tmp_path):
    return make_cib(tmp_path / "cib.xml", instance_ids={"node1": NODE1})


@pytest.fixture
def cli(ec2sim, tmp_path, cib):
    return Cli(ec2sim, tmp_path, cib)


def check_named(doc, name):
    return [c for c in doc["checks"] if c["name"].startswith(name)]


# ---- help, manpage, usage errors ----------------------------------------------------------

def test_help_lists_every_command_and_option(cli):
    r = cli.run("--help")
    assert r.returncode == 0
    for word in ("whoami", "eip show", "eip associate", "eip disassociate", "instance list",
                 "instance status", "instance stop", "instance start", "preflight", "register",
                 "--allocation-id", "--json", "--wait", "--fence-target"):
        assert word in r.stdout, word
    m = cli.run("manpage")
    assert m.returncode == 0 and m.stdout.startswith(".TH") and "preflight" in m.stdout
    v = cli.run("--version")
    assert v.returncode == 0 and v.stdout.startswith("ec2ha ")


def test_usage_errors(cli):
    assert cli.run().returncode == 2
    assert cli.run("frobnicate").returncode == 2
    assert cli.run("eip").returncode == 2
    assert cli.run("--no-such-option", "whoami").returncode == 2
    assert cli.run("whoami", "extra").returncode == 2


# ---- whoami ----------------------------------------------------------------------------------

def test_whoami(cli):
    doc = cli.json("whoami")
    assert doc["ok"] is True
    assert doc["instance_id"] == NODE1
    assert doc["region"] == "us-east-1"
    assert doc["credentials"]["source"] == "environment"
    assert doc["credentials"]["access_key_id"] == "AKIDEXAMPLE"
    assert [i["interface_id"] for i in doc["interfaces"]] == ["eni-0000000000000aaaa"]
    assert doc["interfaces"][0]["private_ips"][0] == "10.0.0.11"
    assert doc["cluster"]["node"] == "node1"
    assert doc["cluster"]["registered"] is True
    r = cli.run("whoami")
    assert r.returncode == 0 and NODE1 in r.stdout and "environment" in r.stdout
    assert "wJalrXUtnFEMI" not in r.stdout + r.stderr


def test_whoami_without_imds_fails(cli):
    r = cli.run("--json", "whoami", AWS_EC2_METADATA_DISABLED="true")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["instance_id"] is None


# ---- eip -------------------------------------------------------------------------------------

def test_eip_show_associate_disassociate(cli, ec2sim):
    doc = cli.json("eip", "show")
    assert [a["allocation_id"] for a in doc["addresses"]] == [ALLOC]
    assert doc["addresses"][0]["associated"] is False

    doc = cli.json("eip", "associate", "--allocation-id", ALLOC)
    assert doc["changed"] is True
    a = doc["addresses"][0]
    assert (a["instance_id"], a["here"], a["node"]) == (NODE1, True, "node1")
    assert ec2sim.address(ALLOC)["instance_id"] == NODE1
    assert cli.json("eip", "associate", "--public-ip", EIP)["changed"] is False

    doc = cli.json("eip", "show", "--public-ip", EIP)
    assert doc["addresses"][0]["instance_id"] == NODE1
    r = cli.run("eip", "show")
    assert r.returncode == 0 and EIP in r.stdout and "this instance" in r.stdout

    doc = cli.json("eip", "disassociate", "-a", ALLOC)
    assert doc["changed"] is True and doc["addresses"][0]["associated"] is False
    assert ec2sim.address(ALLOC)["instance_id"] is None
    assert cli.json("eip", "disassociate", "-a", ALLOC)["changed"] is False


def test_eip_refuses_to_move_anothers_address_without_force(cli, ec2sim):
    ec2sim.set(ALLOC, instance_id=NODE2)
    r = cli.run("--json", "eip", "associate", "-a", ALLOC)
    assert r.returncode == 1
    err = json.loads(r.stdout)["error"]
    assert NODE2 in err["message"] and "--force" in err["message"]
    assert ec2sim.address(ALLOC)["instance_id"] == NODE2
    r = cli.run("eip", "disassociate", "-a", ALLOC)
    assert r.returncode == 1 and "--force" in r.stderr
    assert ec2sim.address(ALLOC)["instance_id"] == NODE2

    doc = cli.json("eip", "associate", "-a", ALLOC, "--force")
    assert doc["addresses"][0]["instance_id"] == NODE1
    ec2sim.set(ALLOC, instance_id=NODE2)
    doc = cli.json("eip", "disassociate", "-a", ALLOC, "--force")
    assert ec2sim.address(ALLOC)["instance_id"] is None


def test_eip_associate_with_another_instance_or_interface(cli, ec2sim):
    doc = cli.json("eip", "associate", "-a", ALLOC, "--eni", "eni-0000000000000bbbb")
    a = doc["addresses"][0]
    assert (a["instance_id"], a["network_interface_id"], a["node"]) == \
        (NODE2, "eni-0000000000000bbbb", "node2")
    r = cli.run("eip", "associate", "-a", ALLOC, "--eni", "eni-0000000000000bbbb",
                "--instance-id", NODE1)
    assert r.returncode == 1 and "belongs to" in r.stderr
    doc = cli.json("eip", "associate", "-a", ALLOC, "-i", NODE1, "--private-ip", "10.0.0.11",
                   "--force")
    assert doc["addresses"][0]["instance_id"] == NODE1


def test_eip_wrong_allocation_id(cli):
    r = cli.run("--json", "eip", "show", "-a", "eipalloc-0000000000000dead")
    assert r.returncode == 1
    assert json.loads(r.stdout)["error"]["code"] == "InvalidAllocationID.NotFound"
    r = cli.run("eip", "associate")
    assert r.returncode == 1 and "--allocation-id" in r.stderr


# ---- instance ---------------------------------------------------------------------------------

def test_instance_list_and_status(cli):
    doc = cli.json("instance", "list")
    by_id = {i["instance_id"]: i for i in doc["instances"]}
    assert set(by_id) == {NODE1, NODE2}
    assert by_id[NODE1]["name"] == "node1" and by_id[NODE1]["this_instance"] is True
    assert by_id[NODE2]["node"] == "node2" and by_id[NODE2]["state"] == "running"
    r = cli.run("instance", "list")
    assert r.returncode == 0 and NODE2 in r.stdout

    assert cli.json("instance", "status")["instances"][0]["instance_id"] == NODE1
    # by node name (CIB ec2-instance-id), by Name tag, by id
    for target in ("node2", NODE2):
        doc = cli.json("instance", "status", target)
        assert doc["instances"][0]["instance_id"] == NODE2
    doc = cli.json("instance", "status", "node2", CIB_file="/nonexistent/cib.xml")
    assert doc["instances"][0]["instance_id"] == NODE2      # Name tag fallback
    r = cli.run("instance", "status", "nosuchnode", CIB_file="/nonexistent/cib.xml")
    assert r.returncode == 1 and "nosuchnode" in r.stderr


def test_instance_stop_and_start_wait(cli, ec2sim):
    doc = cli.json("instance", "stop", "node2", "--force", "--wait")
    assert doc["instances"][0]["state"] == "stopped"
    assert doc["previous_state"] == "running"
    assert ec2sim.instance(NODE2)["state"] == "stopped"
    stops = [c for c in ec2sim.events(type="call") if c["action"] == "StopInstances"]
    assert stops and stops[-1]["code"] == "Success"
    doc = cli.json("instance", "start", NODE2, "-w")
    assert doc["instances"][0]["state"] == "running"
    r = cli.run("instance", "stop")
    assert r.returncode == 1


def test_instance_stop_without_wait_returns_at_once(cli, ec2sim):
    doc = cli.json("instance", "stop", NODE2)
    assert doc["instances"][0]["state"] in ("stopping", "stopped")
    ec2sim.wait_state(NODE2, "stopped")


# ---- register ---------------------------------------------------------------------------------

def test_register(ec2sim, tmp_path):
    cib = make_cib(tmp_path / "cib.xml")
    cli = Cli(ec2sim, tmp_path, cib)
    assert node_instance_id(cib, "node1") is None
    doc = cli.json("register")
    assert (doc["node"], doc["instance_id"], doc["changed"]) == ("node1", NODE1, True)
    assert node_instance_id(cib, "node1") == NODE1
    assert cli.json("register")["changed"] is False
    doc = cli.json("register", "--node", "node3", "--instance-id", "i-0000000000000cccc",
                   expect=1)
    assert doc["ok"] is False      # node3 is not in the CIB
    r = cli.run("register", CIB_file=str(tmp_path / "missing.xml"))
    assert r.returncode == 1 and "CIB" in r.stderr


# ---- preflight -------------------------------------------------------------------------------

def test_preflight_passes_on_a_good_node(cli):
    doc = cli.json("preflight", "--allocation-id", ALLOC)
    failed = [c for c in doc["checks"] if c["status"] == "fail"]
    assert doc["ok"] is True and failed == [], failed
    names = " | ".join(c["name"] for c in doc["checks"])
    for want in ("credentials", "region", "instance metadata", "EC2 endpoint", "clock skew",
                 "permission DescribeInstances", "permission DescribeAddresses",
                 f"permission StopInstances on {NODE2}", f"permission StartInstances on {NODE2}",
                 "permission AssociateAddress", "stonith-enabled", "fence_ec2 device",
                 "two_node", "fence delay"):
        assert want in names, (want, names)
    r = cli.run("preflight", "--allocation-id", ALLOC)
    assert r.returncode == 0 and "[ ok ]" in r.stdout


def test_preflight_tests_disassociate_while_associated(cli, ec2sim):
    ec2sim.set(ALLOC, instance_id=NODE1)
    doc = cli.json("preflight", "-a", ALLOC)
    dis = check_named(doc, "permission DisassociateAddress")
    assert dis and dis[0]["status"] == "ok", dis
    assert ec2sim.address(ALLOC)["instance_id"] == NODE1     # DryRun changed nothing


def test_preflight_tests_associate_the_way_the_agent_does(cli, ec2sim):
    # The eip agent associates by network interface, so the IAM policy must allow the
    # network-interface resource: preflight tries exactly that call.
    doc = cli.json("preflight", "-a", ALLOC)
    assoc = check_named(doc, "permission AssociateAddress")
    eni = ec2sim.state()["instances"][0]["network_interfaces"][0]["network_interface_id"]
    assert assoc and assoc[0]["status"] == "ok", assoc
    assert assoc[0]["name"].endswith("to " + eni), assoc


def test_preflight_fails_on_a_key_without_permission(cli, ec2sim):
    ec2sim.control({"op": "add_key", "access_key_id": "AKIDREADONLY",
                    "secret_access_key": "readonly-secret-0000000000000000000000000",
                    "permissions": ["ec2:Describe*"]})
    r = cli.run("--json", "preflight", "-a", ALLOC, AWS_ACCESS_KEY_ID="AKIDREADONLY",
                AWS_SECRET_ACCESS_KEY="readonly-secret-0000000000000000000000000")
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is False
    stop = check_named(doc, "permission StopInstances")
    assert stop and stop[0]["status"] == "fail"
    assert "ec2:StopInstances" in stop[0]["fix"]
    assert check_named(doc, "permission AssociateAddress")[0]["status"] == "fail"
    assert check_named(doc, "permission DescribeInstances")[0]["status"] == "ok"
    states = {c["name"]: c["status"] for c in doc["checks"]}
    assert states["credentials"] == "ok"
    r = cli.run("preflight", "-a", ALLOC, AWS_ACCESS_KEY_ID="AKIDREADONLY",
                AWS_SECRET_ACCESS_KEY="readonly-secret-0000000000000000000000000")
    assert r.returncode == 1 and "[FAIL]" in r.stdout and "fix:" in r.stdout
    assert "readonly-secret" not in r.stdout + r.stderr
    # nothing was stopped or moved by the DryRun calls
    assert ec2sim.instance(NODE2)["state"] == "running"


def test_preflight_fails_on_stonith_disabled(ec2sim, tmp_path):
    cib = make_cib(tmp_path / "cib.xml", stonith_enabled="false", fence_device=False,
                   properties={"priority-fencing-delay": None})
    cli = Cli(ec2sim, tmp_path, cib)
    cli.corosync.write_text("quorum {\n  provider: corosync_votequorum\n}\n")
    r = cli.run("--json", "preflight")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    status = {c["name"]: c for c in doc["checks"]}
    assert status["stonith-enabled"]["status"] == "fail"
    assert "stonith-enabled=true" in status["stonith-enabled"]["fix"]
    assert status["fence_ec2 device"]["status"] == "fail"
    assert status["two_node"]["status"] == "fail"
    assert status["fence delay"]["status"] == "fail"
    assert doc["failed"] == 4


@pytest.mark.parametrize("params, expected", [
    ({"pcmk_delay_base": "10"}, "ok"),
    ({"pcmk_delay_max": "15s"}, "ok"),
    ({"pcmk_delay_base": "0"}, "fail"),
    ({}, "fail"),
])
def test_preflight_sees_a_fence_device_delay(ec2sim, tmp_path, params, expected):
    cib = make_cib(tmp_path / "cib.xml", properties={"priority-fencing-delay": None},
                   fence_params=params)
    cli = Cli(ec2sim, tmp_path, cib)
    cli.corosync.write_text("quorum {\n  provider: corosync_votequorum\n  two_node: 1\n}\n")
    r = cli.run("--json", "preflight")
    doc = json.loads(r.stdout)
    status = {c["name"]: c for c in doc["checks"]}
    assert status["fence delay"]["status"] == expected, status["fence delay"]


def test_preflight_detects_clock_skew_and_missing_credentials(cli, ec2sim):
    ec2sim.clock(200)
    doc = cli.json("preflight", expect=1)
    skew = check_named(doc, "clock skew")[0]
    assert skew["status"] == "fail" and "behind" in skew["detail"], skew
    ec2sim.clock(0)
    ec2sim.set(NODE1, iam_role=None)
    doc = cli.json("preflight", expect=1, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    assert check_named(doc, "credentials")[0]["status"] == "fail"


def test_preflight_without_cib(cli):
    doc = cli.json("preflight", expect=1, CIB_file="/nonexistent/cib.xml")
    assert check_named(doc, "cluster (CIB)")[0]["status"] == "fail"
