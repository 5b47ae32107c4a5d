"""fence_ec2: where credentials, region and endpoint come from; TLS; proxy.

Each credential source is proven by the access key the sim saw on the call (the event
log's `key`): options, environment, profile file, credential_process (temporary key with
session token), IMDS role (temporary key with session token).
"""
import os
import select
import socket
import stat
import subprocess
import threading

import pytest

from test_fence_support import NODE2, calls, fast_state, fence, fence_env, stdin_lines

PROFILE_KEY = ("AKIDPROFILE000000001", "profileSecretKeyProfileSecretKey00000001")
TEMP_KEY = ("ASIATEMPKEY000000001", "tempSecretKeyTempSecretKeyTempSecret0001",
            "FwoGZXIvYXdzEXAMPLEsessionTOKENfor/fence+ec2+tests==")


@pytest.fixture
def sim(ec2sim_factory):
    state = fast_state()
    state["keys"].append({"access_key_id": PROFILE_KEY[0], "secret_access_key": PROFILE_KEY[1],
                          "permissions": ["*"]})
    state["keys"].append({"access_key_id": TEMP_KEY[0], "secret_access_key": TEMP_KEY[1],
                          "session_token": TEMP_KEY[2], "expiration": "2099-01-01T00:00:00Z",
                          "permissions": ["*"]})
    return ec2sim_factory(state)


def _keys_used(sim):
    return sorted({c["key"] for c in calls(sim)})


def _status_ok(res):
    assert (res.returncode, res.stdout) == (0, "Status: ON\n"), res.stderr


def _no_secret(res, *secrets):
    for s in secrets:
        assert s not in res.stderr and s not in res.stdout


def test_credentials_from_options(sim, tmp_path):
    res = fence(sim, tmp_path,
                stdin=stdin_lines(action="status", plug=NODE2, access_key=PROFILE_KEY[0],
                                  secret_key=PROFILE_KEY[1], verbose_level=2),
                credentials=True)   # the environment's key loses to the options
    _status_ok(res)
    assert _keys_used(sim) == [PROFILE_KEY[0]]
    _no_secret(res, PROFILE_KEY[1], sim.secret_access_key)


def test_temporary_credentials_from_options(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "-a", TEMP_KEY[0], "-s", TEMP_KEY[1],
                "--session-token", TEMP_KEY[2], "-vv", credentials=False)
    _status_ok(res)
    assert _keys_used(sim) == [TEMP_KEY[0]]
    _no_secret(res, TEMP_KEY[1], TEMP_KEY[2])


def test_credentials_from_environment(sim, tmp_path):
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "-vv")
    _status_ok(res)
    assert _keys_used(sim) == [sim.access_key_id]
    _no_secret(res, sim.secret_access_key)


def _write(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(str(path), mode)


def test_credentials_from_profile_file(sim, tmp_path):
    env = fence_env(sim, tmp_path, credentials=False)
    _write(tmp_path / "credentials",
           "[default]\naws_access_key_id = AKIDNOTTHISONE000000\naws_secret_access_key = x\n\n"
           "[prod]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % PROFILE_KEY)
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "credentials")
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "--profile=prod", "-vv", env=env)
    _status_ok(res)
    assert _keys_used(sim) == [PROFILE_KEY[0]]
    _no_secret(res, PROFILE_KEY[1])
    # AWS_PROFILE picks it too; a profile that does not exist is an error, not a fall-through
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, env=dict(env, AWS_PROFILE="prod"))
    _status_ok(res)
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "--profile=nope", env=env)
    assert res.returncode == 1 and "nope" in res.stderr


def test_credentials_from_credential_process(sim, tmp_path):
    script = tmp_path / "creds.sh"
    _write(script, "#!/bin/sh\ncat <<'EOF'\n{\"Version\": 1, \"AccessKeyId\": \"%s\", "
                   "\"SecretAccessKey\": \"%s\", \"SessionToken\": \"%s\", "
                   "\"Expiration\": \"2099-01-01T00:00:00Z\"}\nEOF\n" % TEMP_KEY, 0o700)
    env = fence_env(sim, tmp_path, credentials=False)
    _write(tmp_path / "config", "[profile proc]\ncredential_process = %s\nregion = us-east-1\n"
           % script)
    env["AWS_CONFIG_FILE"] = str(tmp_path / "config")
    res = fence(sim, tmp_path, stdin=stdin_lines(action="status", plug=NODE2, profile="proc",
                                                 verbose=1), env=env)
    _status_ok(res)
    assert _keys_used(sim) == [TEMP_KEY[0]]
    _no_secret(res, TEMP_KEY[1], TEMP_KEY[2])


def test_credentials_and_region_from_imds_role(sim, tmp_path):
    env = fence_env(sim, tmp_path, credentials=False, AWS_REGION=None, AWS_DEFAULT_REGION=None)
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, "--stonith-status-sleep=0.2", "-vv",
                env=env)
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    role = sim.role_credentials()
    used = _keys_used(sim)
    assert used == [role["AccessKeyId"]] and used[0].startswith("ASIA")
    _no_secret(res, role["SecretAccessKey"], role["Token"])


def test_no_credentials_at_all_fails_clearly(sim, tmp_path):
    sim.imds(down=True)
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, credentials=False)
    assert res.returncode == 1 and res.stdout == ""
    assert "credential" in res.stderr.lower()
    assert calls(sim) == []


def test_endpoint_url_option(sim, tmp_path):
    env = fence_env(sim, tmp_path, AWS_ENDPOINT_URL_EC2=None)
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "--endpoint-url=" + sim.endpoint,
                env=env)
    _status_ok(res)
    # the option wins over the environment
    env2 = fence_env(sim, tmp_path, AWS_ENDPOINT_URL_EC2="https://127.0.0.1:9")
    res = fence(sim, tmp_path, stdin=stdin_lines(action="status", plug=NODE2,
                                                 endpoint_url=sim.endpoint), env=env2)
    _status_ok(res)


def _other_ca(tmp_path):
    key, crt = tmp_path / "other.key", tmp_path / "other.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=not the ec2sim CA"],
                   check=True, capture_output=True)
    return str(crt)


def test_wrong_ca_bundle_is_a_clear_tls_error(sim, tmp_path):
    wrong = _other_ca(tmp_path)
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, AWS_CA_BUNDLE=wrong)
    assert res.returncode == 1 and res.stdout == ""
    low = res.stderr.lower()
    assert "certificate" in low or "tls" in low or "ssl" in low, res.stderr
    assert calls(sim) == []
    # the option wins over AWS_CA_BUNDLE
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "--ca-bundle=" + sim.ca_bundle,
                AWS_CA_BUNDLE=wrong)
    _status_ok(res)
    # and the wrong CA given as the option fails the same way
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, "--ca-bundle=" + wrong)
    assert res.returncode == 1


class ConnectProxy:
    """A minimal HTTP CONNECT proxy on loopback that records every request line."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.requests = []
        self.stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            line = data.split(b"\r\n", 1)[0].decode()
            self.requests.append(line)
            method, target = line.split()[:2]
            if method != "CONNECT":
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            host, port = target.rsplit(":", 1)
            up = socket.create_connection((host, int(port)), timeout=10)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            socks = [conn, up]
            while True:
                r, _, _ = select.select(socks, [], [], 10)
                if not r:
                    break
                for s in r:
                    buf = s.recv(65536)
                    if not buf:
                        up.close()
                        return
                    (up if s is conn else conn).sendall(buf)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop = True
        self.sock.close()


@pytest.fixture
def proxy():
    p = ConnectProxy()
    yield p
    p.close()


def _port(url):
    return url.rsplit(":", 1)[1].rstrip("/")


def test_proxy_option_used_for_ec2_never_for_imds(sim, tmp_path, proxy):
    res = fence(sim, tmp_path, "-o", "off", "-n", NODE2, "--proxy=" + proxy.url,
                "--stonith-status-sleep=0.2", NO_PROXY="", no_proxy="")
    assert (res.returncode, res.stdout) == (0, "Success: Powered OFF\n"), res.stderr
    connects = [r for r in proxy.requests if r.startswith("CONNECT")]
    assert connects and all(_port(sim.endpoint) in r for r in connects)
    assert not any(_port(sim.imds_endpoint) in r for r in proxy.requests)
    assert sim.events(type="imds"), "IMDS was asked directly (race guard)"


def test_proxy_from_environment_never_for_imds(sim, tmp_path, proxy):
    env = fence_env(sim, tmp_path, credentials=False, https_proxy=proxy.url,
                    HTTPS_PROXY=proxy.url, http_proxy=proxy.url, HTTP_PROXY=proxy.url,
                    ALL_PROXY=proxy.url, NO_PROXY="", no_proxy="")
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, env=env)
    _status_ok(res)     # credentials came from IMDS, directly
    assert any(_port(sim.endpoint) in r for r in proxy.requests)
    assert not any(_port(sim.imds_endpoint) in r for r in proxy.requests)


def test_credentials_file_readable_by_others_gives_a_warning(sim, tmp_path):
    env = fence_env(sim, tmp_path, credentials=False)
    path = tmp_path / "credentials"
    _write(path, "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % PROFILE_KEY,
           0o644)
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(path)
    res = fence(sim, tmp_path, "-o", "status", "-n", NODE2, env=env)
    _status_ok(res)
    assert "WARNING" in res.stderr
