"""Where our time goes, per call: process start, TLS/CA loading, IMDS, the API call.

Three views of one call of each of our programs, all against the same ec2sim:
  - start-up baseline: the same binary doing no I/O (`metadata` / `meta-data`), median CPU,
    wall and RSS -- what exec, the dynamic loader and library constructors cost;
  - a syscall timeline (strace --seccomp-bpf, only execve/openat/connect/exit_group stopped):
    exec -> last shared object mapped -> CA bundle opened -> IMDS connect -> API connect -> exit,
    and the syscall count (strace -c);
  - instructions (valgrind --tool=callgrind): share per shared object and the inclusive cost of
    the entry points that matter (dynamic loading, TLS context and CA loading, the handshake,
    XML parsing, our own code).
"""
import os
import re
import shutil
import subprocess

from common import EIP, FENCE_EC2, IMDS_IP, log, measure, median

KEY_FUNCS = [
    # (label, regex on the function name, first match wins per label)
    ("dynamic loading + relocation (ld.so)", r"^_dl_start$|^_dl_start_user$"),
    ("library constructors (_dl_init)", r"^_dl_init$|^call_init"),
    ("lazy symbol binding (_dl_fixup)", r"^_dl_fixup$|^_dl_runtime_resolve"),
    ("main()", r"^main$"),
    ("curl_global_init", r"^curl_global_init$"),
    ("OpenSSL init (OPENSSL_init_ssl)", r"^OPENSSL_init_ssl$"),
    ("TLS context + CA bundle (SSL_CTX_load_verify_*/X509_STORE_load_*)",
     r"^SSL_CTX_load_verify_(locations|file)$|^X509_STORE_load_(file|locations)$|"
     r"^X509_load_cert_crl_file(_ex)?$"),
    ("TLS handshake (SSL_connect/SSL_do_handshake)", r"^SSL_connect$|^SSL_do_handshake$"),
    ("curl_easy_perform", r"^curl_easy_perform$"),
    ("libxml2 parse (xmlReadMemory/xmlParseDocument)",
     r"^xmlReadMemory$|^xmlCtxtReadMemory$|^xmlParseDocument$"),
    ("SigV4 signing (ec2ha_sigv4_*)", r"^ec2ha_sigv4_sign"),
    ("IMDS (ec2ha_imds_*)", r"^ec2ha_imds_"),
    ("credentials (ec2ha_creds_*)", r"^ec2ha_creds_"),
    ("CIB / Pacemaker (cib_new, crm_*)", r"^cib_new$|^cib__signon|^ec2ha_cluster_"),
]


def _tool(name):
    return shutil.which(name, path="/usr/bin:/usr/sbin:/bin")


def startup_baseline(label, argv, env, reps):
    calls = [measure(argv, env) for _ in range(max(3, reps))]
    ok = [c for c in calls if c.rc == 0]
    if not ok:
        return {"label": label, "error": "exit %d" % calls[0].rc}
    return {"label": label, "argv": " ".join(os.path.basename(a) if i == 0 else a
                                             for i, a in enumerate(argv)),
            "cpu": median([c.cpu for c in ok]), "wall": median([c.wall for c in ok]),
            "maxrss_kib": median([c.maxrss_kib for c in ok])}


def shared_libs(path):
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [ln.split()[0] for ln in out.splitlines() if ".so" in ln]


_STRACE_RE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(\w+)\((.*)$")


def timeline(argv, env, stdin, workdir, tag):
    strace = _tool("strace")
    if not strace:
        return None
    out = os.path.join(workdir, "strace-%s.txt" % tag)
    cmd = [strace, "-f", "-ttt", "--seccomp-bpf", "-e", "trace=execve,openat,connect,exit_group",
           "-o", out] + argv
    c = measure(cmd, env, stdin)
    if c.rc not in (0, 2, 7):
        return {"error": "exit %d under strace" % c.rc}
    ca = env.get("AWS_CA_BUNDLE", "\0")
    ev = {"exec": None, "last_so": None, "ca": None, "imds": [], "api": [], "exit": None}
    with open(out) as f:
        for line in f:
            m = _STRACE_RE.match(line)
            if not m:
                continue
            ts, call, rest = float(m.group(2)), m.group(3), m.group(4)
            if call == "execve" and ev["exec"] is None:
                ev["exec"] = ts
            elif call == "openat" and ".so" in rest and "ENOENT" not in rest:
                ev["last_so"] = ts
            elif call == "openat" and ca in rest and ev["ca"] is None:
                ev["ca"] = ts
            elif call == "connect" and "sin_port=htons(80)" in rest and IMDS_IP in rest:
                ev["imds"].append(ts)
            elif call == "connect" and "sin_port=htons(443)" in rest:
                ev["api"].append(ts)
            elif call == "exit_group":
                ev["exit"] = ts
    t0 = ev["exec"]
    if t0 is None or ev["exit"] is None:
        return {"error": "no execve/exit_group in the trace"}

    def rel(x):
        return None if x is None else x - t0
    r = {"total": rel(ev["exit"]), "libs_loaded": rel(ev["last_so"]), "ca_opened": rel(ev["ca"]),
         "imds_connects": len(ev["imds"]), "api_connects": len(ev["api"]),
         "first_imds": rel(ev["imds"][0]) if ev["imds"] else None,
         "first_api": rel(ev["api"][0]) if ev["api"] else None}
    # syscall count
    out2 = os.path.join(workdir, "strace-c-%s.txt" % tag)
    measure([strace, "-f", "-c", "-o", out2] + argv, env, stdin)
    try:
        with open(out2) as f:
            for line in f:
                p = line.split()
                if p and p[-1] == "total":
                    r["syscalls"] = int(p[3]) if len(p) >= 5 else None
    except (OSError, ValueError, IndexError):
        pass
    return r


_ANN_RE = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*?)\s*$")


def _annotate(path, inclusive):
    ann = _tool("callgrind_annotate")
    cmd = [ann, "--threshold=100", "--auto=no"]
    if inclusive:
        cmd.append("--inclusive=yes")
    cmd.append(path)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout


def _parse_ann(text):
    total, rows = None, []
    for line in text.splitlines():
        m = _ANN_RE.match(line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        rest = m.group(2)
        if "PROGRAM TOTALS" in rest:
            total = n
            continue
        # "file:function [object]" or "???:function [object]"
        obj = None
        mo = re.search(r"\[([^\]]+)\]\s*$", rest)
        if mo:
            obj = mo.group(1)
            rest = rest[:mo.start()].strip()
        func = rest.split(":", 1)[1] if ":" in rest else rest
        rows.append((n, func.strip(), obj))
    return total, rows


def _short_obj(obj, binary):
    if obj is None:
        return "?"
    if os.path.realpath(obj) == os.path.realpath(binary):
        return "ec2ha (%s)" % os.path.basename(binary)
    base = os.path.basename(obj)
    return re.sub(r"\.so[.\d]*$", "", base)


def callgrind(argv, env, stdin, workdir, tag):
    vg = _tool("valgrind")
    if not vg or not _tool("callgrind_annotate"):
        return None
    out = os.path.join(workdir, "callgrind-%s.out" % tag)
    env = dict(env, OCF_RESKEY_CRM_meta_timeout="120000")
    c = measure([vg, "--tool=callgrind", "--callgrind-out-file=" + out] + argv, env, stdin,
                timeout=600)
    if c.rc not in (0, 2, 7) or not os.path.exists(out):
        return {"error": "exit %d under callgrind: %s" % (c.rc, c.stderr.strip()[-300:])}
    total, rows = _parse_ann(_annotate(out, False))
    # callgrind_annotate names the object only on a function's first line (inlined parts
    # from other source files follow without it): carry it over by function name
    fobj = {}
    for _n, func, obj in rows:
        if obj and func not in fobj:
            fobj[func] = obj
    rows = [(n, func, obj or fobj.get(func)) for n, func, obj in rows]
    by_obj = {}
    for n, _func, obj in rows:
        k = _short_obj(obj, argv[0])
        by_obj[k] = by_obj.get(k, 0) + n
    itotal, irows = _parse_ann(_annotate(out, True))
    keys = []
    for label, rx in KEY_FUNCS:
        best = None
        for n, func, _obj in irows:
            if re.search(rx, func) and (best is None or n > best):
                best = n
        if best is not None:
            keys.append((label, best))
    top_self = [(n, func, _short_obj(obj, argv[0])) for n, func, obj in rows[:15]]
    return {"total_ir": total or itotal,
            "by_object": sorted(by_obj.items(), key=lambda kv: -kv[1])[:12],
            "key_inclusive": keys, "top_self": top_self, "file": out}


def link_floor(binary, workdir, env, reps):
    """Start-up cost of an empty main() linked against the shared objects our binary needs,
    and against subsets of them: the floor our code cannot go under, and what each group of
    libraries adds (every DT_NEEDED library is mapped and relocated at exec, used or not)."""
    try:
        dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    needed = [n for n in needed if not n.startswith(("libc.so", "ld-linux"))]
    pcmk = [n for n in needed if re.match(r"lib(cib|crmcommon|pe_|crmcluster|stonithd|lrmd)", n)]
    sets = [("libc only (empty main)", []),
            ("+ libcrypto", [n for n in needed if n.startswith("libcrypto")]),
            ("+ libcrypto, libxml2", [n for n in needed if n.startswith(("libcrypto",
                                                                             "libxml2"))]),
            ("all DT_NEEDED but Pacemaker's", [n for n in needed if n not in pcmk]),
            ("all DT_NEEDED of %s" % os.path.basename(binary), needed)]
    if not pcmk:
        # Pacemaker's libraries are dlopen()ed when the CIB is read: show what they would cost
        # at every exec, as they did when they were linked
        sets[3:] = [("all DT_NEEDED of %s" % os.path.basename(binary), needed)]
        cib = pacemaker_sonames()
        if cib:
            sets.append(("the same + %s (loaded only when the CIB is read)" % ", ".join(cib),
                         needed + cib))
    src = os.path.join(workdir, "empty.c")
    with open(src, "w") as f:
        f.write("int main(void) { return 0; }\n")
    cc = os.environ.get("CC", "cc")
    out = []
    for i, (label, libs) in enumerate(sets):
        exe = os.path.join(workdir, "empty-%d" % i)
        r = subprocess.run([cc, "-O2", "-o", exe, src, "-Wl,--no-as-needed"] +
                           ["-l:" + n for n in libs], capture_output=True, text=True)
        if r.returncode != 0:
            out.append({"label": label, "error": r.stderr.strip()[-200:]})
            continue
        calls = [measure([exe], env) for _ in range(max(5, reps))]
        nlibs = len(shared_libs(exe) or [])
        out.append({"label": label, "libs": nlibs, "cpu": median([c.cpu for c in calls]),
                    "maxrss_kib": median([c.maxrss_kib for c in calls])})
    return {"binary": os.path.basename(binary), "needed": needed, "pacemaker": pcmk,
            "rows": out}


def pacemaker_sonames():
    """libcrmcommon and libcib as the dynamic linker knows them (ldconfig -p)."""
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for lib in ("libcrmcommon", "libcib"):
        m = re.search(r"^\s*(%s\.so\.\d+)\s" % lib, out, re.M)
        if m:
            found.append(m.group(1))
    return found


def reference_https(workdir, cas, reps):
    """bench/ref_https.c: one bare libcurl GET of the endpoint per trust setup, including a
    hashed CA directory (what CURLOPT_CAPATH costs instead of parsing a whole bundle)."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref_https.c")
    exe = os.path.join(workdir, "ref_https")
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O2", "-o", exe, src, "-lcurl"], capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": "cannot build ref_https: " + r.stderr.strip()[-200:]}
    variants = [(name, "file", path) for name, path in cas if path]
    # the namespace's /etc/ssl/certs is a c_rehash directory holding the test CA too
    variants.append(("hashed CA directory /etc/ssl/certs (CAPATH, no CAINFO)", "dir",
                     "/etc/ssl/certs"))
    out = []
    for name, mode, path in variants:
        calls = [measure([exe, mode, path], {"PATH": "/usr/bin:/bin"}) for _ in range(max(5, reps))]
        ok = [c for c in calls if c.rc == 0]
        if not ok:
            out.append({"label": name, "error": calls[0].stderr.strip()[-200:]})
            continue
        out.append({"label": name, "cpu": median([c.cpu for c in ok]),
                    "wall": median([c.wall for c in ok]),
                    "maxrss_kib": median([c.maxrss_kib for c in ok])})
    return {"rows": out}


def trust_variants(sides, cas, reps):
    """The same call of ours with each CA bundle: what loading the trust store costs."""
    out = []
    for key in ("fence-status", "eip-monitor"):
        ours = sides[key][0]
        if not ours.available:
            continue
        row = {"key": key, "label": ours.label}
        for name, path in cas:
            env = dict(ours.env)
            env.pop("AWS_CA_BUNDLE", None)
            if path:
                env["AWS_CA_BUNDLE"] = path
            calls = [measure(ours.argv, env, ours.stdin) for _ in range(max(3, reps))]
            ok = [c for c in calls if c.rc == 0]
            row[name] = {"cpu": median([c.cpu for c in ok]), "wall": median([c.wall for c in ok]),
                         "maxrss_kib": median([c.maxrss_kib for c in ok]), "n": len(ok)}
        out.append(row)
    return out


def run(workdir, fenv, oenv, sides, reps, cas=None):
    pdir = os.path.join(workdir, "profile")
    os.makedirs(pdir, exist_ok=True)
    prof = {"startup": [], "calls": []}
    if cas:
        log("profile: CA bundle variants")
        prof["trust"] = {"variants": [name for name, _ in cas],
                         "rows": trust_variants(sides, cas, reps)}
        log("profile: reference libcurl HTTPS call")
        prof["reference"] = reference_https(pdir, cas, reps)
    for path in (FENCE_EC2, EIP):
        if os.access(path, os.X_OK):
            libs = shared_libs(path)
            prof.setdefault("libs", {})[os.path.basename(path)] = libs
    for path in (FENCE_EC2, EIP):
        if os.access(path, os.X_OK):
            log("profile: start-up floor of the libraries %s links" % os.path.basename(path))
            prof["link_floor"] = link_floor(path, pdir, fenv, reps)
            break
    if os.access(FENCE_EC2, os.X_OK):
        prof["startup"].append(startup_baseline("fence_ec2 metadata (no I/O)",
                                                [FENCE_EC2, "-o", "metadata"], fenv, reps))
    if os.access(EIP, os.X_OK):
        prof["startup"].append(startup_baseline("eip meta-data (no I/O)", [EIP, "meta-data"],
                                                oenv, reps))
    for key in ("eip-monitor", "fence-status", "fence-monitor"):
        ours = sides[key][0]
        if not ours.available:
            continue
        log("profile: %s (%s)" % (key, ours.label))
        entry = {"key": key, "label": ours.label}
        entry["timeline"] = timeline(ours.argv, ours.env, ours.stdin, pdir, key)
        entry["callgrind"] = callgrind(ours.argv, ours.env, ours.stdin, pdir, key)
        prof["calls"].append(entry)
    return prof
