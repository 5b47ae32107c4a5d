"""Hooks (stop/start/reboot per instance, association changes), the event log, concurrency,
and the CLI/process mode."""
import json
import os
import threading
import time

import pytest
from botocore.exceptions import ClientError

from ec2sim.testing import ALLOC, EIP, NODE1, NODE2, Ec2Sim, default_state

DUMP = "env | grep ^EC2SIM_ | sort > %s/$EC2SIM_EVENT-$EC2SIM_INSTANCE_ID.env"


def read_env(path):
    out = {}
    for line in open(path):
        k, _, v = line.rstrip("\n").partition("=")
        out[k] = v
    return out


def hook_state(tmp_path, stop_sleep=0.0):
    s = default_state()
    s["defaults"] = {"stop_delay": 0.05, "start_delay": 0.05}
    d = str(tmp_path)
    s["instances"][1]["hooks"] = {
        "stop": ("sleep %s; " % stop_sleep) + DUMP % d,
        "start": DUMP % d,
        "reboot": DUMP % d,
        "stopped": DUMP % d,
        "running": DUMP % d,
    }
    s["hooks"] = {"association": "env | grep ^EC2SIM_ | sort >> %s/assoc.log; echo --- >> "
                                 "%s/assoc.log" % (d, d)}
    return s


def wait_file(path, timeout=10):
    end = time.time() + timeout
    while not os.path.exists(path) or os.path.getsize(path) == 0:
        if time.time() > end:
            raise AssertionError("no " + path)
        time.sleep(0.02)
    time.sleep(0.05)
    return path


def test_stop_hook_gates_the_stopped_state(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(hook_state(tmp_path, stop_sleep=0.6))
    ec2 = sim.boto3_client()
    t0 = time.time()
    ec2.stop_instances(InstanceIds=[NODE2], Force=True)
    time.sleep(0.3)
    # delay (0.05 s) is long over, but the hook (0.6 s) is not: still stopping
    assert sim.instance(NODE2)["state"] == "stopping"
    sim.wait_state(NODE2, "stopped")
    assert time.time() - t0 >= 0.6
    env = read_env(wait_file(str(tmp_path / ("stop-%s.env" % NODE2))))
    assert env["EC2SIM_EVENT"] == "stop"
    assert env["EC2SIM_INSTANCE_ID"] == NODE2
    assert env["EC2SIM_INSTANCE_NAME"] == "node2"
    assert env["EC2SIM_PREVIOUS_STATE"] == "running"
    assert env["EC2SIM_STATE"] == "stopping"
    assert env["EC2SIM_TARGET_STATE"] == "stopped"
    assert env["EC2SIM_FORCE"] == "true"
    assert env["EC2SIM_PRIVATE_IP"] == "10.0.0.12"
    assert env["EC2SIM_REGION"] == "us-east-1"
    assert env["EC2SIM_CONTROL"] == sim.control_endpoint
    stopped = read_env(wait_file(str(tmp_path / ("stopped-%s.env" % NODE2))))
    assert stopped["EC2SIM_STATE"] == "stopped"
    hooks = [e for e in sim.events("hook") if e["hook"] == "stop"]
    assert hooks[0]["rc"] == 0 and hooks[0]["instance_id"] == NODE2
    # the hook finished before the state event that says stopped
    ev = sim.events()
    hook_seq = [e["seq"] for e in ev if e["type"] == "hook" and e["hook"] == "stop"][0]
    stopped_seq = [e["seq"] for e in ev if e["type"] == "state" and e["state"] == "stopped"][0]
    assert hook_seq < stopped_seq


def test_start_and_reboot_hooks(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(hook_state(tmp_path))
    ec2 = sim.boto3_client()
    ec2.reboot_instances(InstanceIds=[NODE2])
    env = read_env(wait_file(str(tmp_path / ("reboot-%s.env" % NODE2))))
    assert env["EC2SIM_EVENT"] == "reboot" and env["EC2SIM_STATE"] == "running"
    sim.set(NODE2, state="stopped")
    ec2.start_instances(InstanceIds=[NODE2])
    env = read_env(wait_file(str(tmp_path / ("start-%s.env" % NODE2))))
    assert env["EC2SIM_PREVIOUS_STATE"] == "stopped" and env["EC2SIM_STATE"] == "pending"
    sim.wait_state(NODE2, "running")
    env = read_env(wait_file(str(tmp_path / ("running-%s.env" % NODE2))))
    assert env["EC2SIM_STATE"] == "running"
    # node1 has no hooks: nothing ran for it
    ec2.reboot_instances(InstanceIds=[NODE1])
    assert not os.path.exists(tmp_path / ("reboot-%s.env" % NODE1))


def test_association_hook(ec2sim_factory, tmp_path):
    sim = ec2sim_factory(hook_state(tmp_path))
    ec2 = sim.boto3_client()
    a1 = ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1)["AssociationId"]
    a2 = ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE2)["AssociationId"]
    ec2.disassociate_address(AssociationId=a2)
    sim.wait_for(lambda: len(sim.events("hook")) == 3)
    blocks = [b for b in open(tmp_path / "assoc.log").read().split("---\n") if b.strip()]
    envs = [dict(l.split("=", 1) for l in b.strip().split("\n")) for b in blocks]
    assert [e["EC2SIM_EVENT"] for e in envs] == ["associate", "move", "disassociate"]
    assert envs[0]["EC2SIM_INSTANCE_ID"] == NODE1 and envs[0]["EC2SIM_ASSOCIATION_ID"] == a1
    assert envs[0]["EC2SIM_PUBLIC_IP"] == EIP and envs[0]["EC2SIM_PRIVATE_IP"] == "10.0.0.11"
    assert envs[0]["EC2SIM_NETWORK_INTERFACE_ID"] == "eni-0000000000000aaaa"
    assert envs[0]["EC2SIM_PREVIOUS_INSTANCE_ID"] == ""
    assert envs[1]["EC2SIM_PREVIOUS_INSTANCE_ID"] == NODE1
    assert envs[1]["EC2SIM_INSTANCE_ID"] == NODE2
    assert envs[1]["EC2SIM_PREVIOUS_ASSOCIATION_ID"] == a1
    assert envs[2]["EC2SIM_INSTANCE_ID"] == "" and envs[2]["EC2SIM_PREVIOUS_INSTANCE_ID"] == NODE2
    assert envs[2]["EC2SIM_ALLOCATION_ID"] == ALLOC
    # control-driven association changes run the hook too
    sim.set(ALLOC, instance_id=NODE1)
    sim.wait_for(lambda: len(sim.events("hook")) == 4)


def test_event_log_file_matches_and_has_calls(ec2sim):
    ec2 = ec2sim.boto3_client()
    ec2.describe_instances()
    with pytest.raises(ClientError):
        ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])
    ec2sim.mark(note="here")
    mem = ec2sim.events()
    lines = [json.loads(l) for l in open(ec2sim.events_path)]
    assert lines == mem
    calls = [e for e in mem if e["type"] == "call"]
    assert [(c["action"], c["key"], c["code"], c["status"]) for c in calls] == [
        ("DescribeInstances", "AKIDEXAMPLE", "Success", 200),
        ("DescribeInstances", "AKIDEXAMPLE", "InvalidInstanceID.NotFound", 400)]
    assert all(isinstance(e["ts"], float) for e in mem)
    assert [e["seq"] for e in mem] == list(range(1, len(mem) + 1))
    assert mem[-1]["type"] == "mark" and mem[-1]["note"] == "here"
    since = ec2sim.events(since=mem[-2]["seq"])
    assert since == mem[-1:]


def test_concurrent_clients_never_two_owners(ec2sim):
    """Eight threads hammer the sim; two of them fight over the EIP. Every call answers,
    and replaying the association events shows one owner at a time."""
    errors = []
    n = 8
    clients = [ec2sim.boto3_client() for _ in range(n)]

    def worker(k):
        c = clients[k]
        try:
            for j in range(6):
                if k < 2:
                    c.associate_address(AllocationId=ALLOC, InstanceId=(NODE1, NODE2)[k])
                else:
                    c.describe_instances()
                    c.describe_addresses(AllocationIds=[ALLOC])
        except Exception as e:    # pragma: no cover - reported below
            errors.append(repr(e))
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    calls = ec2sim.events("call")
    assert len(calls) == 2 * 6 + 6 * 12 and all(c["code"] == "Success" for c in calls)
    owner = None
    for e in ec2sim.events("association"):
        if e["change"] in ("associate", "move"):
            assert e["previous_instance_id"] == owner
            owner = e["instance_id"]
        else:
            owner = None
    assert owner == ec2sim.address()["instance_id"]


def test_process_mode_with_extra_cert_names(tmp_path):
    import ssl
    import socket
    sim = Ec2Sim(default_state(), tls=True, workdir=tmp_path, subprocess=True,
                 cert_names=["ec2sim.test", "10.123.0.1"])
    with sim:
        pem = ssl.get_server_certificate(("127.0.0.1", int(sim.endpoint.rsplit(":", 1)[1])))
        der = ssl.PEM_cert_to_DER_cert(pem)
        assert b"ec2sim.test" in der and b"ec2.us-east-1.amazonaws.com" in der
        assert socket.inet_aton("10.123.0.1") in der
        # the sim verifies against the names: connect by a name in the certificate
        c = sim.boto3_client(endpoint_url=sim.endpoint.replace("127.0.0.1", "localhost"))
        c.describe_regions()
        sim.fault(action="DescribeRegions", kind="throttle")
        with pytest.raises(ClientError):
            c.describe_regions()
    assert sim.proc is None


def test_plain_http_mode(ec2sim_factory):
    sim = ec2sim_factory(tls=False)
    assert sim.endpoint.startswith("http://") and sim.ca_bundle is None
    assert "AWS_CA_BUNDLE" not in sim.env()
    sim.boto3_client().describe_instances()


def test_env_for_child_programs(ec2sim):
    env = ec2sim.env()
    assert env["AWS_ACCESS_KEY_ID"] == "AKIDEXAMPLE"
    assert env["AWS_SECRET_ACCESS_KEY"] == "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_ENDPOINT_URL_EC2"] == ec2sim.endpoint
    assert env["AWS_CA_BUNDLE"] == ec2sim.ca_bundle and os.path.exists(ec2sim.ca_bundle)
    assert env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == ec2sim.imds_endpoint
    for k in ("HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        assert env[k].startswith(ec2sim.workdir)
    assert os.path.exists(env["AWS_CONFIG_FILE"])
    env = ec2sim.env(credentials=False, AWS_PROFILE="x", AWS_REGION=None)
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_REGION" not in env
    assert env["AWS_PROFILE"] == "x"


def test_control_errors(ec2sim):
    from ec2sim.testing import Ec2SimError
    with pytest.raises(Ec2SimError):
        ec2sim.control({"op": "nope"})
    with pytest.raises(Ec2SimError):
        ec2sim.fault(kind="meteor")
    with pytest.raises(Ec2SimError):
        ec2sim.set("i-0123456789abcdef0", state="stopped")
    with pytest.raises(Ec2SimError):
        ec2sim.set(NODE1, state="exploded")
