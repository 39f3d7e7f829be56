#!/usr/bin/env python3
"""logschema: check JSON log lines against doc/sockshim-log.5.

Usage: logschema.py LOG...  Every line of every file must be one JSON object
of a documented kind with its documented keys and types (no key the page
does not list). Prints "lines=N kinds=K1:n1,K2:n2" and exits 0, or prints
each bad line with the reason and exits 1.
"""
import json
import re
import sys

S, N, B, A = "string", "number", "boolean", "array"
NS = "string?"  # a string or null

COMMON = {"ts": S, "pid": N, "level": S, "event": S}
# kind: (required keys, optional keys, levels)
KINDS = {
    "decision": ({"op": S, "fd": N, "proto": NS, "family": NS, "addr": NS, "rule": NS,
                  "actions": A, "dry_run": B, "rc": N, "errno": NS},
                 {"via": S, "host": S}, {"info", "debug"}),
    "start": ({"version": S, "program": NS, "exe": NS, "policy": NS, "rules": N, "mode": S},
              {"via": S}, {"info"}),
    "summary": ({"rule": S, "line": N, "matched": N, "failed": N, "actions": A},
                {"applied": N, "would_apply": N, "interval": N, "via": S}, {"info"}),
    "exhausted": ({"rule": S, "msg": S, "suppressed": N, "errno": S, "actions": A}, {}, {"warn"}),
    "log-dropped": ({"dropped": N, "msg": S}, {}, {"warn"}),
    "policy-error": ({"msg": S}, {"exit": N, "reload": S, "via": S}, {"error", "warn"}),
    "reload": ({"policy": S, "old_rules": N, "new_rules": N, "mode": S}, {"via": S}, {"info"}),
    "reload-failed": ({"policy": S, "msg": S, "rules": N}, {"via": S}, {"error"}),
    "passthrough": ({"msg": S}, {}, {"error"}),
    "no-policy": ({"msg": S}, {}, {"warn"}),
    "rotate-scope": ({"msg": S, "segment": S, "fallback": S}, {}, {"warn"}),
    "unreachable": ({"target": N, "call": S, "errno": S, "msg": S}, {}, {"warn"}),
    "supervise": ({}, {"msg": S, "supervisor": N, "target": N, "calls": N}, {"info", "debug", "error"}),
}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def type_ok(v, t):
    if t == S:
        return isinstance(v, str)
    if t == NS:
        return v is None or isinstance(v, str)
    if t == N:
        return isinstance(v, int) and not isinstance(v, bool)
    if t == B:
        return isinstance(v, bool)
    if t == A:
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    return False


def check(obj):
    if not isinstance(obj, dict):
        return "not a JSON object"
    for k, t in COMMON.items():
        if k not in obj or not type_ok(obj[k], t):
            return "common key %s missing or not a %s" % (k, t)
    if not TS.match(obj["ts"]):
        return "ts not YYYY-MM-DDTHH:MM:SS.ffffffZ"
    kind = obj["event"]
    if kind not in KINDS:
        return "undocumented kind %r" % kind
    req, opt, levels = KINDS[kind]
    if obj["level"] not in levels:
        return "%s at level %s" % (kind, obj["level"])
    for k, t in req.items():
        if k not in obj:
            return "%s without %s" % (kind, k)
        if not type_ok(obj[k], t):
            return "%s: %s is not a %s" % (kind, k, t)
    for k, v in obj.items():
        if k in COMMON or k in req:
            continue
        if k not in opt:
            return "%s: undocumented key %s" % (kind, k)
        if not type_ok(v, opt[k]):
            return "%s: %s is not a %s" % (kind, k, opt[k])
    if kind == "summary" and ("applied" in obj) == ("would_apply" in obj):
        return "summary needs exactly one of applied, would_apply"
    return None


def main(paths):
    bad, n, kinds = 0, 0, {}
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for i, line in enumerate(fh, 1):
                n += 1
                try:
                    obj = json.loads(line)
                    why = check(obj)
                except ValueError as e:
                    why = "not JSON (%s)" % e
                if why:
                    bad += 1
                    print("%s:%d: %s: %s" % (path, i, why, line.rstrip()[:300]))
                else:
                    kinds[obj["event"]] = kinds.get(obj["event"], 0) + 1
    print("lines=%d bad=%d kinds=%s" % (n, bad, ",".join("%s:%d" % kv for kv in sorted(kinds.items()))))
    return 1 if bad or not n else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
