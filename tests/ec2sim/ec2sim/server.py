"""The ec2sim server: EC2 Query API (HTTP or HTTPS), IMDSv2, and the control endpoint.

Three listeners in one process, each a ThreadingHTTPServer (a thread per connection,
HTTP/1.1 keep-alive): the API, IMDS on its own port, and control (JSON, loopback).
"""
import email.utils
import json
import os
import re
import secrets
import socket
import ssl
import struct
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import api, sigv4
from .faults import ERROR_KINDS, FaultTable
from .state import ApiError, State, iso8601, Key, _parse_iso

_CRED_RE = re.compile(r"Credential=([^/,\s]+)/")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, sim, ssl_context=None):
        self.sim = sim
        self.ssl_context = ssl_context
        self.active = set()
        self.active_lock = threading.Lock()
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.address_family = family
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        with self.active_lock:
            self.active.add(request)
        try:
            self._finish_request(request, client_address)
        finally:
            with self.active_lock:
                self.active.discard(request)

    def close_connections(self):
        """End every open (keep-alive) connection: a stopped sim must not keep answering."""
        with self.active_lock:
            socks = list(self.active)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _finish_request(self, request, client_address):
        # TLS handshake here, in the connection's own thread, so a slow or broken client
        # never blocks accept().
        if self.ssl_context is not None:
            try:
                request.settimeout(30)
                raw = request
                request = self.ssl_context.wrap_socket(request, server_side=True)
                request.settimeout(None)
                with self.active_lock:   # wrap_socket took over the raw socket's fd
                    self.active.discard(raw)
                    self.active.add(request)
            except (ssl.SSLError, OSError):
                try:
                    request.close()
                except OSError:
                    pass
                return
            try:
                self.RequestHandlerClass(request, client_address, self)
            finally:
                with self.active_lock:
                    self.active.discard(request)
                try:
                    request.close()
                except OSError:
                    pass
            return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        pass  # client went away, injected resets …: not worth a traceback


class _Abort(BaseException):   # not Exception: must pass through "except Exception"
    pass


class _BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonEC2"
    sys_version = ""
    # Headers and body go out in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms per call), a stall real EC2 does not have.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    @property
    def sim(self):
        return self.server.sim

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status, body, ctype, extra=None, date=None, truncate=False):
        self.send_response_only(status)
        self.send_header("Date", email.utils.formatdate(date if date is not None
                                                        else time.time(), usegmt=True))
        self.send_header("Server", self.server_version)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if truncate:
            self.wfile.write(body[:max(1, len(body) // 3)])
            self.wfile.flush()
            # FIN, not RST: a reset would make the kernel drop the partial body too.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise _Abort()
        self.wfile.write(body)

    def reset(self):
        """Abort the connection with a TCP RST."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.rfile.close()          # drop makefile()'s reference, or close() is a no-op
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True
        raise _Abort()

    def hang_then_close(self, seconds):
        end = time.time() + seconds
        while time.time() < end and not self.sim.stopping:
            time.sleep(min(0.1, max(0.0, end - time.time())))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Abort()

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except _Abort:
            self.close_connection = True
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True


# ============================================================================ EC2 API
class Ec2Handler(_BaseHandler):
    def do_GET(self):
        self._api("GET")

    def do_POST(self):
        self._api("POST")

    def _api(self, method):
        sim = self.sim
        state = sim.state
        t0 = time.time()
        body = self.read_body()
        split = urllib.parse.urlsplit(self.path)
        pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        ctype = self.headers.get("Content-Type", "")
        if method == "POST" and body and ("x-www-form-urlencoded" in ctype or not ctype):
            try:
                pairs += urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                pass
        params = api.Params(pairs)
        action = params.get("Action")
        version = params.get("Version")
        request_id = str(uuid.uuid4())
        m = _CRED_RE.search(self.headers.get("Authorization", "")) or \
            _CRED_RE.search("Credential=" + params.get("X-Amz-Credential", ""))
        claimed_key = m.group(1) if m else None
        client = self.client_address[0]

        faults = sim.faults.take(action or "-", key=claimed_key, client=client)
        offset = state.clock_offset
        for f in faults:
            if f["kind"] == "slow" and f["when"] == "before":
                time.sleep(float(f.get("delay", 2.0)))
            if f["kind"] == "clock":
                offset += float(f.get("offset", 600))
        now = time.time() + offset
        resp_fault = next((f for f in faults if f["kind"] in
                           ("reset", "truncate", "garbage", "error") or
                           f["kind"] in ERROR_KINDS), None)
        status, code, xml, key_id = 200, "Success", b"", claimed_key
        try:
            if resp_fault and resp_fault["when"] == "before":
                self._apply_response_fault(resp_fault, None, request_id, now, action,
                                           claimed_key, client, t0)
                return
            signed = self._authenticate(method, split, body, now)
            key_id = signed.access_key_id
            if action is None:
                raise ApiError("MissingAction", "The request must contain the parameter "
                               "Action")
            if version is None:
                raise ApiError("MissingParameter", "The request must contain the parameter "
                               "Version")
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", version) or \
                    version not in api.KNOWN_VERSIONS:
                raise ApiError("NoSuchVersion", "The requested version (%s) of service "
                               "AmazonEC2 does not exist" % version)
            if action not in api.ACTIONS:
                raise ApiError("InvalidAction", "The action %s is not valid for this web "
                               "service." % action)
            key = state.lookup_key(key_id)
            with state.lock:
                api.prepare(state, action, params)
                if not key.allows(action):
                    raise ApiError("UnauthorizedOperation", "You are not authorized to "
                                   "perform this operation.", 403)
                if params.bool("DryRun"):
                    raise ApiError("DryRunOperation", "Request would have succeeded, but "
                                   "DryRun flag is set.", 412)
                children = api.handle(state, action, params, {"faults": faults,
                                                               "key": key_id})
            xml = api.response_xml(action, version, request_id, children)
        except sigv4.SigError as e:
            status, code = e.status, e.code
            xml = api.error_xml(e.code, e.message, request_id)
        except ApiError as e:
            status, code = e.status, e.code
            xml = api.error_xml(e.code, e.message, request_id)
        except Exception:   # a bug in the sim: say so loudly, answer like EC2 would
            import traceback
            state.event("error", action=action, traceback=traceback.format_exc())
            status, code = 500, "InternalError"
            xml = api.error_xml(code, "ec2sim internal error (see its event log)", request_id)
        if resp_fault and resp_fault["when"] == "after":
            self._apply_response_fault(resp_fault, xml, request_id, now, action, key_id,
                                       client, t0, real_code=code)
            return
        for f in faults:
            if f["kind"] == "slow" and f["when"] == "after":
                time.sleep(float(f.get("delay", 2.0)))
        self._log_call(action, key_id, client, status, code, request_id, t0)
        self.send(status, xml, "text/xml;charset=UTF-8",
                  {"x-amzn-RequestId": request_id, "Vary": "accept-encoding"}, date=now)

    def _authenticate(self, method, split, body, now):
        state = self.sim.state
        headers = list(self.headers.items())

        def lookup(akid):
            k = state.lookup_key(akid)
            return k.secret_access_key if k else None

        signed = sigv4.verify(method, split.path or "/", split.query, headers, body, lookup,
                              state.region, "ec2", now=now)
        key = state.lookup_key(signed.access_key_id)
        if key.session_token or key.temporary:
            if not signed.session_token:
                raise sigv4.SigError("AuthFailure", "AWS was not able to validate the provided "
                                     "access credentials", 401)
            if not secrets.compare_digest(signed.session_token, key.session_token or ""):
                raise sigv4.SigError("AuthFailure", "AWS was not able to validate the provided "
                                     "access credentials", 401)
            if key.expiration is not None and now > key.expiration:
                raise sigv4.SigError("RequestExpired", "Request has expired.", 400)
        elif signed.session_token:
            # A session token with a long-term key: EC2 rejects the pair.
            raise sigv4.SigError("AuthFailure", "AWS was not able to validate the provided "
                                 "access credentials", 401)
        return signed

    def _apply_response_fault(self, f, xml, request_id, now, action, key_id, client, t0,
                              real_code=None):
        kind = f["kind"]
        note = {"fault": kind, "fault_id": f["id"], "when": f["when"]}
        if real_code is not None:
            note["real_code"] = real_code
        if kind in ERROR_KINDS or kind == "error":
            status, code, msg = ERROR_KINDS.get(kind, (None, None, None))
            status = int(f.get("status", status or 400))
            code = f.get("code", code)
            msg = f.get("message", msg or code)
            self._log_call(action, key_id, client, status, code, request_id, t0, **note)
            self.send(status, api.error_xml(code, msg, request_id), "text/xml;charset=UTF-8",
                      {"x-amzn-RequestId": request_id}, date=now)
            return
        if kind == "reset":
            self._log_call(action, key_id, client, 0, "ConnectionReset", request_id, t0, **note)
            self.reset()
        if kind == "truncate":
            if xml is None:
                xml = api.response_xml(action or "Unknown", "2016-11-15", request_id, [])
            self._log_call(action, key_id, client, 200, "TruncatedBody", request_id, t0,
                           **note)
            self.send(200, xml, "text/xml;charset=UTF-8", {"x-amzn-RequestId": request_id},
                      date=now, truncate=True)
            return
        if kind == "garbage":
            self._log_call(action, key_id, client, 200, "GarbageBody", request_id, t0, **note)
            junk = b"\x00\xffnot xml at all <<<" + secrets.token_bytes(32) + b"</oops"
            self.send(200, junk, "text/xml;charset=UTF-8", {"x-amzn-RequestId": request_id},
                      date=now)
            return

    def _log_call(self, action, key_id, client, status, code, request_id, t0, **extra):
        self.sim.state.event("call", action=action, key=key_id, client=client, status=status,
                             code=code, request_id=request_id,
                             duration=round(time.time() - t0, 4), **extra)


# ============================================================================ IMDS
class ImdsHandler(_BaseHandler):
    server_version = "EC2ws"

    def do_PUT(self):
        self._imds("PUT")

    def do_GET(self):
        self._imds("GET")

    def do_POST(self):
        self.read_body()
        self._text(405, "Method Not Allowed")

    def _text(self, status, text, extra=None, ctype="text/plain"):
        self.send(status, text.encode(), ctype, extra)

    def _imds(self, method):
        sim = self.sim
        state = sim.state
        self.read_body()
        client = self.client_address[0]
        path = urllib.parse.urlsplit(self.path).path
        action = "imds:token" if method == "PUT" else "imds:get"
        faults = sim.faults.take(action, client=client)
        cfg = state.imds
        status = None
        try:
            for f in faults:
                if f["kind"] == "slow":
                    time.sleep(float(f.get("delay", 2.0)))
            if cfg["down"] or any(f["kind"] in ("down", "reset") for f in faults):
                self._log(method, path, client, 0)
                self.reset()
            if method == "PUT" and (cfg["hop_limit_exceeded"] or
                                    any(f["kind"] == "hop_limit" for f in faults)):
                delay = next((float(f.get("delay", cfg["hop_limit_hang"])) for f in faults
                              if f["kind"] == "hop_limit"), cfg["hop_limit_hang"])
                self._log(method, path, client, 0, note="hop_limit")
                self.hang_then_close(delay)
            for f in faults:
                if f["kind"] in ERROR_KINDS or f["kind"] == "error":
                    st = {"throttle": 429}.get(f["kind"], ERROR_KINDS.get(f["kind"],
                                                                          (500,))[0])
                    st = int(f.get("status", st))
                    self._log(method, path, client, st, note=f["kind"])
                    self._text(st, {429: "Too Many Requests", 500: "Internal Server Error",
                                    503: "Service Unavailable"}.get(st, "Error"))
                    return
                if f["kind"] == "garbage":
                    self._log(method, path, client, 200, note="garbage")
                    self.send(200, b"\x00\xff" + secrets.token_bytes(24), "text/plain")
                    return
            truncate = any(f["kind"] == "truncate" for f in faults)
            try:
                if method == "PUT":
                    status = self._token(path, client, faults)
                else:
                    status = self._get(path, client, truncate)
            except (_Abort, ConnectionError, ssl.SSLError, socket.timeout):
                raise
            except Exception:   # a bug in the sim: 500 and an "error" event
                import traceback
                state.event("error", action=action, traceback=traceback.format_exc())
                status = 500
                self._text(500, "Internal Server Error")
        finally:
            if status is not None:
                self._log(method, path, client, status)

    def _log(self, method, path, client, status, note=None):
        ev = {"method": method, "path": path, "client": client, "status": status}
        if note:
            ev["fault"] = note
        self.sim.state.event("imds", **ev)

    def _token(self, path, client, faults):
        state = self.sim.state
        if path != "/latest/api/token":
            self._text(404, "Not Found")
            return 404
        if state.imds["refuse_token"] or any(f["kind"] == "token_refused" for f in faults):
            self._text(403, "Forbidden")
            return 403
        if self.headers.get("X-Forwarded-For") is not None:
            self._text(403, "Forbidden")
            return 403
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        try:
            ttl_n = int(ttl)
        except (TypeError, ValueError):
            ttl_n = -1
        if ttl_n < 1 or ttl_n > state.imds["token_max_ttl"]:
            self._text(400, "Bad Request")
            return 400
        inst = state.imds_instance_for(client)
        if inst is None:
            self._text(404, "Not Found")
            return 404
        token = "AQAEA" + secrets.token_urlsafe(40)
        with state.lock:
            state.imds_tokens[token] = (inst["instance_id"], time.time() + ttl_n)
        self._text(200, token, {"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": str(ttl_n)})
        return 200

    def _get(self, path, client, truncate):
        state = self.sim.state
        token = self.headers.get("X-aws-ec2-metadata-token")
        inst = state.imds_instance_for(client)
        with state.lock:
            ent = state.imds_tokens.get(token) if token else None
            valid = ent is not None and ent[1] > time.time() and inst is not None and \
                ent[0] == inst["instance_id"]
        if not valid:
            self._text(401, "Unauthorized")
            return 401
        tree = self.sim.imds_tree(inst)
        if path.startswith("/latest/"):
            node = tree
            parts = [p for p in path[len("/latest/"):].split("/") if p]
            for p in parts:
                if isinstance(node, dict) and p in node:
                    node = node[p]
                else:
                    node = None
                    break
        else:
            node = None
            if path in ("/", ""):
                node = {"latest": {}}
        if node is None:
            self._text(404, "Not Found", ctype="text/html")
            return 404
        if isinstance(node, dict):
            body = "\n".join(k + ("/" if isinstance(v, dict) else "")
                             for k, v in node.items())
        else:
            body = node
        ctype = "application/json" if body.startswith("{") else "text/plain"
        self.send(200, body.encode(), ctype, truncate=truncate)
        return 200


# ============================================================================ control
class ControlHandler(_BaseHandler):
    server_version = "ec2sim-control"

    def _json(self, status, obj):
        self.send(status, (json.dumps(obj, sort_keys=True) + "\n").encode(),
                  "application/json")

    def do_GET(self):
        state = self.sim.state
        split = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(split.query))
        if split.path == "/health":
            return self._json(200, {"ok": True})
        if split.path == "/state":
            return self._json(200, state.to_json())
        if split.path == "/info":
            return self._json(200, self.sim.info())
        if split.path == "/faults":
            return self._json(200, self.sim.faults.to_json())
        if split.path == "/events":
            since = int(q.get("since", 0))
            with state.lock:
                evs = [e for e in state.events_list if e["seq"] > since and
                       ("type" not in q or e["type"] == q["type"])]
            return self._json(200, evs)
        return self._json(404, {"error": "unknown path %s" % split.path})

    def do_POST(self):
        body = self.read_body()
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError("control request must be a JSON object")
            result = self.sim.control(req)
            return self._json(200, result)
        except (ValueError, KeyError, TypeError, ApiError) as e:
            return self._json(400, {"error": str(e)})


# ============================================================================ the sim
class Ec2SimServer:
    def __init__(self, spec, bind="127.0.0.1", port=0, tls=True, imds_bind=None, imds_port=0,
                 control_bind="127.0.0.1", control_port=0, workdir=None, cert_names=(),
                 cert_cache=None, http_port=None):
        self.stopping = False
        self.workdir = workdir
        if workdir:
            os.makedirs(workdir, exist_ok=True)
        self.state = State(spec, workdir)
        self.faults = FaultTable(self.state.rng, self._fault_triggered)
        self.state.faults = self.faults
        for f in self.state.initial_faults:
            self.faults.add(f)
        self.tls = tls
        self.certs = None
        ctx = None
        if tls:
            from .certs import ensure_certs
            names = ["ec2.%s.amazonaws.com" % self.state.region, "localhost", "127.0.0.1",
                     "::1"] + list(cert_names)
            if bind not in ("0.0.0.0", "::", ""):
                names.append(bind)
            self.certs = ensure_certs(names, cert_cache)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(self.certs["cert"], self.certs["key"])
        self.api = _Server((bind, port), Ec2Handler, self, ctx)
        self.http_api = _Server((bind, http_port), Ec2Handler, self) \
            if (tls and http_port is not None) else None
        self.imds = _Server((imds_bind or bind, imds_port), ImdsHandler, self)
        self.ctl = _Server((control_bind, control_port), ControlHandler, self)
        self.state.control_url = self._url("http", self.ctl)
        self.threads = []

    @staticmethod
    def _url(scheme, srv):
        host, port = srv.server_address[:2]
        if ":" in host:
            host = "[%s]" % host
        return "%s://%s:%d" % (scheme, host, port)

    def info(self):
        d = {
            "endpoint": self._url("https" if self.tls else "http", self.api),
            "imds": self._url("http", self.imds),
            "control": self._url("http", self.ctl),
            "ca_bundle": self.certs["ca"] if self.certs else None,
            "region": self.state.region,
            "pid": os.getpid(),
            "workdir": self.workdir,
            "events": self.state.events_path,
        }
        if self.http_api:
            d["http_endpoint"] = self._url("http", self.http_api)
        return d

    def start(self):
        self.state.start_background()
        for srv in filter(None, (self.api, self.http_api, self.imds, self.ctl)):
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                                 name="ec2sim-" + srv.RequestHandlerClass.__name__,
                                 daemon=True)
            t.start()
            self.threads.append(t)
        self.state.event("start", **{k: v for k, v in self.info().items()
                                     if k in ("endpoint", "imds", "control")})
        return self

    def stop(self):
        self.stopping = True
        servers = [s for s in (self.api, self.http_api, self.imds, self.ctl) if s]
        for srv in servers:   # ask every loop to stop first, then wait: one poll, not four
            srv._BaseServer__shutdown_request = True
        for srv in servers:
            srv.shutdown()
            srv.server_close()
            srv.close_connections()
        for t in self.threads:
            t.join(timeout=5)
        self.state.shutdown()

    def _fault_triggered(self, f, action):
        self.state.event("fault", fault_id=f["id"], kind=f["kind"], action=action,
                         when=f["when"])

    # ------------------------------------------------------------------ IMDS tree
    def imds_tree(self, inst):
        state = self.state
        with state.lock:
            view = api.View.__new__(api.View)
            view.state, view.inst_over, view.addr_over = state, {}, {}
            pub, _ = api.instance_public_ip(state, view, inst)
            eni0 = inst["network_interfaces"][0]
            macs = {}
            for eni in inst["network_interfaces"]:
                ips = [eni["private_ip_address"]] + eni["secondary_private_ip_addresses"]
                d = {
                    "device-number": str(eni["device_index"]),
                    "interface-id": eni["network_interface_id"],
                    "local-hostname": eni["private_dns_name"],
                    "local-ipv4s": "\n".join(ips),
                    "mac": eni["mac_address"],
                    "owner-id": state.account_id,
                    "security-group-ids": "sg-0123456789abcdef0",
                    "security-groups": "default",
                    "subnet-id": eni["subnet_id"],
                    "vpc-id": eni["vpc_id"],
                }
                pubs = [a["public_ip"] for ip in ips
                        for a in [state.address_on(eni["network_interface_id"], ip)] if a]
                if eni is eni0 and not pubs and pub:
                    pubs = [pub]
                if pubs:
                    d["public-ipv4s"] = "\n".join(pubs)
                    d["ipv4-associations"] = {
                        a["public_ip"]: a["private_ip_address"] for a in state.addresses.values()
                        if a["network_interface_id"] == eni["network_interface_id"]}
                macs[eni["mac_address"]] = d
            md = {
                "ami-id": inst["image_id"],
                "ami-launch-index": "0",
                "hostname": eni0["private_dns_name"],
                "instance-action": "none",
                "instance-id": inst["instance_id"],
                "instance-life-cycle": "on-demand",
                "instance-type": inst["instance_type"],
                "local-hostname": eni0["private_dns_name"],
                "local-ipv4": eni0["private_ip_address"],
                "mac": eni0["mac_address"],
                "network": {"interfaces": {"macs": macs}},
                "placement": {
                    "availability-zone": inst["availability_zone"],
                    "availability-zone-id": "use1-az1" if state.region == "us-east-1"
                    else state.region[:2] + "-az1",
                    "region": state.region,
                },
                "reservation-id": inst["reservation_id"],
                "security-groups": "default",
                "services": {"domain": "amazonaws.com", "partition": "aws"},
            }
            if pub:
                md["public-ipv4"] = pub
                md["public-hostname"] = state.public_dns(pub)
            if inst["iam_role"]:
                cur = state.role_credentials(inst)
                key = cur["key"]
                role_json = json.dumps({
                    "Code": "Success",
                    "LastUpdated": iso8601(cur["issued"], millis=False),
                    "Type": "AWS-HMAC",
                    "AccessKeyId": key.access_key_id,
                    "SecretAccessKey": key.secret_access_key,
                    "Token": key.session_token,
                    "Expiration": iso8601(key.expiration, millis=False),
                }, indent=2)
                md["iam"] = {
                    "info": json.dumps({
                        "Code": "Success",
                        "LastUpdated": iso8601(cur["issued"], millis=False),
                        "InstanceProfileArn": "arn:aws:iam::%s:instance-profile/%s"
                                              % (state.account_id, inst["iam_role"]),
                        "InstanceProfileId": "AIPA" + inst["instance_id"][2:].upper(),
                    }, indent=2),
                    "security-credentials": {inst["iam_role"]: role_json},
                }
            doc = json.dumps({
                "accountId": state.account_id,
                "architecture": "x86_64",
                "availabilityZone": inst["availability_zone"],
                "billingProducts": None,
                "devpayProductCodes": None,
                "marketplaceProductCodes": None,
                "imageId": inst["image_id"],
                "instanceId": inst["instance_id"],
                "instanceType": inst["instance_type"],
                "kernelId": None,
                "pendingTime": inst["launch_time"].replace(".000", ""),
                "privateIp": eni0["private_ip_address"],
                "ramdiskId": None,
                "region": state.region,
                "version": "2017-09-30",
            }, indent=2)
            return {
                "meta-data": md,
                "dynamic": {"instance-identity": {"document": doc}},
            }

    # ------------------------------------------------------------------ control ops
    def control(self, req):
        op = req.get("op")
        state = self.state
        if op == "fault":
            spec = {k: v for k, v in req.items() if k != "op"}
            fid = self.faults.add(spec)
            state.event("control", op="fault", fault_id=fid, kind=spec.get("kind"),
                        action=spec.get("action", "*"))
            return {"id": fid}
        if op == "clear_faults":
            n = self.faults.clear(req.get("id"))
            with state.lock:
                if req.get("id") is None:
                    state.stale = []
            return {"cleared": n}
        if op == "set":
            return self._control_set(req)
        if op == "clock":
            with state.lock:
                state.clock_offset = float(req.get("offset", 0))
            state.event("control", op="clock", offset=state.clock_offset)
            return {"offset": state.clock_offset}
        if op == "imds":
            with state.lock:
                for k, v in req.items():
                    if k == "op":
                        continue
                    if k == "clients":
                        state.imds["clients"].update(v)
                        for ip, iid in list(state.imds["clients"].items()):
                            if iid is None:
                                del state.imds["clients"][ip]
                    elif k in state.imds:
                        state.imds[k] = v
                    else:
                        raise ValueError("unknown imds setting %r" % k)
            state.event("control", op="imds")
            return {"imds": dict(state.imds)}
        if op == "rotate_credentials":
            out = {}
            with state.lock:
                ids = [req["instance_id"]] if req.get("instance_id") else list(state.instances)
                for iid in ids:
                    inst = state.instances[iid]
                    old = state.role_creds.get(iid, [])
                    if req.get("expire_previous"):
                        for ent in old:
                            ent["key"].expiration = state.now() - 1
                    cur = state.role_credentials(inst, rotate=True)
                    out[iid] = cur["key"].access_key_id
            return {"rotated": out}
        if op == "add_key":
            exp = req.get("expiration")
            if isinstance(exp, str):
                exp = _parse_iso(exp)
            k = Key(req["access_key_id"], req["secret_access_key"], req.get("session_token"),
                    req.get("permissions", ["*"]), exp, req.get("temporary"),
                    deny=req.get("deny"))
            with state.lock:
                state.keys[k.access_key_id] = k
            return {"added": k.access_key_id}
        if op == "remove_key":
            with state.lock:
                state.keys.pop(req["access_key_id"], None)
            return {"removed": req["access_key_id"]}
        if op == "set_permissions":
            with state.lock:
                k = state.keys[req["access_key_id"]]
                if "permissions" in req:
                    k.permissions = list(req["permissions"])
                if "deny" in req:
                    k.deny = list(req["deny"])
            return {"permissions": k.permissions, "deny": k.deny}
        if op == "hooks":
            with state.lock:
                for k, v in req.items():
                    if k != "op":
                        if v is None:
                            state.hooks.pop(k, None)
                        else:
                            state.hooks[k] = v
            return {"hooks": dict(state.hooks)}
        if op == "unsupported_params":
            with state.lock:
                state.unsupported_params = set(req.get("params", []))
            return {"unsupported_params": sorted(state.unsupported_params)}
        if op == "mark":
            ev = state.event("mark", **{k: v for k, v in req.items() if k != "op"})
            return {"seq": ev["seq"]}
        raise ValueError("unknown control op %r" % op)

    def _control_set(self, req):
        state = self.state
        oid = req.get("id")
        fields = {k: v for k, v in req.items() if k not in ("op", "id")}
        with state.lock:
            if oid in state.instances:
                inst = state.instances[oid]
                for k, v in fields.items():
                    if k == "state":
                        if v not in api.STATE_CODES:
                            raise ValueError("unknown state %r" % v)
                        prev = inst["state"]
                        inst["state"] = v
                        inst["_deadline"] = inst["_target"] = None
                        if v in ("pending", "stopping", "shutting-down"):
                            target = {"pending": "running", "stopping": "stopped",
                                      "shutting-down": "terminated"}[v]
                            delay = inst["start_delay"] if v == "pending" else inst["stop_delay"]
                            inst["_target"] = target
                            inst["_deadline"] = time.time() + float(
                                fields.get("delay", delay))
                        if prev != v:
                            state.event("state", instance_id=oid, previous=prev, state=v,
                                        reason="control")
                        if fields.get("run_hooks"):
                            hook = {"stopping": "stop", "stopped": "stop", "pending": "start",
                                    "running": "start"}.get(v)
                            if hook:
                                state._run_instance_hook(inst, hook, prev, gate=False)
                    elif k == "tags":
                        inst["tags"] = {str(a): str(b) for a, b in v.items()}
                    elif k in ("stop_delay", "start_delay", "force_stop_delay"):
                        inst[k] = float(v)
                    elif k == "hooks":
                        inst["hooks"].update({a: b for a, b in v.items()})
                        inst["hooks"] = {a: b for a, b in inst["hooks"].items() if b}
                    elif k in ("iam_role", "hibernation", "state_code_high_byte",
                               "imds_clients", "public_ip", "instance_type",
                               "state_transition_reason"):
                        inst[k] = v
                    elif k in ("delay", "run_hooks"):
                        pass
                    else:
                        raise ValueError("cannot set %r on an instance" % k)
                state._cv.notify_all()
                return {"instance": state.to_json()["instances"][
                    list(state.instances).index(oid)]}
            if oid in state.addresses:
                addr = state.addresses[oid]
                if "tags" in fields:
                    addr["tags"] = {str(a): str(b) for a, b in fields["tags"].items()}
                if any(k in fields for k in ("instance_id", "network_interface_id",
                                             "private_ip_address")):
                    eni_id = fields.get("network_interface_id")
                    iid = fields.get("instance_id")
                    if iid and not eni_id:
                        eni_id = state.instances[iid]["network_interfaces"][0][
                            "network_interface_id"]
                    if eni_id:
                        eni = state.eni(eni_id)
                        if eni is None:
                            raise ValueError("unknown network interface %s" % eni_id)
                        pip = fields.get("private_ip_address") or eni["private_ip_address"]
                        state.associate(addr, eni_id, pip, True)
                    else:
                        state.disassociate(addr)
                return {"address": [a for a in state.to_json()["addresses"]
                                    if a["allocation_id"] == oid][0]}
        raise ValueError("unknown object id %r (expect an instance or allocation id)" % oid)
