#!/usr/bin/python3
"""PID 1 of one simulated EC2 instance ("node") of the cluster tests.

Started by harness.py as
    unshare --net --mount --uts --ipc --pid --fork --mount-proc --propagation private \
            --kill-child=SIGKILL /usr/bin/python3 node_init.py NODE_DIR
so it runs as PID 1 of fresh network, mount, UTS, IPC and PID namespaces.  It

  1. gives the node its private file system view: tmpfs over /dev/shm, /run and /tmp, and
     NODE_DIR's directories bind-mounted over /var/lib/pacemaker, /var/lib/corosync,
     /var/log/pacemaker and /etc/corosync; NODE_DIR/hosts over /etc/hosts and
     NODE_DIR/default-pacemaker over /etc/default/pacemaker;
  2. sets the host name (NODE_DIR/hostname);
  3. reports "ready" on stdout and waits for "go" on stdin (meanwhile the harness moves the
     node's network interface in and configures it);
  4. starts `corosync -f`, waits until it answers, then starts `pacemakerd` with the
     environment an operator would give it in /etc/default/pacemaker (what systemd's
     EnvironmentFile= does), and
  5. reaps every orphan, as an init must.

"Powering off" the instance is killing this process (SIGKILL from the parent namespace): the
kernel then kills everything in the PID namespace.  SIGTERM stops Pacemaker and Corosync
cleanly and exits.
"""
import os
import signal
import subprocess
import sys
import time

NODE_DIR = sys.argv[1]
LOG = os.path.join(NODE_DIR, "log", "init.log")
BASE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def log(msg):
    with open(LOG, "a") as f:
        f.write("%.3f %s\n" % (time.time(), msg))


def run(*args):
    subprocess.run(args, check=True, stdin=subprocess.DEVNULL)


def mounts():
    run("mount", "--make-rprivate", "/")
    for path, opts in (("/dev/shm", "mode=1777"), ("/run", "mode=0755"), ("/tmp", "mode=1777")):
        run("mount", "-t", "tmpfs", "-o", opts, "tmpfs", path)
    os.makedirs("/run/lock", exist_ok=True)
    for src, dst in (("lib-pacemaker", "/var/lib/pacemaker"),
                     ("lib-corosync", "/var/lib/corosync"),
                     ("log", "/var/log/pacemaker"),
                     ("etc-corosync", "/etc/corosync"),
                     ("hosts", "/etc/hosts"),
                     ("etc-default", "/etc/default"),
                     ("etc-init.d", "/etc/init.d")):
        run("mount", "--bind", os.path.join(NODE_DIR, src), dst)


def read_env_file(path):
    """KEY=value lines, as systemd's EnvironmentFile= reads them (no shell expansion)."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def wait_corosync(deadline_s):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        r = subprocess.run(["corosync-cmapctl", "-g", "runtime.votequorum.this_node_id"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            return True
        time.sleep(0.2)
    return False


children = {}
stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


def main():
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    mounts()
    with open(os.path.join(NODE_DIR, "hostname")) as f:
        hostname = f.read().strip()
    run("hostname", hostname)
    log("namespaces ready, hostname %s" % hostname)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if line.strip() != "go":
        log("no go from the harness (%r), exiting" % line)
        return 1
    run("ip", "link", "set", "lo", "up")

    base_env = {"PATH": BASE_PATH, "LANG": "C.UTF-8", "HOME": "/root"}
    out = open(os.path.join(NODE_DIR, "log", "daemons.out"), "ab", buffering=0)
    coro = subprocess.Popen(["corosync", "-f"], env=base_env, stdin=subprocess.DEVNULL,
                            stdout=out, stderr=out)
    children[coro.pid] = "corosync"
    log("corosync started (pid %d)" % coro.pid)
    if not wait_corosync(60):
        log("corosync did not answer within 60 s")
    else:
        env = dict(base_env)
        env.update(read_env_file("/etc/default/pacemaker"))
        pcmk = subprocess.Popen(["pacemakerd"], env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out)
        children[pcmk.pid] = "pacemakerd"
        log("pacemakerd started (pid %d)" % pcmk.pid)

    # Reap everything; stop cleanly on SIGTERM.
    term_sent = False
    while True:
        if stopping and not term_sent:
            term_sent = True
            log("SIGTERM: stopping pacemakerd, then corosync")
            for pid, name in list(children.items()):
                if name == "pacemakerd":
                    os.kill(pid, signal.SIGTERM)
            if not any(n == "pacemakerd" for n in children.values()):
                for pid, name in list(children.items()):
                    os.kill(pid, signal.SIGTERM)
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            if stopping:
                return 0
            time.sleep(0.5)
            continue
        if pid == 0:
            time.sleep(0.2)
            continue
        name = children.pop(pid, None)
        if name:
            log("%s (pid %d) exited with status %d" % (name, pid, status))
            if stopping and name == "pacemakerd":
                for cpid in list(children):
                    os.kill(cpid, signal.SIGTERM)
        if stopping and not children:
            return 0


if __name__ == "__main__":
    sys.exit(main())
