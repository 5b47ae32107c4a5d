"""TLS: verification is always on and only its trust anchors can be changed.

- No option, setting or environment variable turns verification off: the programs' metadata
  and help name no such option, and the usual spellings (ssl_insecure, --insecure,
  --no-verify-ssl, AWS_CA_BUNDLE="", CURL_CA_BUNDLE, ...) still reject a server whose
  certificate the CA bundle does not vouch for.
- A wrong CA, an expired certificate and a certificate for another host each fail with a
  message that says what is wrong with the certificate.  The certificates are made here with
  the openssl CLI and served by a small TLS front (Python's ssl) that forwards to ec2sim's
  plain-HTTP port, so the same front with a good certificate really works.
- http:// endpoints are refused unless the host is loopback (tests only).
"""
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest

from conftest import run_program

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cib"))
from cibfixture import make_cib  # noqa: E402
from ec2sim.testing import ALLOC, NODE2, Ec2Sim, default_state  # noqa: E402

TLS_ERROR = re.compile(r"certificate|verif|TLS|SSL", re.I)

CA_CONF = """\
[ca]
default_ca = ca_default
[ca_default]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = policy_any
unique_subject = no
[policy_any]
commonName = supplied
"""


# ---- certificates (openssl CLI) --------------------------------------------------------------

def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, f"openssl {' '.join(args)}:\n{r.stderr}"


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj",
            f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    return os.path.join(d, f"{name}.pem")


def make_server_cert(d, ca, name, sans, start=None, end=None):
    """A server certificate signed by `ca`; start/end as YYYYMMDDHHMMSSZ (default: valid)."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName={sans}\nextendedKeyUsage=serverAuth\n"
                "basicConstraints=CA:FALSE\n")
    conf = os.path.join(d, "ca.cnf")
    if not os.path.exists(conf):
        with open(conf, "w") as f:
            f.write(CA_CONF)
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
    dates = ["-startdate", start or "20200101000000Z", "-enddate", end or "20991231000000Z"]
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", f"{ca}.pem", "-keyfile", f"{ca}.key",
            "-in", f"{name}.csr", "-out", f"{name}.pem", "-extfile", f"{name}.ext", "-notext",
            *dates, cwd=d)
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("pki"))
    make_ca(d, "test-ca")
    make_ca(d, "other-ca")
    sans = "IP:127.0.0.1,DNS:localhost"
    return {
        "dir": d,
        "ca": os.path.join(d, "test-ca.pem"),
        "other_ca": os.path.join(d, "other-ca.pem"),
        "good": make_server_cert(d, "test-ca", "good", sans),
        "expired": make_server_cert(d, "test-ca", "expired", sans,
                                    "20200101000000Z", "20200201000000Z"),
        "not_yet": make_server_cert(d, "test-ca", "not-yet", sans,
                                    "20980101000000Z", "20990101000000Z"),
        "wrong_host": make_server_cert(d, "test-ca", "wrong-host",
                                       "DNS:ec2.wrong.example.com"),
        "self_signed": make_server_cert(d, "other-ca", "other", sans),
    }


# ---- a TLS front for ec2sim's plain-HTTP port --------------------------------------------

class TlsFront:
    """Terminates TLS with the given certificate and pipes bytes to (host, port)."""

    def __init__(self, cert, key, target):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.target = target
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.running = True
        self.handshake_errors = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return f"https://127.0.0.1:{self.port}"

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            conn.settimeout(10)
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.handshake_errors.append(str(e))
            conn.close()
            return
        up = socket.create_connection(self.target, timeout=10)

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pump, args=(up, tls), daemon=True)
        t.start()
        pump(tls, up)
        t.join(5)
        tls.close()
        up.close()

    def close(self):
        self.running = False
        self.lsock.close()
        self.thread.join()


# ---- the programs --------------------------------------------------------------------------

def sim_state():
    state = default_state()
    state["defaults"] = {"stop_delay": 0.3, "start_delay": 0.3}
    return state


def base_env(sim, tmp, endpoint, ca):
    env = sim.env(AWS_ENDPOINT_URL_EC2=endpoint, HA_RSCTMP=str(tmp / "rsctmp"),
                  HA_LOGFACILITY="none", CIB_file=make_cib(tmp / "cib.xml"))
    if ca is None:
        env.pop("AWS_CA_BUNDLE", None)
    else:
        env["AWS_CA_BUNDLE"] = ca
    return env


def fence_status(env, extra_stdin=""):
    stdin = f"action=status\nplug={NODE2}\nlogin_timeout=3\npower_timeout=3\n" + extra_stdin
    return run_program("fence_ec2", stdin=stdin, env=env, timeout=60)


def eip_monitor(env):
    env = dict(env, OCF_ROOT="/usr/lib/ocf", OCF_RESOURCE_INSTANCE="eip",
               OCF_RESKEY_allocation_id=ALLOC, OCF_RESKEY_CRM_meta_timeout="8000",
               OCF_RESKEY_CRM_meta_interval="10000", OCF_RESKEY_CRM_meta_on_node="node1")
    return run_program("eip", ["monitor"], env=env, timeout=60)


def cli_list(env, *extra):
    return run_program("ec2ha", [*extra, "-t", "8", "instance", "list"], env=env, timeout=60)


@pytest.fixture
def sim(tmp_path):
    with Ec2Sim(sim_state(), tls=True, http_port=0, workdir=tmp_path / "sim") as s:
        yield s


def front(sim, cert):
    host, port = sim.http_endpoint.rsplit("//", 1)[1].rsplit(":", 1)
    return TlsFront(cert[0], cert[1], (host, int(port)))


# ---- tests ---------------------------------------------------------------------------------

def test_good_certificate_through_the_front_works(sim, pki, tmp_path):
    """The control case: the TLS front itself is sound."""
    f = front(sim, pki["good"])
    try:
        env = base_env(sim, tmp_path, f.endpoint, pki["ca"])
        r = fence_status(env)
        assert r.returncode == 0 and "Status: ON" in r.stdout, r.stderr
        r = eip_monitor(env)
        assert r.returncode in (0, 7), r.stderr
        r = cli_list(env)
        assert r.returncode == 0 and NODE2 in r.stdout, r.stderr
    finally:
        f.close()


@pytest.mark.parametrize("case,ca,pattern", [
    ("wrong CA", "other_ca", r"certificate|issuer|verif"),
    ("system store only", None, r"certificate|issuer|verif"),
    ("expired", "ca", r"expired"),
    ("not yet valid", "ca", r"not yet valid|not valid yet|future|expired|verif"),
    ("wrong host", "ca", r"does not match|no alternative|hostname|host name|subject"),
    ("other CA's certificate", "ca", r"certificate|issuer|verif"),
])
def test_bad_certificates_fail_clearly(sim, pki, tmp_path, case, ca, pattern):
    cert = {"wrong CA": "good", "system store only": "good", "expired": "expired",
            "not yet valid": "not_yet", "wrong host": "wrong_host",
            "other CA's certificate": "self_signed"}[case]
    f = front(sim, pki[cert])
    try:
        env = base_env(sim, tmp_path, f.endpoint, pki[ca] if ca else None)
        before = len(sim.events(type="call"))
        for name, r in (("fence_ec2", fence_status(env)), ("eip", eip_monitor(env)),
                        ("ec2ha", cli_list(env))):
            assert r.returncode not in (0, 2, 7), f"{name} {case}: exit {r.returncode}\n{r.stderr}"
            assert TLS_ERROR.search(r.stderr), f"{name} {case}: not a TLS message:\n{r.stderr}"
            assert re.search(pattern, r.stderr, re.I), \
                f"{name} {case}: the message does not say what is wrong:\n{r.stderr}"
        assert len(sim.events(type="call")) == before, "a request got through"
    finally:
        f.close()


def test_no_option_turns_verification_off(sim, pki, tmp_path):
    f = front(sim, pki["self_signed"])
    try:
        env = base_env(sim, tmp_path, f.endpoint, pki["ca"])
        # fence: fence-agents' spellings of "do not verify" are not options of ours
        md = run_program("fence_ec2", ["-o", "metadata"], env={}).stdout
        eip_md = run_program("eip", ["meta-data"], env={"OCF_ROOT": "/usr/lib/ocf"}).stdout
        cli_help = run_program("ec2ha", ["--help"], env={}).stdout
        for text in (md, eip_md, cli_help):
            assert not re.search(r"insecure|no.?verify|verify.?ssl|ssl.?verify|skip.?tls|"
                                 r"notls|tls.?verify", text, re.I), text
        for line in ("ssl_insecure=1", "ssl=0", "notls=1", "insecure=1", "verify_ssl=false",
                     "no_verify_ssl=1", "tls_verify=0"):
            r = fence_status(env, line + "\n")
            assert r.returncode == 1 and TLS_ERROR.search(r.stderr), (line, r.stderr)
        for args in (["--insecure"], ["--no-verify-ssl"], ["-k"]):
            r = cli_list(env, *args)
            assert r.returncode != 0, (args, r.stdout)
        # environment that would switch curl or OpenSSL off or elsewhere: still verified
        for extra in ({"AWS_CA_BUNDLE": ""}, {"CURL_CA_BUNDLE": pki["dir"] + "/other-ca.pem"},
                      {"SSL_CERT_FILE": pki["dir"] + "/other-ca.pem"},
                      {"CURLOPT_SSL_VERIFYPEER": "0", "PYTHONHTTPSVERIFY": "0",
                       "AWS_CLI_SSL_NO_VERIFY": "1", "GIT_SSL_NO_VERIFY": "1"}):
            r = fence_status(dict(env, **extra))
            assert r.returncode == 1 and TLS_ERROR.search(r.stderr), (extra, r.stderr)
        # a profile cannot do it either
        with open(env["AWS_CONFIG_FILE"], "w") as fh:
            fh.write("[default]\nverify_ssl = false\nca_bundle =\n")
        r = fence_status(env)
        assert r.returncode == 1 and TLS_ERROR.search(r.stderr), r.stderr
    finally:
        f.close()


def test_plain_http_only_to_loopback(sim, tmp_path):
    # loopback: allowed (this is how tests may run without TLS)
    env = base_env(sim, tmp_path, sim.http_endpoint, None)
    r = fence_status(env)
    assert r.returncode == 0 and "Status: ON" in r.stdout, r.stderr
    port = sim.http_endpoint.rsplit(":", 1)[1]
    r = fence_status(base_env(sim, tmp_path, f"http://localhost:{port}", None))
    assert r.returncode == 0, r.stderr

    # anything else: refused before any connection, saying why
    for url in ("http://192.0.2.10", "http://ec2.us-east-1.amazonaws.com",
                "http://10.0.0.1:8080", "http://127.0.0.1.nip.io:80", "http://[2001:db8::1]"):
        env = base_env(sim, tmp_path, url, None)
        t0 = time.monotonic()
        for name, r in (("fence_ec2", fence_status(env)), ("eip", eip_monitor(env)),
                        ("ec2ha", cli_list(env))):
            assert r.returncode not in (0, 2, 7), f"{name} {url}: exit {r.returncode}"
            assert re.search(r"https", r.stderr) and re.search(r"http\b|plain", r.stderr), \
                f"{name} {url}: the message does not say that http is refused:\n{r.stderr}"
        assert time.monotonic() - t0 < 20, "refusing should not wait for a connection"
