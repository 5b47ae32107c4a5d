"""Helpers shared by the fence_ec2 tests (test_fence*.py); this module holds no tests.

Every run gets its own HA_RSCTMP so the IMDS cache of one test never answers for another.
"""
import copy
import os
import time

from conftest import run_program
from ec2sim.testing import NODE1, NODE2, default_state

__all__ = ["NODE1", "NODE2", "fast_state", "fence_env", "fence", "stdin_lines", "calls",
           "state_events", "instance_state"]


def fast_state(**defaults):
    """default_state() with short transitions (forced stop 0.3 s, start 0.5 s)."""
    state = copy.deepcopy(default_state())
    d = {"stop_delay": 1.0, "start_delay": 0.5, "force_stop_delay": 0.3}
    d.update(defaults)
    state["defaults"] = d
    return state


def fence_env(sim, tmp_path, credentials=True, **extra):
    """sim.env() plus a private runtime dir; extra adds variables (None removes)."""
    rsc = os.path.join(str(tmp_path), "rsc")
    os.makedirs(rsc, exist_ok=True)
    env = sim.env(credentials=credentials)
    env["HA_RSCTMP"] = rsc
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def fence(sim, tmp_path, *args, stdin=None, env=None, timeout=90, **env_extra):
    """Run build/fence_ec2 against `sim`; returns the Result with .elapsed and .exited_at."""
    if env is None:
        env = fence_env(sim, tmp_path, **env_extra)
    start = time.time()
    res = run_program("fence_ec2", list(args), stdin=stdin, env=env, timeout=timeout)
    res.exited_at = time.time()
    res.elapsed = res.exited_at - start
    return res


def stdin_lines(**params):
    """key=value lines as Pacemaker's fencer sends them."""
    return "".join("%s=%s\n" % (k, v) for k, v in params.items())


def calls(sim, action=None, since=0):
    return [e for e in sim.events(type="call", since=since)
            if action is None or e["action"] == action]


def state_events(sim, instance_id, since=0):
    return [e for e in sim.events(type="state", since=since)
            if e.get("instance_id") == instance_id]


def instance_state(sim, instance_id):
    return sim.instance(instance_id)["state"]
