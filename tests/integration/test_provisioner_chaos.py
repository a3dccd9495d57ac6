#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner: exactly once under SIGKILL.

200 claims are created while the provisioner is killed with SIGKILL at
random moments and started again (10 times, as a Deployment would; the
restarted container keeps its identity, so it takes its Lease back at
once). Then: 200/200 claims Bound, exactly 200 directories, no PV without
its directory, no directory without its PV, no claim still guarded by our
finalizer; every PV, as berth created it (read from a watch, before the
PV controller completes it), names its claim with the claim's uid. The random seed is printed (BERTH_TEST_SEED replays a run).

    test_provisioner_chaos.py BERTH-PROVISIONER   (under bed.py run k8s nfs)
"""

import os
import random
import sys
import threading
import time

from test_provisioner_lib import (API, Created, Provisioner, apply, check, check_created_pv,
                                  claim, create, export_dir, log, run, storage_class, v3_url,
                                  wait_bound, wait_unguarded)

N = 200
KILLS = 10


def main(binary, procs):
    seed = int(os.environ.get("BERTH_TEST_SEED") or time.time_ns() % 1000000)
    rnd = random.Random(seed)
    log("seed %d" % seed)
    api = API()
    root = export_dir()
    apply(storage_class("chaos", {"url": v3_url(), "archiveOnDelete": "false"}))
    created = Created(api)
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE +
                    ["--leader-election-identity", "chaos-0", "--worker-threads", "8"])
    procs.append(p)
    p.start()
    names = ["k-%03d" % i for i in range(N)]
    maker = threading.Thread(target=lambda: create(*[claim(n, "chaos") for n in names]))
    maker.start()
    for k in range(KILLS):
        # Random moments: early (informers syncing), mid-burst, late.
        time.sleep(rnd.uniform(0.2, 1.5))
        done = len(os.listdir(root))
        p.kill()
        log("kill %d: SIGKILL with %d directories made" % (k + 1, done))
        p.start()
    maker.join()
    wait_bound(api, names, 120)
    wait_unguarded(api)
    log("%d/%d Bound after %d kills" % (N, N, KILLS))

    claims = {c["metadata"]["name"]: c for c in api.claims()}
    pvs = {pv["metadata"]["name"]: pv for pv in api.pvs()}
    dirs = set(os.listdir(root))
    check(len(pvs) == N, "%d PVs, want %d" % (len(pvs), N))
    check(len(dirs) == N, "%d directories, want %d: extra %s" %
          (len(dirs), N, sorted(dirs - {pv["metadata"]["annotations"]["nfs.berth.io/directory"]
                                        for pv in pvs.values()})[:5]))
    pv_dirs = set()
    for name, pv in pvs.items():
        d = pv["metadata"]["annotations"]["nfs.berth.io/directory"]
        check(d in dirs, "PV %s without its directory %s" % (name, d))
        check(pv["spec"]["nfs"]["path"] == "/export/" + d, "PV %s path" % name)
        ref = pv["spec"]["claimRef"]
        check_created_pv(created, name, claims[ref["name"]])
        pv_dirs.add(d)
    check(dirs == pv_dirs, "directories without a PV: %s" % sorted(dirs - pv_dirs)[:5])
    log("exactly %d directories, one per PV, one PV per claim" % N)


if __name__ == "__main__":
    sys.exit(run(main))
