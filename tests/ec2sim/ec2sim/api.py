"""EC2 Query API actions: parameter validation, semantics, and XML responses.

`handle(state, action, version, params, key, ctx)` returns the XML body of a successful call
or raises `ApiError`.  Responses follow the wire format of real EC2 (namespace
http://ec2.amazonaws.com/doc/<Version>/, requestId first, lists as <...Set><item>).
"""
import base64
import copy
import hashlib
import json
import re
import time
from xml.sax.saxutils import escape

from .state import ApiError, STATE_CODES, is_ip

KNOWN_VERSIONS = {"2016-11-15", "2016-09-15", "2016-04-01", "2015-10-01", "2015-04-15",
                  "2014-10-01", "2014-06-15", "2014-02-01", "2013-10-15"}

# Parameter names each action accepts (# = a 1-based index).  Anything else →
# UnknownParameter, as EC2 answers for a parameter it does not know.
_LIST_FILTERS = ["Filter.#.Name", "Filter.#.Value.#"]
ACTION_PARAMS = {
    "DescribeInstances": ["InstanceId.#", "MaxResults", "NextToken", "DryRun"] + _LIST_FILTERS,
    "StopInstances": ["InstanceId.#", "Force", "Hibernate", "SkipOsShutdown", "DryRun"],
    "StartInstances": ["InstanceId.#", "AdditionalInfo", "DryRun"],
    "RebootInstances": ["InstanceId.#", "DryRun"],
    "DescribeAddresses": ["PublicIp.#", "AllocationId.#", "DryRun"] + _LIST_FILTERS,
    "AssociateAddress": ["AllocationId", "InstanceId", "PublicIp", "AllowReassociation",
                         "NetworkInterfaceId", "PrivateIpAddress", "DryRun"],
    "DisassociateAddress": ["AssociationId", "PublicIp", "DryRun"],
    "DescribeInstanceStatus": ["InstanceId.#", "MaxResults", "NextToken", "DryRun",
                               "IncludeAllInstances"] + _LIST_FILTERS,
    "DescribeRegions": ["RegionName.#", "AllRegions", "DryRun"] + _LIST_FILTERS,
}
ACTIONS = tuple(ACTION_PARAMS)
MUTATING = {"StopInstances", "StartInstances", "RebootInstances", "AssociateAddress",
            "DisassociateAddress"}
_COMMON = {"Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
           "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"}
_PARAM_RES = {a: [re.compile("^" + re.escape(p).replace("\\#", "[1-9][0-9]*") + "$")
                  for p in ps] for a, ps in ACTION_PARAMS.items()}

ID_RES = {
    "instance": re.compile(r"^i-([0-9a-f]{8}|[0-9a-f]{17})$"),
    "allocation": re.compile(r"^eipalloc-([0-9a-f]{8}|[0-9a-f]{17})$"),
    "association": re.compile(r"^eipassoc-([0-9a-f]{8}|[0-9a-f]{17})$"),
    "eni": re.compile(r"^eni-([0-9a-f]{8}|[0-9a-f]{17})$"),
}


# ---------------------------------------------------------------------------- XML
def _render(node, indent, out):
    name, content = node
    pad = "    " * indent
    if content is None or content == [] or content == "":
        out.append("%s<%s/>\n" % (pad, name))
    elif isinstance(content, list):
        out.append("%s<%s>\n" % (pad, name))
        for child in content:
            if child is not None:
                _render(child, indent + 1, out)
        out.append("%s</%s>\n" % (pad, name))
    else:
        if isinstance(content, bool):
            content = "true" if content else "false"
        out.append("%s<%s>%s</%s>\n" % (pad, name, escape(str(content)), name))


def response_xml(action, version, request_id, children):
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n',
           '<%sResponse xmlns="http://ec2.amazonaws.com/doc/%s/">\n' % (action, version)]
    _render(("requestId", request_id), 1, out)
    for c in children:
        if c is not None:
            _render(c, 1, out)
    out.append("</%sResponse>\n" % action)
    return "".join(out).encode("utf-8")


def error_xml(code, message, request_id):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
            '<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>'
            % (escape(code), escape(message), escape(request_id))).encode("utf-8")


def items(name, elems):
    return (name, [("item", e) for e in elems])


def tagset(tags):
    if not tags:
        return None
    return items("tagSet", [[("key", k), ("value", v)] for k, v in sorted(tags.items())])


# ---------------------------------------------------------------------------- params
class Params:
    def __init__(self, pairs):
        self.d = {}
        for k, v in pairs:
            self.d.setdefault(k, v)

    def get(self, name, default=None):
        return self.d.get(name, default)

    def __contains__(self, name):
        return name in self.d

    def validate(self, action, unsupported=()):
        regs = _PARAM_RES[action]
        for name in self.d:
            if name in _COMMON:
                continue
            base = name.split(".")[0]
            if base in unsupported or not any(r.match(name) for r in regs):
                raise ApiError("UnknownParameter", "The parameter %s is not recognized"
                               % name.split(".")[0])

    def list(self, prefix):
        found = []
        for k, v in self.d.items():
            m = re.match("^" + re.escape(prefix) + r"\.([1-9][0-9]*)$", k)
            if m:
                found.append((int(m.group(1)), v))
        return [v for _, v in sorted(found)]

    def filters(self):
        names = {}
        for k, v in self.d.items():
            m = re.match(r"^Filter\.([1-9][0-9]*)\.Name$", k)
            if m:
                names[int(m.group(1))] = v
        out = []
        for n in sorted(names):
            vals = []
            for k, v in self.d.items():
                m = re.match(r"^Filter\.%d\.Value\.([1-9][0-9]*)$" % n, k)
                if m:
                    vals.append((int(m.group(1)), v))
            out.append((names[n], [v for _, v in sorted(vals)]))
        for k in self.d:
            m = re.match(r"^Filter\.([1-9][0-9]*)\.Value\.", k)
            if m and int(m.group(1)) not in names:
                raise ApiError("InvalidParameterValue", "The filter 'null' is invalid")
        return out

    def bool(self, name, default=False):
        v = self.d.get(name)
        if v is None:
            return default
        if v.lower() == "true":
            return True
        if v.lower() == "false":
            return False
        raise ApiError("InvalidParameterValue", "Invalid value '%s' for %s. Expected: "
                       "'boolean'." % (v, name[0].lower() + name[1:]))


def _filter_match(pattern, value):
    if value is None:
        return False
    rx = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            rx += re.escape(pattern[i + 1])
            i += 2
            continue
        rx += ".*" if c == "*" else "." if c == "?" else re.escape(c)
        i += 1
    return re.fullmatch(rx, str(value), re.S) is not None


def apply_filters(objs, filters, extract, kind):
    out = []
    for o in objs:
        ok = True
        for name, vals in filters:
            cands = extract(o, name)
            if cands is _UNKNOWN:
                raise ApiError("InvalidParameterValue", "The filter '%s' is invalid" % name)
            if not vals:
                raise ApiError("InvalidParameterValue", "The filter '%s' requires at least "
                               "one value" % name)
            if not any(_filter_match(p, c) for p in vals for c in cands):
                ok = False
                break
        if ok:
            out.append(o)
    return out


_UNKNOWN = object()


def check_ids(ids, kind, code_prefix):
    for i in ids:
        if not ID_RES[kind].match(i):
            raise ApiError(code_prefix + ".Malformed", 'Invalid id: "%s"' % i)


# ---------------------------------------------------------------------------- views
class View:
    """What Describe* sees: the live state, or stale snapshots (eventual consistency)."""

    def __init__(self, state, consume_instances, consume_addresses):
        self.state = state
        self.inst_over = {}
        self.addr_over = {}
        for rec in state.stale:
            if rec["kind"] == "instance" and consume_instances:
                self.inst_over.setdefault(rec["id"], rec["snapshot"])
            if rec["kind"] == "address" and (consume_addresses or consume_instances):
                self.addr_over.setdefault(rec["id"], rec["snapshot"])
        for rec in state.stale:
            if (rec["kind"] == "instance" and consume_instances) or \
                    (rec["kind"] == "address" and (consume_addresses or consume_instances)):
                rec["remaining"] -= 1
        state.stale = [r for r in state.stale if r["remaining"] > 0]

    def instances(self):
        return [self.inst_over.get(i["instance_id"], i) for i in self.state.instances.values()]

    def addresses(self):
        return [self.addr_over.get(a["allocation_id"], a) for a in
                self.state.addresses.values()]

    def address_on(self, eni_id, ip):
        for a in self.addresses():
            if a["network_interface_id"] == eni_id and a["private_ip_address"] == ip:
                return a
        return None


def snapshot_stale(state, kind, obj_id, obj, calls):
    state.stale.append({"kind": kind, "id": obj_id, "snapshot": copy.deepcopy(obj),
                        "remaining": int(calls)})


def instance_public_ip(state, view, inst):
    eni0 = inst["network_interfaces"][0]
    a = view.address_on(eni0["network_interface_id"], eni0["private_ip_address"])
    if a:
        return a["public_ip"], state.account_id
    if inst.get("public_ip") and inst["state"] in ("pending", "running", "stopping"):
        return inst["public_ip"], "amazon"
    return None, None


def instance_filter_values(state, view, inst, name):
    enis = inst["network_interfaces"]
    pub, _ = instance_public_ip(state, view, inst)
    simple = {
        "instance-id": [inst["instance_id"]],
        "instance-state-name": [inst["state"]],
        "instance-state-code": [str(STATE_CODES[inst["state"]])],
        "tag-key": list(inst["tags"]),
        "tag-value": list(inst["tags"].values()),
        "private-ip-address": [enis[0]["private_ip_address"]],
        "private-dns-name": [enis[0]["private_dns_name"]],
        "ip-address": [pub] if pub else [],
        "dns-name": [state.public_dns(pub)] if pub else [],
        "availability-zone": [inst["availability_zone"]],
        "instance-type": [inst["instance_type"]],
        "image-id": [inst["image_id"]],
        "reservation-id": [inst["reservation_id"]],
        "vpc-id": [inst["vpc_id"]],
        "subnet-id": [inst["subnet_id"]],
        "owner-id": [state.account_id],
        "network-interface.network-interface-id": [e["network_interface_id"] for e in enis],
        "network-interface.mac-address": [e["mac_address"] for e in enis],
        "network-interface.private-dns-name": [e["private_dns_name"] for e in enis],
        "network-interface.addresses.private-ip-address":
            [ip for e in enis for ip in [e["private_ip_address"]] +
             e["secondary_private_ip_addresses"]],
        "network-interface.association.public-ip":
            [a["public_ip"] for e in enis for a in view.addresses()
             if a["network_interface_id"] == e["network_interface_id"]],
        "network-interface.association.allocation-id":
            [a["allocation_id"] for e in enis for a in view.addresses()
             if a["network_interface_id"] == e["network_interface_id"]],
    }
    if name in simple:
        return simple[name]
    if name.startswith("tag:"):
        k = name[4:]
        return [inst["tags"][k]] if k in inst["tags"] else []
    return _UNKNOWN


def state_xml(name, inst_state, high_byte=0):
    return (name, [("code", STATE_CODES[inst_state] + high_byte), ("name", inst_state)])


def render_eni(state, view, inst, eni):
    assoc_items = []
    primary_assoc = None
    for ip in [eni["private_ip_address"]] + eni["secondary_private_ip_addresses"]:
        a = view.address_on(eni["network_interface_id"], ip)
        assoc = None
        if a:
            assoc = ("association", [("publicIp", a["public_ip"]),
                                     ("publicDnsName", state.public_dns(a["public_ip"])),
                                     ("ipOwnerId", state.account_id)])
        elif ip == eni["private_ip_address"] and eni["device_index"] == 0:
            pub, owner = instance_public_ip(state, view, inst)
            if pub:
                assoc = ("association", [("publicIp", pub),
                                         ("publicDnsName", state.public_dns(pub)),
                                         ("ipOwnerId", owner)])
        if ip == eni["private_ip_address"]:
            primary_assoc = assoc
        assoc_items.append([
            ("privateIpAddress", ip),
            ("privateDnsName", state._private_dns(ip) if ip != eni["private_ip_address"]
             else eni["private_dns_name"]),
            ("primary", ip == eni["private_ip_address"]),
            assoc,
        ])
    return [
        ("networkInterfaceId", eni["network_interface_id"]),
        ("subnetId", eni["subnet_id"]),
        ("vpcId", eni["vpc_id"]),
        ("description", eni["description"]),
        ("ownerId", state.account_id),
        ("status", "in-use"),
        ("macAddress", eni["mac_address"]),
        ("privateIpAddress", eni["private_ip_address"]),
        ("privateDnsName", eni["private_dns_name"]),
        ("sourceDestCheck", True),
        items("groupSet", [[("groupName", "default"), ("groupId", "sg-0123456789abcdef0")]]),
        ("attachment", [("attachmentId", eni["attachment_id"]),
                        ("deviceIndex", eni["device_index"]),
                        ("status", "attached"),
                        ("attachTime", inst["launch_time"]),
                        ("deleteOnTermination", eni["device_index"] == 0),
                        ("networkCardIndex", 0)]),
        primary_assoc,
        items("privateIpAddressesSet", assoc_items),
        ("ipv6AddressesSet", None),
        ("interfaceType", "interface"),
    ]


def render_instance(state, view, inst):
    pub, _ = instance_public_ip(state, view, inst)
    st = inst["state"]
    eni0 = inst["network_interfaces"][0]
    reason = inst["state_transition_reason"] or ""
    if st in ("stopped", "stopping") and not reason:
        reason = "User initiated"
    sr = inst.get("state_reason")
    return [
        ("instanceId", inst["instance_id"]),
        ("imageId", inst["image_id"]),
        state_xml("instanceState", st, inst["state_code_high_byte"]),
        ("privateDnsName", eni0["private_dns_name"] if st != "terminated" else None),
        ("dnsName", state.public_dns(pub) if pub and st in ("pending", "running") else None),
        ("reason", reason or None),
        ("keyName", inst["key_name"]) if inst["key_name"] else None,
        ("amiLaunchIndex", 0),
        ("productCodes", None),
        ("instanceType", inst["instance_type"]),
        ("launchTime", inst["launch_time"]),
        ("placement", [("availabilityZone", inst["availability_zone"]), ("groupName", None),
                       ("tenancy", "default")]),
        ("monitoring", [("state", "disabled")]),
        ("subnetId", inst["subnet_id"]) if st != "terminated" else None,
        ("vpcId", inst["vpc_id"]) if st != "terminated" else None,
        ("privateIpAddress", eni0["private_ip_address"]) if st != "terminated" else None,
        ("ipAddress", pub) if pub else None,
        ("sourceDestCheck", True) if st != "terminated" else None,
        items("groupSet", [[("groupName", "default"), ("groupId", "sg-0123456789abcdef0")]]),
        ("stateReason", [("code", sr["code"]), ("message", sr["message"])]) if sr else None,
        ("architecture", "x86_64"),
        ("rootDeviceType", "ebs"),
        ("rootDeviceName", "/dev/xvda"),
        items("blockDeviceMapping", [[
            ("deviceName", "/dev/xvda"),
            ("ebs", [("volumeId", "vol-" + inst["instance_id"][2:]),
                     ("status", "attached"), ("attachTime", inst["launch_time"]),
                     ("deleteOnTermination", True)])]]) if st != "terminated" else
        ("blockDeviceMapping", None),
        ("virtualizationType", "hvm"),
        ("clientToken", None),
        tagset(inst["tags"]),
        ("hypervisor", "xen"),
        items("networkInterfaceSet", [render_eni(state, view, inst, e)
                                      for e in inst["network_interfaces"]])
        if st != "terminated" else ("networkInterfaceSet", None),
        ("ebsOptimized", False),
        ("enaSupport", True),
        ("cpuOptions", [("coreCount", 1), ("threadsPerCore", 2)]),
        ("capacityReservationSpecification", [("capacityReservationPreference", "open")]),
        ("hibernationOptions", [("configured", inst["hibernation"])]),
        ("enclaveOptions", [("enabled", False)]),
        ("metadataOptions", [("state", "applied"), ("httpTokens", "required"),
                             ("httpPutResponseHopLimit", 2), ("httpEndpoint", "enabled"),
                             ("httpProtocolIpv6", "disabled"),
                             ("instanceMetadataTags", "disabled")]),
        ("platformDetails", "Linux/UNIX"),
        ("usageOperation", "RunInstances"),
        ("usageOperationUpdateTime", inst["launch_time"]),
        ("privateDnsNameOptions", [("hostnameType", "ip-name"),
                                   ("enableResourceNameDnsARecord", False),
                                   ("enableResourceNameDnsAAAARecord", False)]),
        ("maintenanceOptions", [("autoRecovery", "default")]),
    ]


def render_address(state, a):
    inst = state.instance_of_address(a)
    return [
        ("publicIp", a["public_ip"]),
        ("allocationId", a["allocation_id"]),
        ("domain", a["domain"]),
        ("instanceId", inst["instance_id"]) if inst else None,
        ("associationId", a["association_id"]) if a["association_id"] else None,
        ("networkInterfaceId", a["network_interface_id"]) if a["network_interface_id"]
        else None,
        ("networkInterfaceOwnerId", state.account_id) if a["network_interface_id"] else None,
        ("privateIpAddress", a["private_ip_address"]) if a["private_ip_address"] else None,
        tagset(a["tags"]),
        ("publicIpv4Pool", a["public_ipv4_pool"]),
        ("networkBorderGroup", a["network_border_group"]),
    ]


def address_filter_values(state, a, name):
    inst = state.instance_of_address(a)
    simple = {
        "allocation-id": [a["allocation_id"]],
        "association-id": [a["association_id"]] if a["association_id"] else [],
        "domain": [a["domain"]],
        "instance-id": [inst["instance_id"]] if inst else [],
        "network-interface-id": [a["network_interface_id"]] if a["network_interface_id"]
        else [],
        "network-interface-owner-id": [state.account_id] if a["network_interface_id"] else [],
        "private-ip-address": [a["private_ip_address"]] if a["private_ip_address"] else [],
        "public-ip": [a["public_ip"]],
        "network-border-group": [a["network_border_group"]],
        "public-ipv4-pool": [a["public_ipv4_pool"]],
        "tag-key": list(a["tags"]),
    }
    if name in simple:
        return simple[name]
    if name.startswith("tag:"):
        k = name[4:]
        return [a["tags"][k]] if k in a["tags"] else []
    return _UNKNOWN


# ---------------------------------------------------------------------------- helpers
def _not_found_instances(missing):
    if len(missing) == 1:
        return ApiError("InvalidInstanceID.NotFound",
                        "The instance ID '%s' does not exist" % missing[0])
    return ApiError("InvalidInstanceID.NotFound",
                    "The instance IDs '%s' do not exist" % ", ".join(missing))


def _instances_by_id(state, ids):
    check_ids(ids, "instance", "InvalidInstanceID")
    missing = [i for i in ids if i not in state.instances]
    if missing:
        raise _not_found_instances(missing)
    return [state.instances[i] for i in ids]


def _require_instance_ids(params):
    ids = params.list("InstanceId")
    if not ids:
        raise ApiError("MissingParameter",
                       "The request must contain the parameter InstanceId")
    return ids


def _page_token(offset, digest):
    raw = json.dumps({"o": offset, "h": digest}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "ec2sim"


def _parse_token(token, digest):
    try:
        if not token.endswith("ec2sim"):
            raise ValueError
        raw = token[:-6]
        raw += "=" * (-len(raw) % 4)
        d = json.loads(base64.urlsafe_b64decode(raw))
        if d["h"] != digest or not isinstance(d["o"], int) or d["o"] < 0:
            raise ValueError
        return d["o"]
    except (ValueError, KeyError, TypeError):
        raise ApiError("InvalidPaginationToken",
                       "The specified pagination token is not valid or is expired.")


def _max_results(params, allowed_with_ids=False):
    mr = params.get("MaxResults")
    if mr is None:
        return None
    try:
        n = int(mr)
    except ValueError:
        raise ApiError("InvalidParameterValue",
                       "Invalid value '%s' for maxResults. Expected: 'integer'." % mr)
    if n < 5:
        raise ApiError("InvalidParameterValue", "Value ( %d ) for parameter maxResults is "
                       "invalid. Expecting a value greater than 5." % n)
    if n > 1000:
        raise ApiError("InvalidParameterValue", "Value ( %d ) for parameter maxResults is "
                       "invalid. Expecting a value less than 1000." % n)
    return n


def _paginate(params, objs):
    mr = _max_results(params)
    token = params.get("NextToken")
    digest = hashlib.sha256(json.dumps(
        sorted((k, v) for k, v in params.d.items()
               if k not in ("NextToken", "DryRun") and not k.startswith("X-Amz-")))
        .encode()).hexdigest()[:16]
    offset = _parse_token(token, digest) if token else 0
    size = mr if mr is not None else 1000
    page = objs[offset:offset + size]
    nxt = None
    if offset + size < len(objs):
        nxt = _page_token(offset + size, digest)
    return page, nxt


# ---------------------------------------------------------------------------- actions
def prepare(state, action, params):
    """Validation that happens before the permission / DryRun check."""
    params.validate(action, state.unsupported_params)
    if action in ("StopInstances", "StartInstances", "RebootInstances"):
        _instances_by_id(state, _require_instance_ids(params))
    elif action == "DescribeInstances":
        ids = params.list("InstanceId")
        if ids and params.get("MaxResults") is not None:
            raise ApiError("InvalidParameterCombination", "The parameter instancesSet cannot "
                           "be used with the parameter maxResults")
        _max_results(params)
        check_ids(ids, "instance", "InvalidInstanceID")
    elif action == "DescribeInstanceStatus":
        _max_results(params)
        check_ids(params.list("InstanceId"), "instance", "InvalidInstanceID")
    elif action == "AssociateAddress":
        _resolve_association_target(state, params)
    elif action == "DisassociateAddress":
        if params.get("AssociationId") is None and params.get("PublicIp") is None:
            raise ApiError("MissingParameter",
                           "Either public IP or association id must be specified")
        aid = params.get("AssociationId")
        if aid is not None and not ID_RES["association"].match(aid):
            raise ApiError("InvalidAssociationID.Malformed", 'Invalid id: "%s"' % aid)
    for name in ("DryRun", "Force", "Hibernate", "SkipOsShutdown", "AllowReassociation",
                 "IncludeAllInstances", "AllRegions"):
        params.bool(name)


def handle(state, action, params, ctx):
    """Run the action (state.lock held by the caller); return list of response children."""
    return globals()["do_" + action](state, params, ctx)


def do_DescribeInstances(state, params, ctx):
    ids = params.list("InstanceId")
    view = View(state, True, False)
    insts = view.instances()
    if ids:
        missing = [i for i in ids if i not in state.instances]
        if missing:
            raise _not_found_instances(missing)
        idset = set(ids)
        insts = [i for i in insts if i["instance_id"] in idset]
    insts = apply_filters(insts, params.filters(),
                          lambda o, n: instance_filter_values(state, view, o, n), "instance")
    page, nxt = _paginate(params, insts)
    reservations = []
    for inst in page:
        if reservations and reservations[-1][0] == inst["reservation_id"]:
            reservations[-1][1].append(inst)
        else:
            reservations.append((inst["reservation_id"], [inst]))
    res_items = []
    for rid, members in reservations:
        res_items.append([
            ("reservationId", rid),
            ("ownerId", state.account_id),
            items("groupSet", [[("groupName", "default"),
                                ("groupId", "sg-0123456789abcdef0")]]),
            items("instancesSet", [render_instance(state, view, i) for i in members]),
        ])
    return [items("reservationSet", res_items), ("nextToken", nxt) if nxt else None]


def do_DescribeInstanceStatus(state, params, ctx):
    ids = params.list("InstanceId")
    include_all = params.bool("IncludeAllInstances")
    view = View(state, True, False)
    insts = view.instances()
    if ids:
        missing = [i for i in ids if i not in state.instances]
        if missing:
            raise _not_found_instances(missing)
        insts = [i for i in insts if i["instance_id"] in set(ids)]
    if not include_all:
        insts = [i for i in insts if i["state"] == "running"]

    def vals(o, n):
        if n == "instance-state-name":
            return [o["state"]]
        if n == "instance-state-code":
            return [str(STATE_CODES[o["state"]])]
        if n == "availability-zone":
            return [o["availability_zone"]]
        return _UNKNOWN
    insts = apply_filters(insts, params.filters(), vals, "instance")
    page, nxt = _paginate(params, insts)
    out = []
    for i in page:
        ok = "ok" if i["state"] == "running" else "not-applicable"
        out.append([
            ("instanceId", i["instance_id"]),
            ("availabilityZone", i["availability_zone"]),
            state_xml("instanceState", i["state"], i["state_code_high_byte"]),
            ("systemStatus", [("status", ok), items("details", [[("name", "reachability"),
                                                                 ("status", "passed")]])
                              if ok == "ok" else ("details", None)]),
            ("instanceStatus", [("status", ok), items("details", [[("name", "reachability"),
                                                                   ("status", "passed")]])
                                if ok == "ok" else ("details", None)]),
        ])
    return [items("instanceStatusSet", out), ("nextToken", nxt) if nxt else None]


def do_DescribeRegions(state, params, ctx):
    names = params.list("RegionName")
    if names and any(n != state.region for n in names):
        bad = [n for n in names if n != state.region][0]
        raise ApiError("InvalidParameterValue", "Invalid region: %s" % bad)
    return [items("regionInfo", [[("regionName", state.region),
                                  ("regionEndpoint", "ec2.%s.amazonaws.com" % state.region),
                                  ("optInStatus", "opt-in-not-required")]])]


def _stale_fault(ctx):
    for f in ctx.get("faults", []):
        if f["kind"] == "stale":
            return f
    return None


def do_StopInstances(state, params, ctx):
    insts = _instances_by_id(state, params.list("InstanceId"))
    force = params.bool("Force")
    hibernate = params.bool("Hibernate")
    skip = params.bool("SkipOsShutdown")
    for inst in insts:
        if inst["state"] in ("terminated", "shutting-down", "pending"):
            raise ApiError("IncorrectInstanceState",
                           "This instance '%s' is not in a state from which it can be stopped."
                           % inst["instance_id"])
        if hibernate and not inst["hibernation"]:
            raise ApiError("UnsupportedHibernationConfiguration",
                           "For hibernation, the instance must be configured for hibernation: "
                           "'%s'." % inst["instance_id"])
    stale = _stale_fault(ctx)
    out = []
    for inst in insts:
        prev = inst["state"]
        if stale:
            snapshot_stale(state, "instance", inst["instance_id"], inst,
                           stale.get("calls", 1))
        if prev == "running":
            delay = inst["force_stop_delay"] if (force or skip) else inst["stop_delay"]
            inst["state_transition_reason"] = "User initiated (%s)" % \
                time.strftime("%Y-%m-%d %H:%M:%S GMT",
                                            time.gmtime())
            inst["state_reason"] = {"code": "Client.UserInitiatedShutdown",
                                    "message": "Client.UserInitiatedShutdown: User initiated "
                                               "shutdown"}
            state.set_transition(inst, "stopping", "stopped", delay)
            state._run_instance_hook(inst, "stop", prev, gate=True, force=force or skip)
        elif prev == "stopping" and (force or skip):
            remaining = inst["_deadline"] - time.time()
            if remaining > inst["force_stop_delay"]:
                inst["_deadline"] = time.time() + inst["force_stop_delay"]
                state.wake()
            state.event("force", instance_id=inst["instance_id"], state=prev)
        out.append([("instanceId", inst["instance_id"]),
                    state_xml("currentState", inst["state"], inst["state_code_high_byte"]),
                    state_xml("previousState", prev, inst["state_code_high_byte"])])
    return [items("instancesSet", out)]


def do_StartInstances(state, params, ctx):
    insts = _instances_by_id(state, params.list("InstanceId"))
    for inst in insts:
        if inst["state"] in ("terminated", "shutting-down", "stopping"):
            raise ApiError("IncorrectInstanceState",
                           "The instance '%s' is not in a state from which it can be started."
                           % inst["instance_id"])
    stale = _stale_fault(ctx)
    out = []
    for inst in insts:
        prev = inst["state"]
        if stale:
            snapshot_stale(state, "instance", inst["instance_id"], inst,
                           stale.get("calls", 1))
        if prev == "stopped":
            inst["state_transition_reason"] = ""
            state.set_transition(inst, "pending", "running", inst["start_delay"])
            state._run_instance_hook(inst, "start", prev, gate=True)
        out.append([("instanceId", inst["instance_id"]),
                    state_xml("currentState", inst["state"], inst["state_code_high_byte"]),
                    state_xml("previousState", prev, inst["state_code_high_byte"])])
    return [items("instancesSet", out)]


def do_RebootInstances(state, params, ctx):
    insts = _instances_by_id(state, params.list("InstanceId"))
    for inst in insts:
        if inst["state"] not in ("running", "pending"):
            raise ApiError("IncorrectInstanceState",
                           "The instance '%s' is not in a state from which it can be rebooted."
                           % inst["instance_id"])
    for inst in insts:
        state.event("reboot", instance_id=inst["instance_id"], state=inst["state"])
        state._run_instance_hook(inst, "reboot", inst["state"], gate=False)
    return [("return", True)]


def do_DescribeAddresses(state, params, ctx):
    allocs = params.list("AllocationId")
    ips = params.list("PublicIp")
    check_ids(allocs, "allocation", "InvalidAllocationID")
    for ip in ips:
        if not is_ip(ip):
            raise ApiError("InvalidParameterValue",
                           "Invalid value '%s' for PublicIp. It must be a valid IP address."
                           % ip)
    missing = [a for a in allocs if a not in state.addresses]
    if missing:
        raise ApiError("InvalidAllocationID.NotFound",
                       "The allocation ID%s '%s' do%s not exist"
                       % ("s" if len(missing) > 1 else "", ", ".join(missing),
                          "" if len(missing) > 1 else "es"))
    known_ips = {a["public_ip"] for a in state.addresses.values()}
    missing = [i for i in ips if i not in known_ips]
    if missing:
        raise ApiError("InvalidAddress.NotFound", "Address '%s' not found." % missing[0])
    view = View(state, False, True)
    addrs = view.addresses()
    if allocs:
        addrs = [a for a in addrs if a["allocation_id"] in set(allocs)]
    if ips:
        addrs = [a for a in addrs if a["public_ip"] in set(ips)]
    addrs = apply_filters(addrs, params.filters(),
                          lambda o, n: address_filter_values(state, o, n), "address")
    return [items("addressesSet", [render_address(state, a) for a in addrs])]


def _resolve_association_target(state, params):
    alloc = params.get("AllocationId")
    pub = params.get("PublicIp")
    iid = params.get("InstanceId")
    eni_id = params.get("NetworkInterfaceId")
    pip = params.get("PrivateIpAddress")
    if alloc is None and pub is None:
        raise ApiError("MissingParameter", "Either public IP or allocation id must be "
                       "specified")
    if iid is None and eni_id is None:
        raise ApiError("MissingParameter", "Either instance ID or network interface id must "
                       "be specified")
    if alloc is None:
        if not is_ip(pub):
            raise ApiError("InvalidParameterValue", "Invalid value '%s' for PublicIp." % pub)
        if pub not in {a["public_ip"] for a in state.addresses.values()}:
            raise ApiError("InvalidAddress.NotFound", "Address '%s' not found." % pub)
        raise ApiError("InvalidParameterCombination", "You must specify an allocation id "
                       "when mapping an address to a VPC instance")
    if not ID_RES["allocation"].match(alloc):
        raise ApiError("InvalidAllocationID.Malformed", 'Invalid id: "%s" (expecting '
                       '"eipalloc-...")' % alloc)
    if iid is not None:
        check_ids([iid], "instance", "InvalidInstanceID")
    if eni_id is not None and not ID_RES["eni"].match(eni_id):
        raise ApiError("InvalidNetworkInterfaceID.Malformed", 'Invalid id: "%s" (expecting '
                       '"eni-...")' % eni_id)
    if pip is not None and not is_ip(pip):
        raise ApiError("InvalidParameterValue", "Invalid value '%s' for privateIpAddress."
                       % pip)
    addr = state.addresses.get(alloc)
    if addr is None:
        raise ApiError("InvalidAllocationID.NotFound",
                       "The allocation ID '%s' does not exist" % alloc)
    if eni_id is not None:
        eni = state.eni(eni_id)
        if eni is None:
            raise ApiError("InvalidNetworkInterfaceID.NotFound",
                           "The networkInterface ID '%s' does not exist" % eni_id)
        inst = state.instance_of_eni(eni_id)
        if iid is not None and inst["instance_id"] != iid:
            raise ApiError("InvalidParameterCombination", "Network interface '%s' is not "
                           "attached to instance '%s'" % (eni_id, iid))
    else:
        inst = state.instances.get(iid)
        if inst is None:
            raise _not_found_instances([iid])
        if len(inst["network_interfaces"]) > 1:
            raise ApiError("InvalidInstanceID",
                           "There are multiple interfaces attached to instance '%s'. Please "
                           "specify an interface ID for the operation instead." % iid)
        eni = inst["network_interfaces"][0]
    if inst["state"] in ("terminated", "shutting-down"):
        raise ApiError("IncorrectInstanceState", "The instance '%s' is not in a valid state "
                       "for this operation." % inst["instance_id"])
    if pip is None:
        pip = eni["private_ip_address"]
    elif pip != eni["private_ip_address"] and pip not in eni["secondary_private_ip_addresses"]:
        raise ApiError("InvalidParameterValue", "The specified private IP address '%s' is not "
                       "assigned to network interface '%s'." % (pip, eni["network_interface_id"]))
    return addr, eni, pip


def do_AssociateAddress(state, params, ctx):
    addr, eni, pip = _resolve_association_target(state, params)
    allow = params.bool("AllowReassociation", True)
    stale = _stale_fault(ctx)
    if stale:
        other = state.address_on(eni["network_interface_id"], pip)
        for a in (addr, other):
            if a is not None:
                snapshot_stale(state, "address", a["allocation_id"], a, stale.get("calls", 1))
    assoc = state.associate(addr, eni["network_interface_id"], pip, allow)
    return [("return", True), ("associationId", assoc)]


def do_DisassociateAddress(state, params, ctx):
    aid = params.get("AssociationId")
    stale = _stale_fault(ctx)
    if aid is not None:
        addr = next((a for a in state.addresses.values() if a["association_id"] == aid), None)
        if addr is None:
            if aid in state.old_associations:
                return [("return", True)]          # idempotent, as EC2
            raise ApiError("InvalidAssociationID.NotFound",
                           "The association ID '%s' does not exist" % aid)
    else:
        pub = params.get("PublicIp")
        addr = next((a for a in state.addresses.values() if a["public_ip"] == pub), None)
        if addr is None:
            raise ApiError("InvalidAddress.NotFound", "Address '%s' not found." % pub)
        if addr["domain"] == "vpc":
            raise ApiError("InvalidParameterValue", "You must specify an association id when "
                           "unmapping an address from a VPC instance")
    if stale:
        snapshot_stale(state, "address", addr["allocation_id"], addr, stale.get("calls", 1))
    state.disassociate(addr)
    return [("return", True)]
