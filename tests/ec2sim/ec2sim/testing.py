"""Python API for tests: start ec2sim, drive it, read its event log.

    from ec2sim.testing import Ec2Sim, default_state
    with Ec2Sim(default_state(), tls=True, workdir=tmp_path) as sim:
        env = sim.env()                      # for a child program
        sim.fault(action="StopInstances", kind="throttle", count=2)
        sim.set("i-0000000000000aaaa", state="stopped")
        sim.wait_state("i-0000000000000bbbb", "stopped")
        sim.events("association")

By default the server runs in this process (threads; starts in a few milliseconds).
`subprocess=True` runs `python3 -m ec2sim` instead, exactly as the cluster tests do.
Everything but start/stop goes through the control endpoint, so both modes behave alike.
"""
import copy
import json
import os
import shutil
import subprocess as _subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NODE1 = "i-0000000000000aaaa"
NODE2 = "i-0000000000000bbbb"
ALLOC = "eipalloc-00000000000000001"
EIP = "203.0.113.10"


def default_state():
    """Region us-east-1, one all-powerful key, node1 + node2 running with one ENI each, one
    unassociated Elastic IP; IMDS answers as node1 unless a client address says otherwise."""
    return {
        "region": "us-east-1",
        "account_id": "123456789012",
        "keys": [{"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY,
                  "permissions": ["*"]}],
        "defaults": {"stop_delay": 1.0, "start_delay": 1.0},
        "instances": [
            {"instance_id": NODE1, "state": "running", "tags": {"Name": "node1"},
             "availability_zone": "us-east-1a", "instance_type": "t3.micro",
             "network_interfaces": [{"network_interface_id": "eni-0000000000000aaaa",
                                     "mac_address": "0e:00:00:00:aa:aa",
                                     "private_ip_address": "10.0.0.11"}]},
            {"instance_id": NODE2, "state": "running", "tags": {"Name": "node2"},
             "availability_zone": "us-east-1a", "instance_type": "t3.micro",
             "network_interfaces": [{"network_interface_id": "eni-0000000000000bbbb",
                                     "mac_address": "0e:00:00:00:bb:bb",
                                     "private_ip_address": "10.0.0.12"}]},
        ],
        "addresses": [{"allocation_id": ALLOC, "public_ip": EIP}],
        "imds": {"default_instance": NODE1},
    }


class Ec2SimError(RuntimeError):
    pass


_BOTO3_SESSION = None
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Ec2Sim:
    def __init__(self, state=None, tls=True, workdir=None, bind="127.0.0.1", port=0,
                 imds_bind=None, imds_port=0, control_port=0, cert_names=(),
                 cert_cache=None, http_port=None, subprocess=False, python="/usr/bin/python3",
                 start_timeout=20):
        if state is None:
            state = default_state()
        elif isinstance(state, (str, os.PathLike)):
            with open(state) as f:
                state = json.load(f)
        self.spec = copy.deepcopy(state)
        self.tls = tls
        self._own_workdir = workdir is None
        self.workdir = str(workdir) if workdir else tempfile.mkdtemp(prefix="ec2sim-")
        self.bind, self.port = bind, port
        self.imds_bind, self.imds_port, self.control_port = imds_bind, imds_port, control_port
        self.cert_names = list(cert_names)
        self.cert_cache = cert_cache
        self.http_port = http_port
        self.use_subprocess = subprocess
        self.python = python
        self.start_timeout = start_timeout
        self.server = None
        self.proc = None
        self.info = None

    # ------------------------------------------------------------------ lifecycle
    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        if self.use_subprocess:
            self._start_process()
        else:
            from .server import Ec2SimServer
            self.server = Ec2SimServer(self.spec, bind=self.bind, port=self.port, tls=self.tls,
                                       imds_bind=self.imds_bind, imds_port=self.imds_port,
                                       control_port=self.control_port, workdir=self.workdir,
                                       cert_names=self.cert_names, cert_cache=self.cert_cache,
                                       http_port=self.http_port).start()
            self.info = self.server.info()
        return self

    def _start_process(self):
        state_path = os.path.join(self.workdir, "state.json")
        with open(state_path, "w") as f:
            json.dump(self.spec, f, indent=2)
        cmd = [self.python, "-m", "ec2sim", "--state", state_path, "--port", str(self.port),
               "--imds-port", str(self.imds_port), "--control-port", str(self.control_port),
               "--bind", self.bind, "--workdir", self.workdir]
        if self.imds_bind:
            cmd += ["--imds-bind", self.imds_bind]
        if self.tls:
            cmd.append("--tls")
        for n in self.cert_names:
            cmd += ["--cert-name", n]
        if self.cert_cache:
            cmd += ["--cert-cache", self.cert_cache]
        if self.http_port is not None:
            cmd += ["--http-port", str(self.http_port)]
        env = dict(os.environ)
        env["PYTHONPATH"] = PKG_ROOT + os.pathsep + env.get("PYTHONPATH", "")
        self._log = open(os.path.join(self.workdir, "ec2sim.log"), "w")
        self.proc = _subprocess.Popen(cmd, stdout=_subprocess.PIPE, stderr=self._log, env=env,
                                      text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=5)
            with open(os.path.join(self.workdir, "ec2sim.log")) as f:
                raise Ec2SimError("ec2sim did not start: " + f.read()[-2000:])
        self.info = json.loads(line)

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except _subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self._log.close()
            self.proc = None
        if self._own_workdir and os.environ.get("EC2SIM_KEEP") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def endpoint(self):
        return self.info["endpoint"]

    @property
    def http_endpoint(self):
        return self.info.get("http_endpoint")

    @property
    def imds_endpoint(self):
        return self.info["imds"]

    @property
    def control_endpoint(self):
        return self.info["control"]

    @property
    def ca_bundle(self):
        return self.info["ca_bundle"]

    @property
    def events_path(self):
        return self.info["events"]

    @property
    def region(self):
        return self.spec.get("region", "us-east-1")

    @property
    def access_key_id(self):
        return self.spec["keys"][0]["access_key_id"]

    @property
    def secret_access_key(self):
        return self.spec["keys"][0]["secret_access_key"]

    # ------------------------------------------------------------------ control
    def _ctl(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.control_endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with _NO_PROXY.open(req, timeout=timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            try:
                msg = json.loads(e.read()).get("error")
            except ValueError:
                msg = str(e)
            raise Ec2SimError("ec2sim control %s: %s" % (path, msg)) from None

    def control(self, request):
        """POST one control request ({"op": ...}); see README.md for the ops."""
        return self._ctl("POST", "/control", request)

    def state(self):
        return self._ctl("GET", "/state")

    def events(self, type=None, since=0):
        q = "?since=%d" % since + ("&type=%s" % type if type else "")
        return self._ctl("GET", "/events" + q)

    def faults(self):
        return self._ctl("GET", "/faults")

    def fault(self, action="*", kind="throttle", count=None, **kw):
        req = {"op": "fault", "action": action, "kind": kind}
        if count is not None:
            req["count"] = count
        req.update(kw)
        return self.control(req)["id"]

    def clear_faults(self, fault_id=None):
        return self.control({"op": "clear_faults", "id": fault_id})["cleared"]

    def set(self, obj_id, **fields):
        """Change an instance (state=, tags=, stop_delay= …) or an address
        (instance_id= / network_interface_id= / private_ip_address=, None to disassociate)."""
        req = {"op": "set", "id": obj_id}
        req.update(fields)
        return self.control(req)

    def clock(self, offset):
        return self.control({"op": "clock", "offset": offset})

    def imds(self, **settings):
        req = {"op": "imds"}
        req.update(settings)
        return self.control(req)

    def rotate_credentials(self, instance_id=None, expire_previous=False):
        return self.control({"op": "rotate_credentials", "instance_id": instance_id,
                             "expire_previous": expire_previous})["rotated"]

    def mark(self, **fields):
        req = {"op": "mark"}
        req.update(fields)
        return self.control(req)["seq"]

    def instance(self, instance_id):
        for i in self.state()["instances"]:
            if i["instance_id"] == instance_id:
                return i
        raise KeyError(instance_id)

    def address(self, allocation_id=ALLOC):
        for a in self.state()["addresses"]:
            if a["allocation_id"] == allocation_id:
                return a
        raise KeyError(allocation_id)

    def wait_for(self, predicate, timeout=15.0, interval=0.05, what="condition"):
        end = time.time() + timeout
        while True:
            v = predicate()
            if v:
                return v
            if time.time() > end:
                raise TimeoutError("ec2sim: timed out after %.1fs waiting for %s"
                                   % (timeout, what))
            time.sleep(interval)

    def wait_state(self, instance_id, state, timeout=15.0):
        return self.wait_for(lambda: self.instance(instance_id)["state"] == state, timeout,
                             what="%s to be %s" % (instance_id, state))

    # ------------------------------------------------------------------ clients
    def env(self, credentials=True, **extra):
        """Environment for a child program: keys, region, endpoint, CA bundle, IMDS
        endpoint, and HOME / AWS config files inside the workdir."""
        home = os.path.join(self.workdir, "home")
        aws = os.path.join(home, ".aws")
        os.makedirs(aws, exist_ok=True)
        cfg = os.path.join(aws, "config")
        cred = os.path.join(aws, "credentials")
        for p in (cfg, cred):
            if not os.path.exists(p):
                open(p, "w").close()
        env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_EC2": self.endpoint,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.imds_endpoint,
            "HOME": home,
            "AWS_CONFIG_FILE": cfg,
            "AWS_SHARED_CREDENTIALS_FILE": cred,
        }
        if self.ca_bundle:
            env["AWS_CA_BUNDLE"] = self.ca_bundle
        if credentials:
            env["AWS_ACCESS_KEY_ID"] = self.access_key_id
            env["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def boto3_client(self, **kw):
        """A boto3 EC2 client aimed at this sim (botocore retries off unless asked)."""
        import boto3
        from botocore.config import Config
        args = {
            "region_name": self.region,
            "endpoint_url": self.endpoint,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "verify": self.ca_bundle if self.ca_bundle else False,
            "config": Config(retries={"total_max_attempts": 1, "mode": "standard"},
                             connect_timeout=5, read_timeout=30),
        }
        args.update(kw)
        global _BOTO3_SESSION
        if _BOTO3_SESSION is None:
            # One session for the whole test run: it caches the parsed EC2 model, which
            # otherwise costs ~0.3 s of CPU per client.
            _BOTO3_SESSION = boto3.session.Session()
        return _BOTO3_SESSION.client("ec2", **args)

    def imds_token(self, ttl=21600):
        req = urllib.request.Request(self.imds_endpoint + "/latest/api/token", method="PUT",
                                     headers={"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})
        with _NO_PROXY.open(req, timeout=10) as r:
            return r.read().decode()

    def imds_get(self, path, token=None):
        token = token or self.imds_token()
        req = urllib.request.Request(self.imds_endpoint + path,
                                     headers={"X-aws-ec2-metadata-token": token})
        with _NO_PROXY.open(req, timeout=10) as r:
            return r.read().decode()

    def role_credentials(self):
        """The current role credentials IMDS hands to the default instance (dict)."""
        tok = self.imds_token()
        role = self.imds_get("/latest/meta-data/iam/security-credentials/", tok).split()[0]
        return json.loads(self.imds_get("/latest/meta-data/iam/security-credentials/" + role,
                                        tok))


def _main_python():
    return sys.executable
