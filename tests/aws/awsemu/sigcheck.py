# SPDX-License-Identifier: Apache-2.0
"""Verify a request's SigV4 signature with botocore (an implementation
independent of berth's): rebuild the request from what arrived, let
botocore's SigV4Auth compute the canonical request, string to sign and
signature with the secret we know, and compare.

Errors, as AWS answers them (per service, since the protocols differ):

                    EC2                    STS                     EFS (REST-JSON)
  no signature      AuthFailure            MissingAuthenticationToken MissingAuthenticationTokenException
  malformed         IncompleteSignature    IncompleteSignature     IncompleteSignatureException
  unknown key id    AuthFailure            InvalidClientTokenId    UnrecognizedClientException
  wrong signature   SignatureDoesNotMatch  SignatureDoesNotMatch   InvalidSignatureException
  old/future date   RequestExpired         RequestExpired          InvalidSignatureException ("Signature expired")
  expired token     ExpiredToken           ExpiredToken            ExpiredTokenException
"""

import calendar
import hmac
import re
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .core import ApiError

ERRORS = {
    "ec2": {"missing": ("AuthFailure", 401), "malformed": ("IncompleteSignature", 400),
            "unknown": ("AuthFailure", 401), "mismatch": ("SignatureDoesNotMatch", 403),
            "expired": ("RequestExpired", 400), "token": ("ExpiredToken", 400)},
    "sts": {"missing": ("MissingAuthenticationToken", 403),
            "malformed": ("IncompleteSignature", 400),
            "unknown": ("InvalidClientTokenId", 403),
            "mismatch": ("SignatureDoesNotMatch", 403),
            "expired": ("RequestExpired", 400), "token": ("ExpiredToken", 400)},
    "elasticfilesystem": {
        "missing": ("MissingAuthenticationTokenException", 403),
        "malformed": ("IncompleteSignatureException", 400),
        "unknown": ("UnrecognizedClientException", 403),
        "mismatch": ("InvalidSignatureException", 403),
        "expired": ("InvalidSignatureException", 403),
        "token": ("ExpiredTokenException", 403)},
}

MISMATCH_MESSAGE = ("The request signature we calculated does not match the "
                    "signature you provided. Check your AWS Secret Access Key "
                    "and signing method. Consult the service documentation "
                    "for details.")

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<cred>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<sig>[0-9a-f]{64})$")


def err(service, kind, message):
    code, status = ERRORS[service][kind]
    return ApiError(code, message, status)


def verify(emu, service, method, raw_target, headers, body):
    """Check the request; return the access key id, or raise ApiError.

    headers: list of (name, value) as received; raw_target: the request
    line's target (path and query, percent-encoded as sent)."""
    auth = None
    hmap = {}
    for k, v in headers:
        hmap.setdefault(k.lower(), []).append(v)
    if "authorization" in hmap:
        auth = hmap["authorization"][0]
    if auth is None:
        raise err(service, "missing",
                  "Request is missing Authentication Token")
    m = AUTH_RE.match(auth.strip())
    if m is None:
        raise err(service, "malformed",
                  "Authorization header requires 'Credential', "
                  "'SignedHeaders' and 'Signature' parameters")
    cred = m.group("cred").split("/")
    if len(cred) != 5 or cred[4] != "aws4_request":
        raise err(service, "malformed", "Credential is malformed")
    akid, date, region, svc, _ = cred
    signed = m.group("signed").split(";")
    if "host" not in signed:
        raise err(service, "malformed", "'Host' must be a signed header")
    if signed != sorted(signed) or any(s != s.lower() for s in signed):
        raise err(service, "malformed", "SignedHeaders must be sorted and "
                                        "lower case")
    amz = hmap.get("x-amz-date", [None])[0]
    if amz is None or "x-amz-date" not in signed:
        raise err(service, "malformed", "X-Amz-Date must be a signed header")
    try:
        t = calendar.timegm(time.strptime(amz, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise err(service, "malformed", "bad X-Amz-Date %r" % amz)
    now = emu.now()
    skew = emu.config["max_skew_s"]
    if abs(now - t) > skew:
        if service == "elasticfilesystem":
            raise err(service, "expired",
                      "Signature expired: %s is now earlier than %s (%s - 5 "
                      "min.)" % (amz, time.strftime("%Y%m%dT%H%M%SZ",
                                                    time.gmtime(now - skew)),
                                 time.strftime("%Y%m%dT%H%M%SZ",
                                               time.gmtime(now))))
        raise err(service, "expired",
                  "Request has expired. Timestamp date is %s" % amz)
    if date != amz[:8]:
        raise err(service, "mismatch",
                  "Credential should be scoped to a valid date, not %r" % date)
    if region != emu.region:
        raise err(service, "mismatch",
                  "Credential should be scoped to a valid region, not %r. "
                  "Should be %r." % (region, emu.region))
    if svc != service:
        raise err(service, "mismatch",
                  "Credential should be scoped to correct service: %r." %
                  service)
    found = emu.secret_for(akid)
    if found is None:
        raise err(service, "unknown",
                  "The security token included in the request is invalid." if
                  service != "ec2" else
                  "AWS was not able to validate the provided access "
                  "credentials")
    secret, token, expires = found
    sent_token = hmap.get("x-amz-security-token", [None])[0]
    if token is not None:
        if sent_token != token:
            raise err(service, "unknown",
                      "The security token included in the request is "
                      "invalid.")
        if expires is not None and expires < now:
            raise err(service, "token",
                      "The security token included in the request is "
                      "expired")
    for name in signed:
        if name not in hmap:
            raise err(service, "malformed",
                      "signed header %r is missing" % name)
    host = hmap["host"][0]
    req = AWSRequest(method=method, url="http://%s%s" % (host, raw_target),
                     data=body,
                     headers={name: ",".join(hmap[name]) if len(hmap[name]) > 1
                              else hmap[name][0] for name in signed})
    req.context["timestamp"] = amz
    signer = SigV4Auth(Credentials(akid, secret,
                                   token if "x-amz-security-token" in signed
                                   else None),
                       svc, region)
    canonical = signer.canonical_request(req)
    string_to_sign = signer.string_to_sign(req, canonical)
    want = signer.signature(string_to_sign, req)
    emu.count("signatures", "checked")
    if not hmac.compare_digest(want, m.group("sig")):
        emu.count("signatures", "mismatched")
        raise err(service, "mismatch", MISMATCH_MESSAGE)
    return akid
