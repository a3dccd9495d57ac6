#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The docs' commands run: every fenced shell block of the READMEs and
CONTRIBUTING.md marked `sh doctest` runs on the bed, so the docs cannot
drift from what the programs do.

    ```sh doctest
    berth-provisioner --check-config --provisioner berth.io/nfs=nfs
    ```

A block marked `sh doctest-manual (REASON)` is one that cannot run here
(it builds for minutes, needs a real registry or cluster): it must say
why, and is listed. Any other sh/bash/shell block is a failure: a command
shown must be run or say why not.

Each block runs in `bash -euo pipefail`, in a directory that mirrors the
checkout (symbolic links) with `build/` pointing at the build under test,
the programs and helm first on PATH, and the bed's environment.

    test_docs.py SOURCE-DIR BUILD-DIR HELM          (under bed.py run k8s nfs)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.M | re.S)
DOCS = ["README.md", "CONTRIBUTING.md", "deploy/README.md", "deploy/helm/berth/README.md",
        "provisioner/README.md", "peer-discovery/README.md", "examples/README.md",
        "examples/migrate/README.md"]


def blocks(src):
    for doc in DOCS:
        text = open(os.path.join(src, doc)).read()
        for m in FENCE.finditer(text):
            info = m.group(1).strip()
            words = info.split(None, 1)
            if not words or words[0] not in ("sh", "bash", "shell", "console"):
                continue
            line = text.count("\n", 0, m.start()) + 1
            yield doc, line, info, m.group(2)


def mirror(src, build):
    root = tempfile.mkdtemp(prefix="berth-docs-")
    for name in os.listdir(src):
        if name in (".git", "build"):
            continue
        os.symlink(os.path.join(src, name), os.path.join(root, name))
    os.symlink(build, os.path.join(root, "build"))
    return root


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    src, build, helm = (os.path.abspath(a) for a in argv[1:4])
    root = mirror(src, build)
    home = tempfile.mkdtemp(prefix="berth-docs-home-")
    env = dict(os.environ, HOME=home, PATH=":".join([
        os.path.join(build, "provisioner"), os.path.join(build, "cli"),
        os.path.join(build, "peer-discovery"), os.path.dirname(helm),
        os.environ.get("PATH", "/usr/bin:/bin")]))
    ran, manual, failed = 0, [], []
    try:
        for doc, line, info, body in blocks(src):
            where = "%s:%d" % (doc, line)
            words = info.split(None, 1)
            if len(words) > 1 and words[1].startswith("doctest-manual"):
                reason = words[1][len("doctest-manual"):].strip()
                if not re.fullmatch(r"\(.+\)", reason):
                    failed.append("%s: doctest-manual without a (reason)" % where)
                manual.append("%s %s" % (where, reason))
                continue
            if len(words) < 2 or words[1] != "doctest":
                failed.append("%s: a ```%s block is neither `sh doctest` (run here) nor "
                              "`sh doctest-manual (why)`" % (where, info))
                continue
            t = time.monotonic()
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=root, env=env,
                               capture_output=True, text=True, timeout=240)
            ran += 1
            if r.returncode != 0:
                failed.append("%s: exit %d\n--- block\n%s--- stdout\n%s--- stderr\n%s" %
                              (where, r.returncode, body, r.stdout[-3000:], r.stderr[-3000:]))
            else:
                print("ok   %s (%.1f s)" % (where, time.monotonic() - t), flush=True)
        for m in manual:
            print("manual %s" % m)
        for f in failed:
            print("FAIL %s" % f)
        print("%d passed, %d failed" % (ran - len([f for f in failed if ": exit " in f]),
                                        len(failed)))
        return 1 if failed or ran == 0 else 0
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
