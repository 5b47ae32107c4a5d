#!/bin/sh
# make demo: the seed's failover experiment, reproducible, with fencing on.
# Builds ec2ha, installs it (PREFIX=/usr, so Pacemaker finds stonith:fence_ec2 and
# ocf:ec2ha:eip), starts a two-node Pacemaker + Corosync cluster in namespaces against ec2sim
# with crm-examples/two-node.crm, crashes the active node and prints the timeline and the ping
# loss.  Cleans up after itself.  Needs root; `make demo` installs missing Debian packages first.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "make demo: must run as root (network, mount and PID namespaces; make install)" >&2
    exit 1
fi
make -C "$top" --no-print-directory all >/dev/null
make -C "$top" --no-print-directory install PREFIX=/usr >/dev/null
exec /usr/bin/python3 "$top/tests/cluster/demo.py"
