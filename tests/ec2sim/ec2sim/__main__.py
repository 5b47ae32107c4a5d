"""python3 -m ec2sim --state STATE.json [--port 0] [--tls] [--imds-port 0] [--bind 127.0.0.1]
[--workdir DIR] ...: serve until SIGTERM/SIGINT; print one JSON line when ready."""
import argparse
import json
import signal
import sys
import threading

from .server import Ec2SimServer


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m ec2sim",
                                description="EC2 Query API + IMDSv2 emulator for tests")
    p.add_argument("--state", help="state JSON file (default: ec2sim.testing.default_state())")
    p.add_argument("--bind", default="127.0.0.1", help="API address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    p.add_argument("--tls", action="store_true", help="serve the API over HTTPS")
    p.add_argument("--http-port", type=int, default=None,
                   help="with --tls: also serve the API over plain HTTP on this port")
    p.add_argument("--imds-bind", default=None, help="IMDS address (default: --bind)")
    p.add_argument("--imds-port", type=int, default=0, help="IMDS port (0: any free port)")
    p.add_argument("--control-bind", default="127.0.0.1", help="control address")
    p.add_argument("--control-port", type=int, default=0, help="control port")
    p.add_argument("--workdir", default=None, help="where events.jsonl is written")
    p.add_argument("--cert-name", action="append", default=[],
                   help="extra DNS name or IP for the server certificate (repeatable)")
    p.add_argument("--cert-cache", default=None,
                   help="directory of the cached test CA and certificates")
    args = p.parse_args(argv)

    if args.state:
        with open(args.state) as f:
            spec = json.load(f)
    else:
        from .testing import default_state
        spec = default_state()
    try:
        sim = Ec2SimServer(spec, bind=args.bind, port=args.port, tls=args.tls,
                           imds_bind=args.imds_bind, imds_port=args.imds_port,
                           control_bind=args.control_bind, control_port=args.control_port,
                           workdir=args.workdir, cert_names=args.cert_name,
                           cert_cache=args.cert_cache, http_port=args.http_port)
    except (OSError, ValueError, RuntimeError) as e:
        print("ec2sim: %s" % e, file=sys.stderr)
        return 1
    done = threading.Event()

    def on_signal(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sim.start()
    sys.stdout.write(json.dumps(sim.info()) + "\n")
    sys.stdout.flush()
    while not done.wait(1.0):
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
