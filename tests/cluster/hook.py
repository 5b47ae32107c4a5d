#!/usr/bin/python3
"""ec2sim hook -> cluster harness.

ec2sim runs this (through /bin/sh -c) for instance stop/start/reboot and for every Elastic IP
association change, with EC2SIM_* variables describing the event.  It hands them to the
harness over the unix socket given as argv[1] and waits for the harness to finish the job
(power the node off, boot it, move the route), so that ec2sim reports `stopped` only after the
node is really off.  Exit status 0 when the harness did it.
"""
import json
import os
import socket
import sys


def main():
    event = {k: v for k, v in os.environ.items() if k.startswith("EC2SIM_")}
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(300)
    s.connect(sys.argv[1])
    s.sendall(json.dumps(event).encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    try:
        reply = json.loads(data.decode() or "{}")
    except ValueError:
        reply = {"ok": False, "msg": "bad reply from harness: %r" % data[:200]}
    print(reply.get("msg", ""))
    return 0 if reply.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
