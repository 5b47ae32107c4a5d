#!/usr/bin/python3
"""The "AWS side" of the cluster tests: ec2sim in the aws namespace, wired to the nodes.

- ec2sim serves the EC2 Query API over HTTPS on :443 and IMDSv2 on :80 of every address of
  the aws namespace; nodes reach it as https://ec2.us-east-1.amazonaws.com (their /etc/hosts)
  and http://169.254.169.254 (routed to the aws namespace).  IMDS answers each node as its
  own instance because the instance's ENI private IP is the node's address.
- Credentials come from IMDS (the instance profile), as on EC2; the test CA is trusted through
  AWS_CA_BUNDLE in each node's /etc/default/pacemaker, the environment Pacemaker's fencer
  and executor hand to the agents.
- ec2sim's hooks call hook.py, which asks this process (over a unix socket) to power a node
  off on StopInstances (SIGKILL for a forced stop), boot it on StartInstances, and move the
  Elastic IP's route on every association change.  ec2sim reports `stopped` only after the
  stop hook returned, i.e. after the node is really off.
"""
import calendar
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import harness as H
from harness import HarnessError, log

EC2SIM_DIR = os.environ.get("EC2HA_EC2SIM_DIR", os.path.join(H.REPO, "tests", "ec2sim"))
EIP_ALLOC = "eipalloc-0123456789abcdef0"     # the allocation id in crm-examples/
EIP_IP = "203.0.113.10"
INSTANCE_IDS = {"node1": "i-0000000000000aaaa", "node2": "i-0000000000000bbbb",
                "node3": "i-0000000000000cccc"}
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def node_mac(index):
    return "0e:ec:2a:00:00:%02x" % (10 + index)


def node_eni(index):
    return "eni-%017x" % (0xec2a00 + index)


class Ec2Cluster(H.Cluster):
    """A Cluster whose nodes are EC2 instances of an ec2sim in the aws namespace."""

    def __init__(self, n, stop_delay=3.0, force_stop_delay=2.0, start_delay=2.0,
                 boot_delay=5.0, power_off_delay=1.0, extra_state=None, **kw):
        names = kw.pop("names", None) or ["node%d" % (i + 1) for i in range(n)]
        instances = {nm: (INSTANCE_IDS.get(nm, "i-%017x" % (0xaaaa + i)), node_mac(i + 1))
                     for i, nm in enumerate(names)}
        super().__init__(n, names=names, instances=instances, **kw)
        self.stop_delay = stop_delay
        self.force_stop_delay = force_stop_delay
        self.start_delay = start_delay
        self.boot_delay = boot_delay     # OS boot: from StartInstances to corosync starting
        self.boot_timers = []
        # a force-stopped instance runs on for a moment (< force_stop_delay) before it is off
        self.power_off_delay = min(power_off_delay, max(0.0, force_stop_delay - 0.5))
        self.extra_state = extra_state or {}
        self.sim = None
        self.sim_info = None
        self.sim_dir = None
        self.hook_sock = None
        self.hook_thread = None
        self.hook_log = []
        self.route_lock = threading.Lock()

    # -- ec2sim state ---------------------------------------------------------------------
    def ec2sim_state(self):
        hook = "%s %s %s" % (H.PYTHON, os.path.join(H.HERE, "hook.py"),
                             os.path.join(H.RUN_DIR, "hook.sock"))
        instances = []
        for n in self.nodes:
            instances.append({
                "instance_id": n.instance_id,
                "state": "running",
                "tags": {"Name": n.name, "ec2ha-cluster": "ec2ha"},
                "network_interfaces": [{
                    "network_interface_id": node_eni(n.index),
                    "mac_address": n.mac,
                    "private_ip_address": n.ip,
                }],
            })
        state = {
            "region": H.REGION,
            "keys": [{"access_key_id": KEY_ID, "secret_access_key": SECRET,
                      "permissions": ["*"]}],
            "instances": instances,
            "addresses": [{"allocation_id": EIP_ALLOC, "public_ip": EIP_IP}],
            "defaults": {"stop_delay": self.stop_delay,
                         "force_stop_delay": self.force_stop_delay,
                         "start_delay": self.start_delay,
                         "hook_timeout": 120},
            "hooks": {"stop": hook, "start": hook, "reboot": hook, "association": hook},
        }
        for k, v in self.extra_state.items():
            state[k] = v
        return state

    # -- life cycle -----------------------------------------------------------------------
    def setup(self):
        super().setup()
        self.start_hook_server()
        self.start_ec2sim()
        self.route_eip(EIP_IP, None)

    def start_ec2sim(self):
        self.sim_dir = os.path.join(H.RUN_DIR, "ec2sim")
        os.makedirs(self.sim_dir)
        state_path = os.path.join(self.sim_dir, "state.json")
        with open(state_path, "w") as f:
            json.dump(self.ec2sim_state(), f, indent=1)
        env = dict(H.CLEAN_ENV)
        env["PYTHONPATH"] = EC2SIM_DIR
        env["PYTHONUNBUFFERED"] = "1"
        out = open(os.path.join(self.sim_dir, "ec2sim.log"), "ab")
        self.sim = subprocess.Popen(
            [H.PYTHON, "-m", "ec2sim", "--state", state_path, "--tls",
             "--bind", H.ENDPOINT_IP, "--port", "443",
             "--cert-name", H.ENDPOINT_HOST, "--cert-name", H.ENDPOINT_IP,
             "--imds-bind", H.IMDS_IP, "--imds-port", "80",
             "--cert-cache", os.path.join(H.RUN_DIR, "certs"),
             "--workdir", self.sim_dir],
            cwd=EC2SIM_DIR, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=out)
        out.close()
        H.write_pidfile("ec2sim", self.sim.pid)
        self.bg.append(self.sim)
        import select
        r, _, _ = select.select([self.sim.stdout], [], [], 60)
        line = self.sim.stdout.readline() if r else b""
        if not line.strip():
            raise HarnessError("ec2sim did not start (see %s/ec2sim.log)" % self.sim_dir)
        self.sim_info = json.loads(line)
        # drain the rest of its stdout into the log
        threading.Thread(target=self._drain, args=(self.sim.stdout,), daemon=True).start()
        ca = self.sim_info.get("ca_bundle")
        if not ca or not os.path.exists(ca):
            raise HarnessError("ec2sim reported no CA bundle: %r" % self.sim_info)
        self.ca_path = os.path.join(H.RUN_DIR, "ec2sim-ca.pem")
        with open(ca) as src, open(self.ca_path, "w") as dst:
            dst.write(src.read())
        os.chmod(self.ca_path, 0o644)
        self.pacemaker_env["AWS_CA_BUNDLE"] = self.ca_path
        log("ec2sim up: %s" % json.dumps(self.sim_info))

    def _drain(self, stream):
        with open(os.path.join(self.sim_dir, "ec2sim.out"), "ab") as f:
            for chunk in iter(lambda: stream.read1(65536), b""):
                f.write(chunk)

    def teardown(self):
        for t in self.boot_timers:
            t.cancel()
        for t in self.boot_timers:
            if t.is_alive() and t is not threading.current_thread():
                t.join(60)
        self.boot_timers = []
        if self.hook_sock is not None:
            try:
                self.hook_sock.close()
            except OSError:
                pass
            self.hook_sock = None
        super().teardown()

    # -- ec2sim control and event log ----------------------------------------------------
    def events(self, types=None):
        """ec2sim's event log (events.jsonl in its workdir), oldest first."""
        path = os.path.join(self.sim_dir, "events.jsonl")
        out = []
        try:
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        ev = json.loads(line)
                    except ValueError:
                        continue    # a line being written
                    if types is None or ev.get("type") in types:
                        out.append(ev)
        except FileNotFoundError:
            pass
        return out

    def control(self, op=None, path=None, **fields):
        """ec2sim's control API (loopback of the aws namespace, where this process is):
        control("fault", action=..., kind=...) posts {"op": ..., ...} to /control;
        control(path="/events") GETs."""
        u = urllib.parse.urlsplit(self.sim_info["control"])
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        if op is not None:
            body = dict(fields)
            body["op"] = op
            conn.request("POST", "/control", body=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json"})
        else:
            conn.request("GET", path or "/state")
        r = conn.getresponse()
        data = r.read()
        conn.close()
        if r.status >= 300:
            raise HarnessError("ec2sim control %s: HTTP %d %s" % (op or path, r.status,
                                                                  data[:300]))
        return json.loads(data) if data.strip() else None

    def fault(self, **fields):
        return self.control("fault", **fields)["id"]

    def clear_faults(self):
        return self.control("clear_faults")

    def mark(self, note):
        return self.control("mark", note=note)["seq"]

    def instance_states(self):
        """instance id -> state, from the event log (initial states are all running)."""
        st = {n.instance_id: "running" for n in self.nodes}
        for ev in self.events(("state",)):
            st[ev["instance_id"]] = ev["state"]
        return st

    def eip_owner_instance(self):
        owner = None
        for ev in self.events(("association",)):
            if ev.get("allocation_id") == EIP_ALLOC:
                owner = ev.get("instance_id")
        return owner

    def aws_cli(self, args, check=True):
        """Debian's AWS CLI against ec2sim, from the aws namespace, as an operator would."""
        env = dict(H.CLEAN_ENV)
        env.update({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                    "AWS_REGION": H.REGION, "AWS_CA_BUNDLE": self.ca_path,
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                    "AWS_EC2_METADATA_DISABLED": "true"})
        return H.sh(["/usr/bin/aws", "ec2", "--output", "json",
                     "--endpoint-url", "https://%s" % H.ENDPOINT_IP] + args, check=check, env=env)

    def start_instance(self, node):
        """StartInstances through the API (as an operator); the start hook boots the node."""
        self.aws_cli(["start-instances", "--instance-ids", node.instance_id])
        H.wait_for("%s running in ec2sim and booted" % node.name,
                   lambda: self.instance_states().get(node.instance_id) == "running"
                   and node.running, 60 + self.boot_delay, 0.3)

    # -- hooks ----------------------------------------------------------------------------
    def start_hook_server(self):
        path = os.path.join(H.RUN_DIR, "hook.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(16)
        self.hook_sock = s
        self.hook_thread = threading.Thread(target=self._hook_accept, args=(s,), daemon=True)
        self.hook_thread.start()

    def _hook_accept(self, s):
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=self._hook_conn, args=(conn,), daemon=True).start()

    def _hook_conn(self, conn):
        try:
            data = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            ev = json.loads(data.decode())
            t0 = time.time()
            try:
                msg = self.handle_hook(ev)
                reply = {"ok": True, "msg": msg}
            except Exception as e:   # report to ec2sim's event log, never crash the thread
                reply = {"ok": False, "msg": "%s: %s" % (type(e).__name__, e)}
            self.hook_log.append((t0, time.time(), ev, reply))
            conn.sendall(json.dumps(reply).encode())
        except Exception as e:
            log("hook connection failed: %s" % e)
        finally:
            conn.close()

    def handle_hook(self, ev):
        event = ev.get("EC2SIM_EVENT", "")
        if "EC2SIM_ALLOCATION_ID" in ev or event in ("associate", "move", "disassociate"):
            iid = ev.get("EC2SIM_INSTANCE_ID") or None
            ip = ev.get("EC2SIM_PUBLIC_IP") or EIP_IP
            node = None
            if iid:
                try:
                    node = self.node(iid).name
                except KeyError:
                    node = None
            with self.route_lock:
                self.route_eip(ip, node)
            return "EIP %s -> %s" % (ip, node or "nobody")
        iid = ev.get("EC2SIM_INSTANCE_ID")
        node = self.node(iid)
        if event == "stop":
            if ev.get("EC2SIM_FORCE") == "true":
                if node.running and self.power_off_delay > 0:
                    time.sleep(self.power_off_delay)
                node.power_off("forced StopInstances")
            else:
                self.shutdown_node(node)
            return "%s off" % node.name
        if event == "start":
            self.boot_later(node)
            return "%s powered on, OS up in %.0f s" % (node.name, self.boot_delay)
        if event == "reboot":
            self.shutdown_node(node)
            self.boot_later(node)
            return "%s rebooting" % node.name
        return "ignored %s" % event

    def boot_later(self, node):
        """The instance is powered on; its OS (and so corosync) is up boot_delay s later, as
        on EC2, where `running` comes well before the services of the instance."""
        def boot():
            try:
                node.boot()
            except Exception as e:
                log("%s: boot failed: %s" % (node.name, e))
        t = threading.Timer(self.boot_delay, boot)
        t.daemon = True
        self.boot_timers.append(t)
        t.start()

    def shutdown_node(self, node, timeout=90):
        """An OS shutdown: SIGTERM to init (stops pacemaker, then corosync), then power off."""
        with node.lock:
            if not node.running:
                return
            try:
                os.kill(node.pid1, signal.SIGTERM)
                node.popen.wait(timeout=timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            node.power_off("OS shutdown")


# ---------------------------------------------------------------------------------------------
# Pacemaker's own record: stonith_admin --history and the nodes' pacemaker.log.

def fence_history(node):
    """[{action, target, status, delegate, origin, completed}] from stonith_admin on node."""
    import xml.etree.ElementTree as ET
    r = node.run(["stonith_admin", "--history", "*", "--output-as=xml"], check=False, timeout=60)
    out = []
    try:
        root = ET.fromstring(r.stdout)
    except ET.ParseError:
        return out
    for e in root.iter("fence_event"):
        d = dict(e.attrib)
        d["completed_ts"] = None
        c = d.get("completed", "")
        if c.endswith("Z"):          # "2026-11-25 17:59:11Z": UTC, whole seconds
            try:
                d["completed_ts"] = calendar.timegm(time.strptime(c[:19], "%Y-%m-%d %H:%M:%S"))
            except ValueError:
                pass
        out.append(d)
    return out
