# SPDX-License-Identifier: Apache-2.0
"""Run the emulator: python3 -m awsemu --ready FILE [options].

Binds its four servers to 127.0.0.1 on ports the kernel picks, then writes
FILE (JSON: ports, region, account, the account's access key and secret)
atomically, so a parent can wait for it and read everything at once.
Stops on SIGTERM or SIGINT.
"""

import argparse
import json
import os
import signal
import sys
import threading

from .core import Emulator
from .server import AdminHandler, ApiHandler, ContainerHandler, ImdsHandler, Server


def read_token(path):
    if not path:
        return None
    with open(path) as f:
        return f.read().strip()


def main():
    p = argparse.ArgumentParser(prog="awsemu",
                                description="berth's AWS emulator for tests")
    p.add_argument("--ready", required=True,
                   help="write ports and credentials (JSON) here when up")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account", default="123456789012")
    p.add_argument("--web-identity-token-file",
                   help="the only web identity token STS accepts")
    p.add_argument("--container-token-file",
                   help="the Authorization value the container endpoint wants")
    a = p.parse_args()

    emu = Emulator(region=a.region, account=a.account,
                   web_identity_token=read_token(a.web_identity_token_file),
                   container_token=read_token(a.container_token_file))
    servers = {}
    for name, handler in (("api", ApiHandler), ("imds", ImdsHandler),
                          ("container", ContainerHandler),
                          ("admin", AdminHandler)):
        s = Server(handler, emu)
        s.name = name
        servers[name] = s
        # A short poll interval: stopping takes milliseconds, not seconds.
        threading.Thread(target=s.serve_forever, args=(0.05,), name=name,
                         daemon=True).start()
    info = {name + "_port": s.server_address[1] for name, s in servers.items()}
    info.update(region=emu.region, account=emu.account,
                access_key_id=emu.access_key_id,
                secret_access_key=emu.secret_access_key,
                pid=os.getpid())
    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, a.ready)
    print("awsemu: up on ports %s" % {k: v for k, v in info.items()
                                      if k.endswith("_port")},
          file=sys.stderr, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for s in servers.values():
        s.closing = True
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
