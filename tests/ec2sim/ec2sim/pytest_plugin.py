"""pytest plugin: `pytest_plugins = ["ec2sim.pytest_plugin"]`.

Fixtures:
  ec2sim           a running Ec2Sim with default_state(), TLS, workdir under tmp_path
  ec2sim_factory   ec2sim_factory(state=None, **kw) → started Ec2Sim (stopped at teardown);
                   kw as for Ec2Sim (tls=, subprocess=, cert_names=, …)
Teardown fails the test if ec2sim logged an internal `error` event (a bug in ec2sim).
"""
import os

import pytest

from .testing import Ec2Sim, default_state


@pytest.fixture
def ec2sim_factory(tmp_path):
    sims = []

    def make(state=None, **kw):
        if state is None:
            state = default_state()
        kw.setdefault("tls", True)
        kw.setdefault("workdir", os.path.join(str(tmp_path), "ec2sim-%d" % len(sims)))
        sim = Ec2Sim(state, **kw)
        sims.append(sim)
        return sim.start()

    yield make
    problems = []
    for sim in reversed(sims):
        try:
            if os.environ.get("EC2SIM_ALLOW_ERRORS") != "1":
                problems += sim.events("error")
        except Exception:   # the sim is gone: nothing to report from it
            pass
        sim.stop()
    if problems:
        pytest.fail("ec2sim had internal errors (a bug in ec2sim, not in the code under "
                    "test; EC2SIM_ALLOW_ERRORS=1 ignores them):\n" +
                    "\n".join(e.get("traceback", "") for e in problems))


@pytest.fixture
def ec2sim(ec2sim_factory):
    return ec2sim_factory()
