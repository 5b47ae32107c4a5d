"""Fault injection: a table of armed faults, consumed per matching call.

A fault is a dict (from the state file's "faults" list or the control API):

    {"action": "StopInstances",   # EC2 action name, glob ("Describe*"), "*",
                                  # or "imds:token" / "imds:get" / "imds*" for IMDS
     "kind": "throttle",          # see KINDS
     "count": 2,                  # trigger on the next 2 matching calls (null: unlimited)
     "probability": 1.0,          # chance per matching call (seeded RNG, "seed" in state)
     "when": "before",            # "before": instead of the action; "after": the action
                                  # runs (side effects happen), then its response is lost
     "delay": 2.0,                # slow / hop_limit: seconds
     "offset": 600,               # clock: seconds added to the server clock
     "calls": 3,                  # stale: Describe* calls that still see the old view
     "code": "...", "status": 400, "message": "...",   # kind "error"
     "key": "AKID...",            # only calls signed with this access key (optional)
     "client": "10.0.0.11"}       # only calls from this source address (optional)
"""
import fnmatch
import threading

# kind -> (HTTP status, EC2 code, message) for the error kinds
ERROR_KINDS = {
    "throttle": (503, "RequestLimitExceeded", "Request limit exceeded."),
    "internal": (500, "InternalError", "An internal error has occurred"),
    "unavailable": (503, "Unavailable", "The server is overloaded and can't handle the "
                                        "request."),
    "service_unavailable": (503, "ServiceUnavailable", "The request has failed due to a "
                                                       "temporary failure of the server."),
}
RESPONSE_KINDS = {"reset", "truncate", "garbage", "error"} | set(ERROR_KINDS)
KINDS = RESPONSE_KINDS | {"slow", "clock", "stale", "down", "token_refused", "hop_limit"}
STALE_ACTIONS = ("StopInstances", "StartInstances", "AssociateAddress", "DisassociateAddress")
DEFAULT_WHEN = {"truncate": "after", "garbage": "after"}


class FaultTable:
    def __init__(self, rng, on_trigger=None):
        self.lock = threading.Lock()
        self.rng = rng
        self.faults = []
        self.next_id = 1
        self.on_trigger = on_trigger

    def add(self, spec):
        spec = dict(spec)
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(sorted(KINDS))))
        spec.setdefault("action", "*")
        if "count" not in spec and "probability" not in spec:
            spec["count"] = 1
        spec.setdefault("count", None)
        spec.setdefault("probability", 1.0)
        spec.setdefault("when", DEFAULT_WHEN.get(kind, "before"))
        if spec["when"] not in ("before", "after"):
            raise ValueError("fault 'when' must be 'before' or 'after'")
        if kind == "stale" and not any(fnmatch.fnmatchcase(a, spec["action"])
                                       for a in STALE_ACTIONS):
            raise ValueError("fault kind 'stale' belongs on a mutating action (%s), not %r"
                             % (", ".join(STALE_ACTIONS), spec["action"]))
        if kind == "error" and "code" not in spec:
            raise ValueError("fault kind 'error' needs 'code'")
        with self.lock:
            spec["id"] = self.next_id
            spec["triggered"] = 0
            self.next_id += 1
            self.faults.append(spec)
        return spec["id"]

    def clear(self, fault_id=None):
        with self.lock:
            if fault_id is None:
                n = len(self.faults)
                self.faults = []
            else:
                before = len(self.faults)
                self.faults = [f for f in self.faults if f["id"] != fault_id]
                n = before - len(self.faults)
        return n

    def take(self, action, key=None, client=None, kinds=None):
        """Faults triggered for this call (consumed). kinds: restrict to these kinds."""
        out = []
        with self.lock:
            for f in list(self.faults):
                if kinds is not None and f["kind"] not in kinds:
                    continue
                pattern = f["action"]
                if pattern == "*":
                    if action.startswith("imds"):
                        continue        # "*" means every EC2 action (README), not IMDS
                elif not fnmatch.fnmatchcase(action, pattern):
                    continue
                if f.get("key") and f["key"] != key:
                    continue
                if f.get("client") and f["client"] != client:
                    continue
                if f["probability"] < 1.0 and self.rng.random() >= f["probability"]:
                    continue
                f["triggered"] += 1
                if f["count"] is not None:
                    f["count"] -= 1
                    if f["count"] <= 0:
                        self.faults.remove(f)
                out.append(dict(f))
        for f in out:
            if self.on_trigger:
                self.on_trigger(f, action)
        return out

    def to_json(self):
        with self.lock:
            return [dict(f) for f in self.faults]
