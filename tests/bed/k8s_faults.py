# SPDX-License-Identifier: Apache-2.0
"""The fault rules and the request log of the bed's Kubernetes fault proxy
(k8s_proxy.py), which drives them from its admin endpoint (README.md).

Faults are rules; each matches requests by `verb` (a Kubernetes verb or a
list of them), `resource` (plural), `namespace` and `path` (a regular
expression searched in the URL path), and applies to the next `count`
matching requests (no count: until cleared).
"""

import collections
import itertools
import re
import threading

KINDS = ("throttle", "error", "latency", "conflict", "watch-gone", "watch-drop")
UPDATE_VERBS = ("update", "patch")


class FaultError(ValueError):
    pass


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.ids = itertools.count(1)

    def add(self, spec):
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise FaultError("a fault needs \"kind\", one of %s" % ", ".join(KINDS))
        r = dict(spec)
        r["id"] = next(self.ids)
        r.setdefault("hits", 0)
        for k in ("count", "after", "ms", "code", "retryAfter"):
            if k in r and r[k] is not None and not isinstance(r[k], (int, float)):
                raise FaultError("%s must be a number" % k)
        if r["kind"] == "watch-drop" and "after" not in r:
            raise FaultError("watch-drop needs \"after\" (events per stream)")
        if r["kind"] == "latency" and "ms" not in r:
            raise FaultError("latency needs \"ms\"")
        if r["kind"] == "error":
            r.setdefault("code", 500)
            if not 500 <= int(r["code"]) <= 599:
                raise FaultError("error code must be 5xx")
        if r["kind"] == "throttle":
            r.setdefault("retryAfter", 1)
        if "path" in r:
            try:
                re.compile(r["path"])
            except re.error as e:
                raise FaultError("bad path pattern: %s" % e)
        with self.lock:
            self.rules.append(r)
        return r

    def list(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def clear(self, rid=None):
        with self.lock:
            if rid is None:
                n = len(self.rules)
                self.rules = []
            else:
                before = len(self.rules)
                self.rules = [r for r in self.rules if r["id"] != rid]
                n = before - len(self.rules)
            return n

    @staticmethod
    def _matches(r, info):
        verbs = r.get("verb")
        if verbs:
            if isinstance(verbs, str):
                verbs = [verbs]
            if info.get("verb") not in verbs:
                return False
        if r["kind"] == "conflict" and info.get("verb") not in UPDATE_VERBS:
            return False
        if r["kind"] in ("watch-gone", "watch-drop") and info.get("verb") != "watch":
            return False
        if r.get("resource") and r["resource"] != info.get("resource"):
            return False
        if r.get("namespace") and r["namespace"] != info.get("namespace"):
            return False
        if r.get("path") and not re.search(r["path"], info.get("path", "")):
            return False
        return True

    def take(self, kind, info):
        """The first rule of `kind` matching info, its count used once."""
        with self.lock:
            for r in self.rules:
                if r["kind"] == kind and self._matches(r, info):
                    r["hits"] += 1
                    if r.get("count") is not None:
                        r["count"] -= 1
                        if r["count"] <= 0:
                            self.rules.remove(r)
                    return dict(r)
        return None


class RequestLog:
    def __init__(self, keep=20000):
        self.lock = threading.Lock()
        self.items = collections.deque(maxlen=keep)
        self.seq = 0
        self.total = 0
        self.by_verb = collections.Counter()
        self.by_code = collections.Counter()
        self.by_resource = collections.Counter()

    def add(self, entry):
        with self.lock:
            self.seq += 1
            self.total += 1
            entry["seq"] = self.seq
            self.items.append(entry)
            v = entry.get("verb") or "other"
            self.by_verb[v] += 1
            self.by_code[str(entry.get("code"))] += 1
            if entry.get("resource"):
                self.by_resource["%s %s" % (v, entry["resource"])] += 1

    def reset(self):
        with self.lock:
            self.items.clear()
            self.total = 0
            self.by_verb.clear()
            self.by_code.clear()
            self.by_resource.clear()

    def query(self, q):
        def one(k):
            return (q.get(k) or [None])[0]
        verb, res, path, user = one("verb"), one("resource"), one("path"), one("user")
        since = int(one("since") or 0)
        limit = int(one("limit") or 200)
        with self.lock:
            items = [dict(i) for i in self.items if i["seq"] > since and
                     (not verb or i.get("verb") == verb) and
                     (not res or i.get("resource") == res) and
                     (not user or i.get("user") == user) and
                     (not path or re.search(path, i.get("path", "")))]
            mv = collections.Counter(i.get("verb") or "other" for i in items)
            mc = collections.Counter(str(i.get("code")) for i in items)
            out = {"total": self.total, "byVerb": dict(self.by_verb),
                   "byCode": dict(self.by_code), "byResource": dict(self.by_resource),
                   "matched": len(items), "matchedByVerb": dict(mv), "matchedByCode": dict(mc),
                   "items": items[-limit:] if limit else []}
        return out
