"""Secrets stay secret: every action of the three programs at their highest verbosity, with
known secret values, and not one of them may appear anywhere the programs write.

Secrets used: the long-term secret access key, a temporary key's secret and session token,
the IMDS role's secret and token (ec2sim hands them out), the IMDS session token (read back
from the runtime cache afterwards), a secret_key given on stdin / the command line, and a
wrong secret key (the failure path must not echo it either).  Each is looked for raw and
percent-encoded.  Also no full SigV4 signature may be printed.

Places searched: stdout, stderr, syslog (a /dev/log listener in a private mount namespace,
so the messages really go through syslog(3)), the fence debug file, HA_LOGFILE, and every
file of the runtime cache (HA_RSCTMP) - where only imds-cache may hold the IMDS session token
(DESIGN.md: the token is cached 0600), and nothing else.

Also: the cache and debug files are created 0600 (umask 022), a secret_key on the command
line works but is warned about (it shows in ps), and a credentials file readable by others
is warned about.
"""
import concurrent.futures
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import urllib.parse

import pytest

from conftest import SANITIZED, program_path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cib"))
from cibfixture import make_cib  # noqa: E402
from ec2sim.testing import ACCESS_KEY, ALLOC, NODE1, NODE2, SECRET_KEY, Ec2Sim, \
    default_state  # noqa: E402

TEMP = {"access_key_id": "ASIATEMPKEYEXAMPLE01",
        "secret_access_key": "TempSecretEXAMPLEabc/def+ghi0123456789xyzA",
        "session_token": "FwoGZXIvYXdzEXAMPLETEMPSESSION//////////TOKEN+abc/def==",
        "expiration": "2099-01-01T00:00:00Z", "permissions": ["*"]}
CMDLINE = {"access_key_id": "AKIDCMDLINEEXAMPLE01",
           "secret_access_key": "CmdLineSecretEXAMPLE/K7MDENG+bPxRfiCYzzzz",
           "permissions": ["*"]}
WRONG_SECRET = "WrongSecretEXAMPLE/abcdefghijklmnop+qrstuvwxyz"
FIXED_SECRETS = [SECRET_KEY, TEMP["secret_access_key"], TEMP["session_token"],
                 CMDLINE["secret_access_key"], WRONG_SECRET]
SIGNATURE = re.compile(r"Signature=[0-9a-f]{64}")
WORKERS = 4


def sim_state():
    state = default_state()
    state["defaults"] = {"stop_delay": 0.3, "start_delay": 0.3, "force_stop_delay": 0.2}
    state["keys"] += [dict(TEMP), dict(CMDLINE)]
    for inst in state["instances"]:
        inst["iam_role"] = "ec2ha-test-role"
    return state


# ---- syslog capture ----------------------------------------------------------------------------

NAMESPACE_SCRIPT = r'''
set -e
mount --make-rprivate /
mount -t tmpfs tmpfs "$EC2HA_T_OVL"
mkdir "$EC2HA_T_OVL/upper" "$EC2HA_T_OVL/work"
mount -t overlay overlay \
    -o lowerdir=/dev,upperdir="$EC2HA_T_OVL/upper",workdir="$EC2HA_T_OVL/work" /dev
rm -f /dev/log
ln -s "$EC2HA_T_SOCK" /dev/log
unset EC2HA_T_OVL EC2HA_T_SOCK
umask 022
exec "$@"
'''


class Syslog:
    """A /dev/log of our own: a datagram socket read by a thread, bound into the child's
    private mount namespace (an overlay over /dev, so nothing changes for anyone else)."""

    def __init__(self, workdir):
        self.dir = tempfile.mkdtemp(prefix="syslog-", dir=str(workdir))
        os.mkdir(os.path.join(self.dir, "ovl"))
        self.path = os.path.join(self.dir, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.lines = []
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                self.lines.append(self.sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                continue
            except OSError:
                return

    def wrap(self, cmd, env):
        env = dict(env, EC2HA_T_OVL=os.path.join(self.dir, "ovl"), EC2HA_T_SOCK=self.path)
        return ["unshare", "--mount", "sh", "-c", NAMESPACE_SCRIPT, "sh", *cmd], env

    def close(self):
        # the child has exited: whatever it sent is queued; read it, then stop
        self.sock.settimeout(0.2)
        while True:
            try:
                self.lines.append(self.sock.recv(65536).decode(errors="replace"))
            except (socket.timeout, OSError):
                break
        self.running = False
        self.thread.join()
        self.sock.close()
        os.unlink(self.path)


def _namespaces_work():
    try:
        r = subprocess.run(["unshare", "--mount", "sh", "-c",
                            "mount --make-rprivate / && mount -t tmpfs tmpfs /mnt"],
                           capture_output=True, timeout=20)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


NAMESPACES = _namespaces_work()


# ---- one run -------------------------------------------------------------------------------

class Capture:
    def __init__(self, label):
        self.label = label
        self.returncode = None
        self.stdout = ""
        self.stderr = ""
        self.syslog = []
        self.files = {}          # path -> text (debug file, HA_LOGFILE)
        self.cache = {}          # path -> text (everything under HA_RSCTMP)
        self.modes = {}          # path -> st_mode


def run_captured(label, name, args, stdin, env, tmp, files=()):
    """Run build/<name> (inside the syslog namespace when possible), umask 022."""
    cap = Capture(label)
    child_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if SANITIZED:
        child_env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=86"
        child_env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=86"
    child_env.update(env)
    cmd = [program_path(name), *args]
    syslog = Syslog(tmp) if NAMESPACES else None
    if syslog is not None:
        cmd, child_env = syslog.wrap(cmd, child_env)
    try:
        proc = subprocess.run(cmd, input=stdin, env=child_env, capture_output=True, text=True,
                              timeout=120, umask=0o022)
    finally:
        if syslog is not None:
            syslog.close()
    assert proc.returncode != 86, f"sanitizer error in {label}:\n{proc.stderr}"
    assert "runtime error:" not in proc.stderr, f"UBSan report in {label}:\n{proc.stderr}"
    cap.returncode, cap.stdout, cap.stderr = proc.returncode, proc.stdout, proc.stderr
    cap.syslog = syslog.lines if syslog is not None else []
    for f in files:
        if os.path.exists(f):
            cap.modes[f] = os.stat(f).st_mode
            with open(f, errors="replace") as fh:
                cap.files[f] = fh.read()
    rsctmp = env.get("HA_RSCTMP")
    if rsctmp and os.path.isdir(rsctmp):
        cap.modes[rsctmp] = os.stat(rsctmp).st_mode
        for root, _, names in os.walk(rsctmp):
            for n in names:
                p = os.path.join(root, n)
                cap.modes[p] = os.lstat(p).st_mode
                if stat.S_ISREG(cap.modes[p]):
                    with open(p, errors="replace") as fh:
                        cap.cache[p] = fh.read()
    return cap


def imds_tokens(cap):
    """IMDS session tokens the run cached (the cache is where the design keeps them)."""
    out = []
    for path, text in cap.cache.items():
        for line in text.splitlines():
            parts = line.split(" ")
            if len(parts) == 3 and parts[0] == "token":
                out.append(parts[2])
    return out


def forms(secret):
    out = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret, safe="/")}
    return {f for f in out if len(f) >= 8}


def leaks(cap, secrets):
    """List of 'where: which secret' for every secret found outside its allowed place."""
    found = []
    places = [("stdout", cap.stdout), ("stderr", cap.stderr),
              ("syslog", "\n".join(cap.syslog))]
    places += [(f"file {p}", t) for p, t in cap.files.items()]
    tokens = set(imds_tokens(cap))
    for p, t in cap.cache.items():
        if os.path.basename(p) == "imds-cache":
            for tok in tokens:        # the one thing that may be there, by design
                t = t.replace(tok, "<imds token>")
        places.append((f"cache {p}", t))
    for where, text in places:
        for name, secret in secrets.items():
            for form in forms(secret):
                if form in text:
                    found.append(f"{cap.label}: {name} in {where}")
                    break
        if SIGNATURE.search(text):
            found.append(f"{cap.label}: a full SigV4 signature in {where}")
    return found


def all_secrets(sim, caps):
    secrets = {f"fixed secret {i}": s for i, s in enumerate(FIXED_SECRETS)}
    try:
        role = sim.role_credentials()
        secrets["IMDS role secret"] = role["SecretAccessKey"]
        secrets["IMDS role token"] = role["Token"]
    except Exception:  # noqa: BLE001 - IMDS switched off in this sim
        pass
    for cap in caps:
        for i, tok in enumerate(imds_tokens(cap)):
            secrets[f"IMDS session token ({cap.label} {i})"] = tok
    return secrets


# ---- credential modes ------------------------------------------------------------------------

def cred_env(sim, mode):
    if mode == "env":
        return sim.env()
    if mode == "session":
        return sim.env(AWS_ACCESS_KEY_ID=TEMP["access_key_id"],
                       AWS_SECRET_ACCESS_KEY=TEMP["secret_access_key"],
                       AWS_SESSION_TOKEN=TEMP["session_token"])
    if mode == "imds-role":
        return sim.env(credentials=False)
    if mode == "wrong-secret":
        return sim.env(AWS_SECRET_ACCESS_KEY=WRONG_SECRET)
    if mode == "stdin-keys":
        return sim.env(credentials=False)
    raise AssertionError(mode)


CRED_MODES = ["env", "session", "imds-role", "wrong-secret"]


def run_matrix(cells):
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return [f.result() for f in [pool.submit(c) for c in cells]]


def check(results):
    problems = []
    for sim_secrets, cap in results:
        problems += leaks(cap, sim_secrets)
    assert not problems, "secrets leaked:\n" + "\n".join(problems)


def one_cell(tmp, state_fn, runner):
    """Start a sim, run, collect every secret that sim knows, stop it."""
    state = sim_state()
    if state_fn:
        state_fn(state)
    with Ec2Sim(state, tls=True, workdir=tmp / "sim") as sim:
        cap = runner(sim)
        return all_secrets(sim, [cap]), cap


def node2_stopped(state):
    for inst in state["instances"]:
        if inst["instance_id"] == NODE2:
            inst["state"] = "stopped"


def eip_here(state):
    state["addresses"][0]["instance_id"] = NODE1


# ---- fence_ec2 -------------------------------------------------------------------------------

FENCE_ACTIONS = ["off", "on", "reboot", "status", "list", "list-status", "monitor",
                 "validate-all"]
FENCE_MODES = CRED_MODES + ["stdin-keys", "argv-keys"]


def fence_cell(tmp, action, mode):
    def runner(sim):
        env = cred_env(sim, "stdin-keys" if mode == "argv-keys" else mode)
        debug = str(tmp / "fence-debug.log")
        env.update({"HA_RSCTMP": str(tmp / "rsctmp"), "CIB_file": make_cib(tmp / "cib.xml"),
                    "HA_LOGFACILITY": "daemon"})
        opts = {"action": action, "plug": NODE2, "verbose_level": "2", "debug_file": debug,
                "login_timeout": "2", "power_timeout": "5", "stonith_status_sleep": "0.2"}
        if mode in ("stdin-keys", "argv-keys"):
            opts.update(access_key=TEMP["access_key_id"], secret_key=TEMP["secret_access_key"],
                        session_token=TEMP["session_token"])
        if mode == "argv-keys":
            args = ["-v", "-v"]
            for k, v in opts.items():
                args.append(f"--{k.replace('_', '-')}={v}")
            return run_captured(f"fence {action} ({mode})", "fence_ec2", args, None, env, tmp,
                                files=[debug])
        stdin = "".join(f"{k}={v}\n" for k, v in opts.items())
        return run_captured(f"fence {action} ({mode})", "fence_ec2", [], stdin, env, tmp,
                            files=[debug])
    return one_cell(tmp, node2_stopped if action == "on" else None, runner)


def test_fence_never_leaks_a_secret(tmp_path):
    cells = [lambda a=a, m=m, i=i: fence_cell(tmp_path / f"c{i}", a, m)
             for i, (a, m) in enumerate((a, m) for a in FENCE_ACTIONS for m in FENCE_MODES)]
    results = run_matrix(cells)
    # the runs did something: the good credentials worked
    for _, cap in results:
        if "wrong-secret" not in cap.label:
            assert cap.returncode in (0, 2), (cap.label, cap.stderr[-2000:])
    check(results)


# ---- eip (OCF and LSB) -----------------------------------------------------------------------

EIP_ACTIONS = ["start", "stop", "monitor", "validate-all"]


def eip_cell(tmp, action, mode):
    def runner(sim):
        env = cred_env(sim, mode)
        logfile = str(tmp / "ha-log")
        env.update({"OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "eip",
                    "OCF_RESKEY_CRM_meta_timeout": "15000",
                    "OCF_RESKEY_CRM_meta_on_node": "node1",
                    "OCF_RESKEY_allocation_id": ALLOC,
                    "HA_RSCTMP": str(tmp / "rsctmp"), "CIB_file": make_cib(tmp / "cib.xml"),
                    "HA_debug": "1", "HA_LOGFILE": logfile, "HA_LOGFACILITY": "daemon"})
        return run_captured(f"eip {action} ({mode})", "eip", [action], None, env, tmp,
                            files=[logfile])
    return one_cell(tmp, eip_here if action in ("stop", "monitor") else None, runner)


def lsb_cell(tmp, action, mode):
    def runner(sim):
        env = cred_env(sim, mode)
        logfile = str(tmp / "ha-log")
        conf = tmp / "eip.conf"
        conf.write_text(f"ALLOCATION_ID={ALLOC}\nREQUIRE_FENCING=false\n")
        env.update({"EC2HA_EIP_CONFIG": str(conf), "HA_RSCTMP": str(tmp / "rsctmp"),
                    "CIB_file": make_cib(tmp / "cib.xml"), "HA_debug": "1",
                    "HA_LOGFILE": logfile, "HA_LOGFACILITY": "daemon"})
        return run_captured(f"lsb eip {action} ({mode})", "eip", [action], None, env, tmp,
                            files=[logfile])
    return one_cell(tmp, eip_here if action in ("stop", "status") else None, runner)


def test_eip_never_leaks_a_secret(tmp_path):
    combos = [("ocf", a, m) for a in EIP_ACTIONS for m in CRED_MODES]
    combos += [("lsb", a, m) for a in ("start", "stop", "status") for m in CRED_MODES]
    cells = [lambda k=k, a=a, m=m, i=i: (eip_cell if k == "ocf" else lsb_cell)(
        tmp_path / f"c{i}", a, m) for i, (k, a, m) in enumerate(combos)]
    results = run_matrix(cells)
    for _, cap in results:
        if "wrong-secret" not in cap.label:
            assert cap.returncode in (0, 3), (cap.label, cap.stderr[-2000:])
    check(results)


# ---- ec2ha -----------------------------------------------------------------------------------

CLI_COMMANDS = [["whoami"], ["eip", "show", "-a", ALLOC], ["instance", "list"],
                ["instance", "status", NODE2], ["preflight"]]


def cli_cell(tmp, argv, mode):
    def runner(sim):
        env = cred_env(sim, mode)
        env.update({"HA_RSCTMP": str(tmp / "rsctmp"), "CIB_file": make_cib(tmp / "cib.xml")})
        return run_captured(f"ec2ha {' '.join(argv)} ({mode})", "ec2ha", ["-v", "-v", *argv],
                            None, env, tmp)
    return one_cell(tmp, None, runner)


def test_cli_never_leaks_a_secret(tmp_path):
    combos = [(c, m) for c in CLI_COMMANDS for m in CRED_MODES]
    cells = [lambda c=c, m=m, i=i: cli_cell(tmp_path / f"c{i}", c, m)
             for i, (c, m) in enumerate(combos)]
    check(run_matrix(cells))


# ---- file modes ------------------------------------------------------------------------------

def test_cache_and_debug_files_are_0600(tmp_path):
    rsctmp = tmp_path / "rsctmp"          # does not exist yet: the agent makes it
    debug = tmp_path / "debug.log"
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        env = sim.env(HA_RSCTMP=str(rsctmp), CIB_file=make_cib(tmp_path / "cib.xml"),
                      HA_LOGFACILITY="none")
        stdin = f"action=off\nplug={NODE2}\nverbose=1\ndebug_file={debug}\n"
        cap = run_captured("fence off", "fence_ec2", [], stdin, env, tmp_path,
                           files=[str(debug)])
        assert cap.returncode == 0, cap.stderr
        assert stat.S_IMODE(cap.modes[str(debug)]) == 0o600
        cache = rsctmp / "imds-cache"
        assert str(cache) in cap.modes, f"no IMDS cache in {rsctmp}: {list(cap.modes)}"
        assert stat.S_IMODE(cap.modes[str(cache)]) == 0o600
        assert stat.S_IMODE(cap.modes[str(rsctmp)]) & 0o077 == 0, oct(cap.modes[str(rsctmp)])

        logfile = tmp_path / "ha-log"
        env = sim.env(OCF_ROOT="/usr/lib/ocf", OCF_RESOURCE_INSTANCE="eip",
                      OCF_RESKEY_allocation_id=ALLOC, OCF_RESKEY_CRM_meta_timeout="15000",
                      OCF_RESKEY_CRM_meta_on_node="node1", HA_RSCTMP=str(tmp_path / "rsc2"),
                      CIB_file=make_cib(tmp_path / "cib2.xml"), HA_debug="1",
                      HA_LOGFILE=str(logfile), HA_LOGFACILITY="none")
        cap = run_captured("eip start", "eip", ["start"], None, env, tmp_path,
                           files=[str(logfile)])
        assert cap.returncode == 0, cap.stderr
        assert stat.S_IMODE(cap.modes[str(logfile)]) == 0o600
        cache = tmp_path / "rsc2" / "imds-cache"
        assert stat.S_IMODE(cap.modes[str(cache)]) == 0o600


# ---- warnings --------------------------------------------------------------------------------

def test_secret_key_on_the_command_line_works_but_is_warned_about(tmp_path):
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        env = sim.env(credentials=False, HA_RSCTMP=str(tmp_path / "rsctmp"),
                      CIB_file=make_cib(tmp_path / "cib.xml"), HA_LOGFACILITY="none")
        args = ["-o", "status", "-n", NODE2, "-a", CMDLINE["access_key_id"],
                "-s", CMDLINE["secret_access_key"]]
        cap = run_captured("fence -s", "fence_ec2", args, None, env, tmp_path)
        assert cap.returncode == 0, cap.stderr
        assert "Status: ON" in cap.stdout
        assert re.search(r"secret.?key.*(command line|argument|ps\b|process list|visible)",
                         cap.stderr, re.I | re.S), \
            f"no warning about a secret on the command line:\n{cap.stderr}"
        assert CMDLINE["secret_access_key"] not in cap.stderr + cap.stdout

        # the same on stdin (as Pacemaker passes it) is not warned about
        stdin = (f"action=status\nplug={NODE2}\naccess_key={CMDLINE['access_key_id']}\n"
                 f"secret_key={CMDLINE['secret_access_key']}\n")
        cap = run_captured("fence stdin", "fence_ec2", [], stdin, env, tmp_path)
        assert cap.returncode == 0, cap.stderr
        assert not re.search(r"command line", cap.stderr, re.I), cap.stderr


@pytest.mark.parametrize("which", ["credentials", "config"])
def test_credentials_file_readable_by_others_is_warned_about(tmp_path, which):
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        env = sim.env(credentials=False, AWS_EC2_METADATA_DISABLED="true",
                      HA_RSCTMP=str(tmp_path / "rsctmp"), HA_LOGFACILITY="none",
                      CIB_file=make_cib(tmp_path / "cib.xml"))
        path = env["AWS_SHARED_CREDENTIALS_FILE" if which == "credentials"
                   else "AWS_CONFIG_FILE"]
        with open(path, "w") as f:
            f.write(f"[default]\naws_access_key_id = {ACCESS_KEY}\n"
                    f"aws_secret_access_key = {SECRET_KEY}\n")
        stdin = f"action=status\nplug={NODE2}\nskip_race_check=1\n"
        for mode, warned in ((0o644, True), (0o640, True), (0o600, False)):
            os.chmod(path, mode)
            cap = run_captured(f"fence ({which} {mode:o})", "fence_ec2", [], stdin, env,
                               tmp_path)
            assert cap.returncode == 0, cap.stderr
            warning = re.search(rf"{re.escape(path)}.*(group|others|chmod)", cap.stderr)
            assert bool(warning) == warned, f"mode {mode:o}:\n{cap.stderr}"
            assert SECRET_KEY not in cap.stderr + cap.stdout
