"""pytest plugin: `pytest_plugins = ["ec2sim.pytest_plugin"]`.

Fixtures:
  ec2sim           a running Ec2Sim with default_state(), TLS, workdir under tmp_path
  ec2sim_factory   ec2sim_factory(state=None, **kw) → started Ec2Sim (stopped at teardown);
                   kw as for Ec2Sim (tls=, subprocess=, cert_names=, …)
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
    for sim in reversed(sims):
        sim.stop()


@pytest.fixture
def ec2sim(ec2sim_factory):
    return ec2sim_factory()
