"""CIB_file fixtures for the eip and ec2ha tests.

``two-nodes.xml`` is a Pacemaker 2.1.5 CIB (crm_feature_set 3.16.1, so libcib also accepts
writes to it): node1 and node2 online, node2 recorded as i-0000000000000bbbb, a fence_ec2
device, stonith-enabled=true and priority-fencing-delay=15s.  ``make_cib`` copies it with
the changes a test needs.
"""
import os
import xml.etree.ElementTree as ET

DIR = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(DIR, "two-nodes.xml")

# node_state attributes per state, as Pacemaker 2.1.5 writes them
NODE_STATES = {
    "online": dict(in_ccm="true", crmd="online", join="member", expected="member"),
    "offline": dict(in_ccm="false", crmd="offline", join="down", expected="down"),
    "unclean": dict(in_ccm="false", crmd="offline", join="down", expected="member"),
}


def _set_property(root, name, value):
    props = root.find("./configuration/crm_config/cluster_property_set")
    for nv in props.findall("nvpair"):
        if nv.get("name") == name:
            if value is None:
                props.remove(nv)
            else:
                nv.set("value", value)
            return
    if value is not None:
        ET.SubElement(props, "nvpair", id=f"cib-bootstrap-options-{name}", name=name,
                      value=value)


def _node(root, name):
    for node in root.findall("./configuration/nodes/node"):
        if node.get("uname") == name:
            return node
    raise KeyError(name)


def _set_instance_id(root, name, instance_id):
    node = _node(root, name)
    attrs = node.find("instance_attributes")
    if attrs is None:
        attrs = ET.SubElement(node, "instance_attributes", id=f"nodes-{node.get('id')}")
    for nv in attrs.findall("nvpair"):
        if nv.get("name") == "ec2-instance-id":
            attrs.remove(nv)
    if instance_id is not None:
        ET.SubElement(attrs, "nvpair", id=f"nodes-{node.get('id')}-ec2-instance-id",
                      name="ec2-instance-id", value=instance_id)


def _set_state(root, name, state):
    status = root.find("./status")
    for ns in status.findall("node_state"):
        if ns.get("uname") == name:
            if state is None:
                status.remove(ns)
            else:
                for k, v in NODE_STATES[state].items():
                    ns.set(k, v)
            return
    if state is not None:
        node = _node(root, name)
        ET.SubElement(status, "node_state", id=node.get("id"), uname=name,
                      **NODE_STATES[state])


def make_cib(path, stonith_enabled="true", properties=None, instance_ids=None, states=None,
             fence_device=True, extra_nodes=(), fence_params=None):
    """Write a CIB to `path` and return the path as str.

    instance_ids: {node: "i-..." or None}; states: {node: "online"|"offline"|"unclean"|None};
    properties: {name: value or None}; extra_nodes: names of further online nodes;
    fence_params: {name: value} added to the fence_ec2 device's instance attributes.
    """
    tree = ET.parse(BASE)
    root = tree.getroot()
    _set_property(root, "stonith-enabled", stonith_enabled)
    for name, value in (properties or {}).items():
        _set_property(root, name, value)
    for i, name in enumerate(extra_nodes, start=3):
        ET.SubElement(root.find("./configuration/nodes"), "node", id=str(i), uname=name)
        _set_state(root, name, "online")
    for name, iid in (instance_ids or {}).items():
        _set_instance_id(root, name, iid)
    for name, state in (states or {}).items():
        _set_state(root, name, state)
    for prim in root.find("./configuration/resources").findall("primitive"):
        if prim.get("class") == "stonith":
            attrs = prim.find("instance_attributes")
            for name, value in (fence_params or {}).items():
                ET.SubElement(attrs, "nvpair", id="%s-%s" % (attrs.get("id"), name),
                              name=name, value=value)
    if not fence_device:
        resources = root.find("./configuration/resources")
        for prim in resources.findall("primitive"):
            if prim.get("class") == "stonith":
                resources.remove(prim)
    tree.write(str(path), encoding="unicode")
    return str(path)


def node_instance_id(path, name):
    """The ec2-instance-id a CIB file records for node `name`, or None."""
    root = ET.parse(str(path)).getroot()
    try:
        node = _node(root, name)
    except KeyError:
        return None
    for nv in node.iter("nvpair"):
        if nv.get("name") == "ec2-instance-id":
            return nv.get("value")
    return None
