"""Per-call benchmarks, run inside private mount + network namespaces (bench/run --inner).

The "AWS side" is what a real EC2 node sees, so neither anchor needs a patch:
  - the EC2 endpoint is the real name ec2.us-east-1.amazonaws.com, resolved through a private
    /etc/hosts (bind-mounted in this mount namespace) to ec2sim's HTTPS listener on 127.0.0.1:443;
  - ec2sim's certificate is issued by a test CA, trusted through AWS_CA_BUNDLE;
  - IMDS is ec2sim's IMDSv2 listener on 169.254.169.254:80 (that address on this namespace's lo);
  - credentials and region come from the AWS shared files (profile `default`) under HOME.
Every address lives in the network namespace `unshare` made for this process.
"""
import json
import os
import shutil
import subprocess
import sys
import time

from common import (ALLOC, API_IP, AWSEIP, EC2SIM_DIR, EIP, EIP_ADDR, ENDPOINT_HOST,
                    FENCE_AWS, FENCE_EC2, IMDS_IP, NODE1, NODE2, OCF_ROOT, REGION, clean_env,
                    log, measure, median, write_aws_files)
import profile_ours

STOP_DELAY = 1.0          # ec2sim's default (force-)stop time of the instances
# fence off: the target's stop time per repetition (the same for ours and the anchor in one
# repetition), spread over a second so that a poll interval cannot line up with it
OFF_STOP_DELAYS = [1.0, 1.55, 1.3, 1.85, 1.15, 1.7, 1.45, 1.95, 1.05, 1.6, 1.35, 1.9]
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"
# How the test CA is trusted.  "system" (default): no AWS_CA_BUNDLE; the test CA is added to a
# private copy of /etc/ssl/certs (bundle file and hashed directory) bind-mounted in this
# namespace, so each program uses its own default trust store exactly as on a real node.
# "bundle": AWS_CA_BUNDLE = Debian's system CA bundle plus the test CA, the whole file parsed
# by every program (what an operator who sets AWS_CA_BUNDLE pays).
# "test-ca": AWS_CA_BUNDLE = the test CA alone (cheaper for everybody than a real node).
TRUST = os.environ.get("BENCH_TRUST", "system")
if TRUST not in ("bundle", "system", "test-ca"):
    raise SystemExit("bench: BENCH_TRUST must be bundle, system or test-ca")


def trust_files(sim, workdir):
    """Trust setups: [(label, AWS_CA_BUNDLE or None)].  Also puts the test CA into this mount
    namespace's system store (/etc/ssl/certs: the bundle file and the hashed directory)."""
    test = os.path.join(workdir, "ca-test.pem")
    shutil.copyfile(sim.ca_bundle, test)
    with open(sim.ca_bundle) as f:
        test_pem = f.read()
    full = os.path.join(workdir, "ca-bundle.pem")
    with open(full, "w") as f:
        try:
            with open(SYSTEM_CAS) as s:
                f.write(s.read())
        except OSError:
            log("no %s: the bundle holds the test CA only" % SYSTEM_CAS)
        f.write(test_pem)
    for p in (test, full):
        os.chmod(p, 0o644)
    store = os.path.join(workdir, "etc-ssl-certs")
    if not os.path.isdir(store):
        if os.path.isdir("/etc/ssl/certs"):
            shutil.copytree("/etc/ssl/certs", store, symlinks=True)
        else:
            os.makedirs(store)
        bundle = os.path.join(store, "ca-certificates.crt")
        if os.path.islink(bundle):
            os.unlink(bundle)
        shutil.copyfile(full, bundle)
        with open(os.path.join(store, "ec2sim-test-ca.pem"), "w") as f:
            f.write(test_pem)
        subprocess.run(["openssl", "rehash", store], capture_output=True)
        subprocess.run(["mount", "--bind", store, "/etc/ssl/certs"], check=True)
    return [("test CA only", test), ("system bundle + test CA", full),
            ("no AWS_CA_BUNDLE (system store)", None)]


def trust_env(cas):
    """AWS_CA_BUNDLE for the configured TRUST (None: unset)."""
    return {"test-ca": cas[0][1], "bundle": cas[1][1], "system": None}[TRUST]


# ----------------------------------------------------------------------------- namespace
def setup_namespace(workdir):
    """Inside fresh mount+net namespaces: loopback up, the IMDS address on it, a private
    /etc/hosts that maps the real endpoint name to ec2sim."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", IMDS_IP + "/32", "dev", "lo"], check=True)
    # No delayed ACKs on this namespace's local routes.  ec2sim sets TCP_NODELAY, so its
    # responses no longer stall on a client's 40 ms delayed ACK; quickack stays as a guard
    # (for every client alike) should a stand-in ever write a response in two segments again.
    routes = subprocess.run(["ip", "route", "show", "table", "local"], capture_output=True,
                            text=True, check=True).stdout
    for r in routes.splitlines():
        if r.startswith("local ") and "quickack" not in r:
            subprocess.run(["ip", "route", "replace", "table", "local"] + r.split() +
                           ["quickack", "1"], check=True)
    hosts = os.path.join(workdir, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                "%s\t%s\n" % (API_IP, ENDPOINT_HOST))
    subprocess.run(["mount", "--bind", hosts, "/etc/hosts"], check=True)
    # a private /run: the agents' runtime state (our IMDS token/identity cache in /run/ec2ha,
    # resource-agents' /run/resource-agents) stays in this namespace and starts empty
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"], check=True)
    # a proxy from the caller's environment must not capture the agents' traffic
    for k in list(os.environ):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            del os.environ[k]


def import_ec2sim():
    if not os.path.isdir(os.path.join(EC2SIM_DIR, "ec2sim")):
        raise SystemExit("bench: ec2sim not found at %s (tests/ec2sim is not on this branch "
                         "yet; EC2SIM_DIR=<dir holding the ec2sim package> overrides)"
                         % EC2SIM_DIR)
    sys.path.insert(0, EC2SIM_DIR)
    import ec2sim.testing as t
    return t


def micro_state(t):
    st = t.default_state()
    for inst in st["instances"]:
        inst["stop_delay"] = STOP_DELAY
        inst["force_stop_delay"] = STOP_DELAY
        inst["start_delay"] = 0.2
    return st


def big_state(t, n):
    st = micro_state(t)
    for i in range(n):
        st["instances"].append({
            "instance_id": "i-1%016x" % i,
            "state": "running" if i % 10 else "stopped",
            "tags": {"Name": "bench-%05d" % i, "env": "bench"},
            "network_interfaces": [{
                "network_interface_id": "eni-1%016x" % i,
                "mac_address": "0e:01:%02x:%02x:%02x:01" % (i >> 16 & 255, i >> 8 & 255,
                                                            i & 255),
                "private_ip_address": "10.1.%d.%d" % (i // 250, 1 + i % 250)}],
        })
    return st


# The CIB our eip reads (stonith-enabled) and writes (ec2-instance-id) on start, as a file
# (CIB_file).  validate-with="none": with a schema, libcib's file backend parses Pacemaker's
# whole RelaxNG schema on every sign-on (~70 M instructions, 60 % of an eip start), work a
# live cluster does in pacemaker-based, not in the agent.
CIB_TEMPLATE = """<cib crm_feature_set="3.16.1" validate-with="none" epoch="1"
     num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="true"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="node1"/>
      <node id="2" uname="node2"/>
    </nodes>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
"""


# ----------------------------------------------------------------------------- sides
class Side:
    def __init__(self, label, argv, env, stdin=b"", expect_rc=0, expect_out=None,
                 available=True, why_missing=None):
        self.label, self.argv, self.env, self.stdin = label, argv, env, stdin
        self.expect_rc, self.expect_out = expect_rc, expect_out
        self.available, self.why_missing = available, why_missing


class Bench:
    def __init__(self, ctx):
        self.ctx = ctx
        self.results = []
        self.rep = 0

    def pair(self, key, title, ours, anchor, reps, prep=None, post=None, warmup=True,
             timeout=180.0):
        """Alternate ours and the anchor `reps` times (order swapped every repetition)."""
        res = {"key": key, "title": title, "reps": reps, "ours": [], "anchor": [],
               "missing": {}}
        sides = []
        for name, side in (("ours", ours), ("anchor", anchor)):
            if side.available:
                sides.append((name, side))
            else:
                res["missing"][name] = side.why_missing
                log("%s: %s skipped: %s" % (title, side.label, side.why_missing))
        if not sides:
            self.results.append(res)
            return res
        log("%s: %d repetitions of %s" % (title, reps, " and ".join(s.label for _, s in sides)))
        if warmup and reps > 1:
            for name, side in sides:
                self._one(res, name, side, prep, post, record=False, timeout=timeout)
        for i in range(reps):
            self.rep = i
            order = sides if i % 2 == 0 else list(reversed(sides))
            for name, side in order:
                self._one(res, name, side, prep, post, record=True, timeout=timeout)
        self.results.append(res)
        for name, _ in sides:
            ok = [s for s in res[name] if s["ok"]]
            if ok:
                log("  %-6s median cpu %.1f ms, wall %.1f ms, rss %.1f MiB (%d/%d ok)"
                    % (name, 1000 * median([s["cpu"] for s in ok]),
                       1000 * median([s["wall"] for s in ok]),
                       median([s["maxrss_kib"] for s in ok]) / 1024.0, len(ok), len(res[name])))
            else:
                log("  %-6s every call failed" % name)
        return res

    def _one(self, res, name, side, prep, post, record, timeout):
        extra = {}
        if prep:
            extra = prep(name) or {}
        seq0 = self.ctx.mark(bench=res["key"], side=name)
        c = measure(side.argv, side.env, side.stdin, timeout=timeout)
        s = c.as_dict()
        s.update(extra)
        s.update(traffic(self.ctx.events(since=seq0)))
        err = None
        if c.timed_out:
            err = "timed out after %.0f s" % timeout
        elif side.expect_rc is not None and c.rc != side.expect_rc:
            err = "exit %d, expected %d" % (c.rc, side.expect_rc)
        elif side.expect_out is not None and side.expect_out not in c.stdout:
            err = "stdout lacks %r" % side.expect_out
        if err is None and post:
            err = post(name, c, s)
        s["ok"] = err is None
        if err:
            s["error"] = err
            tail = (c.stderr.strip() or c.stdout.strip())[-600:]
            s["output_tail"] = tail
            log("  %s %s: %s%s" % (name, side.label, err,
                                   ("\n    " + tail.replace("\n", "\n    ")) if tail else ""))
        if record:
            res[name].append(s)


def traffic(events):
    """What one call did on the wire, from ec2sim's log: EC2 actions, IMDS requests, and the
    time ec2sim itself spent answering (a Python server: part of every agent's wall time)."""
    calls, imds, server = {}, 0, 0.0
    for e in events:
        if e.get("type") == "call":
            a = e.get("action") or "?"
            calls[a] = calls.get(a, 0) + 1
            server += float(e.get("duration") or 0)
        elif e.get("type") == "imds":
            imds += 1
    return {"api": calls, "api_calls": sum(calls.values()), "imds_requests": imds,
            "server_time": server}


# ----------------------------------------------------------------------------- the run
def run(args, workdir):
    setup_namespace(workdir)
    t = import_ec2sim()
    home = os.path.join(workdir, "home")
    write_aws_files(home)
    reps, off_reps, list_reps = args.reps, args.off_reps, args.list_reps
    out = {"config": {"reps": reps, "off_reps": off_reps, "list_reps": list_reps,
                      "stop_delay": STOP_DELAY, "off_stop_delays": OFF_STOP_DELAYS[:off_reps],
                      "list_instances": args.list_n + 2,
                      "endpoint": "https://%s (ec2sim on %s:443, private /etc/hosts)"
                                  % (ENDPOINT_HOST, API_IP),
                      "imds": "http://%s:80 (ec2sim IMDSv2)" % IMDS_IP},
           "benchmarks": [], "profile": None}
    only = set(args.only.split(",")) if args.only else None

    def want(k):
        return only is None or k in only

    simdir = os.path.join(workdir, "sim")
    with t.Ec2Sim(micro_state(t), tls=True, workdir=simdir, bind=API_IP, port=443,
                  imds_bind=IMDS_IP, imds_port=80, cert_names=[ENDPOINT_HOST],
                  subprocess=True) as sim:
        log("ec2sim: %s, IMDS %s, CA %s" % (sim.endpoint, sim.imds_endpoint, sim.ca_bundle))
        cas = trust_files(sim, workdir)
        ca = trust_env(cas)
        out["config"]["trust"] = TRUST
        b = Bench(sim)
        fenv = clean_env(home, ca)
        oenv = ocf_env(home, ca, workdir)
        sides = make_sides(fenv, oenv)
        check_reachability(fenv)

        def assoc(where):
            def prep(_name):
                if where is None:
                    sim.set(ALLOC, instance_id=None)
                else:
                    sim.set(ALLOC, instance_id=where)
                return {}
            return prep

        if want("eip-monitor"):
            b.pair("eip-monitor", "EIP monitor (associated here)", sides["eip-monitor"][0],
                   sides["eip-monitor"][1], reps, prep=assoc(NODE1))
        if want("fence-status"):
            b.pair("fence-status", "fence status", sides["fence-status"][0],
                   sides["fence-status"][1], reps)
        if want("fence-monitor"):
            b.pair("fence-monitor", "fence monitor", sides["fence-monitor"][0],
                   sides["fence-monitor"][1], reps)
        if want("eip-start"):
            def start_post(_name, c, s):
                a = sim.address(ALLOC)
                if a.get("instance_id") != NODE1:
                    return "address not associated with this instance after start: %r" % a
                return None
            b.pair("eip-start", "eip start", sides["eip-start"][0], sides["eip-start"][1],
                   reps, prep=assoc(None), post=start_post)
        if want("eip-stop"):
            def stop_post(_name, c, s):
                a = sim.address(ALLOC)
                if a.get("association_id"):
                    return "address still associated after stop: %r" % a
                return None
            b.pair("eip-stop", "eip stop", sides["eip-stop"][0], sides["eip-stop"][1], reps,
                   prep=assoc(NODE1), post=stop_post)
        if want("fence-off"):
            fence_off(b, sim, sides, off_reps)
        prof = None
        if want("profile") and not args.smoke and os.access(FENCE_EC2, os.X_OK) | \
                os.access(EIP, os.X_OK):
            sim.set(ALLOC, instance_id=NODE1)
            prof = profile_ours.run(workdir, fenv, oenv, sides, reps, cas)
        out["profile"] = prof
        sim.set(ALLOC, instance_id=NODE1)
        out["benchmarks"] = b.results

    if want("list"):
        n = args.list_n
        log("list: ec2sim with %d instances" % (n + 2))
        t0 = time.monotonic()
        with t.Ec2Sim(big_state(t, n), tls=True, workdir=simdir + "-big", bind=API_IP,
                      port=443, imds_bind=IMDS_IP, imds_port=80, cert_names=[ENDPOINT_HOST],
                      subprocess=True) as sim:
            log("list: ec2sim ready in %.1f s" % (time.monotonic() - t0))
            cas = trust_files(sim, workdir)
            ca = trust_env(cas)
            b = Bench(sim)
            fenv = clean_env(home, ca)
            stdin = ("action=list\nregion=%s\n" % REGION).encode()

            def list_post(name, c, s):
                lines = [ln for ln in c.stdout.splitlines() if ln.startswith("i-")]
                s["lines"] = len(lines)
                if len(lines) != n + 2:
                    return "listed %d instances, expected %d" % (len(lines), n + 2)
                return None
            ours = Side("fence_ec2", [FENCE_EC2], fenv, stdin, available=os.access(
                FENCE_EC2, os.X_OK), why_missing="%s not built" % FENCE_EC2)
            anchor = Side("fence_aws", [FENCE_AWS], fenv, stdin,
                          available=os.access(FENCE_AWS, os.X_OK),
                          why_missing="fence_aws not installed")
            b.pair("list-10k", "fence list over {:,} instances".format(n + 2), ours, anchor,
                   list_reps, post=list_post, warmup=False, timeout=600)
            out["benchmarks"] += b.results
            if want("profile") and not args.smoke and ours.available:
                log("profile: list (callgrind, takes a while)")
                pdir = os.path.join(workdir, "profile")
                os.makedirs(pdir, exist_ok=True)
                entry = {"key": "list-10k", "label": "fence_ec2",
                         "callgrind": profile_ours.callgrind(ours.argv, ours.env, ours.stdin,
                                                             pdir, "list")}
                if out.get("profile") is None:
                    out["profile"] = {"startup": [], "calls": []}
                out["profile"]["calls"].append(entry)
    return out


def ocf_env(home, ca, workdir):
    cib = os.path.join(workdir, "cib.xml")
    with open(cib, "w") as f:
        f.write(CIB_TEMPLATE)
    return clean_env(home, ca, {
        "OCF_ROOT": OCF_ROOT,
        "OCF_RA_VERSION_MAJOR": "1",
        "OCF_RA_VERSION_MINOR": "1",
        "OCF_RESOURCE_INSTANCE": "eip",
        "OCF_RESKEY_allocation_id": ALLOC,
        "OCF_RESKEY_elastic_ip": EIP_ADDR,
        "OCF_RESKEY_api_delay": "0",
        "OCF_RESKEY_CRM_meta_timeout": "30000",
        "OCF_RESKEY_CRM_meta_on_node": "node1",
        "OCF_RESKEY_CRM_meta_on_node_uuid": "1",
        "CIB_file": cib,
    })


def make_sides(fenv, oenv):
    have_fe = os.access(FENCE_EC2, os.X_OK)
    have_eip = os.access(EIP, os.X_OK)
    have_fa = os.access(FENCE_AWS, os.X_OK)
    have_ae = os.access(AWSEIP, os.X_OK) and os.access("/usr/bin/aws", os.X_OK)
    nofe, noeip = "%s not built" % FENCE_EC2, "%s not built" % EIP
    nofa, noae = "fence_aws not installed", "awseip or /usr/bin/aws not installed"

    def fin(action, plug=None):
        s = "action=%s\n" % action
        if plug:
            s += "plug=%s\n" % plug
        return (s + "region=%s\n" % REGION).encode()

    mon_env = dict(oenv, OCF_RESKEY_CRM_meta_interval="20000")
    return {
        "eip-monitor": (Side("eip", [EIP, "monitor"], mon_env, available=have_eip,
                             why_missing=noeip),
                        Side("awseip", [AWSEIP, "monitor"], mon_env, available=have_ae,
                             why_missing=noae)),
        "fence-status": (Side("fence_ec2", [FENCE_EC2], fenv, fin("status", NODE2),
                              expect_out="Status: ON", available=have_fe, why_missing=nofe),
                         Side("fence_aws", [FENCE_AWS], fenv, fin("status", NODE2),
                              expect_out="Status: ON", available=have_fa, why_missing=nofa)),
        "fence-monitor": (Side("fence_ec2", [FENCE_EC2], fenv, fin("monitor"),
                               available=have_fe, why_missing=nofe),
                          Side("fence_aws", [FENCE_AWS], fenv, fin("monitor"),
                               available=have_fa, why_missing=nofa)),
        "eip-start": (Side("eip", [EIP, "start"], oenv, available=have_eip, why_missing=noeip),
                      Side("awseip", [AWSEIP, "start"], oenv, available=have_ae,
                           why_missing=noae)),
        "eip-stop": (Side("eip", [EIP, "stop"], oenv, available=have_eip, why_missing=noeip),
                     Side("awseip", [AWSEIP, "stop"], oenv, available=have_ae,
                          why_missing=noae)),
        "fence-off": (Side("fence_ec2", [FENCE_EC2], fenv, fin("off", NODE2),
                           expect_out="Success: Powered OFF", available=have_fe,
                           why_missing=nofe),
                      Side("fence_aws", [FENCE_AWS], fenv, fin("off", NODE2),
                           expect_out="Success: Powered OFF", available=have_fa,
                           why_missing=nofa)),
        "meta": {"fenv": fenv, "oenv": oenv},
    }


def check_reachability(env):
    """The AWS side as the anchors see it: name resolution, TLS with the test CA, IMDSv2."""
    ca = ["--cacert", env["AWS_CA_BUNDLE"]] if env.get("AWS_CA_BUNDLE") else []
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"] + ca +
                       ["https://%s/" % ENDPOINT_HOST],
                       capture_output=True, text=True, timeout=30, env=env)
    if r.returncode != 0:
        raise SystemExit("bench: https://%s/ unreachable inside the namespace: %s"
                         % (ENDPOINT_HOST, r.stderr.strip()))
    r = subprocess.run(["curl", "-sS", "-X", "PUT", "-H",
                        "X-aws-ec2-metadata-token-ttl-seconds: 60",
                        "http://%s/latest/api/token" % IMDS_IP],
                       capture_output=True, text=True, timeout=30, env=env)
    tok = r.stdout.strip()
    r = subprocess.run(["curl", "-sS", "-H", "X-aws-ec2-metadata-token: " + tok,
                        "http://%s/latest/meta-data/instance-id" % IMDS_IP],
                       capture_output=True, text=True, timeout=30, env=env)
    if r.stdout.strip() != NODE1:
        raise SystemExit("bench: IMDS at %s answered %r, expected %s"
                         % (IMDS_IP, r.stdout.strip() or r.stderr.strip(), NODE1))


def fence_off(b, sim, sides, reps):
    """off of a running target: wall from invocation to exit, minus ec2sim's configured stop
    time; and the agent's exit measured against the `stopped` event in ec2sim's log."""
    def prep(_name):
        d = OFF_STOP_DELAYS[b.rep % len(OFF_STOP_DELAYS)]
        sim.set(NODE2, state="running", stop_delay=d, force_stop_delay=d)
        sim.wait_state(NODE2, "running", timeout=30)
        return {"seq0": max([e.get("seq", 0) for e in sim.events()] or [0]), "stop_delay": d}

    def post(_name, c, s):
        evs = [e for e in sim.events(since=s.get("seq0", 0))
               if e.get("instance_id") == NODE2]
        stop_call = [e for e in evs if e.get("type") == "state" and e.get("state") in
                     ("stopping",)]
        stopped = [e for e in evs if e.get("type") == "state" and e.get("state") == "stopped"]
        if not stopped:
            return "no `stopped` event for %s in ec2sim's log" % NODE2
        s["past_stop"] = c.wall - s["stop_delay"]
        s["exit_after_stopped"] = c.t_end - stopped[0]["ts"]
        if stop_call:
            s["stop_call_after_start"] = stop_call[0]["ts"] - c.t_start
        if c.t_end < stopped[0]["ts"]:
            return "agent exited %.3f s BEFORE the target was stopped" % (stopped[0]["ts"] -
                                                                          c.t_end)
        return None
    ours, anchor = sides["fence-off"]
    b.pair("fence-off", "fence off (stop time %.2f-%.2f s)" % (
        min(OFF_STOP_DELAYS[:reps]), max(OFF_STOP_DELAYS[:reps])), ours, anchor, reps,
        prep=prep, post=post, timeout=180)
    sim.set(NODE2, state="running", stop_delay=STOP_DELAY, force_stop_delay=STOP_DELAY)


def main_inner(args):
    workdir = args.workdir
    os.makedirs(workdir, exist_ok=True)
    out = run(args, workdir)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    return 0
