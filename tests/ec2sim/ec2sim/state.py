"""The simulated account: instances, network interfaces, Elastic IPs, keys, hooks, events.

Everything is guarded by one re-entrant lock (`State.lock`).  Instance transitions
(pending→running, stopping→stopped) are driven by a ticker thread; a transition completes
only when its delay has passed AND the hook started for it (stop/start) has finished, so a
cluster test's "node is powered off" hook is done before EC2 reports `stopped`.
"""
import copy
import fnmatch
import ipaddress
import json
import os
import random
import secrets
import subprocess
import threading
import time
import uuid

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
               "stopping": 64, "stopped": 80}
DEFAULT_ACCOUNT = "123456789012"


class ApiError(Exception):
    """An EC2 error: <Response><Errors><Error><Code>…"""

    def __init__(self, code, message, status=400):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status


def iso8601(ts, millis=True):
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
    return base + (".000Z" if millis else "Z")


def _tags_to_dict(tags):
    if tags is None:
        return {}
    if isinstance(tags, dict):
        return {str(k): ("" if v is None else str(v)) for k, v in tags.items()}
    out = {}
    for t in tags:
        out[str(t.get("Key", t.get("key")))] = str(t.get("Value", t.get("value", "")) or "")
    return out


def _hex_suffix(seed, n=17):
    return uuid.uuid5(uuid.NAMESPACE_OID, seed).hex[:n]


class Key:
    def __init__(self, access_key_id, secret_access_key, session_token=None, permissions=None,
                 expiration=None, temporary=None, source="state", deny=None):
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.permissions = list(permissions if permissions is not None else ["*"])
        self.deny = list(deny or [])
        self.expiration = expiration          # epoch seconds or None
        self.temporary = bool(session_token) if temporary is None else temporary
        self.source = source

    def allows(self, action):
        def match(pattern):
            p = pattern[4:] if pattern.lower().startswith("ec2:") else pattern
            return fnmatch.fnmatchcase(action, p)
        if any(match(p) for p in self.deny):
            return False
        return any(match(p) for p in self.permissions)

    def to_json(self):
        d = {"access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key,
             "permissions": self.permissions}
        if self.deny:
            d["deny"] = self.deny
        if self.session_token:
            d["session_token"] = self.session_token
        if self.expiration:
            d["expiration"] = iso8601(self.expiration, millis=False)
        return d


class State:
    def __init__(self, spec, workdir=None, log=None):
        spec = copy.deepcopy(spec or {})
        self.lock = threading.RLock()
        self.workdir = workdir
        self.log = log or (lambda msg: None)
        self.region = spec.get("region", "us-east-1")
        self.account_id = str(spec.get("account_id", DEFAULT_ACCOUNT))
        self.availability_zone = spec.get("availability_zone", self.region + "a")
        defaults = spec.get("defaults", {})
        self.default_stop_delay = float(defaults.get("stop_delay", 1.0))
        self.default_start_delay = float(defaults.get("start_delay", 1.0))
        self.default_force_stop_delay = defaults.get("force_stop_delay")
        self.hook_timeout = float(defaults.get("hook_timeout", 120))
        self.unsupported_params = set(spec.get("unsupported_params", []))
        self.clock_offset = float(spec.get("clock_offset", 0))
        self.rng = random.Random(spec.get("seed", 1))
        self.events_list = []
        self.seq = 0
        self.events_path = os.path.join(workdir, "events.jsonl") if workdir else None
        self._events_fh = open(self.events_path, "a", buffering=1) if self.events_path else None
        self.hooks = dict(spec.get("hooks", {}))
        self.keys = {}
        for k in spec.get("keys", []):
            exp = k.get("expiration")
            if isinstance(exp, str):
                exp = _parse_iso(exp)
            key = Key(k["access_key_id"], k["secret_access_key"], k.get("session_token"),
                      k.get("permissions", ["*"]), exp, k.get("temporary"), deny=k.get("deny"))
            self.keys[key.access_key_id] = key
        self.instances = {}
        self.enis = {}
        for raw in spec.get("instances", []):
            inst = self._normalize_instance(raw, len(self.instances))
            self.instances[inst["instance_id"]] = inst
            for eni in inst["network_interfaces"]:
                self.enis[eni["network_interface_id"]] = (inst["instance_id"], eni)
        self.addresses = {}
        self.old_associations = set()
        for i, raw in enumerate(spec.get("addresses", [])):
            addr = self._normalize_address(raw, i)
            self.addresses[addr["allocation_id"]] = addr
        imds = dict(spec.get("imds", {}))
        self.imds = {
            "default_instance": imds.get("default_instance",
                                         next(iter(self.instances), None)),
            "clients": dict(imds.get("clients", {})),
            "role_permissions": imds.get("role_permissions", ["*"]),
            "credential_ttl": float(imds.get("credential_ttl", 21600)),
            "rotate_after": float(imds.get("rotate_after", 3600)),
            "token_max_ttl": 21600,
            "hop_limit_exceeded": imds.get("hop_limit_exceeded", False),
            "hop_limit_hang": float(imds.get("hop_limit_hang", 5)),
            "down": imds.get("down", False),
            "refuse_token": imds.get("refuse_token", False),
        }
        self.imds_tokens = {}      # token -> (instance_id, expiry)
        self.role_creds = {}       # instance_id -> list of dict(issued, key)
        self.faults = None         # set by server (faults.FaultTable)
        self.initial_faults = list(spec.get("faults", []))
        self.stale = []            # eventual-consistency records
        self._hook_queues = {}
        self._cv = threading.Condition(self.lock)
        self._stopping = False
        self._ticker = None
        self._hook_threads = []

    # ---------------------------------------------------------------- normalisation
    def _normalize_instance(self, raw, index):
        iid = raw.get("instance_id") or raw.get("InstanceId") or \
            "i-" + _hex_suffix("inst%d" % index)
        tags = _tags_to_dict(raw.get("tags"))
        state = raw.get("state", "running")
        if state not in STATE_CODES:
            raise ValueError("instance %s: unknown state %r" % (iid, state))
        subnet = raw.get("subnet_id", "subnet-" + _hex_suffix("subnet" + self.region))
        vpc = raw.get("vpc_id", "vpc-" + _hex_suffix("vpc" + self.region))
        enis_raw = raw.get("network_interfaces")
        if not enis_raw:
            enis_raw = [{"private_ip_address": raw.get("private_ip_address",
                                                       "10.0.0.%d" % (11 + index))}]
        enis = []
        for j, e in enumerate(enis_raw):
            pip = e.get("private_ip_address") or "10.0.%d.%d" % (j, 11 + index)
            eni = {
                "network_interface_id": e.get("network_interface_id") or
                "eni-" + _hex_suffix("eni%s-%d" % (iid, j)),
                "mac_address": e.get("mac_address") or
                "0e:%02x:%02x:00:00:%02x" % (index // 256, index % 256, j + 1),
                "private_ip_address": pip,
                "private_dns_name": e.get("private_dns_name") or self._private_dns(pip),
                "secondary_private_ip_addresses": list(e.get("secondary_private_ip_addresses",
                                                             [])),
                "device_index": int(e.get("device_index", j)),
                "subnet_id": e.get("subnet_id", subnet),
                "vpc_id": e.get("vpc_id", vpc),
                "description": e.get("description", ""),
                "attachment_id": e.get("attachment_id") or
                "eni-attach-" + _hex_suffix("att%s-%d" % (iid, j)),
            }
            enis.append(eni)
        enis.sort(key=lambda e: e["device_index"])
        sd = float(raw.get("stop_delay", self.default_stop_delay))
        fsd = raw.get("force_stop_delay", self.default_force_stop_delay)
        inst = {
            "instance_id": iid,
            "state": state,
            "state_code_high_byte": int(raw.get("state_code_high_byte", 0)),
            "reservation_id": raw.get("reservation_id") or "r-" + _hex_suffix("res" + iid),
            "image_id": raw.get("image_id", "ami-0abcdef1234567890"),
            "instance_type": raw.get("instance_type", "t3.micro"),
            "availability_zone": raw.get("availability_zone", self.availability_zone),
            "launch_time": raw.get("launch_time", "2024-01-01T00:00:00.000Z"),
            "key_name": raw.get("key_name"),
            "tags": tags,
            "vpc_id": vpc,
            "subnet_id": subnet,
            "network_interfaces": enis,
            "public_ip": raw.get("public_ip"),
            "stop_delay": sd,
            "start_delay": float(raw.get("start_delay", self.default_start_delay)),
            "force_stop_delay": float(fsd) if fsd is not None else min(sd, 0.5),
            "hooks": dict(raw.get("hooks", {})),
            "iam_role": raw.get("iam_role", "ec2ha-test-role"),
            "hibernation": bool(raw.get("hibernation", False)),
            "imds_clients": list(raw.get("imds_clients", [])),
            "state_reason": raw.get("state_reason"),
            "state_transition_reason": raw.get("state_transition_reason", ""),
            "_deadline": None,
            "_target": None,
            "_hooks_pending": 0,
        }
        if state in ("pending", "stopping", "shutting-down"):
            target = {"pending": "running", "stopping": "stopped",
                      "shutting-down": "terminated"}[state]
            inst["_target"] = target
            inst["_deadline"] = time.time() + (inst["start_delay"] if state == "pending"
                                               else inst["stop_delay"])
        return inst

    def _private_dns(self, ip):
        host = "ip-" + ip.replace(".", "-")
        if self.region == "us-east-1":
            return host + ".ec2.internal"
        return "%s.%s.compute.internal" % (host, self.region)

    def public_dns(self, ip):
        host = "ec2-" + ip.replace(".", "-")
        if self.region == "us-east-1":
            return host + ".compute-1.amazonaws.com"
        return "%s.%s.compute.amazonaws.com" % (host, self.region)

    def _normalize_address(self, raw, index):
        alloc = raw.get("allocation_id") or "eipalloc-" + _hex_suffix("alloc%d" % index)
        addr = {
            "allocation_id": alloc,
            "public_ip": raw.get("public_ip") or "203.0.113.%d" % (10 + index),
            "domain": raw.get("domain", "vpc"),
            "tags": _tags_to_dict(raw.get("tags")),
            "association_id": None,
            "network_interface_id": None,
            "private_ip_address": None,
            "network_border_group": raw.get("network_border_group", self.region),
            "public_ipv4_pool": raw.get("public_ipv4_pool", "amazon"),
        }
        eni_id = raw.get("network_interface_id")
        if raw.get("instance_id") and not eni_id:
            inst = self.instances.get(raw["instance_id"])
            if not inst:
                raise ValueError("address %s: unknown instance %s" % (alloc, raw["instance_id"]))
            eni_id = inst["network_interfaces"][0]["network_interface_id"]
        if eni_id:
            if eni_id not in self.enis:
                raise ValueError("address %s: unknown network interface %s" % (alloc, eni_id))
            _, eni = self.enis[eni_id]
            addr["network_interface_id"] = eni_id
            addr["private_ip_address"] = raw.get("private_ip_address") or \
                eni["private_ip_address"]
            addr["association_id"] = raw.get("association_id") or self.new_association_id()
        return addr

    # ---------------------------------------------------------------- clock, ids, events
    def now(self):
        return time.time() + self.clock_offset

    def new_association_id(self):
        return "eipassoc-" + secrets.token_hex(9)[:17]

    def event(self, type_, **fields):
        with self.lock:
            self.seq += 1
            ev = {"seq": self.seq, "ts": time.time(), "type": type_}
            ev.update(fields)
            self.events_list.append(ev)
            if self._events_fh:
                try:
                    self._events_fh.write(json.dumps(ev, sort_keys=True) + "\n")
                except (OSError, ValueError):
                    pass
            return ev

    # ---------------------------------------------------------------- lookups
    def lookup_key(self, akid):
        with self.lock:
            return self.keys.get(akid)

    def instance(self, iid):
        return self.instances.get(iid)

    def instance_of_eni(self, eni_id):
        ent = self.enis.get(eni_id)
        return self.instances[ent[0]] if ent else None

    def eni(self, eni_id):
        ent = self.enis.get(eni_id)
        return ent[1] if ent else None

    def address_on(self, eni_id, private_ip):
        for a in self.addresses.values():
            if a["network_interface_id"] == eni_id and a["private_ip_address"] == private_ip:
                return a
        return None

    def instance_of_address(self, addr):
        if not addr["network_interface_id"]:
            return None
        return self.instance_of_eni(addr["network_interface_id"])

    # ---------------------------------------------------------------- transitions
    def start_background(self):
        self._ticker = threading.Thread(target=self._tick_loop, name="ec2sim-ticker",
                                        daemon=True)
        self._ticker.start()

    def shutdown(self):
        with self.lock:
            self._stopping = True
            self._cv.notify_all()
            queues = list(self._hook_queues.values())
        for q in queues:
            q.put(None)
        if self._ticker:
            self._ticker.join(timeout=5)
        for t in self._hook_threads:
            t.join(timeout=2)
        if self._events_fh:
            try:
                self._events_fh.close()
            except OSError:
                pass
            self._events_fh = None

    def _tick_loop(self):
        with self.lock:
            while not self._stopping:
                self.advance()
                deadlines = [i["_deadline"] for i in self.instances.values()
                             if i["_deadline"] is not None and i["_hooks_pending"] == 0]
                wait = 0.5
                if deadlines:
                    wait = max(0.005, min(wait, min(deadlines) - time.time()))
                self._cv.wait(wait)

    def wake(self):
        with self.lock:
            self._cv.notify_all()

    def advance(self):
        """Complete every transition whose delay has passed and whose hook is done."""
        now = time.time()
        with self.lock:
            for inst in self.instances.values():
                if inst["_deadline"] is None or inst["_deadline"] > now:
                    continue
                if inst["_hooks_pending"] > 0:
                    continue
                prev = inst["state"]
                inst["state"] = inst["_target"]
                inst["_deadline"] = None
                inst["_target"] = None
                if inst["state"] == "stopped":
                    inst["state_reason"] = {"code": "Client.UserInitiatedShutdown",
                                            "message": "Client.UserInitiatedShutdown: User "
                                                       "initiated shutdown"}
                elif inst["state"] == "running":
                    inst["state_reason"] = None
                    inst["state_transition_reason"] = ""
                self.event("state", instance_id=inst["instance_id"], previous=prev,
                           state=inst["state"])
                self._run_instance_hook(inst, inst["state"], prev, gate=False)

    def set_transition(self, inst, new_state, target, delay):
        prev = inst["state"]
        inst["state"] = new_state
        inst["_target"] = target
        inst["_deadline"] = time.time() + max(0.0, delay)
        if prev != new_state:
            self.event("state", instance_id=inst["instance_id"], previous=prev, state=new_state)
        self._cv.notify_all()
        return prev

    # ---------------------------------------------------------------- hooks
    def _hook_env(self, extra):
        env = dict(os.environ)
        env["EC2SIM_REGION"] = self.region
        if self.workdir:
            env["EC2SIM_WORKDIR"] = self.workdir
        if getattr(self, "control_url", None):
            env["EC2SIM_CONTROL"] = self.control_url
        for k, v in extra.items():
            env[k] = "" if v is None else str(v)
        return env

    def _enqueue_hook(self, channel, command, env, on_done, describe):
        with self.lock:
            q = self._hook_queues.get(channel)
            if q is None:
                import queue
                q = queue.Queue()
                self._hook_queues[channel] = q
                t = threading.Thread(target=self._hook_worker, args=(q,),
                                     name="ec2sim-hook-" + channel, daemon=True)
                self._hook_threads.append(t)
                t.start()
        q.put((command, env, on_done, describe))

    def _hook_worker(self, q):
        while True:
            item = q.get()
            if item is None:
                return
            command, env, on_done, describe = item
            t0 = time.time()
            rc, out = None, ""
            try:
                p = subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True,
                                   text=True, timeout=self.hook_timeout)
                rc, out = p.returncode, (p.stdout + p.stderr)[-2000:]
            except subprocess.TimeoutExpired:
                rc, out = -1, "hook timed out after %ss" % self.hook_timeout
            except OSError as e:
                rc, out = -1, str(e)
            self.event("hook", command=command, rc=rc, output=out,
                       duration=round(time.time() - t0, 3), **describe)
            if on_done:
                with self.lock:
                    on_done()
                    self._cv.notify_all()

    def instance_hook_command(self, inst, name):
        cmd = inst["hooks"].get(name)
        if cmd is None:
            cmd = self.hooks.get(name)
        return cmd

    def _run_instance_hook(self, inst, name, previous, gate, force=False):
        """Run hook `name` (stop/start/reboot/stopped/running) for inst, if configured.
        gate=True: the instance's pending transition waits for it."""
        cmd = self.instance_hook_command(inst, name)
        if not cmd:
            return
        env = self._hook_env({
            "EC2SIM_EVENT": name,
            "EC2SIM_INSTANCE_ID": inst["instance_id"],
            "EC2SIM_INSTANCE_NAME": inst["tags"].get("Name", ""),
            "EC2SIM_PREVIOUS_STATE": previous,
            "EC2SIM_STATE": inst["state"],
            "EC2SIM_TARGET_STATE": inst["_target"] or inst["state"],
            "EC2SIM_FORCE": "true" if force else "false",
            "EC2SIM_PRIVATE_IP": inst["network_interfaces"][0]["private_ip_address"],
        })
        if gate:
            inst["_hooks_pending"] += 1

        def done(inst=inst, gate=gate):
            if gate:
                inst["_hooks_pending"] -= 1

        self._enqueue_hook("instance:" + inst["instance_id"], cmd, env, done,
                           {"hook": name, "instance_id": inst["instance_id"]})

    # ---------------------------------------------------------------- associations
    def record_association(self, addr, previous, change):
        """Log an association change and run the association hook."""
        cur_inst = self.instance_of_address(addr)
        prev_inst = self.instance_of_eni(previous["network_interface_id"]) \
            if previous.get("network_interface_id") else None
        fields = {
            "change": change,
            "allocation_id": addr["allocation_id"],
            "public_ip": addr["public_ip"],
            "association_id": addr["association_id"],
            "instance_id": cur_inst["instance_id"] if cur_inst else None,
            "network_interface_id": addr["network_interface_id"],
            "private_ip": addr["private_ip_address"],
            "previous_association_id": previous.get("association_id"),
            "previous_instance_id": prev_inst["instance_id"] if prev_inst else None,
            "previous_network_interface_id": previous.get("network_interface_id"),
            "previous_private_ip": previous.get("private_ip_address"),
        }
        self.event("association", **fields)
        cmd = self.hooks.get("association")
        if cmd:
            env = self._hook_env({"EC2SIM_" + k.upper(): v for k, v in fields.items()})
            env["EC2SIM_EVENT"] = change
            self._enqueue_hook("association", cmd, env, None,
                               {"hook": "association", "allocation_id": addr["allocation_id"],
                                "change": change})

    def associate(self, addr, eni_id, private_ip, allow_reassociation=True):
        """Associate `addr` with (eni, private ip); returns the association id."""
        if addr["network_interface_id"] == eni_id and addr["private_ip_address"] == private_ip:
            return addr["association_id"]
        if addr["association_id"] and not allow_reassociation:
            raise ApiError("Resource.AlreadyAssociated",
                           "resource %s is already associated with associate-id %s"
                           % (addr["allocation_id"], addr["association_id"]))
        # An address already on that private IP is pushed off it (EC2 does the same).
        other = self.address_on(eni_id, private_ip)
        if other is not None and other is not addr:
            prev = dict(other)
            self.old_associations.add(other["association_id"])
            other.update(association_id=None, network_interface_id=None,
                         private_ip_address=None)
            self.record_association(other, prev, "disassociate")
        prev = dict(addr)
        if addr["association_id"]:
            self.old_associations.add(addr["association_id"])
        addr.update(association_id=self.new_association_id(), network_interface_id=eni_id,
                    private_ip_address=private_ip)
        self.record_association(addr, prev, "move" if prev["association_id"] else "associate")
        return addr["association_id"]

    def disassociate(self, addr):
        if not addr["association_id"]:
            return
        prev = dict(addr)
        self.old_associations.add(addr["association_id"])
        addr.update(association_id=None, network_interface_id=None, private_ip_address=None)
        self.record_association(addr, prev, "disassociate")

    # ---------------------------------------------------------------- IMDS identity & creds
    def imds_instance_for(self, client_ip):
        with self.lock:
            iid = self.imds["clients"].get(client_ip)
            if iid:
                return self.instances.get(iid)
            for inst in self.instances.values():
                if client_ip in inst["imds_clients"]:
                    return inst
                for eni in inst["network_interfaces"]:
                    if client_ip == eni["private_ip_address"] or \
                            client_ip in eni["secondary_private_ip_addresses"]:
                        return inst
            return self.instances.get(self.imds["default_instance"])

    def role_credentials(self, inst, rotate=False):
        """Current temporary keys of the instance's role, rotated every rotate_after s."""
        with self.lock:
            now = self.now()
            hist = self.role_creds.setdefault(inst["instance_id"], [])
            if rotate or not hist or now - hist[-1]["issued"] >= self.imds["rotate_after"]:
                akid = "ASIA" + secrets.token_hex(8).upper()
                key = Key(akid, secrets.token_urlsafe(30)[:40],
                          "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(120),
                          self.imds["role_permissions"], now + self.imds["credential_ttl"],
                          True, source="imds:" + inst["instance_id"])
                self.keys[akid] = key
                hist.append({"issued": now, "key": key})
                self.event("credentials", instance_id=inst["instance_id"],
                           access_key_id=akid, expiration=iso8601(key.expiration, False))
            return hist[-1]

    # ---------------------------------------------------------------- snapshot
    def to_json(self):
        with self.lock:
            insts = []
            for inst in self.instances.values():
                d = {k: copy.deepcopy(v) for k, v in inst.items() if not k.startswith("_")}
                if inst["_target"]:
                    d["target_state"] = inst["_target"]
                    d["transition_remaining"] = max(0.0, round(inst["_deadline"] -
                                                               time.time(), 3))
                    d["hooks_pending"] = inst["_hooks_pending"]
                d["state_code"] = STATE_CODES[inst["state"]] + inst["state_code_high_byte"]
                insts.append(d)
            addrs = []
            for a in self.addresses.values():
                d = copy.deepcopy(a)
                inst = self.instance_of_address(a)
                d["instance_id"] = inst["instance_id"] if inst else None
                addrs.append(d)
            imds = {k: v for k, v in self.imds.items()}
            return {
                "region": self.region,
                "account_id": self.account_id,
                "availability_zone": self.availability_zone,
                "keys": [k.to_json() for k in self.keys.values() if k.source == "state"],
                "instances": insts,
                "addresses": addrs,
                "hooks": dict(self.hooks),
                "imds": imds,
                "unsupported_params": sorted(self.unsupported_params),
                "clock_offset": self.clock_offset,
                "faults": self.faults.to_json() if self.faults else [],
            }


def _parse_iso(s):
    import calendar
    s = s.rstrip("Z").split(".")[0]
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))


def is_ip(s):
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False
