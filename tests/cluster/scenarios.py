#!/usr/bin/python3
"""The cluster scenarios of issue 5, run against real Pacemaker + Corosync in namespaces with
the installed fence_ec2 and ocf:ec2ha:eip, configured from crm-examples/ with the crm shell.

Scenarios on one shared two-node cluster (two-node.crm), each starting from a healthy
baseline (both instances running, both nodes online, the group started, the Elastic IP on
the group's node) and restoring it afterwards:
    pcs-md          crm-examples/pcs.md configures what two-node.crm configures
    planned-move    crm resource move / crm node standby: no fencing, EIP follows, loss
    crash           the active node dies: fenced through fence_ec2, EIP and service move
    api-degraded    the same with throttling, 5xx and stale reads injected
    partition       one node's link is cut: the other fences it, EIP ends on the survivor
    fence-race      both lose each other at once: the delay leaves exactly one survivor
    fencing-off     stonith-enabled=false: the eip start is refused, reason in crm_mon
    seed-lsb        seed-lsb.crm (lsb:eip + fencing): crash of the owner, EIP moves
Three-node cluster (three-node.crm):
    three-node      crash of the owner: fenced by reboot, EIP moves, the instance starts
                    again and its node rejoins
Every scenario checks evidence.invariants() over ec2sim's event log.
"""
import json
import os
import shutil
import re
import shlex
import time
import xml.etree.ElementTree as ET

import harness as H
import aws as A
import evidence as E
from harness import HarnessError, log, wait_for

CRM_DIR = os.path.join(H.REPO, "crm-examples")
GROUP = "g-service"


LAST = {}          # the cluster of the scenario that ran last (for its logs)


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


# ---------------------------------------------------------------------------------------------
# helpers on a running cluster

def live(c):
    return [n for n in c.nodes if n.running]


def any_live(c, prefer=None):
    if prefer is not None and prefer.running:
        return prefer
    nodes = live(c)
    if not nodes:
        raise HarnessError("no node is running")
    return nodes[0]


def crm(node, *args, check_rc=True, timeout=120):
    r = node.run(["crm"] + list(args), check=False, timeout=timeout)
    if check_rc and (r.returncode != 0 or "ERROR" in r.stderr):
        raise HarnessError("crm %s on %s: exit %d: %s %s" % (" ".join(args), node.name,
                                                            r.returncode, r.stdout.strip(),
                                                            r.stderr.strip()))
    return r


def load_crm(node, name):
    """crm configure load update crm-examples/NAME, exactly as an operator would (no -F).

    The file is copied under the run directory first: a node has its own /tmp, so a
    checkout that lives under /tmp (as a CI clone may) is not visible inside it."""
    visible = os.path.join(H.RUN_DIR, "crm-examples")
    os.makedirs(visible, exist_ok=True)
    path = os.path.join(visible, name)
    shutil.copyfile(os.path.join(CRM_DIR, name), path)
    crm(node, "configure", "load", "update", path)


def group_owner(st):
    """Node running both eip and service (the whole group), else None."""
    a, b = st.running_on("eip"), st.running_on("service")
    return a if a and a == b else None


def wait_group(c, observer=None, on=None, timeout=120, what=None):
    def ok():
        st = any_live(c, observer).crm_mon()
        o = group_owner(st)
        if o and (on is None or o == on):
            return o
        return None
    return wait_for(what or ("%s started%s" % (GROUP, " on " + on if on else "")), ok, timeout,
                    0.5)


def wait_fence_device(c, observer=None, timeout=120):
    return wait_for("fence-ec2 started", lambda: any_live(c, observer).crm_mon()
                    .running_on("fence-ec2"), timeout, 0.5)


def wait_eip_on(c, node, timeout=60):
    """Until the Elastic IP is associated with node's instance; returns when that happened."""
    def ok():
        last = None
        for ev in c.events(("association",)):
            if ev.get("allocation_id") == A.EIP_ALLOC:
                last = ev
        return last if last and last.get("instance_id") == node.instance_id else None
    return wait_for("Elastic IP associated with %s" % node.name, ok, timeout, 0.2)["ts"]


def wait_ping(pinger, since, timeout=60):
    def ok():
        return any(ok and ts >= since for ts, ok in pinger.samples())
    wait_for("ping reply from the Elastic IP", ok, timeout, 0.2)


def wait_fenced(c, victim, observer, action, since, timeout=150):
    """Until observer's fencer logs a successful `action` of victim."""
    def ok():
        lg = E.PcmkLog(os.path.join(observer.dir, "log", "pacemaker.log"), observer.name)
        e = lg.first("fence_done", since, pred=lambda g: g[1] == victim.name)
        return e
    e = wait_for("fencing of %s reported by %s" % (victim.name, observer.name), ok, timeout, 0.5)
    check(e[3][4].startswith("OK"), "fencing of %s failed: %s" % (victim.name, e[4]))
    check(e[3][0] == action, "fence action %s, expected %s" % (e[3][0], action))
    return e


def no_fencing_since(c, since):
    evs = [e for e in c.events(("call",)) if e["ts"] >= since
           and e.get("action") in ("StopInstances", "RebootInstances")]
    return evs


def assert_invariants(c, since, **kw):
    fh = []
    for n in live(c):
        try:
            fh = A.fence_history(n)
            break
        except HarnessError:
            continue
    problems = E.invariants(c, since, fence_history=fh, **kw)
    check(not problems, "invariant violated:\n    " + "\n    ".join(problems))


# ---------------------------------------------------------------------------------------------

class TwoNode:
    """The shared two-node cluster: up, two-node.crm loaded, group running, pinger on."""

    def __init__(self, report):
        self.report = report
        self.c = None
        self.pinger = None

    def up(self):
        self.c = A.Ec2Cluster(2)
        self.c.setup()
        self.formed_s = self.c.start(timeout=240)
        self.report.metric("two-node cluster formation", "%.1f s" % self.formed_s)
        n1 = self.c.nodes[0]
        load_crm(n1, "two-node.crm")
        owner = wait_group(self.c, n1, timeout=180)
        wait_fence_device(self.c, n1)
        wait_eip_on(self.c, self.c.node(owner))
        self.pinger = H.Pinger(self.c, A.EIP_IP)
        wait_ping(self.pinger, 0)
        self.report.metric("two-node: config loaded to EIP answering",
                           "%.1f s" % (time.time() - self.c.nodes[0].booted_at - self.formed_s))

    def down(self):
        if self.pinger:
            self.pinger.stop()
            self.pinger = None
        if self.c:
            self.c.teardown()
            self.c = None

    def baseline(self, timeout=240):
        """Both instances running and online, no failures, group started, EIP with it."""
        c = self.c
        for n in c.nodes:
            if not n.running:
                c.start_instance(n)
        for n in c.nodes:
            if n.running:
                for peer in c.nodes:
                    if peer is not n and peer.running:
                        n.block_peer(peer, blocked=False)
        c.wait_formed(timeout)
        obs = c.nodes[0]
        crm(obs, "resource", "cleanup", check_rc=False)
        owner = wait_group(c, obs, timeout=timeout)
        wait_fence_device(c, obs)
        wait_ping(self.pinger, max(wait_eip_on(c, c.node(owner)), time.time() - 1))
        return c.node(owner)


def other(c, node):
    return [n for n in c.nodes if n is not node][0]


def measure_crash(report, tn, name, victim, survivor, cause, fence_action="off",
                  expect_fence_by=None, what=None):
    """Common tail of a failover: wait for fencing, the group and the EIP on the survivor, the
    ping back; check the evidence; report the timeline.  cause() makes it happen; returns t0."""
    c = tn.c
    t0 = time.time()
    cause()
    wait_fenced(c, victim, survivor, fence_action, t0 - 1)
    wait_for("%s stopped in EC2" % victim.name,
             lambda: "stopped" in [e["state"] for e in c.events(("state",))
                                   if e["ts"] >= t0 and e["instance_id"] == victim.instance_id],
             60, 0.3)
    wait_group(c, survivor, on=survivor.name, timeout=120)
    wait_ping(tn.pinger, wait_eip_on(c, survivor, timeout=60), timeout=60)
    steps = E.timeline(c, t0, victim, survivor, tn.pinger, what=what)
    out = tn.pinger.outage(t0 - 0.5)
    report.timeline(name, E.format_timeline(steps, t0))
    report.metric("%s: ping outage" % name, "%.1f s (%d unanswered probes at %.1f s)" % (
        out["seconds"] or -1, out["probes"], tn.pinger.interval))
    # who stopped the instance: the survivor, through fence_ec2, with a forced stop
    stops = [e for e in c.events(("call",)) if e["ts"] >= t0 and e.get("action") ==
             "StopInstances" and e.get("code") == "Success"]
    check(stops, "no successful StopInstances call")
    check(all(e.get("client") == (expect_fence_by or survivor).ip for e in stops),
          "StopInstances came from %s, expected only %s" % (
              sorted({e.get("client") for e in stops}), (expect_fence_by or survivor).ip))
    forced = [h for h in c.hook_log if h[0] >= t0 and h[2].get("EC2SIM_EVENT") == "stop"
              and h[2].get("EC2SIM_INSTANCE_ID") == victim.instance_id]
    check(forced and all(h[2].get("EC2SIM_FORCE") == "true" for h in forced),
          "the fenced instance was not force-stopped: %s" % [h[2] for h in forced])
    check(survivor.running, "%s (the survivor) is not running" % survivor.name)
    st = survivor.crm_mon()
    check(victim.name not in st.online(), "%s still online" % victim.name)
    assert_invariants(c, t0)
    return t0, out


# ---------------------------------------------------------------------------------------------
# the scenarios

def s_pcs_md(report, tn):
    """pcs.md's commands configure what two-node.crm configured: the commands are parsed
    (resource, agent, parameters, meta, operations, group, defaults, properties) and compared
    with the live CIB that `crm configure load update two-node.crm` produced."""
    node = tn.c.nodes[0]
    cib = ET.fromstring(node.run(["cibadmin", "-Q"]).stdout)
    with open(os.path.join(CRM_DIR, "pcs.md")) as f:
        text = f.read()
    m = re.search(r"```sh\n(.*?)```", text, re.S)
    check(m, "pcs.md has no ```sh block")
    cmds = [shlex.split(c) for c in m.group(1).replace("\\\n", " ").splitlines() if c.strip()]
    check(all(c[0] == "pcs" for c in cmds), "pcs.md block has a non-pcs line")
    want = pcs_model(cmds)
    have = cib_model(cib)
    diffs = []
    for key in sorted(set(want) | set(have)):
        if key[0] == "property" and key not in want:
            continue       # properties Pacemaker adds itself (dc-version, cluster-name ...)
        if want.get(key) != have.get(key):
            diffs.append("%s: pcs.md %r, two-node.crm %r" % (key, want.get(key), have.get(key)))
    check(not diffs, "pcs.md differs from two-node.crm:\n    " + "\n    ".join(diffs))
    report.note("pcs-md", "pcs.md matches two-node.crm as loaded (%d settings compared; the "
                "pcs commands are parsed, not run)" % len(want))


def _ops(tokens):
    """pcs 'op' tokens: name k=v ... name k=v ... -> {(name, interval): {k: v}}."""
    ops = {}
    cur = None
    for t in tokens:
        if "=" not in t:
            cur = {"name": t}
            ops_list = ops.setdefault("_list", [])
            ops_list.append(cur)
        else:
            k, v = t.split("=", 1)
            cur[k] = v
    out = {}
    for o in ops.get("_list", []):
        out[(o["name"], o.get("interval", "0"))] = o.get("timeout")
    return out


def pcs_model(cmds):
    model = {}
    for c in cmds:
        args = c[1:]
        if args[:2] == ["stonith", "create"]:
            rid, agent, rest = args[2], "stonith:" + args[3], args[4:]
        elif args[:2] == ["resource", "create"]:
            rid, agent, rest = args[2], args[3], args[4:]
        elif args[:2] == ["property", "set"]:
            for kv in args[2:]:
                k, v = kv.split("=", 1)
                model[("property", k)] = v
            continue
        elif args[:3] == ["resource", "defaults", "update"]:
            for kv in args[3:]:
                k, v = kv.split("=", 1)
                model[("rsc_defaults", k)] = v
            continue
        else:
            raise Failed("pcs.md: command not understood: %s" % " ".join(c))
        model[(rid, "agent")] = agent
        section, params, meta, ops, group = "params", {}, {}, [], None
        i = 0
        while i < len(rest):
            t = rest[i]
            if t == "op":
                section = "op"
            elif t == "meta":
                section = "meta"
            elif t == "--group":
                group = rest[i + 1]
                i += 1
            elif section == "params":
                k, v = t.split("=", 1)
                params[k] = v
            elif section == "meta":
                k, v = t.split("=", 1)
                meta[k] = v
            else:
                ops.append(t)
            i += 1
        model[(rid, "params")] = params
        model[(rid, "meta")] = meta
        model[(rid, "ops")] = _ops(ops)
        if group:
            model[("group", group)] = model.get(("group", group), []) + [rid]
    return model


def cib_model(cib):
    model = {}
    for p in cib.iter("primitive"):
        rid = p.get("id")
        agent = p.get("class") + ":" + ((p.get("provider") + ":") if p.get("provider") else "") \
            + p.get("type")
        model[(rid, "agent")] = agent
        params = {nv.get("name"): nv.get("value")
                  for ia in p.findall("instance_attributes") for nv in ia.findall("nvpair")}
        meta = {nv.get("name"): nv.get("value")
                for ma in p.findall("meta_attributes") for nv in ma.findall("nvpair")}
        ops = {}
        for op in p.iter("op"):
            ops[(op.get("name"), op.get("interval", "0"))] = op.get("timeout")
        model[(rid, "params")] = params
        model[(rid, "meta")] = meta
        model[(rid, "ops")] = ops
    for g in cib.iter("group"):
        model[("group", g.get("id"))] = [p.get("id") for p in g.findall("primitive")]
    for nv in cib.findall("./configuration/crm_config//nvpair"):
        model[("property", nv.get("name"))] = nv.get("value")
    for nv in cib.findall("./configuration/rsc_defaults//nvpair"):
        model[("rsc_defaults", nv.get("name"))] = nv.get("value")
    return model


def s_planned_move(report, tn):
    c = tn.c
    owner = tn.baseline()
    target = other(c, owner)
    obs = target
    t0 = time.time()
    crm(obs, "resource", "move", GROUP, target.name)
    wait_group(c, obs, on=target.name)
    wait_ping(tn.pinger, wait_eip_on(c, target))
    out1 = tn.pinger.outage(t0 - 0.5)
    crm(obs, "resource", "clear", GROUP)
    report.metric("planned-move: crm resource move, ping outage", "%.1f s" % (out1["seconds"] or
                                                                              -1))
    # standby the new owner: everything goes back
    t1 = time.time()
    crm(obs, "node", "standby", target.name)
    wait_group(c, obs, on=owner.name)
    wait_ping(tn.pinger, wait_eip_on(c, owner))
    out2 = tn.pinger.outage(t1 - 0.5)
    crm(obs, "node", "online", target.name)
    report.metric("planned-move: crm node standby, ping outage", "%.1f s" % (out2["seconds"] or
                                                                             -1))
    check(not no_fencing_since(c, t0), "a planned move stopped an instance: %s" %
          no_fencing_since(c, t0))
    check(all(n.running for n in c.nodes), "a node went down during a planned move")
    # the address left the old owner before it was taken: disassociate, then associate
    assoc = [e for e in c.events(("association",)) if e["ts"] >= t0]
    check(assoc and all(e["change"] != "move" for e in assoc),
          "planned moves should disassociate then associate, saw %s" % [
              e["change"] for e in assoc])
    assert_invariants(c, t0)


def s_crash(report, tn):
    c = tn.c
    victim = tn.baseline()
    survivor = other(c, victim)
    measure_crash(report, tn, "crash", victim, survivor,
                  lambda: victim.power_off("crash (test)"),
                  what="%s (active) crashes: power cut" % victim.name)


def s_api_degraded(report, tn):
    c = tn.c
    victim = tn.baseline()
    survivor = other(c, victim)
    faults = [
        dict(action="StopInstances", kind="throttle", count=2),
        dict(action="StopInstances", kind="stale", calls=2),
        dict(action="DescribeInstances", kind="internal", count=2),
        dict(action="AssociateAddress", kind="unavailable", count=1),
        dict(action="DescribeAddresses", kind="throttle", count=2),
    ]

    def cause():
        for f in faults:
            c.fault(client=survivor.ip, **f)
        victim.power_off("crash under a degraded EC2 API (test)")
    t0, out = measure_crash(report, tn, "api-degraded", victim, survivor, cause,
                            what="faults armed, %s (active) crashes" % victim.name)
    fired = [e for e in c.events(("fault",)) if e["ts"] >= t0]
    kinds = sorted({(e.get("action"), e.get("kind")) for e in fired})
    report.note("api-degraded", "faults hit: %s" % ", ".join("%s %s" % k for k in kinds))
    check(len(fired) >= 3, "too few injected faults were hit (%d): %s" % (len(fired), kinds))
    c.clear_faults()


def s_partition(report, tn):
    c = tn.c
    victim = tn.baseline()          # cut the owner: the other side must take over
    survivor = other(c, victim)
    measure_crash(report, tn, "partition", victim, survivor, lambda: victim.link(False),
                  what="%s (active) cut off the network" % victim.name)
    # the cut node never managed to stop anyone
    check(survivor.running, "the survivor was stopped")


def s_fence_race(report, tn):
    c = tn.c
    owner = tn.baseline()
    passive = other(c, owner)
    t0 = time.time()
    owner.block_peer(passive)
    passive.block_peer(owner)
    # the owner's fencing is delayed (priority-fencing-delay): the passive node is fenced
    wait_fenced(c, passive, owner, "off", t0 - 1)
    wait_for("%s stopped in EC2" % passive.name,
             lambda: c.instance_states().get(passive.instance_id) == "stopped", 60, 0.3)
    # give the loser's delayed fencing time to fire, if it were going to
    time.sleep(2)
    wait_for("%s still running after the delay" % owner.name,
             lambda: c.instance_states().get(owner.instance_id) == "running", 5, 0.5)
    states = c.instance_states()
    check(states[owner.instance_id] == "running" and owner.running,
          "the node with the Elastic IP did not survive: %s" % states)
    st = owner.crm_mon()
    check(group_owner(st) == owner.name, "the group left %s" % owner.name)
    check(c.eip_owner_instance() == owner.instance_id, "the Elastic IP left the survivor")
    # it was a race: the loser asked for the owner's fencing too, and its fencer held it back
    lg = E.PcmkLog(os.path.join(passive.dir, "log", "pacemaker.log"), passive.name)
    req = lg.first("fence_requested", t0 - 1, pred=lambda g: g[1] == owner.name)
    delay = lg.first("fence_delay", t0 - 1, pred=lambda g: g[1] == owner.name)
    check(req is not None, "%s never asked to fence %s: no race happened" % (passive.name,
                                                                            owner.name))
    check(delay is not None, "%s's fencing of %s was not delayed" % (passive.name, owner.name))
    report.note("fence-race", "%s and %s both asked to fence the other; %s's request was "
                "delayed %s s (priority-fencing-delay: %s runs the address), so %s was stopped "
                "first and %s survived" % (owner.name, passive.name, passive.name, delay[3][2],
                                           owner.name, passive.name, owner.name))
    out = tn.pinger.outage(t0 - 0.5)
    report.metric("fence-race: ping outage", "%.1f s" % (out["seconds"] or 0.0))
    assert_invariants(c, t0)


def s_fencing_off(report, tn):
    c = tn.c
    owner = tn.baseline()
    obs = owner
    t0 = time.time()
    crm(obs, "resource", "stop", GROUP)
    wait_for("group stopped", lambda: group_owner(obs.crm_mon()) is None
             and obs.crm_mon().running_on("eip") is None, 90, 0.5)
    wait_for("Elastic IP disassociated", lambda: c.eip_owner_instance() is None, 30, 0.3)
    crm(obs, "configure", "property", "stonith-enabled=false")
    t1 = time.time()
    crm(obs, "resource", "start", GROUP)

    def refused():
        st = obs.crm_mon()
        for f in st.failures:
            if f.get("op_key", "").startswith("eip_start") or \
                    (f.get("task") == "start" and f.get("op_key", "").startswith("eip")):
                return f
        return None
    f = wait_for("eip start refused in crm_mon", refused, 90, 0.5)
    reason = f.get("exitreason", "")
    report.note("fencing-off", "crm_mon: eip start on %s: %s (%s), exit reason: %s" % (
        f.get("node"), f.get("exitstatus"), f.get("exitcode"), reason))
    check(f.get("exitcode") == "6" or "configured" in f.get("exitstatus", ""),
          "eip start failed with %s/%s, expected 6 (not configured)" % (
              f.get("exitcode"), f.get("exitstatus")))
    check(re.search(r"fenc|stonith", reason, re.I), "exit reason does not mention fencing: %r"
          % reason)
    text = obs.run(["crm_mon", "-1", "-r"]).stdout
    check(reason[:40] in text, "the exit reason is not shown by crm_mon -1")
    assoc = [e for e in c.events(("association",)) if e["ts"] >= t1]
    check(not assoc, "the Elastic IP was associated with fencing disabled: %s" % assoc)
    # restore
    crm(obs, "configure", "property", "stonith-enabled=true")
    crm(obs, "resource", "cleanup", "eip", check_rc=False)
    wait_group(c, obs, timeout=120)
    assert_invariants(c, t0)


def s_seed_lsb(report, tn):
    c = tn.c
    owner = tn.baseline()
    obs = owner
    # replace the configuration: stop the group, erase, load seed-lsb.crm
    crm(obs, "resource", "stop", GROUP, "fence-ec2")

    def all_stopped():
        st = obs.crm_mon()
        return not any(r["active"] for r in st.resources.values())
    wait_for("every resource stopped", all_stopped, 90, 0.5)
    c.set_node_files({
        "/etc/default/eip": "# ec2ha eip, LSB mode (written by tests/cluster)\n"
                            "ALLOCATION_ID=%s\nREGION=%s\n" % (A.EIP_ALLOC, H.REGION),
        "/etc/init.d/eip": ("symlink", "/usr/lib/ocf/resource.d/ec2ha/eip"),
    })
    crm(obs, "configure", "erase")
    load_crm(obs, "seed-lsb.crm")
    t0 = time.time()
    owner = c.node(wait_group(c, obs, timeout=120))
    wait_ping(tn.pinger, wait_eip_on(c, owner))
    st = owner.crm_mon()
    check(st.resources["eip"]["agent"] == "lsb:eip", "eip is %s, not lsb:eip" %
          st.resources["eip"]["agent"])
    survivor = other(c, owner)
    measure_crash(report, tn, "seed-lsb", owner, survivor,
                  lambda: owner.power_off("crash (test)"),
                  what="%s (lsb:eip owner) crashes" % owner.name)


# ---------------------------------------------------------------------------------------------

def s_three_node(report, _unused=None):
    c = A.Ec2Cluster(3, boot_delay=10.0)
    LAST["cluster"] = c
    pinger = None
    try:
        c.setup()
        formed = c.start(timeout=300)
        report.metric("three-node cluster formation", "%.1f s" % formed)
        obs = c.nodes[0]
        load_crm(obs, "three-node.crm")
        victim = c.node(wait_group(c, obs, timeout=180))
        wait_eip_on(c, victim)
        pinger = H.Pinger(c, A.EIP_IP)
        wait_ping(pinger, 0)
        t0 = time.time()
        victim.power_off("crash (test)")
        survivors = [n for n in c.nodes if n is not victim]

        def fenced():
            for s in survivors:
                lg = E.PcmkLog(os.path.join(s.dir, "log", "pacemaker.log"), s.name)
                e = lg.first("fence_done", t0 - 1, pred=lambda g: g[1] == victim.name)
                if e:
                    return (s, e)
            return None
        by, e = wait_for("fencing of %s" % victim.name, fenced, 180, 0.5)
        check(e[3][0] == "reboot" and e[3][4].startswith("OK"), "fencing: %s" % e[4])
        new_owner = c.node(wait_group(c, survivors[0], timeout=120,
                                      what="group on a survivor"))
        check(new_owner is not victim, "group still on the fenced node")
        wait_ping(pinger, wait_eip_on(c, new_owner))
        seq = [ev["state"] for ev in c.events(("state",)) if ev["ts"] >= t0
               and ev["instance_id"] == victim.instance_id]
        check(seq[:4] == ["stopping", "stopped", "pending", "running"],
              "instance %s went %s, expected stopping, stopped, pending, running" % (
                  victim.instance_id, seq))
        check(not [e for e in c.events(("call",)) if e["ts"] >= t0 and e.get("action") ==
                   "RebootInstances"], "fence_ec2 used RebootInstances")
        c.wait_formed(180)
        rejoined = time.time()
        steps = E.timeline(c, t0, victim, new_owner, pinger,
                           what="%s (owner) crashes" % victim.name)
        steps.append((rejoined, "%s online again (crm_mon)" % victim.name))
        report.timeline("three-node", E.format_timeline(sorted(steps), t0))
        out = pinger.outage(t0 - 0.5)
        report.metric("three-node: ping outage", "%.1f s" % (out["seconds"] or -1))
        report.metric("three-node: crash to fenced node back online", "%.1f s" %
                      (rejoined - t0))
        check(group_owner(c.nodes[0].crm_mon() if c.nodes[0].running else by.crm_mon())
              == new_owner.name, "the group moved again when the node rejoined")
        assert_invariants(c, t0)
    finally:
        if pinger:
            pinger.stop()
        c.teardown()


TWO_NODE = [("pcs-md", s_pcs_md), ("planned-move", s_planned_move), ("crash", s_crash),
            ("api-degraded", s_api_degraded), ("partition", s_partition),
            ("fence-race", s_fence_race), ("fencing-off", s_fencing_off),
            ("seed-lsb", s_seed_lsb)]
THREE_NODE = [("three-node", s_three_node)]
ALL = [n for n, _ in TWO_NODE + THREE_NODE]
