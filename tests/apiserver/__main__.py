# SPDX-License-Identifier: Apache-2.0
"""Entry point: PYTHONPATH=tests /usr/bin/python3 -m apiserver --workdir DIR

Writes in DIR: pki/ (CA and server certificate), tokens.csv,
serviceaccount/{token,ca.crt,namespace}, kubeconfig, and ready.json
({"url", "admin_url", "kubeconfig", "token_file", "ca", "pid"}) once both
servers listen. Exits on SIGTERM or SIGINT.
"""

import sys

if not __package__:
    # Run as a directory (python3 tests/apiserver): import it as the
    # package it is, from tests/.
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, os.path.dirname(here))
    import runpy
    runpy.run_module("apiserver", run_name="__main__", alter_sys=True)
    sys.exit(0)

from .main import main  # noqa: E402

sys.exit(main())
