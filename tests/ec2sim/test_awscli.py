"""The AWS CLI (/usr/bin/aws, --endpoint-url, AWS_CA_BUNDLE) as a client of every action.
Each invocation costs ~1.5 s of CPU, so the checks are grouped."""
import json
import os
import subprocess

import pytest

from ec2sim.testing import ALLOC, NODE1, NODE2, default_state

AWS = "/usr/bin/aws"
pytestmark = pytest.mark.skipif(not os.path.exists(AWS), reason="no /usr/bin/aws")


def aws(sim, *args, env=None, expect_rc=0):
    e = {"PATH": "/usr/bin:/bin", "AWS_PAGER": "", "LC_ALL": "C.UTF-8"}
    e.update(env or sim.env())
    p = subprocess.run([AWS, "ec2", *args, "--endpoint-url", sim.endpoint, "--output",
                        "json", "--cli-read-timeout", "20", "--cli-connect-timeout", "5"],
                       env=e, capture_output=True, text=True, timeout=120)
    assert p.returncode == expect_rc, (args, p.returncode, p.stderr)
    return json.loads(p.stdout) if p.stdout.strip() else None, p.stderr


def test_cli_instances(ec2sim_factory):
    s = default_state()
    s["defaults"] = {"stop_delay": 0.1, "start_delay": 0.1}
    s["instances"] += [{"instance_id": "i-%017x" % (0x2000 + k)} for k in range(10)]
    sim = ec2sim_factory(s)
    out, _ = aws(sim, "describe-instances", "--page-size", "5")
    ids = [i["InstanceId"] for r in out["Reservations"] for i in r["Instances"]]
    assert len(ids) == 12 and ids[:2] == [NODE1, NODE2]
    calls = [c for c in sim.events("call") if c["action"] == "DescribeInstances"]
    assert len(calls) == 3                      # the CLI followed NextToken
    out, _ = aws(sim, "stop-instances", "--instance-ids", NODE2, "--force")
    assert out["StoppingInstances"][0]["CurrentState"] == {"Code": 64, "Name": "stopping"}
    sim.wait_state(NODE2, "stopped")
    out, _ = aws(sim, "start-instances", "--instance-ids", NODE2)
    assert out["StartingInstances"][0]["PreviousState"]["Name"] == "stopped"
    aws(sim, "reboot-instances", "--instance-ids", NODE1)
    assert [e["instance_id"] for e in sim.events("reboot")] == [NODE1]


def test_cli_addresses_with_imds_role_credentials(ec2sim):
    out, _ = aws(ec2sim, "associate-address", "--allocation-id", ALLOC, "--instance-id",
                 NODE1)
    assoc = out["AssociationId"]
    # no keys in the environment: the CLI gets the role's temporary keys from IMDSv2
    # (this AWS CLI appends "latest/api/token" to the endpoint: it needs a trailing slash)
    env = ec2sim.env(credentials=False, AWS_EC2_METADATA_SERVICE_ENDPOINT=ec2sim.imds_endpoint
                     + "/")
    out, _ = aws(ec2sim, "describe-addresses", "--allocation-ids", ALLOC, env=env)
    a = out["Addresses"][0]
    assert (a["InstanceId"], a["AssociationId"]) == (NODE1, assoc)
    assert ec2sim.events("call")[-1]["key"].startswith("ASIA")
    assert any(e["path"] == "/latest/api/token" for e in ec2sim.events("imds"))
    aws(ec2sim, "disassociate-address", "--association-id", assoc)
    assert ec2sim.address()["association_id"] is None


def test_cli_errors_and_dry_run(ec2sim):
    _, err = aws(ec2sim, "describe-instances", "--instance-ids", "i-0123456789abcdef0",
                 expect_rc=254)
    assert "InvalidInstanceID.NotFound" in err
    _, err = aws(ec2sim, "stop-instances", "--instance-ids", NODE2, "--dry-run",
                 expect_rc=254)
    assert "DryRunOperation" in err
    assert ec2sim.instance(NODE2)["state"] == "running"
