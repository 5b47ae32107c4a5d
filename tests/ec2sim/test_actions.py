"""Every action through boto3 (endpoint_url + CA bundle), and each EC2 semantic a naive
stand-in gets wrong."""
import time

import pytest
from botocore.exceptions import ClientError

from ec2sim.testing import ALLOC, EIP, NODE1, NODE2, default_state

ENI1, ENI2 = "eni-0000000000000aaaa", "eni-0000000000000bbbb"
MULTI = "i-0000000000000cccc"
TERM = "i-0000000000000dddd"


def rich_state():
    s = default_state()
    s["defaults"] = {"stop_delay": 0.3, "start_delay": 0.3}
    s["instances"].append({
        "instance_id": MULTI, "state": "running", "tags": {"Name": "multi", "role": "db"},
        "network_interfaces": [
            {"network_interface_id": "eni-0000000000000ccc0", "private_ip_address": "10.0.0.13",
             "secondary_private_ip_addresses": ["10.0.0.113"]},
            {"network_interface_id": "eni-0000000000000ccc1", "private_ip_address": "10.0.1.13",
             "device_index": 1}]})
    s["instances"].append({"instance_id": TERM, "state": "terminated",
                           "tags": {"Name": "gone"}})
    s["addresses"].append({"allocation_id": "eipalloc-00000000000000002",
                           "public_ip": "203.0.113.20", "instance_id": NODE2,
                           "tags": {"purpose": "second"}})
    return s


@pytest.fixture
def sim(ec2sim_factory):
    return ec2sim_factory(rich_state())


@pytest.fixture
def ec2(sim):
    return sim.boto3_client()


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status_of(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def instances(resp):
    return [i for r in resp["Reservations"] for i in r["Instances"]]


def one(ec2, iid):
    return instances(ec2.describe_instances(InstanceIds=[iid]))[0]


def wait_state(ec2, iid, name, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if one(ec2, iid)["State"]["Name"] == name:
            return
        time.sleep(0.05)
    raise AssertionError("%s never became %s" % (iid, name))


# ------------------------------------------------------------------ DescribeInstances
def test_describe_instances_all_and_by_id(ec2):
    r = ec2.describe_instances()
    ids = [i["InstanceId"] for i in instances(r)]
    assert ids == [NODE1, NODE2, MULTI, TERM]
    assert r["ResponseMetadata"]["RequestId"]
    i = one(ec2, NODE1)
    assert i["State"] == {"Code": 16, "Name": "running"}
    assert i["PrivateIpAddress"] == "10.0.0.11"
    assert i["PrivateDnsName"] == "ip-10-0-0-11.ec2.internal"
    assert i["Placement"]["AvailabilityZone"] == "us-east-1a"
    assert {"Key": "Name", "Value": "node1"} in i["Tags"]
    eni = i["NetworkInterfaces"][0]
    assert eni["NetworkInterfaceId"] == ENI1 and eni["MacAddress"] == "0e:00:00:00:aa:aa"
    assert eni["Attachment"]["DeviceIndex"] == 0
    assert "PublicIpAddress" not in i and "Association" not in eni


def test_describe_instances_unknown_and_malformed(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])
    assert code_of(e) == "InvalidInstanceID.NotFound" and status_of(e) == 400
    assert "i-0123456789abcdef0" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=[NODE1, "i-0123456789abcdef0",
                                            "i-0123456789abcdef1"])
    assert code_of(e) == "InvalidInstanceID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=["foobar"])
    assert code_of(e) == "InvalidInstanceID.Malformed"
    assert e.value.response["Error"]["Message"] == 'Invalid id: "foobar"'


@pytest.mark.parametrize("name,values,expect", [
    ("instance-id", [NODE2], [NODE2]),
    ("instance-state-name", ["terminated"], [TERM]),
    ("instance-state-name", ["running", "stopped"], [NODE1, NODE2, MULTI]),
    ("instance-state-code", ["48"], [TERM]),
    ("tag:Name", ["node1"], [NODE1]),
    ("tag:Name", ["node*"], [NODE1, NODE2]),
    ("tag:Name", ["nod?2"], [NODE2]),
    ("tag:role", ["db"], [MULTI]),
    ("tag-key", ["role"], [MULTI]),
    ("tag-value", ["gone"], [TERM]),
    ("private-ip-address", ["10.0.0.12"], [NODE2]),
    ("private-dns-name", ["ip-10-0-0-11.ec2.internal"], [NODE1]),
    ("network-interface.network-interface-id", ["eni-0000000000000ccc1"], [MULTI]),
    ("network-interface.addresses.private-ip-address", ["10.0.0.113"], [MULTI]),
    ("network-interface.mac-address", ["0e:00:00:00:bb:bb"], [NODE2]),
    ("ip-address", ["203.0.113.20"], [NODE2]),
    ("availability-zone", ["us-east-1a"], [NODE1, NODE2, MULTI, TERM]),
])
def test_describe_instances_filters(ec2, name, values, expect):
    r = ec2.describe_instances(Filters=[{"Name": name, "Values": values}])
    assert [i["InstanceId"] for i in instances(r)] == expect


def test_describe_instances_filters_and_across_or_within(ec2):
    r = ec2.describe_instances(Filters=[
        {"Name": "tag:Name", "Values": ["node1", "node2", "multi"]},
        {"Name": "private-ip-address", "Values": ["10.0.0.12", "10.0.0.13"]}])
    assert [i["InstanceId"] for i in instances(r)] == [NODE2, MULTI]


def test_describe_instances_unknown_filter(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    assert code_of(e) == "InvalidParameterValue"


def test_terminated_instances_stay_visible(ec2):
    i = one(ec2, TERM)
    assert i["State"] == {"Code": 48, "Name": "terminated"}
    assert i.get("NetworkInterfaces", []) == []


def test_state_codes(sim, ec2):
    want = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
            "stopping": 64, "stopped": 80}
    for name, code in want.items():
        sim.set(NODE1, state=name, delay=60)
        assert one(ec2, NODE1)["State"] == {"Code": code, "Name": name}


def test_state_code_high_byte(sim, ec2):
    sim.set(NODE1, state_code_high_byte=256)
    assert one(ec2, NODE1)["State"] == {"Code": 272, "Name": "running"}


# ------------------------------------------------------------------ pagination
def many_state(n=23):
    s = default_state()
    s["instances"] = [{"instance_id": "i-%017x" % (0x1000 + k), "tags": {"Name": "n%d" % k},
                       "reservation_id": "r-%017x" % (k // 3)} for k in range(n)]
    s["addresses"] = []
    s["imds"] = {}
    return s


def test_paginator_walks_every_page(ec2sim_factory):
    sim = ec2sim_factory(many_state(23))
    ec2 = sim.boto3_client()
    pages = list(ec2.get_paginator("describe_instances").paginate(
        PaginationConfig={"PageSize": 5}))
    assert len(pages) == 5
    counts = [sum(len(r["Instances"]) for r in p["Reservations"]) for p in pages]
    assert counts == [5, 5, 5, 5, 3]
    ids = [i["InstanceId"] for p in pages for i in instances(p)]
    assert ids == ["i-%017x" % (0x1000 + k) for k in range(23)]
    assert "NextToken" not in pages[-1]
    # filters survive paging; MaxResults 1000 gives one page
    r = ec2.describe_instances(MaxResults=1000, Filters=[{"Name": "tag:Name",
                                                          "Values": ["n1*"]}])
    assert len(instances(r)) == 11 and "NextToken" not in r
    # reservations group their instances
    r = ec2.describe_instances(MaxResults=6)
    assert [len(x["Instances"]) for x in r["Reservations"]] == [3, 3]


@pytest.mark.parametrize("mr", [4, 1001, 0])
def test_max_results_range(ec2, mr):
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(MaxResults=mr)
    assert code_of(e) == "InvalidParameterValue"


def test_max_results_with_instance_ids_refused(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=[NODE1], MaxResults=5)
    assert code_of(e) == "InvalidParameterCombination"


def test_bad_next_token(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(MaxResults=5, NextToken="garbage")
    assert code_of(e) == "InvalidPaginationToken"


# ------------------------------------------------------------------ Stop / Start / Reboot
def test_stop_then_stopped_and_stop_again(sim, ec2):
    r = ec2.stop_instances(InstanceIds=[NODE1])
    ch = r["StoppingInstances"][0]
    assert ch["InstanceId"] == NODE1
    assert ch["PreviousState"] == {"Code": 16, "Name": "running"}
    assert ch["CurrentState"] == {"Code": 64, "Name": "stopping"}
    assert one(ec2, NODE1)["State"]["Name"] == "stopping"
    wait_state(ec2, NODE1, "stopped")
    i = one(ec2, NODE1)
    assert i["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    # stopping a stopped instance succeeds and says stopped
    r = ec2.stop_instances(InstanceIds=[NODE1], Force=True)
    assert r["StoppingInstances"][0]["CurrentState"]["Name"] == "stopped"
    assert r["StoppingInstances"][0]["PreviousState"]["Name"] == "stopped"
    states = [(e["previous"], e["state"]) for e in sim.events("state")
              if e["instance_id"] == NODE1]
    assert states == [("running", "stopping"), ("stopping", "stopped")]


def test_stop_terminated_or_pending_fails(sim, ec2):
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[TERM])
    assert code_of(e) == "IncorrectInstanceState" and status_of(e) == 400
    sim.set(NODE2, state="pending", delay=30)
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[NODE2])
    assert code_of(e) == "IncorrectInstanceState"


def test_stop_is_all_or_nothing(sim, ec2):
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[NODE1, "i-0123456789abcdef0"])
    assert code_of(e) == "InvalidInstanceID.NotFound"
    assert one(ec2, NODE1)["State"]["Name"] == "running"


def test_force_stop_shortens_a_slow_stop(sim, ec2):
    sim.set(NODE1, stop_delay=30, force_stop_delay=0.2)
    ec2.stop_instances(InstanceIds=[NODE1])
    time.sleep(0.4)
    assert one(ec2, NODE1)["State"]["Name"] == "stopping"
    r = ec2.stop_instances(InstanceIds=[NODE1], Force=True)
    assert r["StoppingInstances"][0]["PreviousState"]["Name"] == "stopping"
    assert r["StoppingInstances"][0]["CurrentState"]["Name"] == "stopping"
    wait_state(ec2, NODE1, "stopped", timeout=5)
    assert any(e["type"] == "force" for e in sim.events())


def test_hibernate_needs_configuration(sim, ec2):
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[NODE1], Hibernate=True)
    assert code_of(e) == "UnsupportedHibernationConfiguration"
    sim.set(NODE1, hibernation=True)
    r = ec2.stop_instances(InstanceIds=[NODE1], Hibernate=True)
    assert r["StoppingInstances"][0]["CurrentState"]["Name"] == "stopping"


def test_start_stopped_then_running(sim, ec2):
    sim.set(NODE1, state="stopped")
    r = ec2.start_instances(InstanceIds=[NODE1])
    ch = r["StartingInstances"][0]
    assert ch["PreviousState"] == {"Code": 80, "Name": "stopped"}
    assert ch["CurrentState"] == {"Code": 0, "Name": "pending"}
    wait_state(ec2, NODE1, "running")
    r = ec2.start_instances(InstanceIds=[NODE1])
    assert r["StartingInstances"][0]["CurrentState"]["Name"] == "running"


def test_start_stopping_or_terminated_fails(sim, ec2):
    sim.set(NODE1, stop_delay=30)
    ec2.stop_instances(InstanceIds=[NODE1])
    with pytest.raises(ClientError) as e:
        ec2.start_instances(InstanceIds=[NODE1])
    assert code_of(e) == "IncorrectInstanceState"
    with pytest.raises(ClientError) as e:
        ec2.start_instances(InstanceIds=[TERM])
    assert code_of(e) == "IncorrectInstanceState"


def test_reboot(sim, ec2):
    r = ec2.reboot_instances(InstanceIds=[NODE1])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert any(e["type"] == "reboot" and e["instance_id"] == NODE1 for e in sim.events())
    sim.set(NODE2, state="stopped")
    with pytest.raises(ClientError) as e:
        ec2.reboot_instances(InstanceIds=[NODE2])
    assert code_of(e) == "IncorrectInstanceState"


def test_missing_instance_id(ec2):
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[])
    assert code_of(e) == "MissingParameter"


# ------------------------------------------------------------------ addresses
def test_describe_addresses(ec2):
    r = ec2.describe_addresses()
    by = {a["AllocationId"]: a for a in r["Addresses"]}
    assert by[ALLOC] == {"PublicIp": EIP, "AllocationId": ALLOC, "Domain": "vpc",
                         "PublicIpv4Pool": "amazon", "NetworkBorderGroup": "us-east-1"}
    a2 = by["eipalloc-00000000000000002"]
    assert a2["InstanceId"] == NODE2 and a2["NetworkInterfaceId"] == ENI2
    assert a2["PrivateIpAddress"] == "10.0.0.12" and a2["AssociationId"].startswith("eipassoc-")
    assert a2["NetworkInterfaceOwnerId"] == "123456789012"
    assert a2["Tags"] == [{"Key": "purpose", "Value": "second"}]
    assert [a["AllocationId"] for a in ec2.describe_addresses(AllocationIds=[ALLOC])
            ["Addresses"]] == [ALLOC]
    assert [a["AllocationId"] for a in ec2.describe_addresses(PublicIps=["203.0.113.20"])
            ["Addresses"]] == ["eipalloc-00000000000000002"]


@pytest.mark.parametrize("name,values,expect", [
    ("allocation-id", [ALLOC], [ALLOC]),
    ("instance-id", [NODE2], ["eipalloc-00000000000000002"]),
    ("network-interface-id", [ENI2], ["eipalloc-00000000000000002"]),
    ("private-ip-address", ["10.0.0.12"], ["eipalloc-00000000000000002"]),
    ("public-ip", [EIP], [ALLOC]),
    ("domain", ["vpc"], [ALLOC, "eipalloc-00000000000000002"]),
    ("tag:purpose", ["second"], ["eipalloc-00000000000000002"]),
    ("association-id", ["eipassoc-*"], ["eipalloc-00000000000000002"]),
])
def test_describe_addresses_filters(ec2, name, values, expect):
    r = ec2.describe_addresses(Filters=[{"Name": name, "Values": values}])
    assert [a["AllocationId"] for a in r["Addresses"]] == expect


def test_describe_addresses_unknown(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_addresses(AllocationIds=["eipalloc-0123456789abcdef0"])
    assert code_of(e) == "InvalidAllocationID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.describe_addresses(PublicIps=["198.51.100.1"])
    assert code_of(e) == "InvalidAddress.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.describe_addresses(AllocationIds=["eipalloc-x"])
    assert code_of(e) == "InvalidAllocationID.Malformed"


def test_associate_shows_everywhere(sim, ec2):
    r = ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1)
    assoc = r["AssociationId"]
    assert assoc.startswith("eipassoc-")
    a = ec2.describe_addresses(AllocationIds=[ALLOC])["Addresses"][0]
    assert (a["InstanceId"], a["NetworkInterfaceId"], a["PrivateIpAddress"],
            a["AssociationId"]) == (NODE1, ENI1, "10.0.0.11", assoc)
    i = one(ec2, NODE1)
    assert i["PublicIpAddress"] == EIP
    assert i["PublicDnsName"] == "ec2-203-0-113-10.compute-1.amazonaws.com"
    eni = i["NetworkInterfaces"][0]
    assert eni["Association"]["PublicIp"] == EIP
    assert eni["Association"]["IpOwnerId"] == "123456789012"
    assert eni["PrivateIpAddresses"][0]["Association"]["PublicIp"] == EIP
    ev = sim.events("association")[-1]
    assert (ev["change"], ev["instance_id"], ev["association_id"]) == ("associate", NODE1,
                                                                      assoc)


def test_associate_moves_automatically(sim, ec2):
    first = ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1)["AssociationId"]
    second = ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE2)["AssociationId"]
    assert first != second
    a = ec2.describe_addresses(AllocationIds=[ALLOC])["Addresses"][0]
    assert a["InstanceId"] == NODE2
    assert "PublicIpAddress" not in one(ec2, NODE1)
    # NODE2's other address (on the same private IP) was pushed off
    a2 = ec2.describe_addresses(AllocationIds=["eipalloc-00000000000000002"])["Addresses"][0]
    assert "InstanceId" not in a2 and "AssociationId" not in a2
    ev = [e for e in sim.events("association") if e["allocation_id"] == ALLOC][-1]
    assert (ev["change"], ev["previous_instance_id"], ev["instance_id"]) == \
        ("move", NODE1, NODE2)


def test_associate_allow_reassociation_false(ec2):
    ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1)
    with pytest.raises(ClientError) as e:
        ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE2, AllowReassociation=False)
    assert code_of(e) == "Resource.AlreadyAssociated" and status_of(e) == 400
    # explicit true moves it
    ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE2, AllowReassociation=True)
    assert ec2.describe_addresses(AllocationIds=[ALLOC])["Addresses"][0]["InstanceId"] == NODE2


def test_associate_same_target_is_a_no_op(sim, ec2):
    a = ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1)["AssociationId"]
    n = len(sim.events("association"))
    b = ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1,
                              AllowReassociation=False)["AssociationId"]
    assert a == b and len(sim.events("association")) == n


def test_associate_with_stopped_instance_and_it_keeps_the_eip(sim, ec2):
    sim.set(NODE1, state="stopped")
    ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1)
    i = one(ec2, NODE1)
    assert i["State"]["Name"] == "stopped" and i["PublicIpAddress"] == EIP
    # and a running instance keeps its address through stop
    ec2.stop_instances(InstanceIds=[NODE2])
    wait_state(ec2, NODE2, "stopped")
    a2 = ec2.describe_addresses(AllocationIds=["eipalloc-00000000000000002"])["Addresses"][0]
    assert a2["InstanceId"] == NODE2
    assert one(ec2, NODE2)["PublicIpAddress"] == "203.0.113.20"


def test_associate_multi_eni_needs_interface(ec2):
    with pytest.raises(ClientError) as e:
        ec2.associate_address(AllocationId=ALLOC, InstanceId=MULTI)
    assert code_of(e) == "InvalidInstanceID"
    assert "multiple interfaces" in e.value.response["Error"]["Message"]
    r = ec2.associate_address(AllocationId=ALLOC, NetworkInterfaceId="eni-0000000000000ccc0",
                              PrivateIpAddress="10.0.0.113")
    a = ec2.describe_addresses(AllocationIds=[ALLOC])["Addresses"][0]
    assert (a["InstanceId"], a["PrivateIpAddress"], a["AssociationId"]) == \
        (MULTI, "10.0.0.113", r["AssociationId"])
    i = one(ec2, MULTI)
    assert "PublicIpAddress" not in i      # not on the primary IP of the primary ENI
    sec = [p for p in i["NetworkInterfaces"][0]["PrivateIpAddresses"]
           if p["PrivateIpAddress"] == "10.0.0.113"][0]
    assert sec["Association"]["PublicIp"] == EIP and sec["Primary"] is False


def test_associate_errors(ec2):
    cases = [
        (dict(AllocationId=ALLOC), "MissingParameter"),
        (dict(InstanceId=NODE1), "MissingParameter"),
        (dict(AllocationId="eipalloc-0123456789abcdef0", InstanceId=NODE1),
         "InvalidAllocationID.NotFound"),
        (dict(AllocationId=ALLOC, InstanceId="i-0123456789abcdef0"),
         "InvalidInstanceID.NotFound"),
        (dict(AllocationId=ALLOC, NetworkInterfaceId="eni-0123456789abcdef0"),
         "InvalidNetworkInterfaceID.NotFound"),
        (dict(AllocationId=ALLOC, InstanceId=NODE1, PrivateIpAddress="10.9.9.9"),
         "InvalidParameterValue"),
        (dict(AllocationId=ALLOC, InstanceId=TERM), "IncorrectInstanceState"),
        (dict(PublicIp=EIP, InstanceId=NODE1), "InvalidParameterCombination"),
        (dict(AllocationId=ALLOC, InstanceId=NODE1, NetworkInterfaceId=ENI2),
         "InvalidParameterCombination"),
    ]
    for kw, want in cases:
        with pytest.raises(ClientError) as e:
            ec2.associate_address(**kw)
        assert code_of(e) == want, kw


def test_disassociate_and_idempotent(sim, ec2):
    assoc = ec2.associate_address(AllocationId=ALLOC, InstanceId=NODE1)["AssociationId"]
    ec2.disassociate_address(AssociationId=assoc)
    a = ec2.describe_addresses(AllocationIds=[ALLOC])["Addresses"][0]
    assert "AssociationId" not in a and "InstanceId" not in a
    assert "PublicIpAddress" not in one(ec2, NODE1)
    ec2.disassociate_address(AssociationId=assoc)      # again: still success
    assert [e["change"] for e in sim.events("association")] == ["associate", "disassociate"]
    with pytest.raises(ClientError) as e:
        ec2.disassociate_address(AssociationId="eipassoc-0123456789abcdef0")
    assert code_of(e) == "InvalidAssociationID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.disassociate_address(AssociationId="bogus")
    assert code_of(e) == "InvalidAssociationID.Malformed"
    with pytest.raises(ClientError) as e:
        ec2.disassociate_address()
    assert code_of(e) == "MissingParameter"


# ------------------------------------------------------------------ DryRun & permissions
def test_dry_run_every_action(sim, ec2):
    calls = [
        lambda c: c.describe_instances(DryRun=True),
        lambda c: c.stop_instances(InstanceIds=[NODE1], Force=True, DryRun=True),
        lambda c: c.start_instances(InstanceIds=[NODE1], DryRun=True),
        lambda c: c.reboot_instances(InstanceIds=[NODE1], DryRun=True),
        lambda c: c.describe_addresses(DryRun=True),
        lambda c: c.associate_address(AllocationId=ALLOC, InstanceId=NODE1, DryRun=True),
        lambda c: c.disassociate_address(
            AssociationId=sim.address("eipalloc-00000000000000002")["association_id"],
            DryRun=True),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call(ec2)
        assert code_of(e) == "DryRunOperation" and status_of(e) == 412
    # nothing happened
    assert one(ec2, NODE1)["State"]["Name"] == "running"
    assert sim.events("association") == []
    sim.control({"op": "add_key", "access_key_id": "AKIDREADONLY000000",
                 "secret_access_key": "ro-secret", "permissions": ["ec2:Describe*"]})
    ro = sim.boto3_client(aws_access_key_id="AKIDREADONLY000000",
                          aws_secret_access_key="ro-secret")
    with pytest.raises(ClientError) as e:
        ro.describe_instances(DryRun=True)
    assert code_of(e) == "DryRunOperation"
    for call in calls[1:4] + calls[5:]:
        with pytest.raises(ClientError) as e:
            call(ro)
        assert code_of(e) == "UnauthorizedOperation" and status_of(e) == 403
    with pytest.raises(ClientError) as e:
        ro.stop_instances(InstanceIds=[NODE1])
    assert code_of(e) == "UnauthorizedOperation"
    assert one(ec2, NODE1)["State"]["Name"] == "running"


def test_deny_list(sim):
    sim.control({"op": "add_key", "access_key_id": "AKIDNOSTOP00000000",
                 "secret_access_key": "s", "permissions": ["*"],
                 "deny": ["ec2:StopInstances"]})
    c = sim.boto3_client(aws_access_key_id="AKIDNOSTOP00000000", aws_secret_access_key="s")
    with pytest.raises(ClientError) as e:
        c.stop_instances(InstanceIds=[NODE1], DryRun=True)
    assert code_of(e) == "UnauthorizedOperation"
    with pytest.raises(ClientError) as e:
        c.start_instances(InstanceIds=[NODE1], DryRun=True)
    assert code_of(e) == "DryRunOperation"


def test_other_actions(ec2):
    r = ec2.describe_instance_status(InstanceIds=[NODE1])
    assert r["InstanceStatuses"][0]["InstanceState"]["Name"] == "running"
    assert r["InstanceStatuses"][0]["InstanceStatus"]["Status"] == "ok"
    r = ec2.describe_instance_status(IncludeAllInstances=True)
    assert len(r["InstanceStatuses"]) == 4
    assert ec2.describe_regions()["Regions"][0]["Endpoint"] == "ec2.us-east-1.amazonaws.com"
