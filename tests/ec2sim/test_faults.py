"""Each fault kind, as a client sees it."""
import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError,
                                 ReadTimeoutError)

from botocore.parsers import ResponseParserError

from ec2sim.testing import ALLOC, NODE1, NODE2


def code_of(e):
    return e.value.response["Error"]["Code"]


@pytest.fixture
def ec2(ec2sim):
    return ec2sim.boto3_client()


@pytest.mark.parametrize("kind,status,code", [
    ("throttle", 503, "RequestLimitExceeded"),
    ("internal", 500, "InternalError"),
    ("unavailable", 503, "Unavailable"),
    ("service_unavailable", 503, "ServiceUnavailable"),
])
def test_error_faults(ec2sim, ec2, kind, status, code):
    ec2sim.fault(action="DescribeInstances", kind=kind, count=1)
    with pytest.raises(ClientError) as e:
        ec2.describe_instances()
    assert code_of(e) == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    ec2.describe_instances()                       # count=1: the next call is fine
    calls = ec2sim.events("call")
    assert calls[-2]["code"] == code and calls[-2]["fault"] == kind
    assert calls[-1]["code"] == "Success"


def test_fault_only_on_its_action(ec2sim, ec2):
    ec2sim.fault(action="StopInstances", kind="throttle", count=1)
    ec2.describe_instances()
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[NODE2])
    assert code_of(e) == "RequestLimitExceeded"
    assert ec2sim.instance(NODE2)["state"] == "running"     # "before": no side effect


def test_throttling_then_boto3_retries_through(ec2sim):
    ec2sim.fault(action="Describe*", kind="throttle", count=2)
    c = ec2sim.boto3_client(config=Config(retries={"max_attempts": 3, "mode": "standard"}))
    r = c.describe_addresses()
    assert r["ResponseMetadata"]["RetryAttempts"] == 2


def test_custom_error_fault(ec2sim, ec2):
    ec2sim.fault(action="AssociateAddress", kind="error", code="InvalidInstanceID",
                 status=400, message="simulated")
    with pytest.raises(ClientError) as e:
        ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1)
    assert code_of(e) == "InvalidInstanceID"
    assert e.value.response["Error"]["Message"] == "simulated"


def test_error_after_the_action_ran(ec2sim, ec2):
    """when=after: the stop happens, the client only sees InternalError."""
    ec2sim.fault(action="StopInstances", kind="internal", when="after")
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[NODE2], Force=True)
    assert code_of(e) == "InternalError"
    assert ec2sim.instance(NODE2)["state"] in ("stopping", "stopped")
    call = ec2sim.events("call")[-1]
    assert call["real_code"] == "Success" and call["code"] == "InternalError"


def test_connection_reset(ec2sim, ec2):
    ec2sim.fault(action="DescribeInstances", kind="reset")
    with pytest.raises(ConnectionClosedError):
        ec2.describe_instances()
    ec2.describe_instances()
    assert ec2sim.events("call")[-2]["code"] == "ConnectionReset"


def test_connection_reset_after_stop(ec2sim, ec2):
    ec2sim.fault(action="StopInstances", kind="reset", when="after")
    with pytest.raises(ConnectionClosedError):
        ec2.stop_instances(InstanceIds=[NODE2])
    assert ec2sim.instance(NODE2)["state"] in ("stopping", "stopped")


def _raw_https(sim, body=b"Action=DescribeRegions&Version=2016-11-15"):
    """One signed call by hand with http.client: returns (response, conn)."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    from ec2sim.testing import ACCESS_KEY, SECRET_KEY
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=sim.endpoint + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "ec2",
                            "us-east-1").add_auth(req)
    p = req.prepare()
    host, port = sim.endpoint.split("//")[1].split(":")
    ctx = ssl.create_default_context(cafile=sim.ca_bundle)
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
    conn.request("POST", "/", body=body, headers=dict(p.headers))
    return conn.getresponse(), conn


def test_truncated_body(ec2sim, ec2):
    ec2sim.fault(action="DescribeRegions", kind="truncate")
    resp, conn = _raw_https(ec2sim)
    assert resp.status == 200
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        resp.read()
    conn.close()
    ec2sim.fault(action="DescribeInstances", kind="truncate")
    # urllib3 does not enforce Content-Length: botocore sees half an XML document
    with pytest.raises((BotoCoreError, ResponseParserError)):
        ec2.describe_instances()
    assert ec2sim.events("call")[-1]["code"] == "TruncatedBody"


def test_garbage_body(ec2sim, ec2):
    ec2sim.fault(action="DescribeRegions", kind="garbage")
    resp, conn = _raw_https(ec2sim)
    body = resp.read()
    conn.close()
    assert resp.status == 200 and not body.startswith(b"<?xml")
    ec2sim.fault(action="DescribeInstances", kind="garbage")
    with pytest.raises(Exception) as e:
        ec2.describe_instances()
    assert "Parser" in type(e.value).__name__ or "parse" in str(e.value).lower()


def test_slow_response(ec2sim):
    ec2sim.fault(action="DescribeInstances", kind="slow", delay=1.0)
    c = ec2sim.boto3_client(config=Config(retries={"total_max_attempts": 1}, read_timeout=0.3))
    with pytest.raises(ReadTimeoutError):
        c.describe_instances()
    ec2sim.fault(action="DescribeAddresses", kind="slow", delay=0.4)
    t0 = time.time()
    ec2sim.boto3_client().describe_addresses()
    assert time.time() - t0 >= 0.4


def test_wrong_clock_for_one_call(ec2sim, ec2):
    ec2sim.fault(action="DescribeInstances", kind="clock", offset=900)
    with pytest.raises(ClientError) as e:
        ec2.describe_instances()
    assert code_of(e) == "RequestExpired"
    ec2.describe_instances()


def test_eventual_consistency_on_stop(ec2sim, ec2):
    ec2sim.set(NODE2, stop_delay=0.05)
    ec2sim.fault(action="StopInstances", kind="stale", calls=2)
    r = ec2.stop_instances(InstanceIds=[NODE2])
    assert r["StoppingInstances"][0]["CurrentState"]["Name"] == "stopping"
    ec2sim.wait_state(NODE2, "stopped")

    def state():
        return ec2.describe_instances(InstanceIds=[NODE2])["Reservations"][0][
            "Instances"][0]["State"]["Name"]
    assert [state(), state(), state()] == ["running", "running", "stopped"]


def test_eventual_consistency_on_association(ec2sim, ec2):
    ec2sim.fault(action="AssociateAddress", kind="stale", calls=1)
    ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1)

    def owner():
        return ec2.describe_addresses(AllocationIds=[ALLOC])["Addresses"][0].get("InstanceId")
    assert owner() is None
    assert owner() == NODE1
    ec2sim.fault(action="DisassociateAddress", kind="stale", calls=1)
    ec2.disassociate_address(AssociationId=ec2sim.address()["association_id"])
    assert owner() == NODE1
    assert owner() is None


def test_probability_and_unlimited(ec2sim, ec2):
    ec2sim.fault(action="DescribeRegions", kind="throttle", probability=0.5)
    results = []
    for _ in range(30):
        try:
            ec2.describe_regions()
            results.append("ok")
        except ClientError as e:
            results.append(e.response["Error"]["Code"])
    assert 5 < results.count("RequestLimitExceeded") < 25
    assert set(results) == {"ok", "RequestLimitExceeded"}
    assert ec2sim.clear_faults() == 1
    ec2.describe_regions()


def test_fault_for_one_key_only(ec2sim, ec2):
    ec2sim.control({"op": "add_key", "access_key_id": "AKIDOTHER000000000",
                    "secret_access_key": "other"})
    other = ec2sim.boto3_client(aws_access_key_id="AKIDOTHER000000000",
                                aws_secret_access_key="other")
    ec2sim.fault(action="*", kind="internal", key="AKIDOTHER000000000", count=None)
    ec2.describe_regions()
    with pytest.raises(ClientError):
        other.describe_regions()


def test_faults_from_state_file(ec2sim_factory):
    from ec2sim.testing import default_state
    s = default_state()
    s["faults"] = [{"action": "DescribeInstances", "kind": "throttle", "count": 1}]
    sim = ec2sim_factory(s)
    c = sim.boto3_client()
    with pytest.raises(ClientError) as e:
        c.describe_instances()
    assert code_of(e) == "RequestLimitExceeded"
    c.describe_instances()


# ------------------------------------------------------------------ IMDS faults
def _put_token(sim, timeout=5):
    req = urllib.request.Request(sim.imds_endpoint + "/latest/api/token", method="PUT",
                                 headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=timeout) as r:
        return r.status, r.read().decode()


def test_imds_down(ec2sim):
    ec2sim.fault(action="imds*", kind="down")
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        _put_token(ec2sim)
    assert _put_token(ec2sim)[0] == 200
    ec2sim.imds(down=True)
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        _put_token(ec2sim)
    ec2sim.imds(down=False)
    assert _put_token(ec2sim)[0] == 200


def test_imds_token_refused(ec2sim):
    ec2sim.fault(action="imds:token", kind="token_refused")
    with pytest.raises(urllib.error.HTTPError) as e:
        _put_token(ec2sim)
    assert e.value.code == 403
    ec2sim.imds(refuse_token=True)
    with pytest.raises(urllib.error.HTTPError):
        _put_token(ec2sim)


def test_imds_hop_limit(ec2sim):
    ec2sim.fault(action="imds:token", kind="hop_limit", delay=1.5)
    t0 = time.time()
    with pytest.raises((socket.timeout, urllib.error.URLError, TimeoutError)):
        _put_token(ec2sim, timeout=0.5)
    assert time.time() - t0 < 1.4
    assert _put_token(ec2sim)[0] == 200


def test_imds_errors_and_slow(ec2sim):
    ec2sim.fault(action="imds:get", kind="unavailable")
    tok = ec2sim.imds_token()
    with pytest.raises(urllib.error.HTTPError) as e:
        ec2sim.imds_get("/latest/meta-data/instance-id", tok)
    assert e.value.code == 503
    ec2sim.fault(action="imds:get", kind="throttle")
    with pytest.raises(urllib.error.HTTPError) as e:
        ec2sim.imds_get("/latest/meta-data/instance-id", tok)
    assert e.value.code == 429
    ec2sim.fault(action="imds:get", kind="slow", delay=0.3)
    t0 = time.time()
    assert ec2sim.imds_get("/latest/meta-data/instance-id", tok) == NODE1
    assert time.time() - t0 >= 0.3
