# SPDX-License-Identifier: Apache-2.0
"""Load: 10,000 claims and 10,000 volumes through the API, then full lists
and a watch that replays them. Prints the figures; fails only when the
server falls over or takes absurdly long (limits below).

    tests/bed/bed.py run k8s -- /usr/bin/python3 tests/apiserver/test_load.py [N]
"""

import json
import os
import sys
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402

N = int(os.environ.get("BERTH_LOAD_N", "10000"))
THREADS = 4
LIMIT_CREATE_S = 90.0       # for 2 x N creates
LIMIT_LIST_S = 10.0


def create_many(kind_path, make, n, threads=THREADS):
    errors = []

    def work(lo, hi):
        c = testlib.Client()
        try:
            for i in range(lo, hi):
                r = c.post(kind_path, make(i))
                if r.status != 201:
                    errors.append((i, r.status, r.body[:200]))
        finally:
            c.close()
    step = (n + threads - 1) // threads
    ts = [threading.Thread(target=work, args=(k * step, min(n, (k + 1) * step)))
          for k in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.monotonic() - t0, errors


def setUpModule():
    # Watch sockets are closed by their reader threads; do not report them.
    warnings.simplefilter("ignore", ResourceWarning)


class Load(unittest.TestCase):
    figures = {}

    @classmethod
    def tearDownClass(cls):
        print("\nfigures (N=%d):" % N)
        for k, v in cls.figures.items():
            print("  %-44s %s" % (k, v))

    def test_10k_claims_and_volumes(self):
        c = testlib.Client()
        # A namespace of its own, and claims of a class without provisioner
        # and volumes pre-bound to them: the PV controller binds every pair.
        self.assertEqual(c.post("/api/v1/namespaces", {"metadata": {"name": "load"}}).status, 201)
        sc = testlib.storage_class("static", provisioner="kubernetes.io/no-provisioner")
        self.assertEqual(c.post("/apis/storage.k8s.io/v1/storageclasses", sc).status, 201)
        w = testlib.Watch("/api/v1/namespaces/load/persistentvolumeclaims?watch=1&resourceVersion=%s"
                          % c.get("/api/v1/namespaces/load/persistentvolumeclaims").json()
                          ["metadata"]["resourceVersion"])

        dt, errs = create_many("/api/v1/namespaces/load/persistentvolumeclaims",
                               lambda i: testlib.pvc("claim-%05d" % i, "load", cls="static"), N)
        self.assertEqual(errs, [])
        self.figures["create %d PVCs (%d threads)" % (N, THREADS)] = \
            "%.1f s, %.0f/s" % (dt, N / dt)
        dt2, errs = create_many("/api/v1/persistentvolumes",
                                lambda i: testlib.pv("vol-%05d" % i, cls="static",
                                                     claim=("load", "claim-%05d" % i)), N)
        self.assertEqual(errs, [])
        self.figures["create %d PVs (%d threads)" % (N, THREADS)] = "%.1f s, %.0f/s" % (dt2, N / dt2)
        self.assertLess(dt + dt2, LIMIT_CREATE_S)

        t0 = time.monotonic()
        r = c.get("/api/v1/namespaces/load/persistentvolumeclaims")
        dl = time.monotonic() - t0
        self.assertEqual(r.status, 200)
        items = json.loads(r.body)["items"]
        self.assertEqual(len(items), N)
        self.figures["list %d PVCs (JSON)" % N] = "%.2f s, %.1f MB" % (dl, len(r.body) / 1e6)
        self.assertLess(dl, LIMIT_LIST_S)

        t0 = time.monotonic()
        r = c.get("/api/v1/persistentvolumes",
                  headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
        dl = time.monotonic() - t0
        self.assertEqual(len(json.loads(r.body)["rows"]), N)
        self.figures["list %d PVs (Table)" % N] = "%.2f s, %.1f MB" % (dl, len(r.body) / 1e6)

        # Pages of 500, as kubectl and informers ask.
        t0 = time.monotonic()
        got, cont, pages = 0, "", 0
        while True:
            r = c.get("/api/v1/persistentvolumeclaims?limit=500" + ("&continue=" + cont if cont else "")).json()
            got += len(r["items"])
            pages += 1
            cont = r["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(got, N)
        self.figures["list %d PVCs in pages of 500" % N] = "%.2f s, %d pages" % (time.monotonic() - t0, pages)

        # The controller binds every claim; the watch sees all of it.
        t0 = time.monotonic()
        testlib.eventually(lambda: testlib.admin("POST", "/idle", {"timeout": 60})["idle"], 120,
                           "controllers idle")
        bound = sum(1 for o in c.get("/api/v1/namespaces/load/persistentvolumeclaims").json()["items"]
                    if o["status"].get("phase") == "Bound")
        self.figures["PV controller binds %d pairs (after creates)" % N] = "%.1f s more" % (time.monotonic() - t0)
        self.assertEqual(bound, N)
        w.wait_for(lambda evs: sum(1 for e in evs if e["type"] == "ADDED") >= N, 60)
        self.figures["watch events received"] = str(len(w.events))
        w.close()

        # A new watch from "0" replays the current state as ADDED events.
        t0 = time.monotonic()
        w2 = testlib.Watch("/api/v1/persistentvolumes?watch=1&timeoutSeconds=60")
        w2.wait_for(lambda evs: len(evs) >= N, 60)
        self.figures["watch from 0: %d ADDED" % N] = "%.2f s" % (time.monotonic() - t0)
        w2.close()
        # The real kubectl, which lists in chunks of 500 (Table rows).
        import shutil
        import subprocess
        if shutil.which("kubectl"):
            for args, what in ((["get", "pvc", "-n", "load", "--no-headers"], "kubectl get pvc (table)"),
                               (["get", "pv", "-o", "name"], "kubectl get pv -o name")):
                t0 = time.monotonic()
                out = subprocess.run(["kubectl"] + args, stdout=subprocess.PIPE, check=True,
                                     timeout=120).stdout.decode().splitlines()
                self.figures["%s: %d lines" % (what, len(out))] = "%.2f s" % (time.monotonic() - t0)
                self.assertEqual(len(out), N)
                if "pvc" in args:
                    self.assertRegex(out[0], r"^claim-00000 +Bound +vol-00000 +1Gi +RWO +static ")
        st = testlib.admin("GET", "/state")
        self.figures["objects in store"] = json.dumps(st["objects"])
        c.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].isdigit():
        N = int(sys.argv.pop(1))
    unittest.main(verbosity=2)
