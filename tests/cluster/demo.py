#!/usr/bin/python3
"""`make demo`: the seed's experiment, reproducible and with fencing on.

Two simulated EC2 instances run Pacemaker + Corosync (real ones, in namespaces), configured
with crm-examples/two-node.crm.  An Elastic IP serves a "service"; a pinger outside the nodes
pings it.  The active node is crashed (power cut).  The demo shows the cluster before and
after and prints a timeline built only from records: the survivor's pacemaker.log, ec2sim's
event log (the EC2 API calls, instance states, association changes) and ping's output.
Everything is torn down at the end.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as H          # noqa: E402
import aws as A              # noqa: E402
import evidence as E         # noqa: E402
import scenarios as S        # noqa: E402


def say(msg=""):
    print(msg, flush=True)


def show(node, title):
    say("\n$ crm_mon -1 -r   (on %s)  # %s" % (node.name, title))
    r = node.run(["crm_mon", "-1", "-r", "-m3"], check=False)
    say("\n".join("  " + line for line in r.stdout.rstrip().splitlines()))


def main():
    if os.geteuid() != 0:
        say("make demo: needs root (it creates network, mount and PID namespaces)")
        return 1
    H.QUIET = True
    tn = S.TwoNode(_Quiet())
    t_start = time.time()
    try:
        say("== ec2ha demo: two-node EC2 cluster, fence_ec2 + ocf:ec2ha:eip, fencing on")
        say("   instances node1 (%s) and node2 (%s) in ec2sim; Elastic IP %s (%s)" % (
            A.INSTANCE_IDS["node1"], A.INSTANCE_IDS["node2"], A.EIP_IP, A.EIP_ALLOC))
        say("   starting corosync + pacemaker on both nodes, then:")
        say("   crm configure load update crm-examples/two-node.crm")
        tn.up()
        c = tn.c
        say("   cluster formed in %.0f s; the Elastic IP answers pings" % tn.formed_s)
        owner = c.node(S.group_owner(c.nodes[0].crm_mon()))
        survivor = S.other(c, owner)
        show(owner, "before")
        time.sleep(2)
        say("\n== crashing %s, the active node (power cut: its PID 1 is killed, its link goes "
            "down)" % owner.name)
        t0 = time.time()
        owner.power_off("crash (demo)")
        S.wait_fenced(c, owner, survivor, "off", t0 - 1, timeout=180)
        S.wait_group(c, survivor, on=survivor.name, timeout=120)
        S.wait_ping(tn.pinger, S.wait_eip_on(c, survivor, timeout=60), timeout=60)
        time.sleep(1)
        show(survivor, "after")
        steps = E.timeline(c, t0, owner, survivor, tn.pinger,
                           what="%s crashes (power cut)" % owner.name)
        say("\n== timeline (from %s's pacemaker.log, ec2sim's event log and ping):" %
            survivor.name)
        say(E.format_timeline(steps, t0))
        out = tn.pinger.outage(t0 - 0.5)
        say("\n== ping %s every %.1f s from outside the cluster: %d probes unanswered, "
            "outage %.1f s" % (A.EIP_IP, tn.pinger.interval, out["probes"],
                               out["seconds"] or -1))
        say("   (two-node.crm sets priority-fencing-delay=10: the node holding the address "
            "is fenced only after 10 s,\n    so it would win a fence race; that delay is part "
            "of this outage)")
        problems = E.invariants(c, t0)
        if problems:
            say("\n!! safety check FAILED:\n   " + "\n   ".join(problems))
            return 1
        say("\n== checked from the event log: %s was stopped before fencing was reported "
            "done; the address was never on two running instances" % owner.instance_id)
        return 0
    except Exception as e:
        say("\nmake demo: failed: %s: %s" % (type(e).__name__, e))
        say("   logs: %s" % H.RUN_DIR)
        return 1
    finally:
        tn.down()
        say("\n== cleaned up (namespaces, processes); demo took %.0f s" % (time.time() - t_start))


class _Quiet:
    def metric(self, *a):
        pass

    def note(self, *a):
        pass

    def timeline(self, *a):
        pass


if __name__ == "__main__":
    sys.exit(main())
