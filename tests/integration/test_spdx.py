#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every source, script and build file of berth carries the SPDX line of
the project's license (Apache-2.0, LICENSE) in its first lines: C files as
a /* */ comment, the rest as a # comment after any #! line. Test data and
fuzz corpora are files of their own origin (NOTICE) and are not checked.

    test_spdx.py SOURCE-DIR
"""

import os
import subprocess
import sys

TAG = "SPDX-License-Identifier: Apache-2.0"


def wanted(path):
    if path.startswith("tests/data/") or "/corpus/" in path:
        return False
    base = os.path.basename(path)
    ext = os.path.splitext(path)[1]
    if ext in (".c", ".h", ".py", ".sh", ".cmake") or path.endswith(".h.in"):
        return True
    if base in ("CMakeLists.txt", "Dockerfile") or path == ".ci/run":
        return True
    return path.startswith("scripts/") and ext == ""


def main():
    src = sys.argv[1]
    files = subprocess.run(["git", "-C", src, "ls-files"], check=True,
                           capture_output=True, text=True).stdout.split()
    checked, missing = 0, []
    for f in filter(wanted, files):
        with open(os.path.join(src, f), errors="replace") as fh:
            head = fh.read(400)
        checked += 1
        if TAG not in head:
            missing.append(f)
    if checked < 200:
        print("FAIL: only %d files checked: is %s berth's checkout?" % (checked, src))
        sys.exit(1)
    if missing:
        print("FAIL: %d files without '%s' in their first lines:\n  %s"
              % (len(missing), TAG, "\n  ".join(missing)))
        sys.exit(1)
    print("ok: %d files carry the SPDX line" % checked)


if __name__ == "__main__":
    main()
