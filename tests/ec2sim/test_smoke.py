"""Smoke tests: the sim starts (in-process and as a CLI), boto3 talks to it."""
import json
import time

from ec2sim.testing import NODE1, Ec2Sim, default_state


def test_starts_fast_and_answers(ec2sim):
    c = ec2sim.boto3_client()
    r = c.describe_instances()
    ids = [i["InstanceId"] for res in r["Reservations"] for i in res["Instances"]]
    assert NODE1 in ids


def test_cli_subprocess_starts_under_a_second(tmp_path):
    t0 = time.time()
    sim = Ec2Sim(default_state(), tls=True, workdir=tmp_path, subprocess=True)
    with sim:
        started = time.time() - t0
        assert sim.info["endpoint"].startswith("https://127.0.0.1:")
        assert sim.boto3_client().describe_regions()["Regions"][0]["RegionName"] == "us-east-1"
        assert sim.state()["region"] == "us-east-1"
    assert started < 1.0, started
    assert sim.proc is None
    lines = [json.loads(l) for l in open(tmp_path / "events.jsonl")]
    assert lines[0]["type"] == "start"
