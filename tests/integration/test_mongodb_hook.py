#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""examples/mongodb's bootstrap, run as the manifest says: `berth-peers
install` copies berth-peers-static into a work dir, then the bootstrap
init container's exact command and args (/work-dir moved to a temporary
directory; --hook-backoff 100ms added to keep the test short) run
on-start.sh from the example's ConfigMap against the bed's dnsmasq, with a
fake mongosh and mongod on PATH (test_mongodb_fake_mongo.sh) that record
their arguments and model one replica set. Checked: the script's own
logic.

- mongo-1 starting before mongo-0 waits (no primary yet: the hook fails
  and is retried) and adds nothing;
- mongo-0 starts a temporary mongod (--replSet rs0), rs.initiate's the set
  with itself only, stops mongod, and berth-peers exits 0 (as peer-finder
  does with -on-start alone);
- mongo-2 waits while mongo-1 is not in the set; members are added on the
  primary in ordinal order (mongo-1, then mongo-2), each by itself;
- a restarted member already in the set changes nothing.

    test_mongodb_hook.py BERTH-PEERS-STATIC   (under bed.py run dns)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

from test_peers_lib import Peers, bed_ctl, check, poll

HERE = os.path.dirname(os.path.abspath(__file__))
EX = os.path.join(HERE, "..", "..", "examples", "mongodb")
FAKE = os.path.join(HERE, "test_mongodb_fake_mongo.sh")
SVC = "mongo.default.svc.cluster.local"


def member(i):
    return "mongo-%d.%s:27017" % (i, SVC)


def manifest():
    """(on-start.sh text, the bootstrap container)."""
    with open(os.path.join(EX, "configmap.yaml")) as f:
        script = yaml.safe_load(f)["data"]["on-start.sh"]
    with open(os.path.join(EX, "mongodb.yaml")) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    sts = next(d for d in docs if d["kind"] == "StatefulSet")
    inits = {c["name"]: c for c in sts["spec"]["template"]["spec"]["initContainers"]}
    return script, inits


class Bed:
    def __init__(self, static):
        self.tmp = tempfile.mkdtemp(prefix="berth-mongo-")
        self.work = os.path.join(self.tmp, "work-dir")
        self.state = os.path.join(self.tmp, "state")
        self.bin = os.path.join(self.tmp, "bin")
        for d in (self.work, self.state, self.bin):
            os.makedirs(d)
        for name in ("mongosh", "mongod"):
            os.symlink(FAKE, os.path.join(self.bin, name))
        script, inits = manifest()
        install = inits["install"]["command"]
        check(install == ["berth-peers", "install", "/work-dir"],
              "install init container: %s" % install)
        r = subprocess.run([static, "install", self.work], capture_output=True,
                           text=True)
        check(r.returncode == 0, "berth-peers install: %s" % r.stderr)
        hook = os.path.join(self.work, "on-start.sh")
        with open(hook, "w") as f:
            f.write(script)
        os.chmod(hook, 0o555)
        boot = inits["bootstrap"]
        self.argv = [x.replace("/work-dir", self.work)
                     for x in boot["command"] + boot["args"]]
        check(self.argv[0] == os.path.join(self.work, "berth-peers"),
              "bootstrap runs %s" % boot["command"])

    def start(self, i, running):
        env = {"HOSTNAME": "mongo-%d" % i, "POD_NAMESPACE": "default",
               "REPLICA_SET": "rs0", "FAKE_MONGO": self.state,
               "MONGOD_LOG": os.path.join(self.tmp, "mongod.log"),
               "PATH": self.bin + ":/usr/bin:/bin"}
        p = Peers(self.argv[0], self.argv[1:] + ["--hook-backoff", "100ms"],
                  env=env)
        running.append(p)
        return p

    def calls(self, i=None):
        """Every call, or member i's own."""
        name = "calls" if i is None else "calls.mongo-%d.%s" % (i, SVC)
        try:
            with open(os.path.join(self.state, name)) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def scripts(self, word):
        """[(host, script)] of the mongosh calls whose script has word."""
        out = []
        for c in self.calls():
            if not c.startswith("mongosh ["):
                continue
            # The fake writes each argument as " [ARG]".
            args = c[len("mongosh ["):-1].split("] [")
            if word in args[-1]:
                out.append((args[args.index("--host") + 1], args[-1]))
        return out


def test_bootstrap(static, running):
    bed_ctl("scale", "mongo", "3")
    b = Bed(static)
    m1 = b.start(1, running)
    m1.wait_log(r'line="on-start: no primary yet; member 0 initiates the set '
                r'first"', 10, count=2)
    check(m1.proc.poll() is None, "mongo-1 gave up instead of retrying")
    check(not b.scripts("rs.add") and not b.scripts("rs.initiate"),
          "changed the set without a primary: %s" % b.calls())

    m0 = b.start(0, running)
    check(m0.wait_exit(10) == 0, "mongo-0's bootstrap exit status")
    m0.wait_log(r'msg=done mode=on-start', 1)
    init = b.scripts("rs.initiate")
    check(init == [("localhost:27017",
                    "print(rs.initiate({_id: 'rs0', members: [{_id: 0, host: '%s'}]}).ok)"
                    % member(0))], "rs.initiate: %s" % init)
    mongods = [c for c in b.calls(0) if c.startswith("mongod")]
    check("[--replSet] [rs0]" in mongods[0] and "[--dbpath] [/data/db]" in mongods[0]
          and "[--fork]" in mongods[0], "temporary mongod: %s" % mongods)
    check(len(mongods) == 2 and mongods[-1] == "mongod [--dbpath] [/data/db] [--shutdown]",
          "mongo-0's temporary mongod not stopped: %s" % mongods)

    check(m1.wait_exit(10) == 0, "mongo-1's bootstrap after mongo-0")
    m1.wait_log(r'line="on-start: added %s on %s"' % (re.escape(member(1)),
                                                     re.escape(member(0))), 1)
    # mongo-2 joins after mongo-1: the members' order is the ordinals'.
    m2 = b.start(2, running)
    check(m2.wait_exit(10) == 0, "mongo-2's bootstrap")
    adds = b.scripts("rs.add")
    check(adds == [(member(0), "print(rs.add({host: '%s'}).ok)" % member(i))
                   for i in (1, 2)], "rs.add calls: %s" % adds)
    with open(os.path.join(b.state, "members")) as f:
        check(f.read().split() == [member(i) for i in range(3)], "members")

    # A restart of a member that is in the set changes nothing.
    n = len(b.calls())
    m1 = b.start(1, running)
    check(m1.wait_exit(10) == 0, "mongo-1's restart")
    m1.wait_log(r'already in a replica set', 1)
    check(not [c for c in b.calls()[n:] if "rs.add" in c or "rs.initiate" in c],
          "a restart changed the set: %s" % b.calls()[n:])
    shutil.rmtree(b.tmp, ignore_errors=True)


def test_waits_for_lower_ordinals(static, running):
    bed_ctl("scale", "mongo", "4")
    b = Bed(static)
    with open(os.path.join(b.state, "primary"), "w") as f:
        f.write(member(0) + "\n")
    with open(os.path.join(b.state, "members"), "w") as f:
        f.write(member(0) + " " + member(1) + "\n")
    m3 = b.start(3, running)
    m3.wait_log(r'line="on-start: waiting for mongo-2\.%s to join first"'
                % re.escape(SVC), 10, count=2)
    check(not b.scripts("rs.add"), "mongo-3 added before mongo-2: %s" % b.calls())
    m2 = b.start(2, running)
    check(m2.wait_exit(10) == 0, "mongo-2's bootstrap")
    check(m3.wait_exit(10) == 0, "mongo-3's bootstrap after mongo-2")
    adds = [s for _, s in b.scripts("rs.add")]
    check(adds == ["print(rs.add({host: '%s'}).ok)" % member(i) for i in (2, 3)],
          "rs.add order: %s" % adds)
    shutil.rmtree(b.tmp, ignore_errors=True)


def main():
    if len(sys.argv) != 2:
        print("usage: %s BERTH-PEERS-STATIC" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    failed = 0
    for t in (test_bootstrap, test_waits_for_lower_ordinals):
        running = []
        try:
            t(sys.argv[1], running)
            print("ok - %s" % t.__name__)
        except Exception as e:  # report every test, then fail
            failed += 1
            print("FAIL - %s: %s: %s" % (t.__name__, type(e).__name__, e))
            for p in running:
                print("--- log of %s" % " ".join(p.argv))
                print("\n".join(p.log()[-30:]))
        finally:
            for p in running:
                p.kill()
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
