"""Test CA and server certificates, made with the `openssl` command line tool.

One CA per cache directory (default: <tmp>/ec2sim-certs-<uid>/), generated once and
reused by every sim; one server certificate per set of names, keyed by a hash of the names,
also cached.  A file lock makes concurrent first uses (parallel test processes) safe.
"""
import fcntl
import hashlib
import ipaddress
import os
import subprocess
import tempfile

_CA_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = ec2sim test CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""

_SRV_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = {cn}
[v3_srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = {san}
"""


def default_cache_dir():
    return os.path.join(tempfile.gettempdir(), "ec2sim-certs-%d" % os.getuid())


def _is_ip(name):
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _run(args, cwd):
    p = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args[:2]), p.stderr.strip()))


def _valid(paths):
    return all(os.path.exists(p) and os.path.getsize(p) > 0 for p in paths)


def ensure_certs(names, cache_dir=None):
    """Return {"ca": ca.pem, "cert": server.pem, "key": server.key} for `names`
    (DNS names and IP addresses; the first DNS name is the subject CN)."""
    cache_dir = cache_dir or default_cache_dir()
    os.makedirs(cache_dir, mode=0o700, exist_ok=True)
    names = list(dict.fromkeys(n for n in names if n))
    lock_path = os.path.join(cache_dir, ".lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ca_pem = os.path.join(cache_dir, "ca.pem")
        ca_key = os.path.join(cache_dir, "ca.key")
        if not _valid([ca_pem, ca_key]):
            with open(os.path.join(cache_dir, "ca.cnf"), "w") as f:
                f.write(_CA_CNF)
            _run(["req", "-x509", "-config", "ca.cnf", "-extensions", "v3_ca", "-newkey", "ec",
                  "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key.tmp",
                  "-out", "ca.pem.tmp", "-days", "3650", "-sha256"], cache_dir)
            os.chmod(os.path.join(cache_dir, "ca.key.tmp"), 0o600)
            os.replace(os.path.join(cache_dir, "ca.key.tmp"), ca_key)
            os.replace(os.path.join(cache_dir, "ca.pem.tmp"), ca_pem)
            # Server certificates signed by an older CA are now useless.
            for entry in os.listdir(cache_dir):
                if entry.startswith("srv-"):
                    for f in os.listdir(os.path.join(cache_dir, entry)):
                        os.unlink(os.path.join(cache_dir, entry, f))
        digest = hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]
        sdir = os.path.join(cache_dir, "srv-" + digest)
        os.makedirs(sdir, exist_ok=True)
        cert = os.path.join(sdir, "server.pem")
        key = os.path.join(sdir, "server.key")
        if not _valid([cert, key]) or os.path.getmtime(cert) < os.path.getmtime(ca_pem):
            dns = [n for n in names if not _is_ip(n)]
            san = ", ".join(("IP:" if _is_ip(n) else "DNS:") + n for n in names)
            with open(os.path.join(sdir, "server.cnf"), "w") as f:
                f.write(_SRV_CNF.format(cn=(dns[0] if dns else names[0]), san=san))
            serial = "0x" + os.urandom(12).hex()
            _run(["req", "-new", "-config", "server.cnf", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key.tmp", "-out",
                  "server.csr"], sdir)
            _run(["x509", "-req", "-in", "server.csr", "-CA", ca_pem, "-CAkey", ca_key,
                  "-set_serial", serial, "-days", "3650", "-sha256", "-extfile", "server.cnf",
                  "-extensions", "v3_srv", "-out", "server.pem.tmp"], sdir)
            os.chmod(os.path.join(sdir, "server.key.tmp"), 0o600)
            os.replace(os.path.join(sdir, "server.key.tmp"), key)
            os.replace(os.path.join(sdir, "server.pem.tmp"), cert)
        return {"ca": ca_pem, "cert": cert, "key": key, "names": names}
