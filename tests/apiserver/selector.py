# SPDX-License-Identifier: Apache-2.0
"""Label and field selectors (k8s.io/apimachinery/pkg/labels and fields).

Label selectors: comma-separated requirements `k`, `!k`, `k=v`, `k==v`,
`k!=v`, `k in (a,b)`, `k notin (a,b)`, `k>N`, `k<N`.
Field selectors: comma-separated `f=v`, `f==v`, `f!=v` on the fields that a
resource supports (resources.FIELDS); any other field is 400 BadRequest
"field label not supported", as on a real server.
"""

import re


class SelectorError(ValueError):
    pass


_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VAL = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def _split_top(s):
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _check_key(k, whole):
    if not _KEY.match(k) or len(k.split("/")[-1]) > 63:
        raise SelectorError("unable to parse requirement: invalid label key %r "
                            "in selector %r" % (k, whole))


def _check_val(v, whole):
    if len(v) > 63 or not _VAL.match(v):
        raise SelectorError("unable to parse requirement: invalid label value "
                            "%r in selector %r" % (v, whole))


def parse_labels(s):
    """Return a list of (key, op, values) or raise SelectorError."""
    reqs = []
    if not s:
        return reqs
    for part in _split_top(s):
        m = re.match(r"^(\S+)\s+(in|notin)\s*\((.*)\)$", part)
        if m:
            key, op = m.group(1), m.group(2)
            vals = [v.strip() for v in m.group(3).split(",")]
            if vals == [""]:
                raise SelectorError("unable to parse requirement: for 'in', "
                                    "'notin' operators, values set can't be empty")
            _check_key(key, s)
            for v in vals:
                _check_val(v, s)
            reqs.append((key, op, set(vals)))
            continue
        if part.startswith("!"):
            key = part[1:].strip()
            _check_key(key, s)
            reqs.append((key, "!", None))
            continue
        m = re.match(r"^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(.*)$", part)
        if m:
            key, op, val = m.group(1), m.group(2), m.group(3).strip()
            _check_key(key, s)
            if op in ("<", ">"):
                try:
                    val = int(val)
                except ValueError:
                    raise SelectorError("unable to parse requirement: for 'Gt', "
                                        "'Lt' operators, the value must be an integer")
            else:
                _check_val(val, s)
                op = "=" if op == "==" else op
            reqs.append((key, op, val))
            continue
        if re.match(r"^\S+$", part):
            _check_key(part, s)
            reqs.append((part, "exists", None))
            continue
        raise SelectorError("unable to parse requirement: %r" % part)
    return reqs


def match_labels(reqs, labels):
    labels = labels or {}
    for key, op, val in reqs:
        have = key in labels
        v = labels.get(key)
        if op == "=":
            if v != val:
                return False
        elif op == "!=":
            if have and v == val:
                return False
        elif op == "in":
            if not have or v not in val:
                return False
        elif op == "notin":
            if have and v in val:
                return False
        elif op == "exists":
            if not have:
                return False
        elif op == "!":
            if have:
                return False
        elif op in ("<", ">"):
            try:
                n = int(v)
            except (TypeError, ValueError):
                return False
            if (op == ">" and not n > val) or (op == "<" and not n < val):
                return False
    return True


def match_label_selector_obj(sel, labels):
    """Match a metav1.LabelSelector object (matchLabels/matchExpressions)."""
    if sel is None:
        return True
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def parse_fields(s, supported):
    """Return a list of (field, op, value); op is '=' or '!='."""
    reqs = []
    if not s:
        return reqs
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([^=!]+)(==|=|!=)(.*)$", part)
        if not m:
            raise SelectorError("invalid selector: '%s'; can't understand '%s'" % (s, part))
        field, op, val = m.group(1).strip(), m.group(2), m.group(3).strip()
        if field not in supported:
            raise SelectorError('field label not supported: %s' % field)
        reqs.append((field, "!=" if op == "!=" else "=", val))
    return reqs


def field_value(obj, path):
    cur = obj
    for p in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(p)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def match_fields(reqs, obj, aliases=None):
    for field, op, val in reqs:
        path = (aliases or {}).get(field, field)
        v = field_value(obj, path)
        if (op == "=") != (v == val):
            return False
    return True
