#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Run examples/sigv4-sign on the official SigV4 suite's requests and
compare its output with the suite's signed requests, byte for byte.

    test_sigv4_sign.py SIGV4_SIGN_BINARY SUITE_DIR

SUITE_DIR is tests/data/sigv4/v4 (in the checkout). Every case runs in header
mode and, with --presign, in query mode; the --print variants are checked
on one case. A missing suite is a failure, not a skip.
"""

import json
import os
import subprocess
import sys


def run(binary, case_dir, ctx, presign, extra=()):
    cred = ctx["credentials"]
    ts = ctx["timestamp"]  # 2015-08-30T12:36:00Z
    amz = ts.replace("-", "").replace(":", "")
    argv = [binary, "--region", ctx["region"], "--service", ctx["service"],
            "--access-key", cred["access_key_id"],
            "--time", amz]
    env = dict(os.environ, AWS_SECRET_ACCESS_KEY=cred["secret_access_key"])
    env.pop("AWS_SESSION_TOKEN", None)
    if cred.get("token"):
        argv += ["--session-token", cred["token"]]
    if not ctx.get("normalize", True):
        argv.append("--no-normalize-path")
    if ctx.get("omit_session_token"):
        argv.append("--omit-session-token")
    if presign:
        argv += ["--presign", "--expires", str(ctx["expiration_in_seconds"])]
    elif ctx.get("sign_body"):
        argv.append("--content-sha256")
    argv += list(extra)
    with open(os.path.join(case_dir, "request.txt"), "rb") as f:
        r = subprocess.run(argv, stdin=f, capture_output=True, env=env,
                           timeout=30)
    if r.returncode != 0:
        raise AssertionError("%s exited %d: %s" % (argv, r.returncode,
                                                   r.stderr.decode()))
    return r.stdout


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, suite = sys.argv[1], sys.argv[2]
    if not os.path.isdir(suite):
        print("FAIL: the AWS SigV4 test suite is missing: %s is not a "
              "directory (it is part of the checkout: tests/data/sigv4/v4)" % suite,
              file=sys.stderr)
        return 1
    cases = sorted(d for d in os.listdir(suite) if not d.startswith("."))
    if len(cases) != 38:
        print("FAIL: %s holds %d cases, expected 38" % (suite, len(cases)),
              file=sys.stderr)
        return 1
    failed = 0
    checked = 0
    for name in cases:
        d = os.path.join(suite, name)
        with open(os.path.join(d, "context.json")) as f:
            ctx = json.load(f)
        for presign in (False, True):
            want_file = ("query" if presign else "header") + "-signed-request.txt"
            with open(os.path.join(d, want_file), "rb") as f:
                want = f.read()
            got = run(binary, d, ctx, presign)
            checked += 1
            if got != want:
                failed += 1
                print("FAIL %s (%s)\n--- expected\n%r\n--- got\n%r" %
                      (name, want_file, want, got), file=sys.stderr)
    # The --print variants, on one case with a token and one with a body.
    for name, what, fname in (
            ("get-vanilla-with-session-token", "canonical-request",
             "header-canonical-request.txt"),
            ("get-vanilla-with-session-token", "string-to-sign",
             "header-string-to-sign.txt"),
            ("post-x-www-form-urlencoded", "signature", "header-signature.txt")):
        d = os.path.join(suite, name)
        with open(os.path.join(d, "context.json")) as f:
            ctx = json.load(f)
        with open(os.path.join(d, fname), "rb") as f:
            want = f.read() + b"\n"
        got = run(binary, d, ctx, False, ["--print", what])
        checked += 1
        if got != want:
            failed += 1
            print("FAIL %s --print %s\n--- expected\n%r\n--- got\n%r" %
                  (name, what, want, got), file=sys.stderr)
    # --help names every flag the issue asks for.
    help_text = subprocess.run([binary, "--help"], capture_output=True,
                               timeout=30).stdout.decode()
    for flag in ("--region", "--service", "--access-key", "--secret-key",
                 "--session-token", "--time", "--no-normalize-path",
                 "--unsigned-payload", "--omit-session-token"):
        if flag not in help_text:
            failed += 1
            print("FAIL: --help does not describe %s" % flag, file=sys.stderr)
    print("sigv4-sign: %d/%d outputs match" % (checked - failed, checked))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
