# SPDX-License-Identifier: Apache-2.0
"""PATCH bodies: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386) and
strategic merge patch.

Strategic merge patch is implemented without Go struct tags: lists merge by
the keys of a small table (MERGE_KEYS: containers and volumes by name,
container ports by containerPort, service ports by port, conditions by type,
ownerReferences by uid, ...); finalizers merge as a set; every other list is
replaced. The directives `$patch: replace|delete|merge`,
`$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and
`$retainKeys` are honoured. That covers what `kubectl apply`, `kubectl
patch` and controllers send for the resources this server serves.
"""

import copy


class PatchError(ValueError):
    """The patch cannot be applied (400 BadRequest or 422 for a failed test)."""

    def __init__(self, msg, code=400):
        ValueError.__init__(self, msg)
        self.code = code


# --- RFC 7386 ----------------------------------------------------------------

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# --- RFC 6902 ----------------------------------------------------------------

def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("JSON pointer %r must start with '/'" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise PatchError("doc is missing path: %r" % ("/" + "/".join(parts)))
            cur = cur[p]
        elif isinstance(cur, list):
            try:
                i = int(p)
            except ValueError:
                raise PatchError("invalid array index %r" % p)
            if not 0 <= i < len(cur):
                raise PatchError("array index %d out of bounds" % i)
            cur = cur[i]
        else:
            raise PatchError("doc is missing path: %r" % ("/" + "/".join(parts)))
    return cur


def _add(doc, parts, value, replace=False):
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError("replace operation does not apply: doc is missing key: %s" % last)
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        else:
            try:
                i = int(last)
            except ValueError:
                raise PatchError("invalid array index %r" % last)
            if replace:
                if not 0 <= i < len(parent):
                    raise PatchError("array index %d out of bounds" % i)
                parent[i] = value
            else:
                if not 0 <= i <= len(parent):
                    raise PatchError("array index %d out of bounds" % i)
                parent.insert(i, value)
    else:
        raise PatchError("cannot add to a non-container at %r" % "/".join(parts))
    return doc


def _remove(doc, parts):
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("remove operation does not apply: doc is missing path: %s" % last)
        return parent.pop(last)
    if isinstance(parent, list):
        try:
            i = int(last)
        except ValueError:
            raise PatchError("invalid array index %r" % last)
        if not 0 <= i < len(parent):
            raise PatchError("array index %d out of bounds" % i)
        return parent.pop(i)
    raise PatchError("cannot remove from a non-container")


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError("json patch operation without 'op'")
        kind = op["op"]
        if "path" not in op:
            raise PatchError("json patch operation %r without 'path'" % kind)
        parts = _pointer(op["path"])
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), replace=True)
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            val = copy.deepcopy(_walk(doc, src))
            if kind == "move":
                _remove(doc, src)
            doc = _add(doc, parts, val)
        elif kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise PatchError("testing value %s failed" % op["path"], code=422)
        else:
            raise PatchError("unexpected json patch operation %r" % kind)
    return doc


# --- strategic merge patch ---------------------------------------------------

# List field name -> merge key (None: merge as a set of primitives).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name",
    "ephemeralContainers": "name", "volumes": "name", "env": "name",
    "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "ownerReferences": "uid",
    "conditions": "type", "hostAliases": "ip", "podIPs": "ip",
    "resourceClaims": "name", "topologySpreadConstraints": "topologyKey",
    "addresses": "type", "finalizers": None,
}


def _merge_key(field, items):
    if field == "ports":
        for it in items:
            if isinstance(it, dict) and "containerPort" in it:
                return "containerPort"
        return "port"
    return MERGE_KEYS.get(field, False)


def _strip(v):
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if not k.startswith("$")}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


_DELETE = object()


def strategic_merge(orig, patch):
    if not isinstance(patch, dict):
        return _strip(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return _strip(patch)
    result = dict(orig) if isinstance(orig, dict) else {}
    orders = {}
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys"):
            continue
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(v, list):
                result[field] = [x for x in result[field] if x not in v]
            continue
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            sub = strategic_merge(result.get(k), v)
            if sub is _DELETE:
                result.pop(k, None)
            else:
                result[k] = sub
        elif isinstance(v, list):
            result[k] = _merge_list(k, result.get(k), v)
        else:
            result[k] = v
    for field, order in orders.items():
        if isinstance(result.get(field), list) and isinstance(order, list):
            result[field] = _reorder(field, result[field], order)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        for k in list(result):
            if k not in retain and k not in patch:
                del result[k]
    return result


def _merge_list(field, orig, items):
    orig = orig if isinstance(orig, list) else []
    key = _merge_key(field, items + orig)
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in items):
        return [_strip(i) for i in items
                if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    if key is False:
        return _strip(items)
    if key is None:  # primitives merged as a set
        out = list(orig)
        for i in items:
            if i not in out:
                out.append(i)
        return out
    out = [copy.deepcopy(o) for o in orig]
    for it in items:
        if not isinstance(it, dict) or key not in it:
            out.append(_strip(it))
            continue
        idx = next((n for n, o in enumerate(out)
                    if isinstance(o, dict) and o.get(key) == it[key]), None)
        if it.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(_strip(it))
        else:
            out[idx] = strategic_merge(out[idx], it)
    return out


def _reorder(field, items, order):
    key = _merge_key(field, items)
    if key is False:
        return items
    def ident(x):
        return x.get(key) if (key and isinstance(x, dict)) else x
    wanted = [ident(o) if key else o for o in order]
    pos = {w: n for n, w in enumerate(wanted) if isinstance(w, (str, int))}
    first = sorted([i for i in items if ident(i) in pos], key=lambda i: pos[ident(i)])
    rest = [i for i in items if ident(i) not in pos]
    return first + rest
