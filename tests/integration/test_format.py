#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every C source and header of berth is formatted as the repository's
.clang-format says (CONTRIBUTING.md, "Style"): clang-format changes
nothing. Test data and fuzz corpora are files of their own origin and are
not checked.

    test_format.py SOURCE-DIR            # check (the test)
    test_format.py SOURCE-DIR --fix      # format in place (scripts/format)
    test_format.py SOURCE-DIR --check    # the same as no option
"""

import os
import re
import subprocess
import sys

CLANG_FORMAT = "/usr/bin/clang-format"
# The style is clang-format 14's reading of .clang-format (Debian bookworm).
MAJOR = 14


def sources(src):
    files = subprocess.run(["git", "-C", src, "ls-files"], check=True,
                           capture_output=True, text=True).stdout.split()
    return [f for f in files
            if (f.endswith((".c", ".h")) or f.endswith(".h.in"))
            and not f.startswith("tests/data/") and "/corpus/" not in f]


def check_version():
    if not os.access(CLANG_FORMAT, os.X_OK):
        print("FAIL: %s not found: scripts/setup installs clang-format"
              % CLANG_FORMAT)
        sys.exit(1)
    out = subprocess.run([CLANG_FORMAT, "--version"], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"version (\d+)\.", out)
    if not m or int(m.group(1)) != MAJOR:
        print("FAIL: the style is clang-format %d's; this is: %s"
              % (MAJOR, out.strip()))
        sys.exit(1)


def differs(src, path):
    full = os.path.join(src, path)
    with open(full, "rb") as fh:
        before = fh.read()
    after = subprocess.run([CLANG_FORMAT, "--style=file",
                            "--assume-filename=" + full],
                           input=before, check=True,
                           capture_output=True).stdout
    return before != after


def main():
    src = sys.argv[1]
    fix = "--fix" in sys.argv[2:]
    check_version()
    files = sources(src)
    if len(files) < 200:
        print("FAIL: only %d C files found: is %s berth's checkout?"
              % (len(files), src))
        sys.exit(1)
    if fix:
        subprocess.run([CLANG_FORMAT, "-i", "--style=file"]
                       + [os.path.join(src, f) for f in files], check=True)
        print("formatted %d files" % len(files))
        return
    bad = [f for f in files if differs(src, f)]
    if bad:
        print("FAIL: %d of %d C files are not formatted as .clang-format "
              "says (run scripts/format):\n  %s"
              % (len(bad), len(files), "\n  ".join(bad)))
        sys.exit(1)
    print("ok: %d C files formatted as .clang-format says" % len(files))


if __name__ == "__main__":
    main()
