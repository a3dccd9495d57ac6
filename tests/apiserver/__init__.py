# SPDX-License-Identifier: Apache-2.0
"""berth's small Kubernetes API server for tests and demos (Python 3 stdlib).

Run it as a package:

    PYTHONPATH=tests /usr/bin/python3 -m apiserver --workdir DIR

or through the test bed: tests/bed/bed.py run k8s -- CMD. See README.md.
"""

VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-berth",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}
