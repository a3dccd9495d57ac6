#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Migration from peer-finder: the argument lists of the Kubernetes contrib
peer-finder's and kmodules/peer-finder's StatefulSet examples (written from
their docs), given to berth-peers unchanged, against the bed's dnsmasq
with 12 members:

  - contrib: -on-start=CMD -service=web -ns=default (-domain): the hook
    gets the peers on stdin in numeric ordinal order (web-2 before web-10;
    peer-finder sorted them as text), and the program exits 0 after it,
    as peer-finder does without -on-change (its init-container pattern);
  - kmodules: -address-type=DNS plus -selector, -kubeconfig, -master,
    -hosts-file and klog's -v 3, -alsologtostderr, -log_dir: accepted
    (-hosts-file is not -h, -v is not the version), the API-only ones
    logged as ignored with the reason; the hook also gets kmodules'
    HOST_ADDRESS=<own FQDN>, HOST_ADDRESS_TYPE=DNS, POD_IP (the downward
    API's $POD_IP) and POD_IP_TYPE=IPv4, beside berth's own BERTH_*;
  - kmodules -address-type=IPv6: peers as IPv6 addresses, HOST_ADDRESS and
    POD_IP this member's IPv6 address, types IPv6.

    test_migrate_peers.py BERTH-PEERS   (under bed.py run dns)
"""

import os
import shlex
import tempfile

from test_peers_lib import Peers, bed_ctl, check, main, member, poll, read

HOOK = "sh -c 'cat > {d}/stdin.tmp; env > {d}/env; mv {d}/stdin.tmp {d}/stdin'"


def hook(d):
    return HOOK.format(d=shlex.quote(d))


def result(d, p):
    poll(lambda: os.path.exists(os.path.join(d, "stdin")), 15, "the hook's run")
    env = dict(line.split("=", 1) for line in read(os.path.join(d, "env")).splitlines()
               if "=" in line)
    return read(os.path.join(d, "stdin")).split(), env


def test_contrib_example(binary, running):
    bed_ctl("scale", "web", "12")
    d = tempfile.mkdtemp(prefix="berth-pf-")
    # contrib's mongodb/zookeeper examples: -on-start=... -service=...
    p = Peers(binary, ["-on-start=" + hook(d), "-service=web", "-ns=default",
                       "-domain=cluster.local"], env={"HOSTNAME": "web-0"})
    running.append(p)
    peers, env = result(d, p)
    check(peers == [member(i) for i in range(12)],
          "peers not in numeric ordinal order: %s" % peers)
    check(env.get("BERTH_SELF") == member(0) and env.get("BERTH_ORDINAL") == "0",
          "BERTH_*: %s" % {k: v for k, v in env.items() if k.startswith("BERTH_")})
    # With -on-start alone peer-finder exits after it (its init-container
    # pattern); so does berth-peers.
    check(p.wait_exit(5) == 0, "exit status after on-start")
    p.wait_log(r'msg=done mode=on-start', 1)


def test_kmodules_example(binary, running):
    bed_ctl("scale", "web", "12")
    d = tempfile.mkdtemp(prefix="berth-pf-")
    p = Peers(binary, ["-address-type=DNS", "-service=web", "-ns", "default",
                       "-domain=cluster.local", "-selector=app=web",
                       "-kubeconfig", "/nonexistent/kubeconfig", "-master=https://10.0.0.1",
                       "-hosts-file", "/etc/hosts", "-v", "3", "-alsologtostderr",
                       "-log_dir=/tmp", "-on-start", hook(d)],
              env={"HOSTNAME": "web-3", "POD_IP": "10.244.0.13"})
    running.append(p)
    peers, env = result(d, p)
    check(peers == [member(i) for i in range(12)], "peers: %s" % peers)
    want = {"HOST_ADDRESS": member(3), "HOST_ADDRESS_TYPE": "DNS",
            "POD_IP": "10.244.0.13", "POD_IP_TYPE": "IPv4",
            "BERTH_SELF": member(3), "BERTH_ORDINAL": "3"}
    got = {k: env.get(k) for k in want}
    check(got == want, "hook environment %s, want %s" % (got, want))
    for flag in ("selector", "kubeconfig", "master", "hosts-file", "alsologtostderr",
                 "log_dir"):
        p.wait_log(r'msg="peer-finder flag accepted and ignored" flag=%s .*reason=' % flag, 5)
    check(not p.matching(r"^berth-peers \d") and not p.matching(r"^Usage:"),
          "-v printed the version or -hosts-file the help: %s" % p.log()[:3])
    p.terminate(within=1.0)


def test_kmodules_ipv6(binary, running):
    bed_ctl("scale", "web", "3")
    d = tempfile.mkdtemp(prefix="berth-pf-")
    p = Peers(binary, ["-address-type=IPv6", "-service=web", "-ns=default",
                       "-domain=cluster.local", "-on-start=" + hook(d)],
              env={"HOSTNAME": "web-1"})
    running.append(p)
    peers, env = result(d, p)
    check(peers == ["fd00:10:244::a", "fd00:10:244::b", "fd00:10:244::c"],
          "peers as IPv6 addresses, in ordinal order: %s" % peers)
    check(env.get("HOST_ADDRESS") == "fd00:10:244::b" and
          env.get("HOST_ADDRESS_TYPE") == "IPv6" and env.get("POD_IP") == "fd00:10:244::b"
          and env.get("POD_IP_TYPE") == "IPv6",
          "IPv6 environment: %s" % {k: env.get(k) for k in
                                    ("HOST_ADDRESS", "HOST_ADDRESS_TYPE", "POD_IP",
                                     "POD_IP_TYPE")})
    p.terminate(within=1.0)


if __name__ == "__main__":
    main([test_contrib_example, test_kmodules_example, test_kmodules_ipv6])
