#!/usr/bin/python3
"""Failover in the two-node cluster harness (tests/cluster): ours vs the anchor pair.

One two-node Pacemaker + Corosync cluster (tests/cluster's Ec2Cluster: ec2sim at the real
endpoint name, IMDS at 169.254.169.254 answering each node as its own instance, instance-profile
credentials, the Elastic IP routed to its owner).  The same cluster configuration is loaded for
both pairs -- only the agents differ:

    ours:    stonith:fence_ec2 + ocf:ec2ha:eip
    anchor:  stonith:fence_aws (pcmk_host_map: it needs instance ids) + ocf:heartbeat:awseip

Runs alternate between the pairs.  One run: wait until the EIP answers ping, crash the node that
owns it (SIGKILL of its PID 1 and its link down), and time until the EIP answers on the survivor.
The node that dies always owns the EIP and is the DC (the steady state after a failover; when
it is not, the EIP is moved to the DC first).  The breakdown, additive:
    detection    crash -> the survivor requests fencing (its pacemaker.log)
    fencing      request -> fencing confirmed (survivor's pacemaker.log), made of: fence agent
                 start -> StopInstances, EC2's stop time (ec2sim's log), stopped -> confirmed
    association  confirmed -> ec2sim associates the EIP with the survivor (event log): the
                 cluster scheduling and the eip start
    answer       association -> the first ping reply (routing + the 0.1 s ping interval)
Then the crashed instance is started again through the EC2 API and rejoins before the next run.

Run by bench/run as a separate process (the harness enters its own network namespace):
    bench/failover.py --json OUT --reps N
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import BUILD, REPO, log  # noqa: E402

CLUSTER_DIR = os.path.abspath(os.environ.get("EC2HA_CLUSTER_SRC",
                                             os.path.join(REPO, "tests", "cluster")))
INSTALLED = {"fence_ec2": "/usr/sbin/fence_ec2", "eip": "/usr/lib/ocf/resource.d/ec2ha/eip"}


def available():
    """None when the failover benchmark can run, else why not."""
    for f in ("harness.py", "aws.py"):
        if not os.path.exists(os.path.join(CLUSTER_DIR, f)):
            return "tests/cluster (the cluster harness) is not on this branch yet"
    return None


def run(args, workdir):
    """Called by bench/run: the benchmark in a child process, its JSON back."""
    why = available()
    if why:
        log("failover: skipped: %s" % why)
        return {"skipped": why}
    out = os.path.join(workdir, "failover.json")
    cmd = ["unshare", "--mount", "--propagation", "private", "--", "/usr/bin/python3",
           os.path.abspath(__file__), "--json", out, "--reps", str(args.failover_reps),
           "--workdir", os.path.join(workdir, "failover"), "--private-mounts"]
    r = subprocess.run(cmd)
    try:
        with open(out) as f:
            res = json.load(f)
    except (OSError, ValueError):
        res = {"skipped": "the failover benchmark failed (exit %d) before writing results"
                          % r.returncode}
    return res


# ------------------------------------------------------------------------------ configuration
BASE_CRM = """property cib-bootstrap-options: \\
    stonith-enabled=true \\
    stonith-action=off \\
    stonith-timeout=120 \\
    priority-fencing-delay=0
rsc_defaults rsc-options: \\
    resource-stickiness=100
"""

OURS_CRM = """primitive bench-fence stonith:fence_ec2 \\
    params region=us-east-1 pcmk_host_list="node1 node2" \\
        pcmk_off_timeout=90 pcmk_reboot_timeout=180 pcmk_monitor_timeout=30 \\
    op monitor interval=60 timeout=30
primitive bench-eip ocf:ec2ha:eip \\
    params allocation_id={alloc} region=us-east-1 \\
    op start interval=0 timeout=60 \\
    op stop interval=0 timeout=60 \\
    op monitor interval=10 timeout=30
"""

ANCHOR_CRM = """primitive bench-fence stonith:fence_aws \\
    params region=us-east-1 pcmk_host_map="{hostmap}" \\
        pcmk_off_timeout=90 pcmk_reboot_timeout=180 pcmk_monitor_timeout=30 \\
    op monitor interval=60 timeout=30
primitive bench-eip ocf:heartbeat:awseip \\
    params elastic_ip={eip} allocation_id={alloc} \\
    op start interval=0 timeout=60 \\
    op stop interval=0 timeout=60 \\
    op monitor interval=10 timeout=30
"""

AWS_CONFIG = "/etc/default/ec2ha-bench-aws-config"   # inside the nodes (their /etc/default)


def _deepest_existing(path):
    p = path
    while not os.path.exists(p):
        p = os.path.dirname(p)
    return p


def expose_ours(workdir):
    """Pacemaker finds stonith:fence_ec2 and ocf:ec2ha:eip at their installed paths.  This
    process runs in a private mount namespace (bench/run starts it under `unshare --mount`),
    whose mounts every cluster node inherits: bind-mount the freshly built programs over the
    installed ones, or, where nothing is installed, lay an overlay over the nearest existing
    directory -- the host's /usr is never written."""
    missing = []
    for i, (name, dst) in enumerate(sorted(INSTALLED.items())):
        src = os.path.join(BUILD, name)
        if not os.access(src, os.X_OK):
            missing.append("%s not built" % src)
            continue
        if os.path.isfile(dst):
            subprocess.run(["mount", "--bind", src, dst], check=True)
            continue
        base = _deepest_existing(dst)
        lower = os.path.join(workdir, "overlay-%d" % i)
        target = os.path.join(lower, os.path.relpath(dst, base))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(src, target)
        os.chmod(target, 0o755)
        r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            "lowerdir=%s:%s" % (lower, base), base],
                           capture_output=True, text=True)
        if r.returncode != 0:
            missing.append("cannot expose %s at %s (overlay over %s: %s); `make install` "
                           "first" % (src, dst, base, r.stderr.strip()))
    return missing


# ------------------------------------------------------------------------------ log parsing
_PCMK_TS = re.compile(r"^(\w{3} +\d+ \d\d:\d\d:\d\d)\.(\d{3}) ")


def _pcmk_ts(line, year):
    m = _PCMK_TS.match(line)
    if not m:
        return None
    t = time.strptime("%d %s" % (year, m.group(1)), "%Y %b %d %H:%M:%S")
    return time.mktime(t) + int(m.group(2)) / 1000.0


def pcmk_events(path, since, target):
    """Fence request and fence confirmation for `target` in a node's pacemaker.log."""
    year = time.localtime().tm_year
    req = done = lost = None
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if target not in line:
                    continue
                ts = _pcmk_ts(line, year)
                if ts is None or ts < since:
                    continue
                if lost is None and re.search(r"Node %s state is now lost" % target, line):
                    lost = ts
                if req is None and ("Requesting fencing" in line or "wants to fence" in line):
                    req = ts
                if done is None and re.search(r"(was|been) terminated .*: OK|Operation '?off'? "
                                              r".*targeting %s.*: OK" % target, line):
                    done = ts
    except OSError:
        pass
    return {"lost": lost, "request": req, "confirmed": done}


# ------------------------------------------------------------------------------ the benchmark
class Bench:
    def __init__(self, H, A, cluster, rundir):
        self.H, self.A, self.c, self.rundir = H, A, cluster, rundir
        self.current = None

    def any_node(self):
        for n in self.c.nodes:
            if n.running:
                return n
        raise RuntimeError("no node running")

    def crm_load(self, name, text):
        path = os.path.join(self.rundir, "bench-%s.crm" % name)
        with open(path, "w") as f:
            f.write(text)
        self.any_node().run(["crm", "configure", "load", "update", path], timeout=120)

    def status(self):
        return self.any_node().crm_mon()

    def eip_owner(self):
        for n in self.c.nodes:
            if n.running:
                try:
                    return n.crm_mon().running_on("bench-eip")
                except Exception:
                    return None
        return None

    def configure(self, pair):
        if self.current == pair:
            return
        H = self.H
        n = self.any_node()
        if self.current is not None:
            log("failover: switching the cluster to the %s pair" % pair)
            n.run(["crm", "resource", "stop", "bench-eip"], timeout=120, check=False)
            H.wait_for("bench-eip stopped", lambda: self.eip_owner() is None, 120, 1.0)
            n.run(["crm", "configure", "delete", "--force", "bench-eip", "bench-fence"],
                  timeout=120, check=False)
        A = self.A
        hostmap = ";".join("%s:%s" % (x.name, x.instance_id) for x in self.c.nodes)
        tmpl = OURS_CRM if pair == "ours" else ANCHOR_CRM
        self.crm_load(pair, tmpl.format(alloc=A.EIP_ALLOC, eip=A.EIP_IP, hostmap=hostmap))
        self.current = pair

    def wait_serving(self, timeout=240):
        """The EIP resource started, the EIP associated with its node in ec2sim, and ping
        answering; returns the owner node name."""
        H = self.H
        owner = H.wait_for("bench-eip started", self.eip_owner, timeout, 1.0)
        inst = self.c.node(owner).instance_id
        H.wait_for("EIP associated with %s" % owner,
                   lambda: self.c.eip_owner_instance() == inst, timeout, 0.5)
        return owner

    def wait_ping(self, pinger, since, timeout=60):
        def answered():
            return any(ok and ts >= since for ts, ok in pinger.samples())
        self.H.wait_for("ping answered", answered, timeout, 0.2)

    def cleanup_failures(self):
        self.any_node().run(["crm_resource", "--cleanup"], check=False, timeout=120)

    def wait_settled(self, timeout=240):
        """Both nodes online members, no unclean node, the fence device and the EIP started:
        the cluster is ready to lose a node again."""
        c = self.c
        c.wait_formed(timeout)
        self.cleanup_failures()
        want = sorted(n.name for n in c.nodes)

        def settled():
            for n in c.nodes:
                st = n.crm_mon()
                if st.online() != want or st.unclean():
                    return False
                for rsc in ("bench-fence", "bench-eip"):
                    r = st.resources.get(rsc)
                    if self.current is not None and (not r or not r["active"]):
                        return False
            return True
        self.H.wait_for("cluster settled", settled, timeout, 1.0)
        time.sleep(3.0)

    def one(self, pair, i):
        H, A, c = self.H, self.A, self.c
        self.configure(pair)
        owner = self.wait_serving()
        # Same situation for every run: the node that dies owns the EIP *and* is the DC (the
        # steady state after any failover, when the survivor became DC and kept the EIP).
        # Whether the DC dies changes detection by about a second (a new DC is elected first).
        dc = self.any_node().crm_mon().dc
        if dc is not None and dc != owner:
            log("failover %d: moving the EIP to the DC %s first" % (i, dc))
            n = self.any_node()
            n.run(["crm_resource", "--move", "-r", "bench-eip", "-N", dc], timeout=120)
            H.wait_for("bench-eip on %s" % dc, lambda: self.eip_owner() == dc, 120, 0.5)
            n.run(["crm_resource", "--clear", "-r", "bench-eip"], timeout=120)
            owner = self.wait_serving()
            dc = self.any_node().crm_mon().dc
        survivor = [n for n in c.nodes if n.name != owner][0]
        if not survivor.running:
            raise RuntimeError("the survivor %s is not running" % survivor.name)
        pinger = H.Pinger(c, A.EIP_IP, interval=0.1)
        try:
            self.wait_ping(pinger, time.time() - 0.5, 60)
            time.sleep(1.0)
            c.mark("bench failover %d (%s): crash %s" % (i, pair, owner))
            t0 = time.time()
            victim = c.node(owner)
            victim.power_off("bench: crash")
            H.wait_for("bench-eip on %s" % survivor.name,
                       lambda: survivor.crm_mon().running_on("bench-eip") == survivor.name,
                       300, 0.5)
            self.wait_ping(pinger, t0, 120)
            time.sleep(0.3)
        finally:
            pinger.stop()
        samples = pinger.samples()
        answered = [ts for ts, ok in samples if ok and ts >= t0]
        t5 = answered[0] if answered else None
        lost = sum(1 for ts, ok in samples if not ok and t0 <= ts <= (t5 or ts))
        evs = [e for e in c.events() if e.get("ts", 0) >= t0]
        stopped = [e["ts"] for e in evs if e.get("type") == "state" and
                   e.get("instance_id") == victim.instance_id and e.get("state") == "stopped"]
        stop_calls = [e["ts"] for e in evs if e.get("type") == "call" and
                      e.get("action") == "StopInstances"]
        assoc = [e["ts"] for e in evs if e.get("type") == "association" and
                 e.get("instance_id") == survivor.instance_id]
        api_calls = [e for e in evs if e.get("type") == "call"]
        logp = os.path.join(H.RUN_DIR, survivor.name, "log", "pacemaker.log")
        pe = pcmk_events(logp, t0 - 1, owner)
        s = {"ok": True, "pair": pair, "crashed": owner, "survivor": survivor.name, "t0": t0,
             "dc_before": dc,
             "total": (t5 - t0) if t5 else None,
             "lost_at": pe["lost"] - t0 if pe["lost"] else None,
             "fence_request": pe["request"] - t0 if pe["request"] else None,
             "fence_confirmed": pe["confirmed"] - t0 if pe["confirmed"] else None,
             "stop_call": stop_calls[0] - t0 if stop_calls else None,
             "stopped": stopped[0] - t0 if stopped else None,
             "associated": assoc[0] - t0 if assoc else None,
             "answered": (t5 - t0) if t5 else None,
             "ping_lost": lost,
             "api_calls": len(api_calls)}
        req = s["fence_request"] if s["fence_request"] is not None else s["stop_call"]
        conf = s["fence_confirmed"]
        if conf is not None and s["stopped"] is not None and conf < s["stopped"]:
            conf = None       # a confirmation before the stop: not ours to trust
        if None in (req, s["stop_call"], s["stopped"], s["associated"], s["answered"]):
            s["ok"] = False
            s["error"] = "incomplete timeline: %r" % {k: s[k] for k in (
                "fence_request", "stop_call", "stopped", "associated", "answered")}
        else:
            done = conf if conf is not None else s["stopped"]
            s["detection"] = req
            s["fencing"] = done - req
            s["agent_to_stop"] = s["stop_call"] - req
            s["ec2_stop"] = s["stopped"] - s["stop_call"]
            s["stopped_to_confirmed"] = (conf - s["stopped"]) if conf is not None else None
            s["association"] = s["associated"] - done
            s["answer"] = s["answered"] - s["associated"]
        log("failover %d (%s): %s" % (i, pair, ", ".join(
            "%s %.2f s" % (k, s[k]) for k in ("total", "detection", "fencing", "association",
                                               "answer") if s.get(k) is not None)))
        # power the crashed instance on again and let it rejoin
        c.start_instance(victim)
        self.wait_settled()
        return s


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--json", required=True)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--workdir", default=None)
    p.add_argument("--private-mounts", action="store_true",
                   help="this process runs in its own mount namespace (unshare --mount)")
    a = p.parse_args(argv)
    res = {"ours": [], "anchor": [], "missing": {}}

    def save():
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    why = available()
    if why:
        res = {"skipped": why}
        save()
        return 0
    pairs = []
    if a.private_mounts:
        wd = a.workdir or tempfile.mkdtemp(prefix="ec2ha-bench-failover-")
        os.makedirs(wd, exist_ok=True)
        missing = expose_ours(wd)
    else:
        missing = [p for p in INSTALLED.values() if not os.access(p, os.X_OK)]
        missing = ["%s not installed (run in a private mount namespace: --private-mounts)" % p
                   for p in missing]
    if missing:
        res["missing"]["ours"] = "; ".join(missing)
    else:
        pairs.append("ours")
    if os.access("/usr/sbin/fence_aws", os.X_OK) and \
            os.access("/usr/lib/ocf/resource.d/heartbeat/awseip", os.X_OK):
        pairs.append("anchor")
    else:
        res["missing"]["anchor"] = "fence_aws or awseip not installed"
    if not pairs:
        res = {"skipped": "; ".join(res["missing"].values())}
        save()
        return 0
    os.environ.setdefault("EC2HA_CLUSTER_PREFIX", "ec2ha-bench")
    sys.path.insert(0, CLUSTER_DIR)
    import harness as H
    import aws as A
    t_begin = time.time()
    try:
        with A.Ec2Cluster(2) as c:
            # awseip runs `aws --profile default`: the profile must exist (region only; the
            # credentials come from the instance profile through IMDS, as for every agent)
            c.pacemaker_env["AWS_CONFIG_FILE"] = AWS_CONFIG
            c.set_node_files({AWS_CONFIG: "[default]\nregion = us-east-1\n"})
            formed = c.start(300)
            res["formed_s"] = formed
            b = Bench(H, A, c, H.RUN_DIR)
            b.crm_load("base", BASE_CRM)
            res["setup"] = (
                "Two nodes (tests/cluster), corosync token 1000 ms, two_node; "
                "stonith-action=off, priority-fencing-delay=0 (the crm-examples' 10 s race "
                "delay would add the same 10 s to both pairs), resource-stickiness=100; "
                "ec2sim force-stop time %.1f s; eip monitor every 10 s; awseip with its default "
                "api_delay=3; credentials from IMDS (instance profile) for every agent; the node "
                "that dies owns the EIP and is the DC (the steady state after a failover). "
                "Cluster formed in %.0f s." % (c.force_stop_delay, formed))
            order = []
            for i in range(a.reps):
                order += pairs if i % 2 == 0 else list(reversed(pairs))
            for i, pair in enumerate(order):
                try:
                    s = b.one(pair, i + 1)
                except Exception as e:   # record, then try to bring the cluster back
                    log("failover %d (%s) failed: %s" % (i + 1, pair, e))
                    s = {"ok": False, "pair": pair, "error": "%s: %s" % (type(e).__name__, e)}
                    for n in c.nodes:
                        if not n.running:
                            try:
                                c.start_instance(n)
                            except Exception as e2:
                                log("could not start %s again: %s" % (n.name, e2))
                    try:
                        b.wait_settled()
                    except Exception as e3:
                        log("cluster did not recover: %s" % e3)
                        res[pair].append(s)
                        break
                res[pair].append(s)
                save()
    except Exception as e:
        log("failover benchmark aborted: %s: %s" % (type(e).__name__, e))
        res["error"] = "%s: %s" % (type(e).__name__, e)
    res["duration_s"] = time.time() - t_begin
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
