"""IMDSv2: tokens, paths, identity by client address, role credentials (also through
botocore's own IMDS credential provider)."""
import http.client
import json
import time

import pytest

from ec2sim.testing import ALLOC, EIP, NODE1, NODE2


def request(sim, method, path, headers=None, source="127.0.0.1"):
    host, port = sim.imds_endpoint.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5, source_address=(source, 0))
    conn.request(method, path, headers=headers or {})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    return r.status, body, r


def token(sim, ttl="21600", source="127.0.0.1"):
    st, body, _ = request(sim, "PUT", "/latest/api/token",
                          {"X-aws-ec2-metadata-token-ttl-seconds": ttl}, source)
    assert st == 200
    return body


def get(sim, path, tok, source="127.0.0.1"):
    return request(sim, "GET", path, {"X-aws-ec2-metadata-token": tok}, source)[:2]


@pytest.mark.parametrize("ttl,status", [("0", 400), ("21601", 400), ("-5", 400), ("abc", 400),
                                        (None, 400), ("1", 200), ("21600", 200)])
def test_token_ttl(ec2sim, ttl, status):
    headers = {} if ttl is None else {"X-aws-ec2-metadata-token-ttl-seconds": ttl}
    st, body, r = request(ec2sim, "PUT", "/latest/api/token", headers)
    assert st == status
    if status == 200:
        assert r.getheader("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") == ttl and body


def test_no_imdsv1_and_bad_tokens(ec2sim):
    assert request(ec2sim, "GET", "/latest/meta-data/instance-id")[0] == 401
    assert get(ec2sim, "/latest/meta-data/instance-id", "bogus")[0] == 401
    short = token(ec2sim, "1")
    assert get(ec2sim, "/latest/meta-data/instance-id", short) == (200, NODE1)
    time.sleep(1.1)
    assert get(ec2sim, "/latest/meta-data/instance-id", short)[0] == 401


def test_x_forwarded_for_refused(ec2sim):
    st, _, _ = request(ec2sim, "PUT", "/latest/api/token",
                       {"X-aws-ec2-metadata-token-ttl-seconds": "60",
                        "X-Forwarded-For": "10.1.1.1"})
    assert st == 403


def test_paths(ec2sim):
    t = token(ec2sim)
    md = "/latest/meta-data/"
    assert get(ec2sim, md + "instance-id", t) == (200, NODE1)
    assert get(ec2sim, md + "placement/region", t) == (200, "us-east-1")
    assert get(ec2sim, md + "placement/availability-zone", t) == (200, "us-east-1a")
    assert get(ec2sim, md + "local-ipv4", t) == (200, "10.0.0.11")
    assert get(ec2sim, md + "mac", t) == (200, "0e:00:00:00:aa:aa")
    mac = md + "network/interfaces/macs/0e:00:00:00:aa:aa/"
    assert get(ec2sim, mac + "interface-id", t) == (200, "eni-0000000000000aaaa")
    assert get(ec2sim, mac + "local-ipv4s", t) == (200, "10.0.0.11")
    assert get(ec2sim, md + "network/interfaces/macs/", t) == (200, "0e:00:00:00:aa:aa/")
    st, listing = get(ec2sim, md, t)
    assert st == 200 and "placement/" in listing.split("\n")
    assert "instance-id" in listing.split("\n")
    assert get(ec2sim, md + "no-such-thing", t)[0] == 404
    assert get(ec2sim, md + "public-ipv4", t)[0] == 404
    ec2sim.set(ALLOC, instance_id=NODE1)
    assert get(ec2sim, md + "public-ipv4", t) == (200, EIP)
    assert get(ec2sim, mac + "public-ipv4s", t) == (200, EIP)
    st, doc = get(ec2sim, "/latest/dynamic/instance-identity/document", t)
    doc = json.loads(doc)
    assert (doc["instanceId"], doc["region"], doc["availabilityZone"], doc["privateIp"],
            doc["accountId"]) == (NODE1, "us-east-1", "us-east-1a", "10.0.0.11",
                                  "123456789012")


def test_role_credentials_json(ec2sim):
    t = token(ec2sim)
    st, role = get(ec2sim, "/latest/meta-data/iam/security-credentials/", t)
    assert (st, role) == (200, "ec2ha-test-role")
    st, body = get(ec2sim, "/latest/meta-data/iam/security-credentials/" + role, t)
    c = json.loads(body)
    assert c["Code"] == "Success" and c["Type"] == "AWS-HMAC"
    assert c["AccessKeyId"].startswith("ASIA") and c["SecretAccessKey"] and c["Token"]
    assert c["Expiration"].endswith("Z") and c["LastUpdated"].endswith("Z")
    # same keys until rotation
    assert json.loads(get(ec2sim, "/latest/meta-data/iam/security-credentials/" + role, t)[1]
                      )["AccessKeyId"] == c["AccessKeyId"]
    ec2sim.imds(rotate_after=0.5)
    time.sleep(0.6)
    c2 = json.loads(get(ec2sim, "/latest/meta-data/iam/security-credentials/" + role, t)[1])
    assert c2["AccessKeyId"] != c["AccessKeyId"]
    assert [e["access_key_id"] for e in ec2sim.events("credentials")] == \
        [c["AccessKeyId"], c2["AccessKeyId"]]


def test_no_role(ec2sim):
    ec2sim.set(NODE1, iam_role=None)
    t = token(ec2sim)
    assert get(ec2sim, "/latest/meta-data/iam/security-credentials/", t)[0] == 404


def test_identity_by_source_address(ec2sim):
    ec2sim.imds(clients={"127.0.0.2": NODE2})
    ec2sim.set(NODE1, imds_clients=["127.0.0.3"])
    t2 = token(ec2sim, source="127.0.0.2")
    assert get(ec2sim, "/latest/meta-data/instance-id", t2, "127.0.0.2") == (200, NODE2)
    assert get(ec2sim, "/latest/meta-data/local-ipv4", t2, "127.0.0.2") == (200, "10.0.0.12")
    # a token is bound to the instance it was issued to
    assert get(ec2sim, "/latest/meta-data/instance-id", t2, "127.0.0.1")[0] == 401
    t3 = token(ec2sim, source="127.0.0.3")
    assert get(ec2sim, "/latest/meta-data/instance-id", t3, "127.0.0.3") == (200, NODE1)
    # default for anyone else
    t4 = token(ec2sim, source="127.0.0.4")
    assert get(ec2sim, "/latest/meta-data/instance-id", t4, "127.0.0.4") == (200, NODE1)
    ec2sim.imds(default_instance=NODE2)
    t4 = token(ec2sim, source="127.0.0.4")
    assert get(ec2sim, "/latest/meta-data/instance-id", t4, "127.0.0.4") == (200, NODE2)
    evs = ec2sim.events("imds")
    assert {"127.0.0.2", "127.0.0.3", "127.0.0.4"} <= {e["client"] for e in evs}


def test_botocore_imds_credential_provider(ec2sim, monkeypatch):
    """botocore's own IMDSv2 client fetches the role keys; boto3 signs with the token."""
    import boto3
    env = ec2sim.env(credentials=False)
    for k in list(__import__("os").environ):
        if k.startswith("AWS_"):
            monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    session = boto3.session.Session()
    creds = session.get_credentials()
    assert creds.method == "iam-role"
    frozen = creds.get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA") and frozen.token
    ec2 = session.client("ec2", endpoint_url=ec2sim.endpoint, verify=ec2sim.ca_bundle)
    r = ec2.describe_instances(InstanceIds=[NODE1])
    assert r["Reservations"][0]["Instances"][0]["InstanceId"] == NODE1
    assert ec2sim.events("call")[-1]["key"] == frozen.access_key
    # the token PUT and GETs really happened, IMDSv2 style
    paths = [(e["method"], e["path"]) for e in ec2sim.events("imds")]
    assert ("PUT", "/latest/api/token") in paths


def test_role_permissions(ec2sim):
    ec2sim.imds(role_permissions=["ec2:Describe*"])
    ec2sim.rotate_credentials()
    c = ec2sim.role_credentials()
    ec2 = ec2sim.boto3_client(aws_access_key_id=c["AccessKeyId"],
                              aws_secret_access_key=c["SecretAccessKey"],
                              aws_session_token=c["Token"])
    ec2.describe_addresses()
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[NODE2])
    assert e.value.response["Error"]["Code"] == "UnauthorizedOperation"


def test_imds_method_not_allowed(ec2sim):
    assert request(ec2sim, "POST", "/latest/api/token")[0] == 405
