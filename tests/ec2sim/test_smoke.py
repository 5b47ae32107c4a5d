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


def test_certificates_are_cached(tmp_path):
    import os
    from ec2sim.certs import ensure_certs
    t0 = time.time()
    first = ensure_certs(["ec2.us-east-1.amazonaws.com", "localhost", "127.0.0.1"],
                         str(tmp_path / "cache"))
    made = time.time() - t0
    mtimes = {k: os.path.getmtime(first[k]) for k in ("ca", "cert", "key")}
    t0 = time.time()
    again = ensure_certs(["ec2.us-east-1.amazonaws.com", "localhost", "127.0.0.1"],
                         str(tmp_path / "cache"))
    assert time.time() - t0 < 0.05 and again == first and made > 0
    assert {k: os.path.getmtime(again[k]) for k in mtimes} == mtimes
    other = ensure_certs(["ec2.us-east-1.amazonaws.com", "10.9.9.9"], str(tmp_path / "cache"))
    assert other["ca"] == first["ca"] and other["cert"] != first["cert"]
    assert oct(os.stat(first["key"]).st_mode & 0o777) == "0o600"
    # the server certificate verifies against the CA, for its names only
    import ssl
    import subprocess
    p = subprocess.run(["openssl", "verify", "-CAfile", first["ca"], "-verify_hostname",
                        "localhost", first["cert"]], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run(["openssl", "verify", "-CAfile", first["ca"], "-verify_hostname",
                        "evil.example", first["cert"]], capture_output=True, text=True)
    assert p.returncode != 0
    ctx = ssl.create_default_context(cafile=first["ca"])
    assert ctx.verify_mode == ssl.CERT_REQUIRED


def test_concurrent_starts_share_one_ca(tmp_path):
    """Parallel first uses of an empty cache (e.g. pytest-xdist) make one CA."""
    import threading
    from ec2sim.certs import ensure_certs
    out = []
    threads = [threading.Thread(target=lambda n=n: out.append(ensure_certs(
        ["n%d.test" % n], str(tmp_path / "c")))) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({o["ca"] for o in out}) == 1 and len({o["cert"] for o in out}) == 4


def test_stopped_sim_stops_answering_kept_alive_connections(tmp_path):
    from botocore.exceptions import BotoCoreError
    sim = Ec2Sim(default_state(), tls=True, workdir=tmp_path).start()
    c = sim.boto3_client()
    c.describe_regions()          # leaves a kept-alive connection in the pool
    sim.stop()
    import pytest
    with pytest.raises(BotoCoreError):
        c.describe_regions()
