"""Shared bits of the ec2ha benchmarks: paths, one measured call, statistics, environments.

One measured call = one child process (and everything it starts), forked by the tiny static
helper bench/spawn.c and waited for with wait4(2): the kernel then returns that child's
user+sys CPU *including every descendant it waited for* (awseip's shell waits for its curl
and aws processes) and its peak RSS as the maximum over that process tree (RUSAGE_BOTH
semantics of wait4).  Wall time is CLOCK_MONOTONIC around fork and reap, in the helper.
"""
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"
BUILD = os.path.abspath(os.environ.get("EC2HA_BUILD", os.path.join(REPO, "build")))
EC2SIM_DIR = os.path.abspath(os.environ.get("EC2SIM_DIR", os.path.join(REPO, "tests", "ec2sim")))
OUT_DIR = os.path.join(BUILD, "bench")

FENCE_EC2 = os.path.join(BUILD, "fence_ec2")
EIP = os.path.join(BUILD, "eip")
FENCE_AWS = "/usr/sbin/fence_aws"
AWSEIP = "/usr/lib/ocf/resource.d/heartbeat/awseip"
OCF_ROOT = "/usr/lib/ocf"

REGION = "us-east-1"
ENDPOINT_HOST = "ec2.%s.amazonaws.com" % REGION
IMDS_IP = "169.254.169.254"
API_IP = "127.0.0.1"

NODE1 = "i-0000000000000aaaa"     # "this" instance: IMDS answers as node1
NODE2 = "i-0000000000000bbbb"     # the fence target
ALLOC = "eipalloc-00000000000000001"
EIP_ADDR = "203.0.113.10"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def env_int(name, default):
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except ValueError:
        raise SystemExit("bench: %s=%r is not an integer" % (name, v))
    if n < 1:
        raise SystemExit("bench: %s must be at least 1" % name)
    return n


class Call:
    """Result of one measured child process."""
    __slots__ = ("argv", "rc", "wall", "cpu", "user", "sys", "maxrss_kib", "stdout", "stderr",
                 "t_start", "t_end", "timed_out")

    def as_dict(self):
        return {k: getattr(self, k) for k in ("rc", "wall", "cpu", "user", "sys",
                                               "maxrss_kib", "t_start", "t_end", "timed_out")}


_SPAWN = None


def spawn_helper():
    """build/bench/spawn (bench/spawn.c), compiled on first use: see that file for why the
    measured calls are forked from a tiny static process and not from Python."""
    global _SPAWN
    if _SPAWN:
        return _SPAWN
    src = os.path.join(HERE, "spawn.c")
    dst = os.path.join(OUT_DIR, "spawn")
    if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
        os.makedirs(OUT_DIR, exist_ok=True)
        cc = os.environ.get("CC", "cc")
        for extra in (["-static"], []):
            r = subprocess.run([cc, "-O2", "-Wall"] + extra + ["-o", dst + ".tmp", src],
                               capture_output=True, text=True)
            if r.returncode == 0:
                os.replace(dst + ".tmp", dst)
                break
        else:
            raise SystemExit("bench: cannot compile %s: %s" % (src, r.stderr.strip()))
    _SPAWN = dst
    return dst


def _which(prog, env):
    if "/" in prog:
        return os.path.abspath(prog)
    import shutil
    found = shutil.which(prog, path=env.get("PATH", CLEAN_PATH))
    return found or prog


def measure(argv, env, stdin=b"", timeout=180.0, cwd="/"):
    """Run argv once (forked by build/bench/spawn); return a Call with wall, CPU (user+sys
    of the whole waited tree), peak RSS (KiB), exit code and output.  A call past `timeout`
    is killed (its process group) and reported with timed_out=True."""
    helper = spawn_helper()
    c = Call()
    c.argv = list(argv)
    c.timed_out = False
    fd, rpath = tempfile.mkstemp(prefix="spawn-", suffix=".txt")
    os.close(fd)
    try:
        with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout, \
                tempfile.TemporaryFile() as ferr:
            if stdin:
                fin.write(stdin if isinstance(stdin, bytes) else stdin.encode())
                fin.seek(0)
            c.t_start = time.time()
            t0 = time.monotonic()
            p = subprocess.Popen([helper, rpath, _which(argv[0], env)] + list(argv[1:]),
                                 env=env, stdin=fin, stdout=fout, stderr=ferr, cwd=cwd,
                                 close_fds=True, start_new_session=True)

            def kill():
                c.timed_out = True
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
            timer = threading.Timer(timeout, kill)
            timer.daemon = True
            timer.start()
            try:
                p.wait()
            finally:
                timer.cancel()
            t1 = time.monotonic()
            c.t_end = time.time()
            try:   # anything the call left behind in its session (it should leave nothing)
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            fout.seek(0)
            ferr.seek(0)
            c.stdout = fout.read().decode("utf-8", "replace")
            c.stderr = ferr.read().decode("utf-8", "replace")
        with open(rpath) as f:
            line = f.read().split()
    finally:
        os.unlink(rpath)
    if len(line) != 5:
        c.rc, c.wall, c.user, c.sys, c.cpu, c.maxrss_kib = 127, t1 - t0, 0, 0, 0, 0
        c.stderr += "\nbench: spawn reported nothing (exit %s)" % p.returncode
        return c
    c.rc = int(line[0])
    c.wall = int(line[1]) / 1e9
    c.user = int(line[2]) / 1e6
    c.sys = int(line[3]) / 1e6
    c.cpu = c.user + c.sys
    c.maxrss_kib = int(line[4])
    return c


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_time(s):
    if s is None:
        return "-"
    if abs(s) >= 10:
        return "%.1f s" % s
    if abs(s) >= 1:
        return "%.2f s" % s
    if abs(s) >= 0.1:
        return "%.0f ms" % (s * 1000)
    if abs(s) >= 0.01:
        return "%.1f ms" % (s * 1000)
    return "%.2f ms" % (s * 1000)


def fmt_mib(kib):
    if kib is None:
        return "-"
    return "%.1f MiB" % (kib / 1024.0)


def fmt_ratio(r):
    if r is None:
        return "-"
    if r >= 100:
        return "%.0fx" % r
    if r >= 10:
        return "%.1fx" % r
    return "%.2fx" % r


def clean_env(home, ca_bundle, extra=None):
    """The environment every agent gets, as a real node's would look: credentials and region
    in the AWS shared files of HOME (profile `default`), the CA that signed the endpoint's
    certificate in AWS_CA_BUNDLE, no endpoint or IMDS overrides, no proxy, no secrets in env."""
    env = {
        "PATH": CLEAN_PATH,
        "LANG": "C.UTF-8",
        "HOME": home,
        "AWS_CONFIG_FILE": os.path.join(home, ".aws", "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, ".aws", "credentials"),
        "HA_LOGFACILITY": "none",
    }
    if ca_bundle:
        env["AWS_CA_BUNDLE"] = ca_bundle
    if extra:
        env.update(extra)
    return env


def write_aws_files(home):
    aws = os.path.join(home, ".aws")
    os.makedirs(aws, mode=0o700, exist_ok=True)
    with open(os.path.join(aws, "config"), "w") as f:
        f.write("[default]\nregion = %s\noutput = json\n" % REGION)
    cred = os.path.join(aws, "credentials")
    with open(cred, "w") as f:
        f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                % (ACCESS_KEY, SECRET_KEY))
    os.chmod(cred, 0o600)


def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": os.uname().release,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = cpu
    try:
        with open("/etc/debian_version") as f:
            info["debian"] = f.read().strip()
    except OSError:
        info["debian"] = "?"
    try:
        with open("/proc/loadavg") as f:
            info["loadavg"] = " ".join(f.read().split()[:3])
    except OSError:
        pass
    vers = {}
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n",
                              "fence-agents", "resource-agents", "awscli", "python3-boto3",
                              "python3-botocore", "curl", "pacemaker", "libcurl4",
                              "libssl3", "libxml2"],
                             capture_output=True, text=True, timeout=30).stdout
        for line in out.splitlines():
            if " " in line:
                k, v = line.split(" ", 1)
                vers[k] = v
    except (OSError, subprocess.SubprocessError):
        pass
    info["packages"] = vers
    return info
