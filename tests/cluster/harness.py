#!/usr/bin/python3
"""Real Pacemaker + Corosync clusters in Linux namespaces, for ec2ha's cluster tests and demo.

Layout (every address lives inside namespaces this file creates; the root namespace gets none):

    aws namespace  "<prefix>-aws"                       node namespaces (one set per node)
    ----------------------------                        -----------------------------------
    br0  172.31.0.1/24  (VPC router, pinger)   veth     eth0 172.31.0.1N/24, default via .1
         172.31.0.2     ec2.<region>.amazonaws.com ---- lo   127.0.0.1 [+ the EIP when owner]
    lo   169.254.169.254  (IMDS)                        /etc/hosts, /run, /dev/shm, /tmp,
    route <EIP>/32 via <owner node>  (or blackhole)     /var/lib/pacemaker ... private
    ec2sim (HTTPS :443, IMDS :80), ping -> EIP          PID 1 = node_init.py (the "power")

A node is one `unshare --net --mount --uts --ipc --pid` process tree whose PID 1 is node_init.py;
the network namespace is anonymous, so it disappears with the node.  Crashing a node is SIGKILL
to its PID 1 plus deleting its veth (the link goes down at once).  Booting it again builds fresh
namespaces over the same on-disk directories (the instance's disk survives a stop/start).

Runs are serialised with a lock; each run first removes what a killed earlier run left (pid
files, the aws namespace and any process still in it).  Processes are ended by pid only.
"""
import contextlib
import ctypes
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"

PREFIX = os.environ.get("EC2HA_CLUSTER_PREFIX", "ec2ha")
RUN_DIR = os.environ.get("EC2HA_CLUSTER_DIR", "/var/tmp/%s-cluster" % PREFIX)
LOCK_FILE = "/run/lock/%s-cluster.lock" % PREFIX
AWS_NS = "%s-aws" % PREFIX
BRIDGE = "br0"
BRIDGE_MAC = "0e:ec:2a:00:00:01"
NET = "172.31.0"
GATEWAY = NET + ".1"
ENDPOINT_IP = NET + ".2"
VOID_IP = NET + ".254"       # on the subnet, never assigned
IMDS_IP = "169.254.169.254"
REGION = "us-east-1"
ENDPOINT_HOST = "ec2.%s.amazonaws.com" % REGION

CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}


def now():
    return time.time()


class HarnessError(Exception):
    pass


QUIET = False      # the demo keeps its output to the story; everything goes to the file


def log(msg):
    line = "[%s] %s\n" % (time.strftime("%H:%M:%S"), msg)
    try:
        with open(os.path.join(RUN_DIR, "harness.log"), "a") as f:
            f.write(line)
    except OSError:
        pass
    if not QUIET:
        sys.stderr.write(line)
        sys.stderr.flush()


def sh(args, check=True, timeout=60, env=None, input=None):
    """Run a command in the root namespaces; returns CompletedProcess (text)."""
    r = subprocess.run(args, env=env or CLEAN_ENV, input=input, capture_output=True,
                       text=True, timeout=timeout,
                       stdin=None if input is not None else subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise HarnessError("%s: exit %d: %s" % (" ".join(args), r.returncode,
                                                 (r.stderr or r.stdout).strip()))
    return r


# The harness process itself lives in the aws namespace while a cluster is up (setns), so
# ec2sim, the pinger and every `ip` command it runs are on the "AWS side" without wrappers,
# and the root namespace never gets an address, a route or a link.
_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000
_ROOT_NETNS_FD = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
_in_aws = False


def _setns(fd):
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def enter_aws_ns():
    # setns() moves only the calling thread; threads and processes it starts later inherit
    # the namespace.  Call it from the main thread, which starts everything else.
    global _in_aws
    if threading.current_thread() is not threading.main_thread():
        raise HarnessError("enter_aws_ns must run in the main thread")
    fd = os.open("/run/netns/" + AWS_NS, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(fd)
    finally:
        os.close(fd)
    _in_aws = True


def leave_aws_ns():
    global _in_aws
    if _in_aws:
        _setns(_ROOT_NETNS_FD)
        _in_aws = False


def aws(args, check=True):
    """Run a command in the aws namespace (where this process is while a cluster is up)."""
    if not _in_aws:
        raise HarnessError("not in the aws namespace")
    return sh(args, check=check)


def wait_for(what, pred, timeout, interval=0.5):
    """Poll pred() until it returns a true value; HarnessError naming `what` after timeout s."""
    end = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except (HarnessError, subprocess.TimeoutExpired, ET.ParseError) as e:
            last_exc = e
        if time.monotonic() >= end:
            raise HarnessError("timed out after %ds waiting for %s%s" % (
                timeout, what, (" (last error: %s)" % last_exc) if last_exc else ""))
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Process bookkeeping: pid files with the process start time, so a recycled pid is never killed.

def proc_starttime(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'
    fields = data[data.rfind(")") + 2:].split()
    return fields[19]  # field 22 of proc(5), counted from field 3


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rfind(")") + 2:].split()[0] != "Z"


def write_pidfile(name, pid):
    os.makedirs(os.path.join(RUN_DIR, "pids"), exist_ok=True)
    with open(os.path.join(RUN_DIR, "pids", name + ".pid"), "w") as f:
        f.write("%d %s\n" % (pid, proc_starttime(pid)))


def remove_pidfile(name):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(RUN_DIR, "pids", name + ".pid"))


def kill_and_wait(pid, popen=None, sig=signal.SIGKILL, timeout=30):
    """Signal one process by pid and wait until it is gone (reaped if it is our child)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if popen is not None:
        try:
            popen.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            raise HarnessError("process %d did not exit within %ds" % (pid, timeout))
    wait_for("process %d to exit" % pid, lambda: not alive(pid), timeout, 0.1)


def cleanup_leftovers():
    """Remove what an earlier, killed run left: processes from pid files, the aws namespace
    and every process still inside it.  Only processes this harness started are touched."""
    piddir = os.path.join(RUN_DIR, "pids")
    if os.path.isdir(piddir):
        for fn in sorted(os.listdir(piddir)):
            try:
                with open(os.path.join(piddir, fn)) as f:
                    pid_s, start = f.read().split()
                pid = int(pid_s)
            except (OSError, ValueError):
                continue
            if proc_starttime(pid) == start:
                log("leftover process %d (%s): killing" % (pid, fn))
                kill_and_wait(pid)
    remove_aws_ns()
    if os.path.isdir(RUN_DIR):
        shutil.rmtree(RUN_DIR)


# ---------------------------------------------------------------------------------------------

def remove_aws_ns():
    """End every process in the aws namespace (but this one) and delete it."""
    leave_aws_ns()
    if os.path.exists("/run/netns/" + AWS_NS):
        r = sh(["ip", "netns", "pids", AWS_NS], check=False)
        for pid_s in r.stdout.split():
            if int(pid_s) != os.getpid():
                log("process %s still in %s: killing" % (pid_s, AWS_NS))
                kill_and_wait(int(pid_s))
        sh(["ip", "netns", "del", AWS_NS], check=False)


class Node:
    """One simulated EC2 instance running Corosync and Pacemaker."""

    def __init__(self, cluster, index, name, instance_id=None, mac=None):
        self.cluster = cluster
        self.index = index
        self.name = name
        self.ip = "%s.%d" % (NET, 10 + index)
        self.instance_id = instance_id
        self.mac = mac
        self.dir = os.path.join(RUN_DIR, name)
        self.veth = "v%s-%s" % (PREFIX[:3], name)[:15]
        self.popen = None
        self.pid1 = None
        self.boots = 0
        self.lock = threading.RLock()

    # -- files ----------------------------------------------------------------------------
    def prepare(self):
        """Create the instance's disk (kept across stop/start)."""
        hacluster = _ids("hacluster", "haclient")
        for sub, mode, owner in (("lib-pacemaker", 0o750, hacluster),
                                 ("lib-pacemaker/cib", 0o750, hacluster),
                                 ("lib-pacemaker/pengine", 0o750, hacluster),
                                 ("lib-pacemaker/blackbox", 0o750, hacluster),
                                 ("lib-pacemaker/cores", 0o750, hacluster),
                                 ("lib-corosync", 0o755, None),
                                 ("log", 0o770, hacluster),
                                 ("etc-corosync", 0o755, None)):
            p = os.path.join(self.dir, sub)
            os.makedirs(p, exist_ok=True)
            os.chmod(p, mode)
            if owner:
                os.chown(p, *owner)
        self.write_files()

    def write_files(self):
        c = self.cluster
        with open(os.path.join(self.dir, "hostname"), "w") as f:
            f.write(self.name + "\n")
        hosts = ["127.0.0.1\tlocalhost", "%s\t%s" % (self.ip, self.name)]
        hosts += ["%s\t%s" % (n.ip, n.name) for n in c.nodes if n is not self]
        hosts += ["%s\t%s" % (ENDPOINT_IP, ENDPOINT_HOST)]
        with open(os.path.join(self.dir, "hosts"), "w") as f:
            f.write("\n".join(hosts) + "\n")
        with open(os.path.join(self.dir, "etc-corosync", "corosync.conf"), "w") as f:
            f.write(c.corosync_conf())
        for sub, src in (("etc-default", "/etc/default"), ("etc-init.d", "/etc/init.d")):
            if not os.path.isdir(os.path.join(self.dir, sub)):
                shutil.copytree(src, os.path.join(self.dir, sub), symlinks=True)
        env = {"PCMK_logfile": "/var/log/pacemaker/pacemaker.log",
               "PCMK_logfacility": "none",
               "PCMK_debug": "no"}
        env.update(c.pacemaker_env)
        with open(os.path.join(self.dir, "etc-default", "pacemaker"), "w") as f:
            f.write("# written by tests/cluster/harness.py: what an operator puts in "
                    "/etc/default/pacemaker\n")
            for k, v in env.items():
                f.write("%s=%s\n" % (k, v))
        self.write_node_files(c.node_files)

    def write_node_files(self, files):
        """files: {path inside the node (under /etc/default or /etc/init.d): content};
        content None removes, a ("symlink", target) tuple makes a symlink.  Directory binds
        make the change visible in a running node at once."""
        roots = {"/etc/default/": "etc-default", "/etc/init.d/": "etc-init.d"}
        for path, content in files.items():
            root = next((r for r in roots if path.startswith(r)), None)
            if root is None:
                raise HarnessError("node file %s: only /etc/default and /etc/init.d" % path)
            host = os.path.join(self.dir, roots[root], path[len(root):])
            if os.path.lexists(host):
                os.unlink(host)
            if content is None:
                continue
            if isinstance(content, tuple) and content[0] == "symlink":
                os.symlink(content[1], host)
            else:
                with open(host, "w") as f:
                    f.write(content)

    # -- power ----------------------------------------------------------------------------
    @property
    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def boot(self):
        """Power on: fresh namespaces, network, then corosync and pacemakerd."""
        with self.lock:
            if self.running:
                return
            self.write_files()
            self.boots += 1
            errlog = open(os.path.join(self.dir, "log", "unshare.err"), "ab")
            self.popen = subprocess.Popen(
                ["unshare", "--net", "--mount", "--uts", "--ipc", "--pid", "--fork",
                 "--mount-proc", "--propagation", "private", "--kill-child=SIGKILL",
                 PYTHON, os.path.join(HERE, "node_init.py"), self.dir],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errlog, env=CLEAN_ENV)
            errlog.close()
            write_pidfile(self.name + "-unshare", self.popen.pid)
            r, _, _ = select.select([self.popen.stdout], [], [], 30)
            line = self.popen.stdout.readline() if r else b""
            if line.strip() != b"ready":
                self.power_off()
                raise HarnessError("%s: init did not get ready (see %s/log)" % (self.name,
                                                                                 self.dir))
            self.pid1 = self._find_pid1()
            write_pidfile(self.name + "-init", self.pid1)
            # network: veth from the aws bridge into the node
            aws(["ip", "link", "add", self.veth, "type", "veth", "peer", "name", "eth0",
                 "netns", str(self.pid1)])
            aws(["ip", "link", "set", self.veth, "master", BRIDGE, "up"])
            cmds = []
            if self.mac:
                cmds.append(["ip", "link", "set", "eth0", "address", self.mac])
            cmds += [["ip", "addr", "add", self.ip + "/24", "dev", "eth0"],
                     ["ip", "link", "set", "eth0", "up"],
                     ["ip", "link", "set", "lo", "up"],
                     ["ip", "route", "add", "default", "via", GATEWAY]]
            for cmd in cmds:
                self.nsnet(cmd)
            self.popen.stdin.write(b"go\n")
            self.popen.stdin.flush()
            self.booted_at = now()
            log("%s: booted (init pid %d)" % (self.name, self.pid1))
            self.cluster.on_node_boot(self)

    def _find_pid1(self):
        def child():
            try:
                with open("/proc/%d/task/%d/children" % (self.popen.pid, self.popen.pid)) as f:
                    kids = f.read().split()
            except OSError:
                return None
            return int(kids[0]) if kids else None
        return wait_for("%s init process" % self.name, child, 10, 0.05)

    def power_off(self, reason="power off"):
        """Pull the plug: SIGKILL PID 1 (the kernel kills the rest) and take the link down."""
        with self.lock:
            if self.popen is None:
                return False
            was_running = self.running
            if self.pid1 and was_running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid1, signal.SIGKILL)
            aws(["ip", "link", "del", self.veth], check=False)
            kill_and_wait(self.popen.pid, self.popen, signal.SIGKILL)
            for stream in (self.popen.stdin, self.popen.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.popen = None
            self.pid1 = None
            remove_pidfile(self.name + "-unshare")
            remove_pidfile(self.name + "-init")
            if was_running:
                log("%s: powered off (%s)" % (self.name, reason))
            self.cluster.on_node_power_off(self)
            return was_running

    # -- network faults -------------------------------------------------------------------
    def link(self, up):
        """Cut / restore this node's only network link (cluster, EC2 API and IMDS alike)."""
        aws(["ip", "link", "set", self.veth, "up" if up else "down"])

    def block_peer(self, peer, blocked=True):
        """Drop traffic from this node to peer (corosync included); the EC2 API stays reachable."""
        self.nsnet(["ip", "route", "replace" if blocked else "del", "blackhole",
                    peer.ip + "/32"], check=blocked)

    # -- running commands inside ----------------------------------------------------------
    def nsenter_args(self, net_only=False):
        if not self.running:
            raise HarnessError("%s is not running" % self.name)
        if net_only:
            return ["nsenter", "-t", str(self.pid1), "-n"]
        return ["nsenter", "-t", str(self.pid1), "-m", "-u", "-i", "-n", "-p"]

    def nsnet(self, args, check=True):
        return sh(self.nsenter_args(net_only=True) + args, check=check)

    def run(self, args, check=True, timeout=120, input=None, env=None):
        e = dict(CLEAN_ENV)
        if env:
            e.update(env)
        return sh(self.nsenter_args() + args, check=check, timeout=timeout, input=input, env=e)

    def crm_mon(self):
        """Parsed `crm_mon --output-as=xml` as seen from this node."""
        r = self.run(["crm_mon", "--output-as=xml", "--fence-history=3"], check=False,
                     timeout=30)
        if r.returncode != 0 or not r.stdout.strip():
            raise HarnessError("%s: crm_mon failed: %s" % (self.name, r.stderr.strip()))
        return ClusterStatus(r.stdout)


def _ids(user, group):
    import grp
    import pwd
    return pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid


class ClusterStatus:
    """The parts of crm_mon's XML the tests look at."""

    def __init__(self, xml_text):
        self.xml = xml_text
        root = ET.fromstring(xml_text)
        self.root = root
        dc = root.find("./summary/current_dc")
        self.dc = dc.get("name") if dc is not None and dc.get("present") == "true" else None
        q = dc.get("with_quorum") if dc is not None else None
        self.quorum = q == "true"
        self.nodes = {}
        for n in root.findall("./nodes/node"):
            self.nodes[n.get("name")] = dict(n.attrib)
        self.resources = {}
        for r in root.iter("resource"):
            self.resources[r.get("id")] = {
                "agent": r.get("resource_agent"), "role": r.get("role"),
                "active": r.get("active") == "true", "failed": r.get("failed") == "true",
                "nodes": [x.get("name") for x in r.findall("node")]}
        self.failures = [dict(f.attrib) for f in root.findall("./failures/failure")]
        self.fence_history = [dict(f.attrib) for f in root.findall("./fence_history/fence_event")]

    def online(self):
        return sorted(n for n, a in self.nodes.items() if a.get("online") == "true")

    def unclean(self):
        return sorted(n for n, a in self.nodes.items() if a.get("unclean") == "true")

    def running_on(self, rsc):
        r = self.resources.get(rsc)
        if not r or not r["active"] or r["role"] not in ("Started", "Promoted", "Master"):
            return None
        return r["nodes"][0] if r["nodes"] else None


class Cluster:
    """N nodes plus the aws namespace.  Use as a context manager; teardown always runs."""

    def __init__(self, n, names=None, instances=None, pacemaker_env=None, token_ms=1000):
        self.names = names or ["node%d" % (i + 1) for i in range(n)]
        self.token_ms = token_ms
        self.pacemaker_env = dict(pacemaker_env or {})
        self.node_files = {}      # see Node.write_node_files
        instances = instances or {}
        self.nodes = [Node(self, i + 1, nm, *instances.get(nm, (None, None)))
                      for i, nm in enumerate(self.names)]
        self.lockf = None
        self.eip_routes = {}     # public ip -> node name or None
        self.hooks_boot = []
        self.hooks_power_off = []
        self.bg = []             # background Popen objects started in the aws namespace

    def set_node_files(self, files):
        """Install files in every node (running or not), e.g. /etc/default/eip."""
        self.node_files.update(files)
        for n in self.nodes:
            n.write_node_files(files)

    def node(self, name):
        for n in self.nodes:
            if n.name == name or n.instance_id == name:
                return n
        raise KeyError(name)

    # -- config files ---------------------------------------------------------------------
    def corosync_conf(self):
        nodes = "".join(
            "    node {\n        name: %s\n        nodeid: %d\n        ring0_addr: %s\n    }\n"
            % (n.name, n.index, n.ip) for n in self.nodes)
        quorum = "    provider: corosync_votequorum\n"
        if len(self.nodes) == 2:
            quorum += "    two_node: 1\n"
        return ("# written by tests/cluster/harness.py\n"
                "totem {\n    version: 2\n    cluster_name: ec2ha\n    transport: knet\n"
                "    crypto_cipher: none\n    crypto_hash: none\n    token: %d\n}\n"
                "nodelist {\n%s}\n"
                "quorum {\n%s}\n"
                "logging {\n    to_stderr: no\n    to_syslog: no\n    to_logfile: yes\n"
                "    logfile: /var/log/pacemaker/corosync.log\n    timestamp: hires\n}\n"
                % (self.token_ms, nodes, quorum))

    # -- life cycle -----------------------------------------------------------------------
    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    def setup(self):
        os.makedirs(os.path.dirname(LOCK_FILE), exist_ok=True)
        self.lockf = open(LOCK_FILE, "w")
        try:
            fcntl.flock(self.lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another cluster run holds %s; waiting for it" % LOCK_FILE)
            fcntl.flock(self.lockf, fcntl.LOCK_EX)
        cleanup_leftovers()
        os.makedirs(RUN_DIR)
        sh(["ip", "netns", "add", AWS_NS])
        enter_aws_ns()
        for cmd in (["ip", "link", "set", "lo", "up"],
                    # A fixed MAC: otherwise the bridge takes its lowest port's MAC and
                    # changes it when that node's veth goes away, and every node's ARP entry
                    # for the gateway/endpoint goes stale for ~30 s (connections hang).
                    ["ip", "link", "add", BRIDGE, "address", BRIDGE_MAC, "type", "bridge"],
                    ["ip", "addr", "add", GATEWAY + "/24", "dev", BRIDGE],
                    ["ip", "addr", "add", ENDPOINT_IP + "/24", "dev", BRIDGE],
                    ["ip", "addr", "add", IMDS_IP + "/32", "dev", "lo"],
                    ["ip", "link", "set", BRIDGE, "up"],
                    ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]):
            aws(cmd)
        for n in self.nodes:
            n.prepare()

    def start(self, timeout=180):
        """Boot every node and wait until all are online members with a DC."""
        t0 = now()
        for n in self.nodes:
            n.boot()
        self.wait_formed(timeout)
        self.formed_s = now() - t0
        log("cluster of %d formed in %.1f s" % (len(self.nodes), self.formed_s))
        return self.formed_s

    def wait_formed(self, timeout=180, nodes=None):
        want = sorted(n.name for n in (nodes or self.nodes))

        def formed():
            for n in self.nodes:
                if n.name not in want:
                    continue
                st = n.crm_mon()
                if st.dc is None or not st.quorum or st.online() != want:
                    return False
            return True
        wait_for("nodes %s online with a DC" % ", ".join(want), formed, timeout, 1.0)

    def teardown(self):
        for n in self.nodes:
            try:
                n.power_off("teardown")
            except Exception as e:   # keep tearing down
                log("teardown %s: %s" % (n.name, e))
        for p in self.bg:
            if p.poll() is None:
                kill_and_wait(p.pid, p, signal.SIGTERM)
        self.bg = []
        remove_aws_ns()
        piddir = os.path.join(RUN_DIR, "pids")
        if os.path.isdir(piddir):
            shutil.rmtree(piddir)
        if self.lockf:
            self.lockf.close()
            self.lockf = None

    def spawn_aws(self, name, args, stdout=None, env=None):
        """Start a long-running process in the aws namespace (ended at teardown)."""
        out = stdout or open(os.path.join(RUN_DIR, name + ".log"), "ab")
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT if stdout is None else None,
                             env=env or CLEAN_ENV)
        write_pidfile(name, p.pid)
        self.bg.append(p)
        return p

    # -- events from the "hardware" -------------------------------------------------------
    def on_node_boot(self, node):
        for ip, owner in self.eip_routes.items():
            if owner == node.name:
                node.nsnet(["ip", "addr", "replace", ip + "/32", "dev", "lo"])
        for h in self.hooks_boot:
            h(node)

    def on_node_power_off(self, node):
        for h in self.hooks_power_off:
            h(node)

    # -- Elastic IP routing ---------------------------------------------------------------
    def route_eip(self, public_ip, node_name):
        """Send traffic for public_ip to node_name (None: nobody, packets are dropped), and
        make that node answer for it, as EC2's NAT of an Elastic IP does."""
        old = self.eip_routes.get(public_ip)
        self.eip_routes[public_ip] = node_name
        if node_name is None:
            # a next hop nobody answers for: packets vanish, ping keeps counting them
            aws(["ip", "route", "replace", public_ip + "/32", "via", VOID_IP])
        else:
            n = self.node(node_name)
            aws(["ip", "route", "replace", public_ip + "/32", "via", n.ip])
            if n.running:
                n.nsnet(["ip", "addr", "replace", public_ip + "/32", "dev", "lo"], check=False)
        if old and old != node_name:
            o = self.node(old)
            if o.running:
                o.nsnet(["ip", "addr", "del", public_ip + "/32", "dev", "lo"], check=False)
        log("EIP %s routed to %s" % (public_ip, node_name or "nobody"))


class Pinger:
    """`ping` from the aws namespace (outside every node) to the Elastic IP, as an operator
    measures an outage.  Each reply and each missing reply is logged with a timestamp."""

    def __init__(self, cluster, target, interval=0.1):
        self.cluster = cluster
        self.target = target
        self.interval = interval
        self.path = os.path.join(RUN_DIR, "ping-%s.log" % target)
        self.out = open(self.path, "ab")
        self.started = now()
        self.proc = cluster.spawn_aws("ping", ["ping", "-n", "-D", "-O", "-W", "1",
                                               "-i", str(interval), target], stdout=self.out)

    def stop(self):
        if self.proc.poll() is None:
            kill_and_wait(self.proc.pid, self.proc, signal.SIGINT, timeout=10)
        self.out.close()

    def samples(self):
        """[(ts, answered)] in time order: one entry per reply and one per `no answer yet`
        line (ping -O prints one for each probe interval without a reply; while the next hop
        does not answer ARP, ping does not even advance its sequence number, so sequence gaps
        under-count an outage and time is the honest measure)."""
        out = []
        with open(self.path, errors="replace") as f:
            for line in f:
                m = re.match(r"\[(\d+\.\d+)\] (.*)", line)
                if not m:
                    continue
                ts, rest = float(m.group(1)), m.group(2)
                if "bytes from" in rest:
                    out.append((ts, True))
                elif "no answer yet" in rest or "Unreachable" in rest:
                    out.append((ts, False))
        return out

    def outage(self, since, until=None):
        """The longest stretch without replies after `since`: dict with seconds (last reply
        before it to first reply after it), probes (unanswered probe intervals), last_reply_ts,
        first_reply_ts (None when no reply came back)."""
        s = [x for x in self.samples() if x[0] >= since and (until is None or x[0] <= until)]
        before = [x for x in self.samples() if x[0] < since and x[1]]
        last_ok = before[-1][0] if before else None
        best = None
        cur = None
        for ts, ok in s:
            if not ok:
                if cur is None:
                    cur = {"probes": 0, "last_reply_ts": last_ok, "first_reply_ts": None,
                           "first_miss_ts": ts}
                cur["probes"] += 1
            else:
                if cur is not None:
                    cur["first_reply_ts"] = ts
                    if best is None or cur["probes"] > best["probes"]:
                        best = cur
                    cur = None
                last_ok = ts
        if cur is not None and (best is None or cur["probes"] > best["probes"]):
            best = cur
        if best is None:
            return {"seconds": 0.0, "probes": 0, "last_reply_ts": None, "first_reply_ts": None}
        start = best["last_reply_ts"] or best["first_miss_ts"]
        end = best["first_reply_ts"]
        best["seconds"] = (end - start) if end else None
        return best
