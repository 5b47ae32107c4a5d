"""The table (stdout) and bench/results.md from one run's results."""
import os

from common import HERE, fmt_mib, fmt_ratio, fmt_time, median

ANCHOR = {"eip-monitor": "awseip", "eip-start": "awseip", "eip-stop": "awseip",
          "fence-status": "fence_aws", "fence-monitor": "fence_aws", "fence-off": "fence_aws",
          "list-10k": "fence_aws", "failover": "fence_aws+awseip"}
OURS = {"eip-monitor": "eip", "eip-start": "eip", "eip-stop": "eip",
        "fence-status": "fence_ec2", "fence-monitor": "fence_ec2", "fence-off": "fence_ec2",
        "list-10k": "fence_ec2", "failover": "fence_ec2+eip"}

RSS_LIMIT_KIB = 8 * 1024

# (benchmark key, sample field, row label, kind, target)
#   kind: "time" | "rss"; target: None | ("ratio", n) anchor/ours >= n |
#   ("max", value) ours <= value
ROWS = [
    ("eip-monitor", "cpu", "EIP monitor: CPU", "time", ("ratio", 100)),
    ("eip-monitor", "wall", "EIP monitor: wall", "time", None),
    ("eip-monitor", "maxrss_kib", "EIP monitor: peak RSS", "rss", ("max", RSS_LIMIT_KIB)),
    ("fence-status", "cpu", "fence status: CPU", "time", ("ratio", 100)),
    ("fence-status", "wall", "fence status: wall", "time", None),
    ("fence-status", "maxrss_kib", "fence status: peak RSS", "rss", ("max", RSS_LIMIT_KIB)),
    ("fence-monitor", "cpu", "fence monitor: CPU", "time", None),
    ("fence-monitor", "wall", "fence monitor: wall", "time", None),
    ("fence-monitor", "maxrss_kib", "fence monitor: peak RSS", "rss", ("max", RSS_LIMIT_KIB)),
    ("eip-start", "cpu", "eip start: CPU", "time", None),
    ("eip-start", "wall", "eip start: wall", "time", None),
    ("eip-start", "maxrss_kib", "eip start: peak RSS", "rss", ("max", RSS_LIMIT_KIB)),
    ("eip-stop", "cpu", "eip stop: CPU", "time", None),
    ("eip-stop", "wall", "eip stop: wall", "time", None),
    ("eip-stop", "maxrss_kib", "eip stop: peak RSS", "rss", ("max", RSS_LIMIT_KIB)),
    ("fence-off", "past_stop", "fence off: wall past stop time", "time", ("max", 0.3)),
    ("fence-off", "exit_after_stopped", "fence off: exit after `stopped`", "time", None),
    ("fence-off", "cpu", "fence off: CPU", "time", None),
    ("fence-off", "maxrss_kib", "fence off: peak RSS", "rss", ("max", RSS_LIMIT_KIB)),
    ("list-10k", "cpu", "list 10k instances: CPU", "time", ("max", 0.3)),
    ("list-10k", "wall", "list 10k instances: wall", "time", None),
    ("list-10k", "maxrss_kib", "list 10k instances: peak RSS", "rss", ("max", RSS_LIMIT_KIB)),
    ("failover", "total", "failover: crash -> EIP answers", "time", ("ratio", 2)),
    ("failover", "detection", "  detection (crash -> fencing requested)", "time", None),
    ("failover", "fencing", "  fencing (requested -> confirmed)", "time", None),
    ("failover", "agent_to_stop", "    fence agent start -> StopInstances", "time", None),
    ("failover", "ec2_stop", "    EC2 stop time (ec2sim)", "time", None),
    ("failover", "stopped_to_confirmed", "    stopped -> fencing confirmed", "time", None),
    ("failover", "association", "  association (confirmed -> EIP here)", "time", None),
    ("failover", "answer", "  first ping answered after association", "time", None),
    ("failover", "ping_lost", "  pings lost (0.1 s interval)", "count", None),
]


def _benches(results):
    d = {b["key"]: b for b in results.get("benchmarks", [])}
    fo = results.get("failover")
    if isinstance(fo, dict) and "ours" in fo:
        d["failover"] = fo
    return d


def _med(bench, side, field):
    if bench is None:
        return None
    return median([s.get(field) for s in bench.get(side, []) if s.get("ok")])


def _fmt(kind, v):
    if kind == "rss":
        return fmt_mib(v)
    if kind == "count":
        return "-" if v is None else "%g" % v
    return fmt_time(v)


def rows(results):
    benches = _benches(results)
    n_list = (results.get("config") or {}).get("list_instances")
    out = []
    for key, field, label, kind, target in ROWS:
        if key == "list-10k" and n_list and n_list != 10002:
            label = label.replace("10k", "{:,}".format(n_list))
        b = benches.get(key)
        if b is None:
            continue
        o, a = _med(b, "ours", field), _med(b, "anchor", field)
        if o is None and a is None:
            continue
        ratio = (a / o) if (o and a is not None and o > 0) else None
        tgt, met = "", ""
        if target:
            if target[0] == "ratio":
                tgt = ">= %gx" % target[1]
                met = "-" if ratio is None else ("yes" if ratio >= target[1] else "NO")
            else:
                tgt = "<= " + _fmt(kind, target[1])
                met = "-" if o is None else ("yes" if o <= target[1] else "NO")
        nfail = sum(1 for side in ("ours", "anchor") for s in b.get(side, [])
                    if not s.get("ok"))
        out.append({"label": label, "ours": _fmt(kind, o), "anchor": _fmt(kind, a),
                    "ratio": fmt_ratio(ratio) if kind != "count" else "-",
                    "target": tgt, "met": met, "key": key, "field": field,
                    "o": o, "a": a, "r": ratio, "failed": nfail,
                    "n": (len([s for s in b.get("ours", []) if s.get("ok")]),
                          len([s for s in b.get("anchor", []) if s.get("ok")]))})
    return out


def our_failures(results):
    bad = []
    for key, b in _benches(results).items():
        if any(not s.get("ok") for s in b.get("ours", [])):
            bad.append(key)
    return bad


def table_text(results):
    rs = rows(results)
    head = ("benchmark", "ours", "anchor", "anchor/ours", "target", "met")
    lines = [head] + [(r["label"], r["ours"], r["anchor"], r["ratio"], r["target"], r["met"])
                      for r in rs]
    w = [max(len(x[i]) for x in lines) for i in range(len(head))]
    txt = []
    m = results.get("machine", {})
    txt.append("")
    txt.append("ec2ha benchmarks (%s mode), %s, %s CPU(s) %s, kernel %s" % (
        results.get("mode", "?"), m.get("date", "?"), m.get("nproc", "?"), m.get("cpu", "?"),
        m.get("kernel", "?")))
    txt.append("medians; ours = fence_ec2 / eip, anchor = fence_aws / awseip; "
               "anchor/ours = how many times more the anchor costs")
    for i, x in enumerate(lines):
        txt.append("  ".join(x[j].ljust(w[j]) if j == 0 else x[j].rjust(w[j])
                             for j in range(len(head))))
        if i == 0:
            txt.append("  ".join("-" * w[j] for j in range(len(head))))
    for key, b in _benches(results).items():
        for side in ("ours", "anchor"):
            why = b.get("missing", {}).get(side)
            if why:
                txt.append("  %s %s: not measured (%s)" % (key, side, why))
        nf = [(side, s) for side in ("ours", "anchor") for s in b.get(side, []) if not s.get("ok")]
        if nf:
            txt.append("  %s: %d failed call(s), first: %s %s" % (key, len(nf), nf[0][0],
                                                                   nf[0][1].get("error")))
    fo = results.get("failover")
    if isinstance(fo, dict) and fo.get("skipped"):
        txt.append("  failover: not measured (%s)" % fo["skipped"])
    txt.append("")
    return "\n".join(txt)


def _range(b, side, field, kind):
    xs = [s.get(field) for s in b.get(side, []) if s.get("ok") and s.get(field) is not None]
    if not xs:
        return "-"
    return "%s [%s .. %s] n=%d" % (_fmt(kind, median(xs)), _fmt(kind, min(xs)),
                                   _fmt(kind, max(xs)), len(xs))


def markdown(results):
    m = results.get("machine", {})
    rs = rows(results)
    cfg = results.get("config", {})
    L = []
    L.append("# ec2ha benchmarks: results of the latest `make bench`")
    L.append("")
    L.append("Generated by `bench/run` (%s mode) on %s; the run took %.0f s." % (
        results.get("mode", "?"), m.get("date", "?"), results.get("duration", 0)))
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("- CPU: %s, nproc %s (shared with other jobs; load average at start %s)" % (
        m.get("cpu", "?"), m.get("nproc", "?"), m.get("loadavg", "?")))
    L.append("- kernel %s, Debian %s" % (m.get("kernel", "?"), m.get("debian", "?")))
    pk = m.get("packages", {})
    if pk:
        L.append("- " + ", ".join("%s %s" % kv for kv in sorted(pk.items())))
    L.append("- build: `%s`" % results.get("build", "?"))
    L.append("")
    L.append("## How it is measured")
    L.append("")
    L.append("""- One run, one ec2sim: ours and the anchor alternate call by call (order swapped each
  repetition, one unrecorded warm-up call each), medians quoted. Repetitions: %s per-call,
  %s for `off`, %s for `list`.
- The AWS side is what a real EC2 node sees, so neither anchor is patched: the real endpoint
  name %s over HTTPS (a private `/etc/hosts` in a mount namespace maps it to ec2sim on
  127.0.0.1:443 of a private network namespace), ec2sim's test CA trusted through
  `AWS_CA_BUNDLE`, IMDSv2 at 169.254.169.254:80, credentials and region in `~/.aws/credentials`
  and `~/.aws/config` (profile `default`) — the same environment for every program.
- Trust: `AWS_CA_BUNDLE` = %s.
- CPU = user+sys of the call's whole process tree and peak RSS = the largest process of that
  tree, both from `wait4(2)` in a tiny static launcher (`bench/spawn.c`; forked from the
  Python driver, a child would inherit the driver's ~13 MiB high-water RSS at `execve`);
  awseip's shell waits for its `curl` and `aws` children, so they count. Wall = monotonic
  clock around fork and reap.
- Fence agents get their options on stdin as Pacemaker's fencer sends them (`action=`, `plug=`,
  `region=`); resource agents get the OCF environment (`OCF_RESKEY_*`; for ours `CIB_file`: a
  CIB with `stonith-enabled=true` and `validate-with="none"`, since with a schema libcib's file
  backend parses Pacemaker's whole RelaxNG schema on every sign-on, work a live cluster does in
  pacemaker-based, not in the agent). awseip runs with `api_delay=0` (its default sleeps 3 s after
  each associate/disassociate; left at the default its start/stop wall times are 3 s longer).
- `off`: ec2sim stops the target %s s after StopInstances (`force_stop_delay`, varied per
  repetition, the same for both agents in a repetition, so that a poll interval cannot line up
  with it); "wall past stop time" = invocation-to-exit minus that repetition's stop time;
  "exit after `stopped`" = agent exit minus the `stopped` event in ec2sim's log (how long the
  agent takes to notice and return).
- ec2sim sets `TCP_NODELAY`, so no request stalls on a client's 40 ms delayed ACK (which real
  EC2 endpoints do not cause either); the namespace's local routes also have `quickack 1`, for
  every client alike.
- `list`: ec2sim holds %s instances; both agents page through DescribeInstances.
""" % (cfg.get("reps", "?"), cfg.get("off_reps", "?"), cfg.get("list_reps", "?"),
       "`https://ec2.us-east-1.amazonaws.com`",
       {"bundle": "Debian's system CA bundle (/etc/ssl/certs/ca-certificates.crt) plus the "
                  "test CA, which is what every agent parses on a real node, where all of them "
                  "(libcurl, botocore, requests) default to that file",
        "system": "unset (BENCH_TRUST=system): the test CA is in the namespace's private copy "
                  "of /etc/ssl/certs (bundle file and hashed directory) and every program uses "
                  "its default trust store, as on a real node",
        "test-ca": "the test CA alone (BENCH_TRUST=test-ca: cheaper for everybody than a real "
                   "node)"}.get(cfg.get("trust", "system"), "?"),
       "%.2f-%.2f" % (min(cfg.get("off_stop_delays") or [1.0]),
                      max(cfg.get("off_stop_delays") or [1.0])),
       "{:,}".format(cfg.get("list_instances", 0)) if cfg.get("list_instances") else "?"))
    L.append("## Results (medians)")
    L.append("")
    L.append("| benchmark | ours | anchor | anchor/ours | target | met |")
    L.append("|---|---:|---:|---:|---|---|")
    for r in rs:
        L.append("| %s | %s | %s | %s | %s | %s |" % (r["label"].strip(), r["ours"],
                                                      r["anchor"], r["ratio"], r["target"],
                                                      r["met"]))
    L.append("")
    L.append("ours = `fence_ec2` / `ocf:ec2ha:eip`; anchor = `fence_aws` / `ocf:heartbeat:awseip`"
             " (failover: the pair fence_ec2+eip vs fence_aws+awseip).")
    L.append("")
    # targets
    L.append("## Targets")
    L.append("")
    for r in rs:
        if r["target"]:
            L.append("- %s: %s %s → **%s**" % (
                r["label"].strip(), "anchor/ours" if r["target"].startswith(">=") else "ours",
                r["target"], {"yes": "met", "NO": "missed", "-": "not measured"}.get(r["met"])))
    missing = []
    for key, b in _benches(results).items():
        for side in ("ours", "anchor"):
            why = b.get("missing", {}).get(side)
            if why:
                missing.append("%s (%s): %s" % (key, side, why))
    fo = results.get("failover")
    if isinstance(fo, dict) and fo.get("skipped"):
        missing.append("failover: %s" % fo["skipped"])
    if missing:
        L.append("")
        L.append("Not measured in this run:")
        L.append("")
        for x in missing:
            L.append("- " + x)
    L.append("")
    # spread
    L.append("## Spread (median [min .. max], successful calls)")
    L.append("")
    L.append("| benchmark | metric | ours | anchor |")
    L.append("|---|---|---|---|")
    benches = _benches(results)
    for key, field, label, kind, _t in ROWS:
        b = benches.get(key)
        if b is None:
            continue
        o, a = _range(b, "ours", field, kind), _range(b, "anchor", field, kind)
        if o == "-" and a == "-":
            continue
        L.append("| %s | %s | %s | %s |" % (key, field, o, a))
    fails = []
    for key, b in benches.items():
        for side in ("ours", "anchor"):
            for s in b.get(side, []):
                if not s.get("ok"):
                    fails.append("%s %s: %s" % (key, side, s.get("error")))
    if fails:
        L.append("")
        L.append("Failed calls (excluded from the medians):")
        L.append("")
        for x in fails[:30]:
            L.append("- " + x)
    L.append("")
    L += traffic_md(benches)
    L += profile_md(results.get("profile"))
    L += failover_md(results.get("failover"))
    notes = os.path.join(HERE, "analysis.md")
    if os.path.exists(notes):
        with open(notes) as f:
            L.append(f.read().rstrip())
        L.append("")
    return "\n".join(L) + "\n"


def traffic_md(benches):
    """EC2 API calls and IMDS requests per call, from ec2sim's log (first successful call)."""
    L = ["## What each call does on the wire (from ec2sim's log)", "",
         "| benchmark | side | EC2 API calls | IMDS requests | ec2sim's own time (median) |",
         "|---|---|---|---:|---:|"]
    any_row = False
    for key, b in benches.items():
        if key == "failover":
            continue
        for side in ("ours", "anchor"):
            ok = [s for s in b.get(side, []) if s.get("ok") and "api" in s]
            if not ok:
                continue
            any_row = True
            s0 = ok[0]
            api = ", ".join("%s %d" % kv for kv in sorted(s0["api"].items())) or "none"
            L.append("| %s | %s | %s | %d | %s |" % (
                key, (OURS if side == "ours" else ANCHOR).get(key, side), api,
                s0.get("imds_requests", 0),
                fmt_time(median([s.get("server_time") for s in ok]))))
    if not any_row:
        return []
    L.append("")
    return L


def profile_md(prof):
    L = ["## Where our time goes", ""]
    if not prof:
        L += ["Not profiled in this run (our programs not built, or smoke mode).", ""]
        return L
    libs = prof.get("libs") or {}
    for prog, ls in libs.items():
        if ls:
            L.append("- `%s` maps %d shared objects (ldd)." % (prog, len(ls)))
    if prof.get("startup"):
        L.append("")
        L.append("Start-up baseline (the same binary, no I/O):")
        L.append("")
        L.append("| call | CPU | wall | peak RSS |")
        L.append("|---|---:|---:|---:|")
        for s in prof["startup"]:
            if "error" in s:
                L.append("| %s | %s | | |" % (s["label"], s["error"]))
            else:
                L.append("| %s | %s | %s | %s |" % (s["label"], fmt_time(s["cpu"]),
                                                   fmt_time(s["wall"]), fmt_mib(s["maxrss_kib"])))
    lf = prof.get("link_floor")
    if lf and lf.get("rows"):
        L.append("")
        L.append("Start-up floor of the library set: an empty `main()` linked against the shared "
                 "objects `%s` needs (DT_NEEDED: %s), and subsets:" % (
                     lf["binary"], ", ".join(lf["needed"])))
        L.append("")
        L.append("| empty main() linked with | objects mapped | CPU | peak RSS |")
        L.append("|---|---:|---:|---:|")
        for r in lf["rows"]:
            if "error" in r:
                L.append("| %s | %s | | |" % (r["label"], r["error"]))
            else:
                L.append("| %s | %d | %s | %s |" % (r["label"], r["libs"], fmt_time(r["cpu"]),
                                                   fmt_mib(r["maxrss_kib"])))
    tr = prof.get("trust")
    if tr and tr.get("rows"):
        L.append("")
        L.append("The same call of ours with each CA bundle in `AWS_CA_BUNDLE` (medians):")
        L.append("")
        L.append("| call | " + " | ".join("%s: CPU / wall / RSS" % v for v in tr["variants"]) +
                 " |")
        L.append("|---|" + "---:|" * len(tr["variants"]))
        for r in tr["rows"]:
            cells = []
            for v in tr["variants"]:
                x = r.get(v) or {}
                cells.append("%s / %s / %s" % (fmt_time(x.get("cpu")), fmt_time(x.get("wall")),
                                               fmt_mib(x.get("maxrss_kib"))))
            L.append("| %s (%s) | %s |" % (r["key"], r["label"], " | ".join(cells)))
    ref = prof.get("reference")
    if ref and ref.get("rows"):
        L.append("")
        L.append("Yardstick: the cheapest possible libcurl call (`bench/ref_https.c`: one HTTPS GET "
                 "of the endpoint, no signing, no XML, no IMDS), per trust setup:")
        L.append("")
        L.append("| trust anchors | CPU | wall | peak RSS |")
        L.append("|---|---:|---:|---:|")
        for r in ref["rows"]:
            if "error" in r:
                L.append("| %s | %s | | |" % (r["label"], r["error"]))
            else:
                L.append("| %s | %s | %s | %s |" % (r["label"], fmt_time(r["cpu"]),
                                                   fmt_time(r["wall"]), fmt_mib(r["maxrss_kib"])))
    elif ref and ref.get("error"):
        L += ["", "Yardstick: %s" % ref["error"]]
    for c in prof.get("calls", []):
        L.append("")
        L.append("### %s (%s)" % (c["key"], c["label"]))
        t = c.get("timeline")
        if t and "error" not in t:
            L.append("")
            L.append("Syscall timeline (strace, seconds after execve; strace slows the traced "
                     "syscalls):")
            L.append("")
            L.append("| shared objects loaded | CA bundle opened | first IMDS connect | "
                     "first API connect | exit | IMDS / API connects | syscalls |")
            L.append("|---:|---:|---:|---:|---:|---:|---:|")
            L.append("| %s | %s | %s | %s | %s | %s / %s | %s |" % (
                fmt_time(t.get("libs_loaded")), fmt_time(t.get("ca_opened")),
                fmt_time(t.get("first_imds")), fmt_time(t.get("first_api")),
                fmt_time(t.get("total")), t.get("imds_connects"), t.get("api_connects"),
                t.get("syscalls", "-")))
        elif t:
            L.append("")
            L.append("strace: %s" % t["error"])
        cg = c.get("callgrind")
        if cg and "error" not in cg and cg.get("total_ir"):
            tot = float(cg["total_ir"])
            L.append("")
            L.append("Instructions (callgrind): %s in total." % "{:,}".format(int(tot)))
            L.append("")
            L.append("| shared object | share |")
            L.append("|---|---:|")
            for obj, n in cg["by_object"]:
                L.append("| %s | %.1f%% |" % (obj, 100.0 * n / tot))
            if cg.get("key_inclusive"):
                L.append("")
                L.append("| inclusive cost of | share |")
                L.append("|---|---:|")
                for label, n in cg["key_inclusive"]:
                    L.append("| %s | %.1f%% |" % (label, 100.0 * n / tot))
            if cg.get("top_self"):
                L.append("")
                L.append("Top functions by own instructions: " + ", ".join(
                    "`%s` (%s) %.1f%%" % (f, o, 100.0 * n / tot) for n, f, o in cg["top_self"][:8]))
        elif cg:
            L.append("")
            L.append("callgrind: %s" % cg.get("error"))
    L.append("")
    return L


def failover_md(fo):
    L = ["## Failover in the two-node cluster", ""]
    if not isinstance(fo, dict):
        return L + ["Not measured.", ""]
    if fo.get("skipped"):
        L += ["Not measured in this run: %s." % fo["skipped"], ""]
        return L
    if fo.get("setup"):
        L += [fo["setup"], ""]
    L.append("| run | pair | crashed (DC before) | total | detection | fencing | agent -> "
             "StopInstances | EC2 stop | stopped -> confirmed | association | answer | "
             "pings lost |")
    L.append("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for side in ("ours", "anchor"):
        for i, s in enumerate(fo.get(side, [])):
            if not s.get("ok"):
                L.append("| %d | %s | | failed: %s | | | | | | | | |" % (
                    i + 1, OURS["failover"] if side == "ours" else ANCHOR["failover"],
                    s.get("error")))
                continue
            L.append("| %d | %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                i + 1, OURS["failover"] if side == "ours" else ANCHOR["failover"],
                s.get("crashed", "?"), s.get("dc_before") or "?",
                fmt_time(s.get("total")), fmt_time(s.get("detection")),
                fmt_time(s.get("fencing")), fmt_time(s.get("agent_to_stop")),
                fmt_time(s.get("ec2_stop")), fmt_time(s.get("stopped_to_confirmed")),
                fmt_time(s.get("association")), fmt_time(s.get("answer")),
                s.get("ping_lost", "-")))
    L.append("")
    return L
