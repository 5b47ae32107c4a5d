#!/usr/bin/python3
"""What the tests conclude from: ec2sim's event log, Pacemaker's logs, stonith_admin, ping.

- PcmkLog: the lines of a node's /var/log/pacemaker/pacemaker.log that matter (lost peer,
  fencing requested / delayed / executed / completed, resource results), with epoch times
  (the log has millisecond local times).
- invariants(): the safety properties every scenario checks from ec2sim's event log:
    * no fence success was reported while its target was not yet `stopped`;
    * at every instant the Elastic IP is associated with at most one instance, and that
      instance is running or has just been fenced: an association never goes to an instance
      that is not running, and never moves away from one that is still running;
    * no two instances are down at the same time unless the scenario allows it.
- timeline(): the failover as an operator would tell it, every step from a recorded event.
"""
import calendar
import os
import re
import time

_TS = re.compile(r"^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d)\.(\d{3}) (\S+) +(\S+?) *\[ *\d+\] "
                 r"\((\w+)\) \s*(\w+): (.*)$")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                        "Sep", "Oct", "Nov", "Dec"), 1)}


def parse_log_ts(mon, day, hh, mm, ss, ms):
    year = time.localtime().tm_year
    t = time.mktime((year, _MONTHS[mon], int(day), int(hh), int(mm), int(ss), 0, 0, -1))
    if t > time.time() + 86400:          # December log read in January
        t = time.mktime((year - 1, _MONTHS[mon], int(day), int(hh), int(mm), int(ss), 0, 0, -1))
    return t + int(ms) / 1000.0


class PcmkLog:
    """Parsed notice/warning/error lines of one node's pacemaker.log."""

    PATTERNS = {
        "lost": re.compile(r"Node (\S+) state is now lost"),
        "member": re.compile(r"Node (\S+) state is now member"),
        "fence_scheduled": re.compile(r"Scheduling node (\S+) for fencing"),
        "fence_requested": re.compile(r"Requesting fencing \((\w+)\) (?:of|targeting) node (\S+)"),
        "fence_delay": re.compile(r"Delaying '(\w+)' action targeting (\S+) .*?for (\d+(?:\.\d+)?)s"),
        "fence_agent": re.compile(r"Operation '(\w+)' \[\d+\] (?:\(call \d+ from \S+\) )?"
                                  r"targeting (\S+) using (\S+) returned (-?\d+)"),
        "fence_done": re.compile(r"Operation '(\w+)' targeting (\S+) by (\S+) for (\S+): (.+?) "
                                 r"(?:\(|\|)"),
        "fence_notified": re.compile(r"Peer (\S+) was terminated \((\w+)\) by (\S+) on behalf "
                                     r"of (\S+): (\w+)"),
        "rsc_result": re.compile(r"Result of (\w+) operation for (\S+) on (\S+): (.+?) \|"),
    }

    def __init__(self, path, node):
        self.node = node
        self.entries = []     # (ts, daemon, kind, match groups, line)
        try:
            f = open(path, errors="replace")
        except FileNotFoundError:
            return
        with f:
            for line in f:
                m = _TS.match(line.rstrip("\n"))
                if not m:
                    continue
                level = m.group(10)
                if level not in ("notice", "warning", "error", "crit"):
                    continue
                ts = parse_log_ts(*m.group(1, 2, 3, 4, 5, 6))
                daemon, msg = m.group(8), m.group(11)
                for kind, rx in self.PATTERNS.items():
                    mm = rx.search(msg)
                    if mm:
                        self.entries.append((ts, daemon, kind, mm.groups(), msg))
                        break

    def find(self, kind, since=0.0, daemon=None, pred=None):
        return [e for e in self.entries if e[2] == kind and e[0] >= since
                and (daemon is None or e[1] == daemon) and (pred is None or pred(e[3]))]

    def first(self, kind, since=0.0, daemon=None, pred=None):
        r = self.find(kind, since, daemon, pred)
        return r[0] if r else None


def node_logs(cluster):
    return {n.name: PcmkLog(os.path.join(n.dir, "log", "pacemaker.log"), n.name)
            for n in cluster.nodes}


# ---------------------------------------------------------------------------------------------

class Violation(Exception):
    pass


def fold_states(events, instances):
    """[(ts, {iid: state})] after each state event; starts with every instance running."""
    cur = {i: "running" for i in instances}
    out = [(0.0, dict(cur))]
    for ev in events:
        if ev.get("type") == "state":
            cur[ev["instance_id"]] = ev["state"]
            out.append((ev["ts"], dict(cur)))
    return out


def state_at(timeline, iid, ts):
    st = "running"
    for t, s in timeline:
        if t > ts:
            break
        st = s.get(iid, st)
    return st


def fence_successes(logs, since=0.0):
    """Every fence action the fencers report as done and OK: (ts, action, target, executor)."""
    out = []
    for name, lg in logs.items():
        for ts, daemon, kind, g, msg in lg.find("fence_agent", since):
            action, target, device, rc = g
            if rc == "0":
                out.append((ts, action, target, name))
    return sorted(out)


def invariants(cluster, since_ts=0.0, allow_all_down=False, fence_history=None):
    """Check the safety properties over ec2sim's event log (and the fencers' own record of
    fence successes) from since_ts; returns a list of human-readable violations."""
    events = cluster.events()
    instances = [n.instance_id for n in cluster.nodes]
    name_of = {n.instance_id: n.name for n in cluster.nodes}
    iid_of = {n.name: n.instance_id for n in cluster.nodes}
    states = fold_states(events, instances)
    problems = []

    # 1. no fence success while the target was not stopped
    logs = node_logs(cluster)
    for ts, action, target, executor in fence_successes(logs, since_ts):
        iid = iid_of.get(target)
        if iid is None:
            problems.append("fence %s of unknown node %s reported OK" % (action, target))
            continue
        stopped = [e["ts"] for e in events if e.get("type") == "state"
                   and e["instance_id"] == iid and e["state"] in ("stopped", "terminated")
                   and e["ts"] <= ts + 0.002]
        recent_stop = [t for t in stopped if t >= since_ts]
        if not recent_stop:
            problems.append("%s reported fence %s of %s OK at %.3f but %s was not stopped "
                            "by then" % (executor, action, target, ts, iid))
    if fence_history:
        for fh in fence_history:
            if fh.get("status") != "success" or fh.get("completed_ts") is None:
                continue
            if fh["completed_ts"] + 1.0 < since_ts:
                continue
            iid = iid_of.get(fh.get("target"))
            stopped = [e["ts"] for e in events if e.get("type") == "state"
                       and e.get("instance_id") == iid and e["state"] == "stopped"
                       and e["ts"] <= fh["completed_ts"] + 1.0]
            if not stopped:
                problems.append("stonith_admin --history: %s of %s succeeded at %s but the "
                                "instance was never stopped before" % (
                                    fh.get("action"), fh.get("target"), fh.get("completed")))

    # 2. the Elastic IP: at most one owner, running or just fenced.  An association goes
    #    only to a running instance; it moves away from an owner only if that owner was
    #    stopped (fenced) since it got the address -- its OS, which took the address, is gone
    #    even if a reboot has it `running` again by now.
    acquired = {}      # instance id -> ts it got the address
    for ev in events:
        if ev.get("type") != "association":
            continue
        new, prev = ev.get("instance_id"), ev.get("previous_instance_id")
        if ev["ts"] >= since_ts:
            if ev["change"] in ("associate", "move") and new:
                st = state_at(states, new, ev["ts"])
                if st != "running":
                    problems.append("EIP associated with %s (%s) while it was %s" % (
                        new, name_of.get(new, "?"), st))
            if ev["change"] == "move" and prev and prev != new:
                since = acquired.get(prev, 0.0)
                stopped = [e for e in events if e.get("type") == "state"
                           and e.get("instance_id") == prev and e["state"] == "stopped"
                           and since <= e["ts"] <= ev["ts"]]
                if not stopped:
                    problems.append("EIP moved from %s (%s) to %s while %s, which took it at "
                                    "%.3f, had not been stopped: two live owners" % (
                                        prev, name_of.get(prev, "?"), new, prev, since))
        if new and ev["change"] in ("associate", "move"):
            acquired[new] = ev["ts"]
        if ev["change"] == "disassociate" and prev:
            acquired.pop(prev, None)

    # 3. never every instance down at once (both fenced in a race)
    if not allow_all_down and len(instances) > 1:
        for ts, s in states:
            if ts >= since_ts and all(v in ("stopping", "stopped") for v in s.values()):
                problems.append("every instance was down at %.3f: %s" % (ts, s))
                break
    # 4. Pacemaker never saw the address active twice
    for n in cluster.nodes:
        path = os.path.join(n.dir, "log", "pacemaker.log")
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    if "active on 2 nodes" in line and " eip" in line:
                        m = _TS.match(line)
                        if m and parse_log_ts(*m.group(1, 2, 3, 4, 5, 6)) >= since_ts:
                            problems.append("%s: %s" % (n.name, line.strip()))
        except FileNotFoundError:
            pass
    return problems


# ---------------------------------------------------------------------------------------------

def fmt_t(ts, t0):
    return "%+7.2f s" % (ts - t0)


def timeline(cluster, t0, victim, survivor, pinger=None, what=None):
    """The failover after an event at t0 (crash, cut) of `victim`, as ordered steps
    [(ts, text)], every one taken from a record: the survivor's pacemaker.log, ec2sim's
    event log, and the pinger."""
    logs = node_logs(cluster)
    lg = logs[survivor.name]
    steps = [(t0, what or "%s fails" % victim.name)]
    e = lg.first("lost", t0, daemon="pacemaker-controld", pred=lambda g: g[0] == victim.name)
    if e:
        steps.append((e[0], "%s sees %s lost (corosync membership)" % (survivor.name,
                                                                       victim.name)))
    for name, other in logs.items():
        if name == victim.name:
            continue
        e = other.first("fence_requested", t0, pred=lambda g: g[1] == victim.name)
        if e:
            steps.append((e[0], "DC %s requests fencing (%s) of %s" % (name, e[3][0],
                                                                      victim.name)))
        for e in other.find("fence_delay", t0, pred=lambda g: g[1] == victim.name)[:1]:
            steps.append((e[0], "fencer on %s delays '%s' of %s by %ss" % (
                name, e[3][0], victim.name, e[3][2])))
    evs = cluster.events()
    iid = victim.instance_id
    for ev in evs:
        if ev["ts"] < t0:
            continue
        if ev["type"] == "call" and ev.get("action") == "StopInstances":
            steps.append((ev["ts"], "StopInstances from %s: %s" % (ev.get("client"),
                                                                   ev.get("code"))))
        elif ev["type"] == "state" and ev.get("instance_id") == iid:
            steps.append((ev["ts"], "EC2: %s %s -> %s" % (iid, ev["previous"], ev["state"])))
        elif ev["type"] == "association":
            steps.append((ev["ts"], "EC2: Elastic IP %s %s -> %s" % (
                ev.get("public_ip"), ev["change"], ev.get("instance_id") or "nobody")))
        elif ev["type"] == "fault":
            steps.append((ev["ts"], "ec2sim injected %s on %s" % (ev.get("kind"),
                                                                  ev.get("action"))))
    for name, other in logs.items():
        e = other.first("fence_agent", t0, pred=lambda g: g[1] == victim.name)
        if e:
            steps.append((e[0], "fence_ec2 '%s' of %s on %s returned %s" % (
                e[3][0], victim.name, name, e[3][3])))
    e = lg.first("fence_done", t0, pred=lambda g: g[1] == victim.name)
    if e:
        steps.append((e[0], "fencer: '%s' of %s by %s: %s" % (e[3][0], victim.name, e[3][2],
                                                             e[3][4])))
    for rsc in ("eip", "service"):
        e = lg.first("rsc_result", t0, pred=lambda g, r=rsc: g[0] == "start" and g[1] == r
                     and g[2] == survivor.name)
        if e:
            steps.append((e[0], "%s started on %s: %s" % (rsc, survivor.name, e[3][3])))
    if pinger is not None:
        o = pinger.outage(t0 - 0.5)
        if o.get("first_reply_ts"):
            steps.append((o["first_reply_ts"], "first ping reply from the Elastic IP"))
    steps.sort(key=lambda s: s[0])
    return steps


def format_timeline(steps, t0):
    return "\n".join("  %s  %s" % (fmt_t(ts, t0), text) for ts, text in steps)
