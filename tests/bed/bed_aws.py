# SPDX-License-Identifier: Apache-2.0
"""The "aws" component of berth's test bed: berth's AWS emulator
(tests/aws/awsemu: EC2, EFS, STS, IMDSv2, container credentials, admin API)
on 127.0.0.1, ports picked at run time.

Exports:
  AWS_ENDPOINT_URL                   the API port (EC2, EFS and STS share it)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
                                     the emulator account's static key
  AWS_EC2_METADATA_SERVICE_ENDPOINT  the IMDSv2 port
  AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE
                                     empty files, so that the machine's
                                     ~/.aws never leaks into a test
  BERTH_AWS_ADMIN_URL                the admin API (faults, counters, state)
  BERTH_AWS_CONTAINER_URL            a container-credentials FULL_URI
  BERTH_AWS_CONTAINER_TOKEN_FILE     the token file that endpoint wants
  BERTH_AWS_WEB_IDENTITY_TOKEN_FILE  the only token STS accepts for
                                     AssumeRoleWithWebIdentity
  BERTH_AWS_ROLE_ARN                 a role ARN to assume

`bed.py ctl aws ARGS` drives the admin API:
  faults KEY=VALUE...   e.g. faults throttle_rate=0.3 error_rate=0.05
  config KEY=VALUE...   e.g. config create_delay_ms=0
  reset | counters | state
"""

import json
import os
import secrets
import urllib.request

import bedlib

HERE = os.path.dirname(os.path.abspath(__file__))
AWS_DIR = os.path.join(os.path.dirname(HERE), "aws")


def start(workdir):
    path = lambda n: os.path.join(workdir, n)  # noqa: E731
    wit = path("web-identity-token")
    ct = path("container-token")
    with open(wit, "w") as f:
        # A JWT's shape; STS here only compares it with this file.
        f.write("eyJhbGciOiJSUzI1NiJ9.%s.%s\n" % (secrets.token_urlsafe(48),
                                                   secrets.token_urlsafe(64)))
    with open(ct, "w") as f:
        f.write(secrets.token_urlsafe(32) + "\n")
    for n in ("credentials", "config"):
        open(path("aws-" + n), "w").close()
    ready = path("ready.json")
    log = path("awsemu.log")
    env = dict(os.environ, PYTHONPATH=AWS_DIR, PYTHONDONTWRITEBYTECODE="1")
    proc = bedlib.spawn(["/usr/bin/python3", "-m", "awsemu", "--ready", ready,
                         "--region", "us-east-1",
                         "--web-identity-token-file", wit,
                         "--container-token-file", ct], log, env=env)
    try:
        bedlib.wait_until(lambda: os.path.exists(ready), 20, "aws emulator",
                          proc=proc, logfile=log)
        with open(ready) as f:
            info = json.load(f)
    except BaseException:
        bedlib.kill_pid(proc.pid)
        raise
    url = lambda port: "http://127.0.0.1:%d" % port  # noqa: E731
    return {
        "env": {
            "AWS_ENDPOINT_URL": url(info["api_port"]),
            "AWS_ACCESS_KEY_ID": info["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": info["secret_access_key"],
            "AWS_REGION": info["region"],
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": url(info["imds_port"]),
            "AWS_SHARED_CREDENTIALS_FILE": path("aws-credentials"),
            "AWS_CONFIG_FILE": path("aws-config"),
            "BERTH_AWS_ADMIN_URL": url(info["admin_port"]),
            "BERTH_AWS_CONTAINER_URL": url(info["container_port"]) +
                                       "/v1/credentials",
            "BERTH_AWS_CONTAINER_TOKEN_FILE": ct,
            "BERTH_AWS_WEB_IDENTITY_TOKEN_FILE": wit,
            "BERTH_AWS_ROLE_ARN": "arn:aws:iam::%s:role/berth-irsa" %
                                  info["account"],
        },
        "pids": [proc.pid],
        "info": {"log": log, "ports": {k: v for k, v in info.items()
                                       if k.endswith("_port")}},
    }


def _admin(state, method, path, body=None):
    url = state["env"]["BERTH_AWS_ADMIN_URL"] + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def _kv(args):
    out = {}
    for a in args:
        k, _, v = a.partition("=")
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


def ctl(workdir, state, args):
    if not args:
        raise bedlib.BedError("ctl aws: faults|config KEY=VALUE..., reset, "
                              "counters or state")
    verb, rest = args[0], args[1:]
    if verb in ("faults", "config"):
        print(json.dumps(_admin(state, "POST", "/" + verb, _kv(rest)),
                         indent=1))
    elif verb == "reset":
        _admin(state, "POST", "/reset", {})
    elif verb in ("counters", "state"):
        print(json.dumps(_admin(state, "GET", "/" + verb), indent=1))
    else:
        raise bedlib.BedError("ctl aws: unknown verb %r" % verb)
    return None
