"""ec2ha at trace level (-vvv or --trace): every request and response body on stderr, results
unchanged on stdout, and not one secret anywhere.  The secret scan reuses test_secrets.py's
capture and list of secrets (keys, session tokens, IMDS role credentials, IMDS session
tokens the run cached)."""
import os
import re
import sys

import pytest

from conftest import run_program
from test_secrets import CRED_MODES, all_secrets, cred_env, leaks, run_captured, run_matrix, \
    sim_state

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cib"))
from cibfixture import make_cib  # noqa: E402
from ec2sim.testing import ALLOC, NODE2, Ec2Sim  # noqa: E402

TRACE_LINE = re.compile(r"^ec2ha: TRACE: ", re.M)
DEBUG_LINE = re.compile(r"^ec2ha: DEBUG: ", re.M)
INFO_LINE = re.compile(r"^ec2ha: INFO: ", re.M)


def cli_env(sim, tmp, mode="env"):
    env = cred_env(sim, mode)
    env.update({"HA_RSCTMP": str(tmp / "rsctmp"), "CIB_file": make_cib(tmp / "cib.xml")})
    return env


@pytest.mark.parametrize("flags,level", [
    ([], None), (["-v"], "info"), (["-vv"], "debug"), (["-v", "-v"], "debug"),
    (["-vvv"], "trace"), (["--trace"], "trace"), (["-v", "--trace"], "trace"),
])
def test_verbosity_levels(tmp_path, flags, level):
    with Ec2Sim(sim_state(), tls=True, workdir=tmp_path / "sim") as sim:
        res = run_program("ec2ha", [*flags, "--json", "eip", "show", "-a", ALLOC],
                          env=cli_env(sim, tmp_path))
        assert res.returncode == 0, res.stderr
        assert '"allocation_id"' in res.stdout and "TRACE" not in res.stdout  # stdout: results
        assert bool(INFO_LINE.search(res.stderr)) == (level in ("info", "debug", "trace"))
        assert bool(DEBUG_LINE.search(res.stderr)) == (level in ("debug", "trace"))
        assert bool(TRACE_LINE.search(res.stderr)) == (level == "trace"), res.stderr
        if level == "trace":
            assert re.search(r"request body: Action=DescribeAddresses", res.stderr)
            assert "TRACE: <DescribeAddressesResponse" in res.stderr


def test_trace_is_in_help_and_man_page():
    res = run_program("ec2ha", ["--help"])
    assert res.returncode == 0
    assert re.search(r"^\s+--trace\s+\S", res.stdout, re.M), res.stdout
    assert "-vvv trace" in res.stdout
    man = run_program("ec2ha", ["manpage"]).stdout
    assert ".B \\-\\-trace" in man and "masked" in man


def cli_cell(tmp, argv, mode):
    with Ec2Sim(sim_state(), tls=True, workdir=tmp / "sim") as sim:
        env = cli_env(sim, tmp, mode)
        cap = run_captured(f"ec2ha --trace {' '.join(argv)} ({mode})", "ec2ha",
                           ["--trace", *argv], "", env, tmp)
        return all_secrets(sim, [cap]), cap


COMMANDS = [["whoami"], ["eip", "show", "-a", ALLOC], ["instance", "status", NODE2],
            ["preflight"]]


def test_trace_never_leaks_a_secret(tmp_path):
    combos = [(c, m) for c in COMMANDS for m in CRED_MODES]
    cells = [lambda c=c, m=m, i=i: cli_cell(tmp_path / f"c{i}", c, m)
             for i, (c, m) in enumerate(combos)]
    problems = []
    for secrets, cap in run_matrix(cells):
        # the scan counts only if the wire traffic really is in the output
        assert TRACE_LINE.search(cap.stderr) and "response body:" in cap.stderr, \
            (cap.label, cap.stderr[-2000:])
        if "imds-role" in cap.label:
            assert any(k.startswith("IMDS session token") for k in secrets), cap.label
            assert "secret, not logged" in cap.stderr, cap.label
        problems += leaks(cap, secrets)
    assert not problems, "secrets leaked:\n" + "\n".join(problems)
