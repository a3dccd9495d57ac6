#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner: exactly once under SIGKILL, nothing left behind by
claims deleted while they are provisioned.

200 claims are created while the provisioner is killed with SIGKILL at
random moments and started again (10 times, as a Deployment would; the
restarted container keeps its identity, so it takes its Lease back at
once). Then: 200/200 claims Bound, exactly 200 directories, no PV without
its directory, no directory without its PV, no claim still guarded by our
finalizer; every PV, as berth created it (read from a watch, before the
PV controller completes it), names its claim with the claim's uid.

Then 100 more claims, each deleted at a random moment 0-400 ms after it
was created (before, during or after its provisioning), with the
provisioner running: once they are all gone, the export holds exactly the
200 directories of the first part (no directory of a deleted claim, none
twice), no PV names a deleted claim, and the provisioner holds no claim in
flight (berth_provisioner_claims_in_flight 0).

Then the case the in-flight hold cannot cover: rounds of 40 claims during
which the provisioner is killed (SIGKILL) mid-burst while the API server's
proxy refuses every PV create (directories made, PVs never saved, as when
a kill lands between the two), and every one of
those claims deleted while it is dead, so that storage made before a PV
was saved has neither a claim nor a PV. Restarted (with a short
--sweep-interval and --sweep-grace), the sweep finds that storage through
the export's journal and removes it: the export holds exactly the first
200 directories, the journal is empty, and no PV names a deleted claim.
The test requires that at least one such leftover was seen at a kill (else
it proved nothing) and that the sweep's log names at least as many
removals. The random seed is printed
(BERTH_TEST_SEED replays a run).

    test_provisioner_chaos.py BERTH-PROVISIONER   (under bed.py run k8s nfs)
"""

import os
import random
import sys
import threading
import time

from test_provisioner_lib import (API, Created, Provisioner, apply, check, check_created_pv,
                                  claim, clear_faults, create, fault, export_dir, journal, log, poll, run,
                                  storage_class, v3_url, volume_dirs, wait_bound,
                                  wait_unguarded)

N = 200
KILLS = 10
DELETED = 100
ROUNDS = 8
ROUND_CLAIMS = 40


def delete_while_provisioning(api, p, root, rnd, before):
    """Claims deleted at random moments around their provisioning."""
    names = ["d-%03d" % i for i in range(DELETED)]
    delays = {n: rnd.uniform(0.0, 0.4) for n in names}
    path = "/api/v1/namespaces/default/persistentvolumeclaims"

    def one(n):
        api.request("POST", path, claim(n, "chaos"))
        time.sleep(delays[n])  # the random moment itself, not a wait for state
        api.request("DELETE", path + "/" + n)

    threads = [threading.Thread(target=lambda part=names[i::10]: [one(n) for n in part])
               for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    poll(lambda: not [c for c in api.claims() if c["metadata"]["name"].startswith("d-")], 60,
         "the deleted claims to go")

    def leftovers():
        dirs = volume_dirs(root) - before
        pvs = [pv["metadata"]["name"] for pv in api.pvs()
               if pv["spec"].get("claimRef", {}).get("name", "").startswith("d-")]
        return dirs, pvs
    poll(lambda: leftovers() == (set(), []), 60,
         "no directory and no PV left by the deleted claims (left: %s)" % (leftovers(),))
    poll(lambda: p.metrics().get("berth_provisioner_claims_in_flight") == 0, 30,
         "no claim held in flight")
    made = p.log_text().count('msg="provisioning volume" claim=default/d-')
    log("%d claims deleted while provisioned (%d provisioning attempts): "
        "0 directories, 0 PVs left" % (DELETED, made))


def killed_and_deleted(api, p, root, rnd, before):
    """Rounds of claims deleted while the provisioner that was making them
    is dead (SIGKILL); only the sweep can remove what they left."""
    path = "/api/v1/namespaces/default/persistentvolumeclaims"
    left_at_kill = 0

    def swept():
        return p.log_text().count('msg="sweep: removed storage whose claim and PV are both gone"')

    def leftovers():
        pvs = [pv["metadata"]["name"] for pv in api.pvs()
               if pv["spec"].get("claimRef", {}).get("name", "").startswith("e")]
        return sorted(volume_dirs(root) - before), pvs, journal(root)
    for r in range(ROUNDS):
        names = ["e%d-%03d" % (r, i) for i in range(ROUND_CLAIMS)]
        poll(lambda: "became leader" in p.current_log(), 60, "the provisioner to lead")
        # The API server's proxy refuses every PV create of the round: the
        # directories are made, their PVs never saved, as when a kill lands
        # between the two.
        fault(kind="error", code=500, resource="persistentvolumes", verb="create")
        maker = threading.Thread(target=lambda: create(*[claim(n, "chaos") for n in names]))
        maker.start()
        want = rnd.randint(1, 12)
        mark = 'msg="provisioning volume" claim=default/e%d-' % r
        poll(lambda: p.current_log().count(mark) >= want, 60,
             "%d of the round's claims provisioning" % want, interval=0.01)
        p.kill()
        maker.join()
        orphans = sorted(volume_dirs(root) - before)
        left_at_kill += len(orphans)
        log("round %d: SIGKILL; %d directories without a PV, %d journal records" %
            (r + 1, len(orphans), len(journal(root))))
        for n in names:
            api.request("DELETE", path + "/" + n)
        poll(lambda: not [c for c in api.claims() if c["metadata"]["name"].startswith("e")],
             60, "the round's claims to go")
        clear_faults()
        p.start()
        poll(lambda: leftovers() == ([], [], []), 90,
             "the sweep to remove what the killed provisioner left (left: %s)" % (leftovers(),))
        if left_at_kill > 0 and r >= 1:
            break
    check(left_at_kill > 0, "no kill left storage without a PV: the sweep was not exercised")
    check(swept() >= left_at_kill, "the sweep removed %d, want at least %d" %
          (swept(), left_at_kill))
    log("%d directories without a PV at the kills; the sweep removed %d; 0 left, journal "
        "empty" % (left_at_kill, swept()))


def main(binary, procs):
    seed = int(os.environ.get("BERTH_TEST_SEED") or time.time_ns() % 1000000)
    rnd = random.Random(seed)
    log("seed %d" % seed)
    api = API()
    root = export_dir()
    apply(storage_class("chaos", {"url": v3_url(), "archiveOnDelete": "false"}))
    created = Created(api)
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE +
                    ["--leader-election-identity", "chaos-0", "--worker-threads", "8",
                     "--sweep-interval", "1s", "--sweep-grace", "3s"])
    procs.append(p)
    p.start()
    names = ["k-%03d" % i for i in range(N)]
    maker = threading.Thread(target=lambda: create(*[claim(n, "chaos") for n in names]))
    maker.start()
    for k in range(KILLS):
        # Random moments: early (informers syncing), mid-burst, late.
        time.sleep(rnd.uniform(0.2, 1.5))
        done = len(volume_dirs(root))
        p.kill()
        log("kill %d: SIGKILL with %d directories made" % (k + 1, done))
        p.start()
    maker.join()
    wait_bound(api, names, 120)
    wait_unguarded(api)
    log("%d/%d Bound after %d kills" % (N, N, KILLS))

    claims = {c["metadata"]["name"]: c for c in api.claims()}
    pvs = {pv["metadata"]["name"]: pv for pv in api.pvs()}
    dirs = volume_dirs(root)
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
    poll(lambda: journal(root) == [], 30, "the journal to empty (left: %s)" % journal(root))
    log("exactly %d directories, one per PV, one PV per claim; journal empty" % N)
    delete_while_provisioning(api, p, root, rnd, dirs)
    check(volume_dirs(root) == dirs, "the first %d directories changed" % N)
    killed_and_deleted(api, p, root, rnd, dirs)
    check(volume_dirs(root) == dirs, "the first %d directories changed" % N)


if __name__ == "__main__":
    sys.exit(run(main))
