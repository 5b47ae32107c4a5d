"""ocf:ec2ha:eip at trace level: how an operator turns it on, where the trace goes, and that
not one secret reaches it.

Tracing follows resource-agents' ocf-shellfuncs: OCF_TRACE_RA, else the operation's trace_ra
(what `crm resource trace` sets); OCF_TRACE_FILE, else trace_file (a path or a descriptor
3-9, /dev/stderr meaning the usual log, as `crm_resource --force-check -VV` sets it); else
<trace_dir>/<type>/<resource>.<action>.<time> when Pacemaker runs the agent.  The secret scan
reuses test_secrets.py's capture (stdout, stderr, syslog through a private /dev/log, files,
the runtime cache) and its list of secrets (keys, session tokens, IMDS role credentials, the
IMDS session tokens the run cached).

Also here: the man page names itself ocf_ec2ha_eip, the name it is installed under.
"""
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest

from conftest import program_path, run_program
from test_secrets import CRED_MODES, all_secrets, cred_env, eip_here, leaks, run_captured, \
    sim_state, run_matrix

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cib"))
from cibfixture import make_cib  # noqa: E402
from ec2sim.testing import ALLOC, Ec2Sim  # noqa: E402

OCF = {"OCF_ROOT": "/usr/lib/ocf"}
TRACE_LINE = re.compile(r"^\S.*\bTRACE: ", re.M)
STAMP = r"\d{4}-\d\d-\d\d\.\d\d:\d\d:\d\d"


def ocf_env(sim, tmp, mode="env", **extra):
    env = cred_env(sim, mode)
    env.update(OCF)
    env.update({"OCF_RESOURCE_INSTANCE": "eip", "OCF_RESOURCE_TYPE": "eip",
                "OCF_RESKEY_CRM_meta_timeout": "15000", "OCF_RESKEY_CRM_meta_on_node": "node1",
                "OCF_RESKEY_allocation_id": ALLOC, "HA_RSCTMP": str(tmp / "rsctmp"),
                "CIB_file": make_cib(tmp / "cib.xml"), "HA_LOGFACILITY": "none"})
    env.update(extra)
    return env


def trace_files(root):
    out = []
    for dirpath, _, names in os.walk(root):
        out += [os.path.join(dirpath, n) for n in names]
    return sorted(out)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


# ---- where the trace goes ---------------------------------------------------------------------

def test_trace_ra_writes_one_file_per_operation_where_crm_says(tmp_path):
    """`crm resource trace eip start` sets trace_ra=1 on the operation; crmsh then says the
    trace is under trace_ra/eip/ and crm report collects it from there."""
    tdir = tmp_path / "trace_ra"
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        env = ocf_env(sim, tmp_path, OCF_RESKEY_trace_ra="1", OCF_RESKEY_trace_dir=str(tdir))
        res = run_program("eip", ["start"], stdin="", env=env)
        assert res.returncode == 0, res.stderr
        files = trace_files(tdir)
        assert len(files) == 1, files
        assert re.fullmatch(re.escape(str(tdir)) + rf"/eip/eip\.start\.{STAMP}", files[0]), files
        assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
        text = read(files[0])
        # the whole run, at trace level: requests and responses of EC2 and IMDS
        assert TRACE_LINE.search(text), text[:2000]
        assert re.search(r"POST \S+ request body: Action=AssociateAddress", text), text[-3000:]
        assert "response body:" in text and "TRACE: <AssociateAddressResponse" in text, \
            text[-3000:]
        assert "INFO:" in text
        # the usual log gets one line naming the file, not the trace
        assert f"tracing start to {files[0]}" in res.stderr
        assert not TRACE_LINE.search(res.stderr), res.stderr

        # a traced monitor: its own file, next to the first
        res = run_program("eip", ["monitor"], stdin="",
                          env=dict(env, OCF_RESKEY_CRM_meta_interval="30000"))
        assert res.returncode == 0, res.stderr
        files = trace_files(tdir)
        assert len(files) == 2 and any(re.search(rf"/eip\.monitor\.{STAMP}$", f)
                                       for f in files), files
        assert not TRACE_LINE.search(res.stderr), res.stderr


def test_default_trace_dir_is_under_ha_varlib(tmp_path):
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        env = ocf_env(sim, tmp_path, OCF_TRACE_RA="yes", HA_VARLIB=str(tmp_path / "varlib"),
                      OCF_RESOURCE_INSTANCE="eip-web:0")
        res = run_program("eip", ["validate-all"], stdin="", env=env)
        assert res.returncode == 0, res.stderr
        files = trace_files(tmp_path / "varlib")
        assert len(files) == 1 and re.search(
            rf"/varlib/trace_ra/eip/eip-web:0\.validate-all\.{STAMP}$", files[0]), files


def test_no_trace_without_the_switch_and_ocf_trace_ra_wins(tmp_path):
    tdir = tmp_path / "trace_ra"
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        base = ocf_env(sim, tmp_path, OCF_RESKEY_trace_dir=str(tdir), HA_debug="1")
        for extra in ({}, {"OCF_RESKEY_trace_ra": "0"},
                      {"OCF_RESKEY_trace_ra": "1", "OCF_TRACE_RA": "0"}):
            res = run_program("eip", ["monitor"], stdin="", env=dict(base, **extra))
            assert res.returncode == 7, res.stderr
            assert "DEBUG:" in res.stderr          # HA_debug=1 is debug, not trace
            assert not TRACE_LINE.search(res.stderr), (extra, res.stderr)
            assert trace_files(tdir) == [], extra
        res = run_program("eip", ["monitor"], stdin="", env=dict(base, OCF_TRACE_RA="1"))
        assert res.returncode == 7, res.stderr
        assert len(trace_files(tdir)) == 1


def test_crm_resource_force_check_vv_traces_to_stderr(tmp_path):
    """crm_resource --force-check -VV exports HA_debug=1, OCF_TRACE_RA=1 and (unless set)
    OCF_TRACE_FILE=/dev/stderr: the operator wants the trace on the terminal."""
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        env = ocf_env(sim, tmp_path, HA_debug="1", OCF_TRACE_RA="1",
                      OCF_TRACE_FILE="/dev/stderr",
                      OCF_RESKEY_trace_dir=str(tmp_path / "trace_ra"))
        res = run_program("eip", ["monitor"], stdin="", env=env)
        assert res.returncode == 7, res.stderr
        assert TRACE_LINE.search(res.stderr), res.stderr
        assert "DescribeAddresses" in res.stderr and "response body:" in res.stderr
        assert not os.path.exists(tmp_path / "trace_ra")


def test_trace_file_and_descriptor(tmp_path):
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        # trace_file (pcs's name) with a directory that does not exist yet
        target = tmp_path / "deep" / "er" / "eip.trace"
        env = ocf_env(sim, tmp_path, OCF_RESKEY_trace_ra="true",
                      OCF_RESKEY_trace_file=str(target))
        res = run_program("eip", ["monitor"], stdin="", env=env)
        assert res.returncode == 7, res.stderr
        assert TRACE_LINE.search(read(target))
        assert not TRACE_LINE.search(res.stderr)

        # OCF_TRACE_FILE=<fd 3-9> open for writing, as ocf-shellfuncs takes it
        out = tmp_path / "fd7.trace"
        cmd = ["sh", "-c", 'exec 7>>"$1"; shift; exec "$@"', "sh", str(out),
               program_path("eip"), "monitor"]
        proc = subprocess.run(cmd, env=dict(env, PATH="/usr/bin:/bin", OCF_TRACE_FILE="7"),
                              input="", capture_output=True, text=True, timeout=120)
        assert proc.returncode == 7, proc.stderr
        assert TRACE_LINE.search(read(out)), read(out)[:1000]
        assert not TRACE_LINE.search(proc.stderr)


def test_unwritable_trace_dir_still_traces_and_never_fails_the_operation(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        env = ocf_env(sim, tmp_path, OCF_RESKEY_trace_ra="1",
                      OCF_RESKEY_trace_dir=str(blocker / "sub"))
        res = run_program("eip", ["start"], stdin="", env=env)
        assert res.returncode == 0, res.stderr
        assert re.search(r"WARNING: cannot write the trace of start to .*not-a-dir", res.stderr)
        assert TRACE_LINE.search(res.stderr)          # to the usual log instead

        # a relative trace file is refused with a warning, the default place used
        env = ocf_env(sim, tmp_path, OCF_TRACE_RA="1", OCF_TRACE_FILE="relative.trace",
                      OCF_RESKEY_trace_dir=str(tmp_path / "tr"))
        res = run_program("eip", ["monitor"], stdin="", env=env)
        assert res.returncode == 0, res.stderr       # the start above put it here
        assert "neither a descriptor 3-9 nor an absolute path" in res.stderr
        assert len(trace_files(tmp_path / "tr")) == 1


def test_lsb_mode_traces_to_stderr(tmp_path):
    conf = tmp_path / "eip.conf"
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        env = sim.env(EC2HA_EIP_CONFIG=str(conf), HA_RSCTMP=str(tmp_path / "rsctmp"),
                      CIB_file=make_cib(tmp_path / "cib.xml"), HA_LOGFACILITY="none")
        conf.write_text(f"ALLOCATION_ID={ALLOC}\nREQUIRE_FENCING=false\n")
        res = run_program("eip", ["status"], stdin="", env=env)
        assert res.returncode == 3 and not TRACE_LINE.search(res.stderr), res.stderr
        conf.write_text(f"ALLOCATION_ID={ALLOC}\nREQUIRE_FENCING=false\nTRACE_RA=1\n")
        res = run_program("eip", ["status"], stdin="", env=env)
        assert res.returncode == 3, res.stderr
        assert TRACE_LINE.search(res.stderr) and "response body:" in res.stderr
        conf.write_text(f"ALLOCATION_ID={ALLOC}\nREQUIRE_FENCING=false\n")
        res = run_program("eip", ["status"], stdin="", env=dict(env, OCF_TRACE_RA="on"))
        assert res.returncode == 3 and TRACE_LINE.search(res.stderr), res.stderr


# ---- secrets ----------------------------------------------------------------------------------

def trace_cell(tmp, action, mode, dest):
    """One traced run; dest 'file': trace file + syslog/HA_LOGFILE for the usual log;
    'stderr': the trace on every usual sink (stderr, syslog, HA_LOGFILE)."""
    state = sim_state()
    if action in ("stop", "monitor"):
        eip_here(state)
    tfile = str(tmp / "eip.trace")
    logfile = str(tmp / "ha-log")
    with Ec2Sim(state, tls=True, workdir=tmp / "sim") as sim:
        env = ocf_env(sim, tmp, mode, OCF_RESKEY_trace_ra="1", HA_debug="1",
                      HA_LOGFACILITY="daemon", HA_LOGFILE=logfile,
                      OCF_TRACE_FILE=tfile if dest == "file" else "/dev/stderr")
        cap = run_captured(f"eip {action} ({mode}, trace to {dest})", "eip", [action], "", env,
                           tmp, files=[tfile, logfile])
        return all_secrets(sim, [cap]), cap, tfile if dest == "file" else None


def test_trace_never_leaks_a_secret(tmp_path):
    combos = [(a, m, d) for a in ("start", "monitor", "stop") for m in CRED_MODES
              for d in ("file", "stderr")]
    cells = [lambda a=a, m=m, d=d, i=i: trace_cell(tmp_path / f"c{i}", a, m, d)
             for i, (a, m, d) in enumerate(combos)]
    results = run_matrix(cells)
    problems = []
    for secrets, cap, tfile in results:
        traced = cap.files.get(tfile, "") if tfile else cap.stderr
        # the scan is worth something only if the trace really holds the wire traffic
        assert TRACE_LINE.search(traced) and "response body:" in traced, \
            (cap.label, cap.stderr[-2000:])
        if "wrong-secret" not in cap.label:
            assert cap.returncode in (0, 7), (cap.label, cap.stderr[-2000:])
        if "imds-role" in cap.label:
            # the role credentials and the IMDS token were fetched, and their bodies left out
            assert any(k.startswith("IMDS session token") for k in secrets), cap.label
            assert "secret, not logged" in traced, cap.label
        problems += leaks(cap, secrets)
    assert not problems, "secrets leaked:\n" + "\n".join(problems)


# ---- documentation ----------------------------------------------------------------------------

def man_source(*args, env=OCF):
    res = run_program("eip", list(args), env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("mode", ["ocf", "lsb"])
def test_man_page_is_named_ocf_ec2ha_eip(tmp_path, mode):
    src = man_source("manpage", env=OCF if mode == "ocf" else {})
    lines = src.splitlines()
    assert lines[0].startswith(".TH OCF_EC2HA_EIP 7 "), lines[0]
    name = lines[lines.index(".SH NAME") + 1]
    assert name.startswith("ocf_ec2ha_eip \\- AWS Elastic IP"), name
    assert "\\fBeip\\fR {start|stop|monitor" in src      # the program is still eip
    page = tmp_path / "ocf_ec2ha_eip.7"
    page.write_text(src)
    if shutil.which("lexgrog"):
        out = subprocess.run(["lexgrog", str(page)], capture_output=True, text=True).stdout
        assert '"ocf_ec2ha_eip - AWS Elastic IP' in out, out
    if shutil.which("man"):
        proc = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z",
                               str(page)], capture_output=True, text=True,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                   "LC_ALL": "C.UTF-8", "MANROFFSEQ": "", "MANWIDTH": "80"})
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        text = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                   "LC_ALL": "C.UTF-8", "MANWIDTH": "80", "MANPAGER": "cat",
                                   "PAGER": "cat"}).stdout
        assert re.search(r"NAME\s+ocf_ec2ha_eip - AWS Elastic IP", text), text[:600]


def test_tracing_is_documented():
    src = man_source("manpage")
    section = src.split(".SH LOGGING AND TRACING\n", 1)[1].split("\n.SH ", 1)[0]
    for word in ("OCF_TRACE_RA", "trace_ra", "OCF_TRACE_FILE", "trace_file", "trace_dir",
                 "/var/lib/heartbeat/trace_ra", "HA_debug", "crm resource trace", "masked"):
        assert word in section, word
    meta = man_source("meta-data")
    assert "crm resource trace" in meta and "OCF_TRACE_RA" in meta
    # tracing is the framework's switch, not a parameter of the resource (as for every
    # resource-agents agent): not in the parameter list
    assert 'name="trace_ra"' not in meta
