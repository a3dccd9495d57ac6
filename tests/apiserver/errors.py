# SPDX-License-Identifier: Apache-2.0
"""API errors as the real API server reports them: a `Status` object and an
HTTP code (k8s.io/apimachinery/pkg/api/errors)."""

import json


class APIError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        Exception.__init__(self, message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
             "status": "Failure", "message": self.message}
        if self.reason:
            s["reason"] = self.reason
        if self.details is not None:
            s["details"] = self.details
        s["code"] = self.code
        return s


def _details(res, name):
    d = {"name": name}
    if res.group:
        d["group"] = res.group
    d["kind"] = res.plural
    return d


def not_found(res, name):
    return APIError(404, "NotFound", '%s "%s" not found' % (res.qualified, name),
                    _details(res, name))


def namespace_not_found(name):
    return APIError(404, "NotFound", 'namespaces "%s" not found' % name,
                    {"name": name, "kind": "namespaces"})


def already_exists(res, name):
    return APIError(409, "AlreadyExists", '%s "%s" already exists' % (res.qualified, name),
                    _details(res, name))


def conflict(res, name, why=None):
    why = why or ("the object has been modified; please apply your changes "
                  "to the latest version and try again")
    return APIError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (res.qualified, name, why), _details(res, name))


def forbidden(res, name, why):
    return APIError(403, "Forbidden", '%s "%s" is forbidden: %s' % (res.qualified, name, why),
                    _details(res, name))


_CAUSE = {"Required": ("FieldValueRequired", "Required value"),
          "Invalid": ("FieldValueInvalid", "Invalid value"),
          "Forbidden": ("FieldValueForbidden", "Forbidden"),
          "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
          "Duplicate": ("FieldValueDuplicate", "Duplicate value")}


class Cause:
    """One field error: Cause("Required", "metadata.name", "name ... required")."""

    def __init__(self, kind, field, detail="", value=None, has_value=False):
        self.kind, self.field, self.detail = kind, field, detail
        self.value, self.has_value = value, has_value or value is not None

    def text(self):
        t = _CAUSE[self.kind][1]
        if self.has_value and self.kind in ("Invalid", "NotSupported", "Duplicate"):
            v = self.value
            t += ": " + (json.dumps(v) if isinstance(v, str) else str(v))
        if self.detail:
            t += ": " + self.detail
        return t

    def full(self):
        return "%s: %s" % (self.field, self.text()) if self.field else self.text()


def invalid(res, name, causes):
    items = [c.full() for c in causes]
    msg = items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"
    d = {"name": name}
    if res.group:
        d["group"] = res.group
    d["kind"] = res.kind
    d["causes"] = [{"reason": _CAUSE[c.kind][0], "message": c.text(), "field": c.field}
                   for c in causes]
    return APIError(422, "Invalid", '%s "%s" is invalid: %s' % (res.kind, name, msg), d)


def bad_request(msg):
    return APIError(400, "BadRequest", msg)


def method_not_allowed():
    return APIError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    {})


def path_not_found():
    return APIError(404, "NotFound", "the server could not find the requested resource", {})


def expired(msg):
    return APIError(410, "Expired", msg)


def unauthorized():
    return APIError(401, "Unauthorized", "Unauthorized")


def too_many_requests(retry_after):
    return APIError(429, "TooManyRequests", "Too many requests, please try again later.",
                    {"retryAfterSeconds": int(retry_after)},
                    {"Retry-After": str(int(retry_after))})


def internal(msg):
    return APIError(500, "InternalError", "Internal error occurred: %s" % msg,
                    {"causes": [{"message": msg}]})


def server_error(code):
    reasons = {500: ("InternalError", "Internal error occurred: injected fault"),
               501: ("", "the server has not implemented this"),
               502: ("", "the server reported a bad gateway (injected fault)"),
               503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
               504: ("Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request")}
    reason, msg = reasons.get(code, ("InternalError", "injected fault"))
    return APIError(code, reason, msg, {})


def unsupported_media(ct):
    return APIError(415, "UnsupportedMediaType",
                    '%s is not supported by this server' % ct, {})
