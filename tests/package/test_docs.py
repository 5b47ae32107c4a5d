"""The operator documentation stays true to the code.

- docs/iam-policy.json allows exactly the EC2 calls the agents make, with `Resource: *` only
  where EC2 has no resource-level permissions, and tag conditions on instances and Elastic IPs;
- the parameter tables of docs/migrating.md name real parameters of fence_aws/awseip (as
  installed, plus those newer upstream releases added) and of our agents, cover all of them,
  and quote our defaults correctly;
- every parameter in the crm/pcs configurations shown in docs/ exists in the agent's metadata;
- relative links between the pages (and to crm-examples/) resolve, anchors included.
"""
import glob
import json
import os
import re

import pytest

import pkghelp as pk

DOCS = os.path.join(pk.REPO, "docs")
POLICY = os.path.join(DOCS, "iam-policy.json")

# EC2 client calls of lib/ (include/ec2ha/ec2.h) -> the IAM action they need.
CALLS = {
    "ec2ha_ec2_describe_instances": "DescribeInstances",
    "ec2ha_ec2_describe_instance": "DescribeInstances",
    "ec2ha_ec2_describe_addresses": "DescribeAddresses",
    "ec2ha_ec2_stop_instances": "StopInstances",
    "ec2ha_ec2_start_instances": "StartInstances",
    "ec2ha_ec2_associate_address": "AssociateAddress",
    "ec2ha_ec2_disassociate_address": "DisassociateAddress",
}
UNSCOPABLE = {"DescribeInstances", "DescribeAddresses"}

# Parameters of newer upstream releases than Debian 12's fence-agents/resource-agents 4.12.
UPSTREAM_FENCE_AWS = {"skip_race_check", "skip_os_shutdown"}
UPSTREAM_AWSEIP = {"region", "network_interface_id", "auth_type", "curl_retries", "curl_sleep"}


def read(path):
    with open(path) as f:
        return f.read()


def doc_pages():
    return sorted(glob.glob(os.path.join(DOCS, "*.md")))


# ---- the IAM policy ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def policy():
    with open(POLICY) as f:
        return json.load(f)


def statements(policy):
    for st in policy["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        yield st, [a.split(":", 1)[1] for a in actions], resources


def called_actions():
    found = set()
    for src in ("fence", "agents/eip", "agents/cli"):
        for path in glob.glob(os.path.join(pk.REPO, src, "*.c")):
            text = read(path)
            for fn, action in CALLS.items():
                if re.search(r"\b" + fn + r"\s*\(", text):
                    found.add(action)
            found.update(re.findall(r'ec2ha_form_init\s*\([^,]+,\s*"([A-Za-z]+)"', text))
    return found


def test_policy_is_an_allow_only_policy_for_ec2(policy):
    assert policy["Version"] == "2012-10-17"
    sids = [st.get("Sid") for st in policy["Statement"]]
    assert all(sids) and len(set(sids)) == len(sids), f"every statement needs a unique Sid: {sids}"
    for st, actions, _ in statements(policy):
        assert st["Effect"] == "Allow"
        assert all(a.startswith("ec2:") for a in
                   (st["Action"] if isinstance(st["Action"], list) else [st["Action"]]))


def test_policy_allows_exactly_what_the_agents_call(policy):
    allowed = {a for _, actions, _ in statements(policy) for a in actions}
    called = called_actions()
    if not called:
        pytest.skip("no agent sources in this tree yet")
    assert called <= allowed, f"called but not allowed by the policy: {sorted(called - allowed)}"
    if all(pk.has_sources(src) for src, *_ in pk.PROGRAMS.values()):
        assert allowed == called, f"allowed but never called: {sorted(allowed - called)}"


def test_policy_scopes_everything_ec2_can_scope(policy):
    for st, actions, resources in statements(policy):
        if "*" in resources:
            assert set(actions) <= UNSCOPABLE, \
                f"{st['Sid']}: Resource * for {actions}; only {sorted(UNSCOPABLE)} need it"
            continue
        for r in resources:
            assert re.fullmatch(r"arn:aws:ec2:\*:\*:(instance|elastic-ip|network-interface)/\*", r), r
            if ":instance/" in r or ":elastic-ip/" in r:
                cond = st.get("Condition", {}).get("StringEquals", {})
                assert cond.get("aws:ResourceTag/ec2ha-cluster") == "CLUSTER_NAME", \
                    f"{st['Sid']}: {r} without the ec2ha-cluster tag condition"


def grants(policy, action, resource_type):
    return any(action in actions and any(f":{resource_type}/" in r or r == "*" for r in resources)
               for _, actions, resources in statements(policy))


def test_policy_grants_every_resource_each_call_is_checked_against(policy):
    """AWS's Service Authorization Reference: AssociateAddress is checked against the Elastic
    IP, the instance and the network interface in the request; DisassociateAddress against the
    Elastic IP and the network interface it is on; Stop/StartInstances against the instance."""
    need = {
        "AssociateAddress": ["elastic-ip", "instance", "network-interface"],
        "DisassociateAddress": ["elastic-ip", "network-interface"],
        "StopInstances": ["instance"],
        "StartInstances": ["instance"],
    }
    for action, types in need.items():
        for t in types:
            assert grants(policy, action, t), f"ec2:{action} is not allowed on {t}"


# ---- the migration tables ---------------------------------------------------------------------

def table_after(text, heading):
    """Rows (lists of cells) of the first Markdown table after a heading line."""
    start = text.index(heading)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]   # without the header row


def name_of(cell):
    m = re.fullmatch(r"`([a-z0-9_]+)`", cell)
    return m.group(1) if m else None


def metadata_names(cmd, env=None, ocf=False):
    proc = pk.run(cmd, env=env, timeout=60)
    if proc.returncode != 0:
        return None
    parse = pk.parse_ocf_metadata if ocf else pk.parse_fence_metadata
    _, params, _ = parse(proc.stdout)
    return {p.name: p for p in params}, proc.stdout


def defaults_of(xml):
    import xml.etree.ElementTree as ET
    out = {}
    for p in ET.fromstring(xml).iter("parameter"):
        c = p.find("content")
        if c is not None:
            out[p.get("name")] = (c.get("type"), c.get("default"))
    return out


def check_table(rows, theirs, upstream_extra, ours_xml, ours_names):
    their_col = [name_of(r[0]) for r in rows if r[0] != "–"]
    our_col = [name_of(r[1]) for r in rows if r[1] != "–"]
    assert None not in their_col and None not in our_col, rows
    assert sorted(set(our_col)) == sorted(ours_names), \
        (f"our parameters missing from the table: {sorted(set(ours_names) - set(our_col))}; "
         f"in the table but not ours: {sorted(set(our_col) - set(ours_names))}")
    if theirs is not None:
        unknown = set(their_col) - set(theirs) - upstream_extra
        assert not unknown, f"not parameters of the agent we replace: {sorted(unknown)}"
        absent = set(theirs) - set(their_col)
        assert not absent, f"parameters of the replaced agent missing from the table: {absent}"
    defaults = defaults_of(ours_xml)
    for row in rows:
        ours = name_of(row[1]) if row[1] != "–" else None
        m = re.search(r"default \**(\d+|true|false|`[^`]+`)", row[2])
        if ours is None or m is None or m.group(1).startswith("`$"):
            continue
        said = m.group(1).strip("`")
        typ, actual = defaults[ours]
        if actual is None and typ == "boolean":
            actual = "false"
        assert said == actual, f"docs say {ours} defaults to {said}, the metadata says {actual}"


def test_fence_aws_table():
    path = pk.program_path("fence_ec2")
    if not pk.has_sources("fence") or not os.access(path, os.X_OK):
        pytest.skip("fence_ec2 not built")
    ours, ours_xml = metadata_names([path, "-o", "metadata"])
    theirs = None
    if not pk.missing_tools("fence_aws"):
        theirs, _ = metadata_names(["fence_aws", "-o", "metadata"])
    rows = table_after(read(os.path.join(DOCS, "migrating.md")), "## fence_aws → fence_ec2")
    check_table(rows, theirs, UPSTREAM_FENCE_AWS, ours_xml, ours)


def test_awseip_table():
    path = pk.program_path("eip")
    if not pk.has_sources("agents/eip") or not os.access(path, os.X_OK):
        pytest.skip("eip not built")
    env = {"OCF_ROOT": pk.OCF_ROOT}
    ours, ours_xml = metadata_names([path, "meta-data"], env=env, ocf=True)
    theirs = None
    awseip = os.path.join(pk.OCF_ROOT, "resource.d/heartbeat/awseip")
    if os.access(awseip, os.X_OK):
        theirs, _ = metadata_names([awseip, "meta-data"], env=env, ocf=True)
    rows = table_after(read(os.path.join(DOCS, "migrating.md")),
                       "## ocf:heartbeat:awseip → ocf:ec2ha:eip")
    check_table(rows, theirs, UPSTREAM_AWSEIP, ours_xml, ours)


# ---- configurations shown in the docs ---------------------------------------------------------

def code_blocks(text):
    return re.findall(r"```[a-z]*\n(.*?)```", text, re.S)


def shown_parameters():
    """(page, agent, parameter) for every key=value given to fence_ec2 or ocf:ec2ha:eip in a
    crm or pcs command shown in docs/*.md."""
    out = []
    for page in doc_pages():
        for block in code_blocks(read(page)):
            joined = re.sub(r"\\\n\s*", " ", block)
            for line in joined.splitlines():
                words = line.split()
                agent = None
                if "stonith:fence_ec2" in words or ("stonith" in words and "fence_ec2" in words):
                    agent = "fence_ec2"
                elif "ocf:ec2ha:eip" in words:
                    agent = "eip"
                if agent is None:
                    continue
                for w in words:
                    if w in ("op", "meta", "--group"):
                        break
                    m = re.fullmatch(r"([a-z_]+)=.*", w)
                    if m and not m.group(1).startswith("pcmk_"):
                        out.append((os.path.basename(page), agent, m.group(1)))
    return out


def test_parameters_in_shown_configurations_exist():
    shown = shown_parameters()
    assert shown, "no crm/pcs configuration found in docs/"
    names = {}
    if pk.has_sources("fence") and os.access(pk.program_path("fence_ec2"), os.X_OK):
        names["fence_ec2"], _ = metadata_names([pk.program_path("fence_ec2"), "-o", "metadata"])
    if pk.has_sources("agents/eip") and os.access(pk.program_path("eip"), os.X_OK):
        names["eip"], _ = metadata_names([pk.program_path("eip"), "meta-data"],
                                         env={"OCF_ROOT": pk.OCF_ROOT}, ocf=True)
    if not names:
        pytest.skip("agents not built")
    wrong = [(page, agent, p) for page, agent, p in shown if agent in names
             and p not in names[agent]]
    assert not wrong, f"parameters the agents do not have: {wrong}"


# ---- links ------------------------------------------------------------------------------------

def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[`*_]", "", s)
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def test_relative_links_resolve():
    bad = []
    for page in doc_pages():
        text = read(page)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(DOCS, path)) if path else page
            if "/crm-examples/" in full and not os.path.isdir(os.path.join(pk.REPO,
                                                                           "crm-examples")):
                continue        # crm-examples/ not merged into this tree yet
            if not os.path.exists(full):
                bad.append(f"{os.path.basename(page)}: {target} (no such file)")
                continue
            if anchor and full.endswith(".md"):
                heads = [slug(h) for h in re.findall(r"^#+\s+(.*)$", read(full), re.M)]
                if anchor not in heads:
                    bad.append(f"{os.path.basename(page)}: {target} (no such heading)")
    assert not bad, "broken links:\n" + "\n".join(bad)


def test_every_page_is_listed_in_the_index():
    index = read(os.path.join(DOCS, "README.md"))
    pages = [os.path.basename(p) for p in doc_pages() if not p.endswith("README.md")]
    missing = [p for p in pages if f"]({p})" not in index]
    assert not missing, f"docs/README.md does not link {missing}"
