# SPDX-License-Identifier: Apache-2.0
"""STS (Query API, version 2011-06-15): AssumeRoleWithWebIdentity
(unsigned: the token is the credential), AssumeRole and GetCallerIdentity
(signed). Errors are <ErrorResponse><Error><Type/><Code/><Message/>
</Error><RequestId/></ErrorResponse>."""

import re
from xml.sax.saxutils import escape

from .core import ApiError, iso

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ROLE_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,128}$")
SESSION_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
UNSIGNED = ("AssumeRoleWithWebIdentity",)
ACTIONS = ("AssumeRoleWithWebIdentity", "AssumeRole", "GetCallerIdentity")


def is_sts(params):
    return params.get("Action") in ACTIONS


def error_xml(emu, code, message, sender=True):
    return ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n'
            '    <Code>%s</Code>\n    <Message>%s</Message>\n  </Error>\n'
            '  <RequestId>%s</RequestId>\n</ErrorResponse>\n' %
            (NS, "Sender" if sender else "Receiver", escape(code),
             escape(message), emu.new_request_id()))


def respond(emu, action, inner):
    return ('<%sResponse xmlns="%s">\n  <%sResult>\n%s  </%sResult>\n'
            '  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n'
            '  </ResponseMetadata>\n</%sResponse>\n' %
            (action, NS, action, inner, action, emu.new_request_id(), action))


def credentials_xml(c):
    return ("    <Credentials>\n      <AccessKeyId>%s</AccessKeyId>\n"
            "      <SecretAccessKey>%s</SecretAccessKey>\n"
            "      <SessionToken>%s</SessionToken>\n"
            "      <Expiration>%s</Expiration>\n    </Credentials>\n" %
            (c["akid"], escape(c["secret"]), escape(c["token"]),
             iso(c["expires"], millis=False)))


def check_role(params):
    role = params.get("RoleArn", "")
    session = params.get("RoleSessionName", "")
    if not ROLE_RE.match(role):
        raise ApiError("ValidationError",
                       "%r is not a valid role ARN" % role)
    if not SESSION_RE.match(session):
        raise ApiError("ValidationError",
                       "1 validation error detected: Value %r at "
                       "'roleSessionName' failed to satisfy constraint" %
                       session)
    d = params.get("DurationSeconds")
    if d is not None and (not d.isdigit() or not 900 <= int(d) <= 43200):
        raise ApiError("ValidationError",
                       "DurationSeconds must be between 900 and 43200")
    return role, session


def assumed_xml(emu, role, session, akid):
    name = role.rsplit("/", 1)[1]
    return ("    <AssumedRoleUser>\n      <Arn>arn:aws:sts::%s:assumed-role/"
            "%s/%s</Arn>\n      <AssumedRoleId>AROA%s:%s</AssumedRoleId>\n"
            "    </AssumedRoleUser>\n" % (emu.account, escape(name),
                                          escape(session), akid[4:16],
                                          escape(session)))


def handle(emu, params, caller):
    """Answer one STS request; caller is the verified key id or None."""
    action = params.get("Action")
    if params.get("Version") != "2011-06-15":
        raise ApiError("InvalidAction", "Could not find operation %s for "
                                        "version %s" % (action,
                                                        params.get("Version")))
    with emu.lock:
        if action == "AssumeRoleWithWebIdentity":
            role, session = check_role(params)
            token = params.get("WebIdentityToken", "")
            if not token:
                raise ApiError("ValidationError", "WebIdentityToken is "
                                                  "required")
            if emu.web_identity_token is not None and \
                    token != emu.web_identity_token:
                raise ApiError("InvalidIdentityToken",
                               "Couldn't retrieve verification key from your "
                               "identity provider, please reference "
                               "AssumeRoleWithWebIdentity documentation for "
                               "requirements")
            c = emu.issue_credentials("sts_web_identity", role)
            inner = ("    <SubjectFromWebIdentityToken>system:serviceaccount:"
                     "kube-system:berth</SubjectFromWebIdentityToken>\n"
                     "    <Audience>sts.amazonaws.com</Audience>\n" +
                     assumed_xml(emu, role, session, c["akid"]) +
                     credentials_xml(c) +
                     "    <Provider>oidc.eks.%s.amazonaws.com/id/BERTH"
                     "</Provider>\n" % emu.region)
            return respond(emu, action, inner)
        if action == "AssumeRole":
            role, session = check_role(params)
            c = emu.issue_credentials("sts_assume_role", role)
            return respond(emu, action, assumed_xml(emu, role, session,
                                                    c["akid"]) +
                           credentials_xml(c))
        # GetCallerIdentity
        arn = "arn:aws:iam::%s:user/berth-test" % emu.account
        t = emu.temp_creds.get(caller)
        if t is not None:
            arn = t["arn"]
        return respond(emu, action,
                       "    <Arn>%s</Arn>\n    <UserId>%s</UserId>\n"
                       "    <Account>%s</Account>\n" % (escape(arn), caller,
                                                        emu.account))
