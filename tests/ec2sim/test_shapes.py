"""Response shapes: every element ec2sim emits is a member of botocore's EC2 model (by
wire name, with lists as <item>), and the recorded real EC2 responses in fixtures/ have
the same element names and nesting as ours."""
import os
import re
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import botocore.session
import pytest
from botocore.exceptions import ClientError

from ec2sim.testing import NODE1, NODE2, default_state

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"
_MODEL = botocore.session.get_session().get_service_model("ec2")


def local(tag):
    return tag.split("}", 1)[-1]


def capture(client):
    """Raw response bodies of a boto3 client's calls."""
    bodies = []

    def grab(http_response, **kw):
        bodies.append(http_response.content)
    client.meta.events.register("after-call.ec2.*", grab)
    return bodies


# Real EC2 sends these though botocore's model omits them (see fixtures/ec2-associate-address.xml)
REAL_EXTRAS = {"AssociateAddress": {"return"}, "DisassociateAddress": {"return"},
               "RebootInstances": {"return"}}


def model_check(xml_bytes, operation):
    root = ET.fromstring(xml_bytes)
    assert root.tag == NS + operation + "Response", root.tag
    shape = _MODEL.operation_model(operation).output_shape
    members = {s.serialization.get("name", n): s for n, s in shape.members.items()} \
        if shape is not None else {}
    for extra in REAL_EXTRAS.get(operation, ()):
        members[extra] = _MODEL.shape_for("Boolean")
    assert local(root[0].tag) == "requestId" and re.match(r"^[0-9a-f-]{36}$", root[0].text)
    for child in root[1:]:
        name = local(child.tag)
        assert name in members, "%sResponse/%s is not in the EC2 model" % (operation, name)
        _walk(child, members[name], operation + "Response/" + name)


def _walk(elem, shape, path):
    t = shape.type_name
    if t == "structure":
        members = {s.serialization.get("name", n): s for n, s in shape.members.items()}
        for child in elem:
            name = local(child.tag)
            assert name in members, "%s/%s is not in the EC2 model" % (path, name)
            _walk(child, members[name], path + "/" + name)
    elif t == "list":
        item = shape.member.serialization.get("name", "member")
        for child in elem:
            assert local(child.tag) == item, "%s: list element %s" % (path, local(child.tag))
            _walk(child, shape.member, path + "/" + item)
    else:
        assert len(elem) == 0, "%s: scalar with children" % path
        text = elem.text or ""
        if t in ("integer", "long"):
            int(text)
        elif t == "boolean":
            assert text in ("true", "false"), (path, text)
        elif t == "timestamp":
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", text), (path, text)
        elif getattr(shape, "enum", None) and text:
            assert text in shape.enum, (path, text, shape.enum)


def paths(elem, prefix=""):
    out = set()
    for child in elem:
        p = prefix + "/" + local(child.tag)
        out.add(p)
        out |= paths(child, p)
    return out


def shape_state():
    s = default_state()
    s["instances"][0]["key_name"] = "aws"
    s["instances"].append({"instance_id": "i-0000000000000eeee", "state": "stopped",
                           "tags": {"Name": "stopped-one", "notebook": ""},
                           "state_reason": {"code": "Client.UserInitiatedShutdown",
                                            "message": "Client.UserInitiatedShutdown: User "
                                                       "initiated shutdown"},
                           "state_transition_reason": "User initiated (2013-03-01 17:24:16 "
                                                      "GMT)"})
    s["addresses"][0]["instance_id"] = NODE1
    s["addresses"].append({"allocation_id": "eipalloc-00000000000000002",
                           "public_ip": "203.0.113.20"})
    return s


@pytest.fixture
def sim(ec2sim_factory):
    return ec2sim_factory(shape_state())


@pytest.fixture
def ec2(sim):
    return sim.boto3_client()


# Present in the 2013-era fixtures but not in what we emit, and why:
FIXTURE_ONLY = {
    "kernelId",       # paravirtual AMIs only
    "platform",       # Windows only
}


def _compare(fixture, ours):
    theirs = paths(ET.parse(os.path.join(FIXTURES, fixture)).getroot())
    mine = paths(ET.fromstring(ours))
    missing = {p for p in theirs - mine if not any(
        seg in FIXTURE_ONLY for seg in p.split("/"))}
    assert not missing, "elements real EC2 sends that we do not: %s" % sorted(missing)
    return theirs, mine


def test_describe_instances_shape(ec2):
    bodies = capture(ec2)
    ec2.describe_instances()
    model_check(bodies[-1], "DescribeInstances")
    _compare("ec2-describe-instances.xml", bodies[-1])
    ec2.describe_instances(MaxResults=5)
    model_check(bodies[-1], "DescribeInstances")


def test_describe_addresses_shape(ec2):
    bodies = capture(ec2)
    ec2.describe_addresses()
    model_check(bodies[-1], "DescribeAddresses")
    theirs = paths(ET.parse(os.path.join(FIXTURES, "ec2-describe-addresses.xml")).getroot())
    mine = paths(ET.fromstring(bodies[-1]))
    # the fixture's first two items are EC2-Classic ("standard") addresses; our VPC ones
    # carry every element they have.
    assert theirs <= mine, sorted(theirs - mine)


def test_stop_start_shapes(sim, ec2):
    bodies = capture(ec2)
    sim.set(NODE2, stop_delay=0.1, start_delay=0.1)
    ec2.stop_instances(InstanceIds=[NODE2])
    model_check(bodies[-1], "StopInstances")
    theirs, mine = _compare("ec2-stop-instances.xml", bodies[-1])
    assert theirs == mine
    sim.wait_state(NODE2, "stopped")
    ec2.start_instances(InstanceIds=[NODE2])
    model_check(bodies[-1], "StartInstances")
    theirs, mine = _compare("ec2-start-instances.xml", bodies[-1])
    assert theirs == mine


def test_associate_disassociate_reboot_shapes(ec2):
    bodies = capture(ec2)
    ec2.associate_address(AllocationId="eipalloc-00000000000000002", InstanceId=NODE2)
    model_check(bodies[-1], "AssociateAddress")
    theirs, mine = _compare("ec2-associate-address.xml", bodies[-1])
    assert theirs == mine
    assoc = ET.fromstring(bodies[-1]).find(NS + "associationId").text
    ec2.disassociate_address(AssociationId=assoc)
    model_check(bodies[-1], "DisassociateAddress")
    ec2.reboot_instances(InstanceIds=[NODE1])
    model_check(bodies[-1], "RebootInstances")
    ec2.describe_instance_status()
    model_check(bodies[-1], "DescribeInstanceStatus")
    ec2.describe_regions()
    model_check(bodies[-1], "DescribeRegions")


def test_error_shape(ec2):
    bodies = capture(ec2)
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=["foobar"])
    ours = ET.fromstring(bodies[-1])
    theirs = ET.parse(os.path.join(FIXTURES, "ec2-describe-instances-error.xml")).getroot()
    assert paths(ours) == paths(theirs)
    assert ours.tag == "Response"        # no namespace on errors
    assert ours.find("Errors/Error/Code").text == theirs.find("Errors/Error/Code").text
    assert ours.find("Errors/Error/Message").text == theirs.find("Errors/Error/Message").text
    assert e.value.response["ResponseMetadata"]["RequestId"] == ours.find("RequestID").text


def test_old_version_gets_its_namespace(sim):
    from test_sigv4 import _raw_call
    st, body = _raw_call(sim, {"Action": "DescribeAddresses", "Version": "2014-06-15"})
    assert st == 200
    assert '<DescribeAddressesResponse xmlns="http://ec2.amazonaws.com/doc/2014-06-15/">' in body
    st, body = _raw_call(sim, {"Action": "DescribeAddresses", "Version": "2099-01-01"})
    assert st == 400 and "<Code>NoSuchVersion</Code>" in body


def test_request_errors(sim):
    from test_sigv4 import _raw_call, _code
    cases = [
        ({"Action": "LaunchMissiles"}, "InvalidAction"),
        ({"Action": "DescribeInstances", "Bogus": "1"}, "UnknownParameter"),
        ({"Action": "DescribeInstances", "DryRun": "maybe"}, "InvalidParameterValue"),
        ({"Action": "DescribeInstances", "Filter.1.Name": "instance-id"},
         "InvalidParameterValue"),
    ]
    for params, want in cases:
        st, body = _raw_call(sim, params)
        assert (st, _code(body)) == (400, want), params
    # missing Version and missing Action
    st, body = _raw_call(sim, {"Action": "DescribeInstances", "Version": ""})
    assert _code(body) == "NoSuchVersion"


def test_skip_os_shutdown_and_unsupported_params(sim):
    """botocore 1.29 has no SkipOsShutdown; the C agents send it: accept it, or answer
    UnknownParameter when told this region does not know it yet."""
    from test_sigv4 import _raw_call, _code
    sim.set(NODE2, stop_delay=30, force_stop_delay=0.1)
    st, body = _raw_call(sim, {"Action": "StopInstances", "InstanceId.1": NODE2,
                               "Force": "true", "SkipOsShutdown": "true"})
    assert st == 200 and "<name>stopping</name>" in body
    sim.wait_state(NODE2, "stopped", timeout=5)
    sim.control({"op": "unsupported_params", "params": ["SkipOsShutdown"]})
    st, body = _raw_call(sim, {"Action": "StopInstances", "InstanceId.1": NODE1,
                               "Force": "true", "SkipOsShutdown": "true"})
    assert (st, _code(body)) == (400, "UnknownParameter")
    assert sim.instance(NODE1)["state"] == "running"


def test_get_query_string_requests(sim):
    """EC2 also takes GET with the parameters in the (signed) query string."""
    import ssl
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    from ec2sim.testing import ACCESS_KEY, SECRET_KEY
    q = urllib.parse.urlencode({"Action": "DescribeInstances", "Version": "2016-11-15",
                                "InstanceId.1": NODE1})
    req = botocore.awsrequest.AWSRequest(method="GET", url=sim.endpoint + "/?" + q)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "ec2",
                            "us-east-1").add_auth(req)
    p = req.prepare()
    ctx = ssl.create_default_context(cafile=sim.ca_bundle)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         urllib.request.HTTPSHandler(context=ctx))
    with opener.open(urllib.request.Request(p.url, headers=dict(p.headers)), timeout=10) as r:
        body = r.read()
    model_check(body, "DescribeInstances")
    assert NODE1.encode() in body
    # presigned (query-string auth)
    req = botocore.awsrequest.AWSRequest(method="GET", url=sim.endpoint + "/?" + q)
    botocore.auth.SigV4QueryAuth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY),
                                 "ec2", "us-east-1", expires=60).add_auth(req)
    p = req.prepare()
    with opener.open(urllib.request.Request(p.url, headers=dict(p.headers)), timeout=10) as r:
        assert NODE1.encode() in r.read()


def _keys(obj, prefix=""):
    out = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.add(prefix + "." + k)
            out |= _keys(v, prefix + "." + k)
    elif isinstance(obj, list):
        for v in obj:
            out |= _keys(v, prefix + "[]")
    return out


def test_boto3_parses_ours_like_the_recorded_responses(sim, ec2):
    """fixtures/*.json are botocore's parse of the recorded XML: boto3's parse of our
    answers has every key they have."""
    import json
    sim.set(NODE2, stop_delay=0.1, start_delay=0.1)
    got = {
        "ec2-stop-instances.json": ec2.stop_instances(InstanceIds=[NODE2]),
        "ec2-associate-address.json": ec2.associate_address(
            AllocationId="eipalloc-00000000000000002", InstanceId=NODE2),
        "ec2-describe-addresses.json": ec2.describe_addresses(),
        "ec2-describe-instances.json": ec2.describe_instances(),
    }
    sim.wait_state(NODE2, "stopped")
    got["ec2-start-instances.json"] = ec2.start_instances(InstanceIds=[NODE2])
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=["foobar"])
    got["ec2-describe-instances-error.json"] = e.value.response
    skip = {".ResponseMetadata.HTTPStatusCode", ".ResponseMetadata.HTTPHeaders",
            ".ResponseMetadata.RetryAttempts"}
    for name, resp in got.items():
        want = _keys(json.load(open(os.path.join(FIXTURES, name))))
        have = {k for k in _keys(resp) if not any(k.startswith(s) for s in skip)}
        missing = {k for k in want - have if not any(
            seg in {"KernelId", "Platform"} for seg in re.split(r"[.\[\]]+", k))}
        assert not missing, (name, sorted(missing))
