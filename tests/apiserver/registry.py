# SPDX-License-Identifier: Apache-2.0
"""The verbs (get, list, create, update, patch, delete, deletecollection)
on top of the store, with the real API server's semantics: uid,
creationTimestamp, generateName, optimistic concurrency, no-op updates that
keep the resourceVersion, deletionTimestamp and finalizers, delete
preconditions, dry run, namespace lifecycle, label/field selectors,
limit/continue.

Controllers use the same Registry, so their writes are validated too.
"""

import base64
import copy
import json
import random
import uuid

from . import errors, patch as patchmod, resources, selector, strategy
from .store import Conflict, Entry, Exists, Missing

_GEN_CHARS = "bcdfghjklmnpqrstvwxz2456789"


class Options:
    storage_protection = True


def _json_equal_ignoring_rv(a, b):
    ma, mb = a.get("metadata") or {}, b.get("metadata") or {}
    if {k: v for k, v in ma.items() if k != "resourceVersion"} != \
            {k: v for k, v in mb.items() if k != "resourceVersion"}:
        return False
    return {k: v for k, v in a.items() if k != "metadata"} == \
        {k: v for k, v in b.items() if k != "metadata"}


def _parse_rv(s, what="resourceVersion"):
    try:
        n = int(s)
        if n < 0:
            raise ValueError
        return n
    except (TypeError, ValueError):
        raise errors.bad_request("invalid %s: %r" % (what, s))


def encode_continue(rv, key):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": list(key)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(tok):
    try:
        raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
        d = json.loads(raw)
        return d["rv"], tuple(d["start"])
    except Exception:
        raise errors.bad_request("continue key is not valid: %s" % tok)


class Registry:
    def __init__(self, store, options=None):
        self.store = store
        self.options = options or Options()

    # --- helpers -----------------------------------------------------------

    def default_storage_class(self):
        best = None
        for e in self.store.list("storage.k8s.io/storageclasses")[0]:
            anns = e.obj["metadata"].get("annotations") or {}
            if any(anns.get(a) == "true" for a in strategy.DEFAULT_CLASS_ANNS):
                ts = e.obj["metadata"].get("creationTimestamp") or ""
                if best is None or ts >= best[0]:
                    best = (ts, e.obj["metadata"]["name"])
        return best[1] if best else None

    def to_wire(self, res, obj):
        """The object as res presents it (events.k8s.io converts)."""
        if res.group == "events.k8s.io":
            return strategy.event_to_new(obj)
        return obj

    def wire_bytes(self, res, entry):
        if res.group == "events.k8s.io":
            return json.dumps(self.to_wire(res, entry.obj), separators=(",", ":")).encode()
        return entry.raw

    def _from_wire(self, res, obj):
        if res.group == "events.k8s.io":
            return strategy.event_to_core(obj)
        return obj

    def get(self, res, ns, name):
        e = self.store.get(res.storage, ns if res.namespaced else "", name)
        if e is None:
            raise errors.not_found(res, name)
        return e

    def _check_body(self, res, body):
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request was in an unknown format")
        kind, av = body.get("kind"), body.get("apiVersion")
        if kind and kind != res.kind:
            raise errors.bad_request("the API version in the data (%s) does not match the "
                                     "expected API version (%s)" % (av, res.api_version)
                                     if av and av != res.api_version else
                                     "Object kind %s does not match the expected kind %s"
                                     % (kind, res.kind))
        if av and av != res.api_version:
            raise errors.bad_request("the API version in the data (%s) does not match the "
                                     "expected API version (%s)" % (av, res.api_version))
        md = body.get("metadata")
        if md is None:
            md = body["metadata"] = {}
        if not isinstance(md, dict):
            raise errors.bad_request("metadata must be an object")
        for f in ("labels", "annotations"):
            v = md.get(f)
            if v is None:
                md.pop(f, None)
                continue
            if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
                raise errors.bad_request("json: cannot unmarshal into Go struct field "
                                         "ObjectMeta.metadata.%s of type map[string]string" % f)
        rest = {k: body.pop(k) for k in list(body) if k not in ("kind", "apiVersion", "metadata")}
        del body["metadata"]
        body.pop("kind", None)
        body.pop("apiVersion", None)
        body["kind"], body["apiVersion"], body["metadata"] = res.kind, res.api_version, md
        body.update(rest)
        md.pop("managedFields", None)
        md.pop("selfLink", None)
        return md

    def _check_namespace(self, res, ns, name, creating):
        if not res.namespaced:
            return
        e = self.store.get("/namespaces", "", ns)
        if e is None:
            raise errors.namespace_not_found(ns)
        if creating and e.obj["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(res, name, "unable to create new content in namespace %s "
                                   "because it is being terminated" % ns)

    def _validate(self, res, obj, old):
        st = strategy.get(res.kind)
        md = obj["metadata"]
        causes = []
        if old is None:
            causes += strategy.validate_name(md["name"], st.name_is_label)
        if st.validate is not None:
            causes += st.validate(self, obj, old)
        if old is not None and old["metadata"].get("deletionTimestamp"):
            new_f = [f for f in md.get("finalizers") or []
                     if f not in (old["metadata"].get("finalizers") or [])]
            if new_f:
                causes.append(errors.Cause("Forbidden", "metadata.finalizers",
                                           "no new finalizers can be added if the object is being deleted, found new finalizers %s"
                                           % json.dumps(new_f)))
        if causes:
            raise errors.invalid(res, md.get("name", ""), causes)
        if st.admit is not None:
            st.admit(self, res, obj, old)

    # --- list --------------------------------------------------------------

    def matcher(self, res, label_selector, field_selector):
        try:
            lreqs = selector.parse_labels(label_selector or "")
            freqs = selector.parse_fields(field_selector or "", res.fields)
        except selector.SelectorError as e:
            raise errors.bad_request(str(e))
        if not lreqs and not freqs:
            return None
        aliases = res.field_aliases

        def match(obj):
            return selector.match_labels(lreqs, obj["metadata"].get("labels")) and \
                selector.match_fields(freqs, obj, aliases)
        return match

    def list(self, res, ns, label_selector=None, field_selector=None, limit=0, cont=None):
        """Return (entries, resourceVersion, continue token, remaining count)."""
        match = self.matcher(res, label_selector, field_selector)
        entries, rv = self.store.list(res.storage, ns if res.namespaced and ns else None)
        start = None
        if cont:
            crv, start = decode_continue(cont)
            if crv < self.store.compacted:
                raise errors.expired("The provided continue parameter is too old to display a "
                                     "consistent list result. You can start a new list without "
                                     "the continue parameter, or use the continue token in this "
                                     "response to retrieve the remainder of the results.")
            rv = crv
            # Later pages come from the snapshot of the first page.
            entries = self.store.list_at(res.storage, crv,
                                         ns if res.namespaced and ns else None)
            lo = 0
            for i, e in enumerate(entries):   # keys are sorted; find first > start
                md = e.obj["metadata"]
                if (md.get("namespace", ""), md["name"]) > start:
                    lo = i
                    break
            else:
                lo = len(entries)
            entries = entries[lo:]
        if match is not None:
            entries = [e for e in entries if match(e.obj)]
        token, remaining = None, None
        if limit and len(entries) > limit:
            last = entries[limit - 1].obj["metadata"]
            token = encode_continue(rv, (last.get("namespace", ""), last["name"]))
            if match is None:
                remaining = len(entries) - limit
            entries = entries[:limit]
        return entries, rv, token, remaining

    # --- create ------------------------------------------------------------

    def create(self, res, ns, body, dry_run=False):
        md = self._check_body(res, body)
        body = self._from_wire(res, body)
        md = body["metadata"]
        if res.namespaced:
            bns = md.get("namespace")
            if bns and ns and bns != ns:
                raise errors.bad_request("the namespace of the provided object does not match "
                                         "the namespace sent on the request")
            md["namespace"] = ns or bns or "default"
        else:
            md.pop("namespace", None)
        if md.get("resourceVersion"):
            raise errors.internal("resourceVersion should not be set on objects to be created")
        gen = md.get("generateName")
        if not md.get("name") and not gen:
            raise errors.invalid(res, "", [errors.Cause("Required", "metadata.name",
                                                        "name or generateName is required")])
        self._check_namespace(res, md.get("namespace"), md.get("name") or gen, True)
        for _ in range(8):
            obj = copy.deepcopy(body)
            m = obj["metadata"]
            if not m.get("name"):
                m["name"] = gen + "".join(random.choice(_GEN_CHARS) for _ in range(5))
            m["uid"] = str(uuid.uuid4())
            m["creationTimestamp"] = strategy.now_ts()
            for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
                m.pop(k, None)
            st = strategy.get(res.kind)
            if st.prepare_create is not None:
                st.prepare_create(self, obj)
            self._validate(res, obj, None)
            if dry_run:
                return Entry(obj, 0)
            try:
                return self.store.create(res.storage, obj)
            except Exists:
                if md.get("name"):
                    raise errors.already_exists(res, m["name"])
        raise errors.already_exists(res, m["name"])

    # --- update ------------------------------------------------------------

    def _commit_update(self, res, old, new, sub, dry_run):
        """old: the Entry read; new: the full wanted object (owned)."""
        md = new.setdefault("metadata", {})
        omd = old.obj["metadata"]
        for k in ("uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "generateName"):
            if k in omd:
                md[k] = omd[k]
            else:
                md.pop(k, None)
        md["name"] = omd["name"]
        if res.namespaced:
            md["namespace"] = omd["namespace"]
        else:
            md.pop("namespace", None)
        strategy.prepare_update(self, res, new, old.obj, sub)
        md = new["metadata"]
        md["resourceVersion"] = str(old.rv)
        if md.get("finalizers") == []:
            md.pop("finalizers")
        self._validate(res, new, old.obj)
        if _json_equal_ignoring_rv(new, old.obj):
            return old
        if dry_run:
            return Entry(new, old.rv)
        if md.get("deletionTimestamp") and not md.get("finalizers") and \
                not (res.kind == "Namespace" and (new.get("spec") or {}).get("finalizers")):
            self.store.update(res.storage, new, old.rv)   # show the last state, then remove
            return self.store.delete(res.storage, md.get("namespace", ""), md["name"])
        return self.store.update(res.storage, new, old.rv)

    def update(self, res, ns, name, body, sub=None, dry_run=False):
        md = self._check_body(res, body)
        wire = body
        body = self._from_wire(res, body)
        md = body["metadata"]
        if md.get("name") and md["name"] != name:
            raise errors.bad_request("the name of the object (%s) does not match the name on "
                                     "the URL (%s)" % (md["name"], name))
        if res.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise errors.bad_request("the namespace of the provided object does not match "
                                     "the namespace sent on the request")
        want = md.get("resourceVersion")
        want = _parse_rv(want) if want else None
        for _ in range(20):
            old = self.store.get(res.storage, ns if res.namespaced else "", name)
            if old is None:
                if res.create_on_update and sub is None and want is None:
                    wire["metadata"]["name"] = name
                    return self.create(res, ns, wire, dry_run), True
                raise errors.not_found(res, name)
            if want is not None and want != old.rv:
                raise errors.conflict(res, name)
            try:
                return self._commit_update(res, old, copy.deepcopy(body), sub, dry_run), False
            except (Conflict, Missing):
                if want is not None:
                    raise errors.conflict(res, name)
        raise errors.conflict(res, name)

    def patch(self, res, ns, name, ptype, body, sub=None, dry_run=False):
        for _ in range(20):
            old = self.store.get(res.storage, ns if res.namespaced else "", name)
            if old is None:
                if ptype == "apply":
                    obj = dict(body)
                    obj.setdefault("metadata", {})["name"] = name
                    return self.create(res, ns, obj, dry_run), True
                raise errors.not_found(res, name)
            cur = self.to_wire(res, old.copy())
            try:
                if ptype == "json":
                    new = patchmod.json_patch(cur, body)
                elif ptype == "merge":
                    new = patchmod.merge_patch(cur, body)
                elif ptype == "strategic":
                    new = patchmod.strategic_merge(cur, body)
                else:   # "apply": server-side apply approximated as a merge
                    new = patchmod.merge_patch(cur, _strip_nulls(body))
            except patchmod.PatchError as e:
                if e.code == 422:
                    raise errors.APIError(422, "Invalid", str(e))
                raise errors.bad_request(str(e))
            if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
                raise errors.bad_request("the patch produced an object without metadata")
            nmd = new["metadata"]
            if nmd.get("name", name) != name:
                raise errors.bad_request('the name of the object (%s) does not match the name on the URL (%s)'
                                         % (nmd.get("name"), name))
            prv = nmd.get("resourceVersion")
            if prv and prv != str(old.rv):
                raise errors.conflict(res, name)
            self._check_body(res, new)
            new = self._from_wire(res, new)
            try:
                return self._commit_update(res, old, new, sub, dry_run), False
            except (Conflict, Missing):
                if prv:
                    raise errors.conflict(res, name)
        raise errors.conflict(res, name)

    # --- delete ------------------------------------------------------------

    def delete(self, res, ns, name, opts=None, dry_run=False):
        opts = opts or {}
        pre = opts.get("preconditions") or {}
        ns = ns if res.namespaced else ""
        for _ in range(20):
            e = self.get(res, ns, name)
            md = e.obj["metadata"]
            if pre.get("uid") and pre["uid"] != md.get("uid"):
                raise errors.conflict(res, name, "Precondition failed: UID in precondition: %s, "
                                      "UID in object meta: %s" % (pre["uid"], md.get("uid")))
            if pre.get("resourceVersion") and pre["resourceVersion"] != md.get("resourceVersion"):
                raise errors.conflict(res, name, "Precondition failed: ResourceVersion in "
                                      "precondition: %s, ResourceVersion in meta: %s"
                                      % (pre["resourceVersion"], md.get("resourceVersion")))
            if dry_run:
                return e
            pending = bool(md.get("finalizers")) or \
                (res.kind == "Namespace" and (e.obj.get("spec") or {}).get("finalizers"))
            try:
                if pending:
                    if md.get("deletionTimestamp"):
                        return e
                    new = e.copy()
                    new["metadata"]["deletionTimestamp"] = strategy.now_ts()
                    new["metadata"]["deletionGracePeriodSeconds"] = 0
                    if res.kind == "Namespace":
                        new.setdefault("status", {})["phase"] = "Terminating"
                    return self.store.update(res.storage, new, e.rv)
                return self.store.delete(res.storage, ns, name, e.rv)
            except (Conflict, Missing):
                continue
        raise errors.conflict(res, name)

    def delete_collection(self, res, ns, label_selector, field_selector, opts=None, dry_run=False):
        entries, _, _, _ = self.list(res, ns, label_selector, field_selector)
        out = []
        for e in entries:
            md = e.obj["metadata"]
            try:
                out.append(self.delete(res, md.get("namespace", ""), md["name"], opts, dry_run))
            except errors.APIError as err:
                if err.code != 404:
                    raise
        return out

    # --- pods/binding ------------------------------------------------------

    def bind_pod(self, ns, name, body):
        res = resources.lookup("", "v1", "pods")
        target = (body or {}).get("target") or {}
        node = target.get("name")
        if not node:
            raise errors.invalid(res, name, [errors.Cause("Required", "target.name")])
        for _ in range(20):
            e = self.get(res, ns, name)
            if (e.obj.get("spec") or {}).get("nodeName"):
                raise errors.conflict(res, name, "pod %s is already assigned to node \"%s\""
                                      % (name, e.obj["spec"]["nodeName"]))
            new = e.copy()
            new["spec"]["nodeName"] = node
            conds = [c for c in (new.get("status") or {}).get("conditions") or []
                     if c.get("type") != "PodScheduled"]
            conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                          "lastTransitionTime": strategy.now_ts()})
            new.setdefault("status", {})["conditions"] = conds
            try:
                return self.store.update(res.storage, new, e.rv)
            except (Conflict, Missing):
                continue
        raise errors.conflict(res, name)

    # --- for controllers ---------------------------------------------------

    def mutate(self, storage, ns, name, fn, sub=None, tries=20):
        """Read-modify-write for controllers: fn(obj) changes obj in place
        (or returns False to skip). Returns the new Entry or None."""
        res = resources.BY_STORAGE[storage]
        for _ in range(tries):
            e = self.store.get(storage, ns, name)
            if e is None:
                return None
            obj = e.copy()
            if fn(obj) is False:
                return e
            try:
                return self._commit_update(res, e, obj, sub, False)
            except (Conflict, Missing):
                continue
        return None


def _strip_nulls(v):
    if isinstance(v, dict):
        return {k: _strip_nulls(x) for k, x in v.items() if x is not None}
    return v
