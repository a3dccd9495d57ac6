# SPDX-License-Identifier: Apache-2.0
"""The "moto" component of berth's test bed: moto's server (PyPI, pinned in
tests/aws/moto-requirements.txt, installed by scripts/setup into a virtual
environment through tests/aws/moto-venv.sh) on 127.0.0.1: a second,
independent opinion on AWS's EC2 and EFS APIs beside berth's own emulator
(component "aws", which stays the one that checks SigV4 signatures).

Exports:
  BERTH_MOTO_URL     http://127.0.0.1:PORT (EC2, EFS and STS share it)
  BERTH_MOTO_PYTHON  the environment's python, with boto3 for checks
moto accepts any access key; tests use "testing"/"testing" and region
us-east-1.
"""

import os
import subprocess

import bedlib

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(os.path.dirname(HERE), "aws", "moto-venv.sh")


def start(workdir):
    d = subprocess.run(["/bin/bash", VENV, "--dir"], check=True, text=True,
                       stdout=subprocess.PIPE).stdout.strip()
    if not os.path.exists(os.path.join(d, "stamp")):
        raise bedlib.BedError("moto: not installed in %s: run scripts/setup "
                              "(or tests/aws/moto-venv.sh)" % d)
    port = bedlib.free_port()
    log = os.path.join(workdir, "moto.log")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = bedlib.spawn([os.path.join(d, "bin", "moto_server"), "-H", "127.0.0.1",
                         "-p", str(port)], log, env=env, cwd=workdir)
    try:
        bedlib.wait_until(lambda: bedlib.tcp_open(port), 60, "moto_server", proc, log)
    except BaseException:
        bedlib.kill_pid(proc.pid)
        raise
    return {"env": {"BERTH_MOTO_URL": "http://127.0.0.1:%d" % port,
                    "BERTH_MOTO_PYTHON": os.path.join(d, "bin", "python")},
            "pids": [proc.pid], "info": {"port": port}}
