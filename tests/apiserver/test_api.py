# SPDX-License-Identifier: Apache-2.0
"""Integration tests of berth's test API server over HTTPS: authentication,
discovery, Status errors, resourceVersion and optimistic concurrency,
finalizers, selectors, paging, watch (bookmarks, 410), patches, the
controllers (PV binding, Released, WaitForFirstConsumer, protection,
namespace deletion) and every fault switch.

    tests/bed/bed.py run k8s -- /usr/bin/python3 tests/apiserver/test_api.py
"""

import json
import os
import sys
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from testlib import admin, eventually  # noqa: E402

NS = "/api/v1/namespaces/default"
PVCS = NS + "/persistentvolumeclaims"
PVS = "/api/v1/persistentvolumes"
SCS = "/apis/storage.k8s.io/v1/storageclasses"
CMS = NS + "/configmaps"
PODS = NS + "/pods"


def pod(name, claim=None, node=None, labels=None):
    o = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
         "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}
    if claim:
        o["spec"]["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]
    if node:
        o["spec"]["nodeName"] = node
    if labels:
        o["metadata"]["labels"] = labels
    return o


def setUpModule():
    # Watch sockets are closed by their reader threads; do not report them.
    warnings.simplefilter("ignore", ResourceWarning)


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = testlib.Client()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()

    def setUp(self):
        admin("DELETE", "/faults")

    def ok(self, r, code=200):
        self.assertEqual(r.status, code, r.body[:500])
        return r.json()

    def status(self, r, code, reason):
        self.assertEqual(r.status, code, r.body[:500])
        s = r.json()
        self.assertEqual((s["kind"], s["apiVersion"], s["status"], s["code"], s.get("reason")),
                         ("Status", "v1", "Failure", code, reason), s)
        return s

    def get(self, path):
        return self.ok(self.c.get(path))

    def idle(self):
        self.assertTrue(admin("POST", "/idle", {"timeout": 10})["idle"])


class Auth(Base):
    def test_wrong_and_missing_token_are_401(self):
        for tok in ("wrong", ""):
            s = self.status(testlib.Client(token=tok).get("/api/v1/pods"), 401, "Unauthorized")
            self.assertEqual(s["message"], "Unauthorized")
        self.status(testlib.Client(token="wrong").get("/version"), 401, "Unauthorized")

    def test_health_needs_no_token(self):
        self.assertEqual(testlib.Client(token="").get("/healthz").status, 200)


class Discovery(Base):
    def test_documents(self):
        self.assertEqual(self.get("/api")["versions"], ["v1"])
        groups = {g["name"] for g in self.get("/apis")["groups"]}
        self.assertTrue({"storage.k8s.io", "coordination.k8s.io", "events.k8s.io"} <= groups)
        v1 = {r["name"]: r for r in self.get("/api/v1")["resources"]}
        self.assertEqual(v1["persistentvolumeclaims"]["shortNames"], ["pvc"])
        self.assertTrue(v1["persistentvolumeclaims"]["namespaced"])
        self.assertFalse(v1["persistentvolumes"]["namespaced"])
        self.assertIn("persistentvolumeclaims/status", v1)
        st = {r["name"] for r in self.get("/apis/storage.k8s.io/v1")["resources"]}
        self.assertTrue({"storageclasses", "volumeattachments", "volumeattachments/status",
                         "csinodes"} <= st)
        self.assertEqual(self.get("/version")["minor"], "32")
        idx = self.get("/openapi/v3")["paths"]
        self.assertIn("api/v1", idx)
        doc = self.get(idx["apis/storage.k8s.io/v1"]["serverRelativeURL"])
        self.assertIn("/apis/storage.k8s.io/v1/storageclasses/{name}", doc["paths"])


class Errors(Base):
    def test_not_found_details(self):
        s = self.status(self.c.get(PVCS + "/nope"), 404, "NotFound")
        self.assertEqual(s["message"], 'persistentvolumeclaims "nope" not found')
        self.assertEqual(s["details"], {"name": "nope", "kind": "persistentvolumeclaims"})
        s = self.status(self.c.get(SCS + "/nope"), 404, "NotFound")
        self.assertEqual(s["details"], {"name": "nope", "group": "storage.k8s.io",
                                        "kind": "storageclasses"})
        self.status(self.c.get("/api/v1/nothings"), 404, "NotFound")

    def test_already_exists_invalid_badrequest_method(self):
        self.ok(self.c.post(CMS, {"metadata": {"name": "dup"}}), 201)
        s = self.status(self.c.post(CMS, {"metadata": {"name": "dup"}}), 409, "AlreadyExists")
        self.assertEqual(s["message"], 'configmaps "dup" already exists')
        s = self.status(self.c.post(CMS, {"metadata": {}}), 422, "Invalid")
        self.assertEqual(s["details"]["causes"][0]["field"], "metadata.name")
        self.assertIn("name or generateName is required", s["message"])
        s = self.status(self.c.post(CMS, {"metadata": {"name": "Bad_Name"}}), 422, "Invalid")
        self.assertIn("RFC 1123", s["message"])
        self.status(self.c.post(CMS, b'{"metadata": '), 400, "BadRequest")
        self.status(self.c.post(CMS + "/dup", {}), 405, "MethodNotAllowed")
        self.status(self.c.get("/api/v1/pods?labelSelector=a%20in%20("), 400, "BadRequest")
        s = self.status(self.c.get("/api/v1/pods?fieldSelector=spec.bogus%3Dx"), 400, "BadRequest")
        self.assertIn("field label not supported", s["message"])
        s = self.status(self.c.post("/api/v1/namespaces/nowhere/configmaps",
                                    {"metadata": {"name": "x"}}), 404, "NotFound")
        self.assertEqual(s["message"], 'namespaces "nowhere" not found')


class Semantics(Base):
    def test_create_fields_and_generate_name(self):
        o = self.ok(self.c.post(CMS, {"metadata": {"generateName": "gen-"}, "data": {"a": "b"}}), 201)
        md = o["metadata"]
        self.assertRegex(md["name"], r"^gen-[a-z0-9]{5}$")
        self.assertRegex(md["uid"], r"^[0-9a-f-]{36}$")
        self.assertRegex(md["creationTimestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        lst = self.get(CMS)
        self.assertGreaterEqual(int(lst["metadata"]["resourceVersion"]), int(md["resourceVersion"]))
        self.assertEqual(lst["kind"], "ConfigMapList")

    def test_optimistic_concurrency(self):
        o = self.ok(self.c.post(CMS, {"metadata": {"name": "occ"}, "data": {"v": "1"}}), 201)
        stale = json.loads(json.dumps(o))
        o["data"]["v"] = "2"
        o2 = self.ok(self.c.put(CMS + "/occ", o))
        self.assertGreater(int(o2["metadata"]["resourceVersion"]), int(o["metadata"]["resourceVersion"]))
        stale["data"]["v"] = "3"
        s = self.status(self.c.put(CMS + "/occ", stale), 409, "Conflict")
        self.assertIn("the object has been modified", s["message"])
        # A no-op update keeps the resourceVersion.
        o3 = self.ok(self.c.put(CMS + "/occ", o2))
        self.assertEqual(o3["metadata"]["resourceVersion"], o2["metadata"]["resourceVersion"])
        # A patch carrying a stale resourceVersion is a conflict too.
        self.status(self.c.patch(CMS + "/occ", {"metadata": {"resourceVersion": stale["metadata"]["resourceVersion"]},
                                                "data": {"v": "4"}}), 409, "Conflict")

    def test_status_subresource(self):
        self.ok(self.c.post(PVCS, testlib.pvc("st", cls="none-such")), 201)
        o = self.get(PVCS + "/st")
        o["status"] = {"phase": "Bound"}
        o["metadata"]["labels"] = {"x": "y"}
        o = self.ok(self.c.put(PVCS + "/st", o))
        self.assertEqual(o["status"]["phase"], "Pending")       # main resource ignores status
        self.assertEqual(o["metadata"]["labels"], {"x": "y"})
        o["status"] = {"phase": "Lost"}
        o["spec"]["volumeName"] = "ignored"
        o = self.ok(self.c.put(PVCS + "/st/status", o))
        self.assertEqual(o["status"]["phase"], "Lost")           # status ignores spec
        self.assertNotIn("volumeName", o["spec"])

    def test_finalizers_block_removal(self):
        self.ok(self.c.post(CMS, {"metadata": {"name": "fin", "finalizers": ["test/hold"]}}), 201)
        lrv = self.get(CMS)["metadata"]["resourceVersion"]
        w = testlib.Watch(CMS + "?watch=1&fieldSelector=metadata.name%3Dfin&resourceVersion=" + lrv)
        o = self.ok(self.c.delete(CMS + "/fin"))
        self.assertIn("deletionTimestamp", o["metadata"])
        self.assertIn("deletionTimestamp", self.get(CMS + "/fin")["metadata"])
        s = self.status(self.c.patch(CMS + "/fin", {"metadata": {"finalizers": ["test/hold", "new"]}}),
                        422, "Invalid")
        self.assertIn("no new finalizers", s["message"])
        self.ok(self.c.patch(CMS + "/fin", [{"op": "remove", "path": "/metadata/finalizers"}], "json"))
        self.status(self.c.get(CMS + "/fin"), 404, "NotFound")
        evs = w.wait_for(lambda e: any(x["type"] == "DELETED" for x in e))
        self.assertEqual([e["type"] for e in evs], ["MODIFIED", "MODIFIED", "DELETED"])
        w.close()

    def test_delete_preconditions(self):
        o = self.ok(self.c.post(CMS, {"metadata": {"name": "pre"}}), 201)
        s = self.status(self.c.delete(CMS + "/pre", {"preconditions": {"uid": "0000"}}), 409, "Conflict")
        self.assertIn("Precondition failed: UID in precondition: 0000", s["message"])
        self.status(self.c.delete(CMS + "/pre", {"preconditions": {"resourceVersion": "1"}}), 409, "Conflict")
        self.ok(self.c.delete(CMS + "/pre", {"preconditions": {"uid": o["metadata"]["uid"]}}))

    def test_dry_run(self):
        self.ok(self.c.post(CMS + "?dryRun=All", {"metadata": {"name": "dry"}}), 201)
        self.status(self.c.get(CMS + "/dry"), 404, "NotFound")

    def test_label_and_field_selectors(self):
        for i, labels in enumerate([{"app": "a", "tier": "db"}, {"app": "b"}, {"app": "c", "tier": "web"}, {}]):
            self.ok(self.c.post(CMS, {"metadata": {"name": "sel-%d" % i, "labels": dict(labels, sel="1")
                                                   if labels else {"sel": "1"}}}), 201)

        def names(sel):
            q = "&".join("%s=%s" % kv for kv in sel.items())
            return [o["metadata"]["name"] for o in self.get(CMS + "?" + q)["items"]
                    if o["metadata"]["name"].startswith("sel-")]
        from urllib.parse import quote
        L = lambda s: {"labelSelector": quote(s)}  # noqa: E731
        self.assertEqual(names(L("app=a")), ["sel-0"])
        self.assertEqual(names(L("app==b")), ["sel-1"])
        self.assertEqual(names(L("sel=1,app!=a")), ["sel-1", "sel-2", "sel-3"])
        self.assertEqual(names(L("app in (a,c)")), ["sel-0", "sel-2"])
        self.assertEqual(names(L("sel,app notin (a,c)")), ["sel-1", "sel-3"])
        self.assertEqual(names(L("tier")), ["sel-0", "sel-2"])
        self.assertEqual(names(L("sel,!tier")), ["sel-1", "sel-3"])
        self.assertEqual(names({"fieldSelector": quote("metadata.name=sel-2")}), ["sel-2"])
        self.assertEqual(names({"fieldSelector": quote("metadata.name!=sel-2"), **L("sel")}),
                         ["sel-0", "sel-1", "sel-3"])
        self.ok(self.c.post(PODS, pod("on-n1", node="n1")), 201)
        self.ok(self.c.post(PODS, pod("on-n2", node="n2")), 201)
        got = [o["metadata"]["name"] for o in
               self.get("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1")["items"]]
        self.assertEqual(got, ["on-n1"])

    def test_limit_continue(self):
        for i in range(7):
            self.ok(self.c.post(CMS, {"metadata": {"name": "page-%d" % i, "labels": {"page": "y"}}}), 201)
        seen, cont, pages = [], None, 0
        while True:
            r = self.get(CMS + "?labelSelector=page%3Dy&limit=3" + ("&continue=" + cont if cont else ""))
            seen += [o["metadata"]["name"] for o in r["items"]]
            pages += 1
            cont = r["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(seen, ["page-%d" % i for i in range(7)])
        self.assertEqual(pages, 3)
        r = self.get("/api/v1/configmaps?limit=1")
        self.assertIn("remainingItemCount", r["metadata"])

    def test_continue_serves_a_snapshot(self):
        for i in range(6):
            self.ok(self.c.post(CMS, {"metadata": {"name": "snap-%d" % i, "labels": {"snap": "y"}},
                                      "data": {"v": "old"}}), 201)
        r = self.get(CMS + "?labelSelector=snap%3Dy&limit=2")
        seen = [o["metadata"]["name"] for o in r["items"]]
        cont = r["metadata"]["continue"]
        # Writes after the first page must not show in the later pages.
        self.ok(self.c.patch(CMS + "/snap-3", {"data": {"v": "new"}}))
        self.ok(self.c.delete(CMS + "/snap-4"))
        self.ok(self.c.post(CMS, {"metadata": {"name": "snap-35", "labels": {"snap": "y"}}}), 201)
        values = {}
        while cont:
            r = self.get(CMS + "?labelSelector=snap%3Dy&limit=2&continue=" + cont)
            for o in r["items"]:
                seen.append(o["metadata"]["name"])
                values[o["metadata"]["name"]] = o["data"]["v"]
            cont = r["metadata"].get("continue")
        self.assertEqual(seen, ["snap-%d" % i for i in range(6)])
        self.assertEqual(values["snap-3"], "old")

    def test_patch_types(self):
        self.ok(self.c.post(PODS, pod("pat", labels={"a": "1"})), 201)
        o = self.ok(self.c.patch(PODS + "/pat", {"metadata": {"labels": {"b": "2", "a": None}}}))
        self.assertEqual(o["metadata"]["labels"], {"b": "2"})
        o = self.ok(self.c.patch(PODS + "/pat", [{"op": "replace", "path": "/spec/containers/0/image",
                                                  "value": "busybox:1.37"}], "json"))
        self.assertEqual(o["spec"]["containers"][0]["image"], "busybox:1.37")
        # Strategic merge: the containers list merges by name.
        o = self.ok(self.c.patch(PODS + "/pat", {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}},
                                 "strategic"))
        self.assertEqual(o["spec"]["containers"][0]["image"], "busybox:2")
        self.assertEqual(o["spec"]["containers"][0]["terminationMessagePath"], "/dev/termination-log")
        self.status(self.c.patch(PODS + "/pat", [{"op": "test", "path": "/metadata/name", "value": "x"}], "json"),
                    422, "Invalid")
        s = self.status(self.c.patch(PODS + "/pat", {"spec": {"nodeName": "n9"}}), 422, "Invalid")
        self.assertIn("pod updates may not change fields", s["message"])

    def test_pod_binding(self):
        self.ok(self.c.post(PODS, pod("tobind")), 201)
        self.ok(self.c.post(PODS + "/tobind/binding", {"apiVersion": "v1", "kind": "Binding",
                                                        "metadata": {"name": "tobind"},
                                                        "target": {"kind": "Node", "name": "n5"}}), 201)
        self.assertEqual(self.get(PODS + "/tobind")["spec"]["nodeName"], "n5")

    def test_events_in_both_groups(self):
        ev = {"metadata": {"name": "ev1"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
              "reason": "Tested", "message": "hello", "type": "Normal", "source": {"component": "t"}}
        self.ok(self.c.post(NS + "/events", ev), 201)
        new = self.get("/apis/events.k8s.io/v1/namespaces/default/events/ev1")
        self.assertEqual((new["apiVersion"], new["note"], new["regarding"]["name"]),
                         ("events.k8s.io/v1", "hello", "p"))
        self.ok(self.c.post("/apis/events.k8s.io/v1/namespaces/default/events",
                            {"metadata": {"name": "ev2"}, "regarding": {"kind": "Pod", "name": "q"},
                             "note": "n2", "reason": "R", "type": "Warning", "eventTime": "2025-01-01T00:00:00.000000Z",
                             "reportingController": "t", "reportingInstance": "t-1", "action": "Test"}), 201)
        core = self.get(NS + "/events?fieldSelector=involvedObject.name%3Dq")["items"]
        self.assertEqual([(e["message"], e["reportingComponent"]) for e in core], [("n2", "t")])

    def test_resize_rules(self):
        self.ok(self.c.post(SCS, testlib.storage_class("fixed", expand=False)), 201)
        self.ok(self.c.post(SCS, testlib.storage_class("growable", expand=True)), 201)
        for cls in ("fixed", "growable"):
            self.ok(self.c.post(PVCS, testlib.pvc("rs-" + cls, size="1Gi", cls=cls)), 201)
            self.ok(self.c.post(PVS, testlib.pv("rs-pv-" + cls, size="1Gi", cls=cls,
                                                claim=("default", "rs-" + cls))), 201)
        eventually(lambda: all(self.get(PVCS + "/rs-" + c)["status"].get("phase") == "Bound"
                               for c in ("fixed", "growable")), what="claims Bound")
        grow = {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}
        s = self.status(self.c.patch(PVCS + "/rs-fixed", grow), 403, "Forbidden")
        self.assertIn("only dynamically provisioned pvc can be resized", s["message"])
        o = self.ok(self.c.patch(PVCS + "/rs-growable", grow))
        self.assertEqual(o["spec"]["resources"]["requests"]["storage"], "2Gi")
        s = self.status(self.c.patch(PVCS + "/rs-growable", {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}),
                        422, "Invalid")
        self.assertIn("field can not be less than previous value", s["message"])
        # Quantities are stored canonically.
        o = self.ok(self.c.patch(PVCS + "/rs-growable", {"spec": {"resources": {"requests": {"storage": "3072Mi"}}}}))
        self.assertEqual(o["spec"]["resources"]["requests"]["storage"], "3Gi")
        # An unbound claim's spec is immutable.
        self.ok(self.c.post(PVCS, testlib.pvc("rs-unbound", cls="growable")), 201)
        s = self.status(self.c.patch(PVCS + "/rs-unbound", grow), 422, "Invalid")
        self.assertIn("spec is immutable after creation", s["message"])


class Watches(Base):
    def test_watch_from_list_version(self):
        rv = self.get(CMS)["metadata"]["resourceVersion"]
        w = testlib.Watch(CMS + "?watch=1&resourceVersion=" + rv)
        self.ok(self.c.post(CMS, {"metadata": {"name": "w1"}}), 201)
        self.ok(self.c.patch(CMS + "/w1", {"data": {"a": "b"}}))
        self.ok(self.c.delete(CMS + "/w1"))
        evs = w.wait_for(lambda e: len([x for x in e if x["object"]["metadata"]["name"] == "w1"]) >= 3)
        evs = [(e["type"], e["object"]["metadata"]["name"]) for e in evs if e["object"]["metadata"]["name"] == "w1"]
        self.assertEqual(evs, [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")])
        w.close()

    def test_label_selector_transitions(self):
        self.ok(self.c.post(CMS, {"metadata": {"name": "lt", "labels": {"w": "in"}}}), 201)
        w = testlib.Watch(CMS + "?watch=1&labelSelector=w%3Din")
        w.wait_for(lambda e: len(e) == 1)
        self.ok(self.c.patch(CMS + "/lt", {"metadata": {"labels": {"w": "out"}}}))
        self.ok(self.c.patch(CMS + "/lt", {"metadata": {"labels": {"w": "in"}}}))
        evs = w.wait_for(lambda e: len(e) >= 3)
        self.assertEqual([e["type"] for e in evs], ["ADDED", "DELETED", "ADDED"])
        w.close()

    def test_bookmarks_and_initial_events(self):
        admin("POST", "/settings", {"bookmarkIntervalSeconds": 0.2})
        try:
            w = testlib.Watch(CMS + "?watch=1&allowWatchBookmarks=true&sendInitialEvents=true"
                              "&resourceVersionMatch=NotOlderThan")
            evs = w.wait_for(lambda e: sum(1 for x in e if x["type"] == "BOOKMARK") >= 2, 5)
            first_bm = next(e for e in evs if e["type"] == "BOOKMARK")
            self.assertEqual(first_bm["object"]["metadata"]["annotations"],
                             {"k8s.io/initial-events-end": "true"})
            self.assertEqual(first_bm["object"]["kind"], "ConfigMap")
            self.assertTrue(int(first_bm["object"]["metadata"]["resourceVersion"]) > 0)
            w.close()
        finally:
            admin("POST", "/settings", {"bookmarkIntervalSeconds": 5})

    def test_timeout_seconds_ends_stream(self):
        t0 = time.monotonic()
        w = testlib.Watch(CMS + "?watch=1&timeoutSeconds=1&resourceVersion=" +
                          self.get(CMS)["metadata"]["resourceVersion"])
        w.wait_done(5)
        self.assertLess(time.monotonic() - t0, 3.5)

    def test_expired_version_is_410(self):
        old = self.get(CMS)["metadata"]["resourceVersion"]
        self.ok(self.c.post(CMS, {"metadata": {"name": "exp"}}), 201)
        admin("POST", "/compact", {"keep": 0})
        w = testlib.Watch(CMS + "?watch=1&resourceVersion=" + old)
        evs = w.wait_done(5)
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]["type"], "ERROR")
        st = evs[0]["object"]
        self.assertEqual((st["code"], st["reason"]), (410, "Expired"))
        self.assertIn("too old resource version", st["message"])
        # The bounded history expires old versions by itself too.
        admin("POST", "/settings", {"historySize": 5})
        try:
            rv = self.get(CMS)["metadata"]["resourceVersion"]
            for i in range(8):
                self.ok(self.c.post(CMS, {"metadata": {"name": "hist-%d" % i}}), 201)
            evs = testlib.Watch(CMS + "?watch=1&resourceVersion=" + rv).wait_done(5)
            self.assertEqual(evs[0]["object"]["code"], 410)
        finally:
            admin("POST", "/settings", {"historySize": 1000})


class Controllers(Base):
    @classmethod
    def setUpClass(cls):
        Base.setUpClass()
        c = cls.c
        for sc in (testlib.storage_class("ext", "berth.example.com/nfs"),
                   testlib.storage_class("late", "berth.example.com/ebs", mode="WaitForFirstConsumer"),
                   testlib.storage_class("local", "kubernetes.io/no-provisioner")):
            assert c.post(SCS, sc).status == 201

    def claim(self, name):
        return self.get(PVCS + "/" + name)

    def events_of(self, name):
        return [(e["reason"], e["message"]) for e in
                self.get(NS + "/events?fieldSelector=involvedObject.name%3D" + name)["items"]]

    def test_external_provisioner_annotations_and_event(self):
        self.ok(self.c.post(PVCS, testlib.pvc("ext-1", cls="ext")), 201)
        anns = eventually(lambda: self.claim("ext-1")["metadata"].get("annotations"))
        self.assertEqual(anns["volume.kubernetes.io/storage-provisioner"], "berth.example.com/nfs")
        self.assertEqual(anns["volume.beta.kubernetes.io/storage-provisioner"], "berth.example.com/nfs")
        evs = eventually(lambda: self.events_of("ext-1"))
        self.assertEqual(evs, [("ExternalProvisioning",
                                "Waiting for a volume to be created either by the external provisioner "
                                "'berth.example.com/nfs' or manually by the system administrator. If volume "
                                "creation is delayed, please verify that the provisioner is running and "
                                "correctly registered.")])
        ev = self.get(NS + "/events?fieldSelector=involvedObject.name%3Dext-1")["items"][0]
        self.assertEqual(ev["source"], {"component": "persistentvolume-controller"})
        self.assertEqual(ev["involvedObject"]["kind"], "PersistentVolumeClaim")
        self.assertEqual(self.claim("ext-1")["status"]["phase"], "Pending")
        self.assertEqual(self.claim("ext-1")["metadata"]["finalizers"], ["kubernetes.io/pvc-protection"])

    def test_prebound_volume_binds_then_released(self):
        c = self.ok(self.c.post(PVCS, testlib.pvc("pb-1", cls="ext", size="1Gi")), 201)
        self.ok(self.c.post(PVS, testlib.pv("pb-pv-1", size="2Gi", cls="ext", claim=("default", "pb-1"),
                                            modes=("ReadWriteOnce", "ReadOnlyMany"),
                                            anns={"pv.kubernetes.io/provisioned-by": "berth.example.com/nfs"})), 201)
        claim = eventually(lambda: (lambda o: o if o["status"].get("phase") == "Bound" else None)(self.claim("pb-1")))
        self.assertEqual(claim["spec"]["volumeName"], "pb-pv-1")
        self.assertEqual(claim["status"]["capacity"], {"storage": "2Gi"})
        self.assertEqual(claim["status"]["accessModes"], ["ReadWriteOnce", "ReadOnlyMany"])
        anns = claim["metadata"]["annotations"]
        self.assertEqual(anns["pv.kubernetes.io/bind-completed"], "yes")
        self.assertEqual(anns["pv.kubernetes.io/bound-by-controller"], "yes")
        v = self.get(PVS + "/pb-pv-1")
        self.assertEqual(v["status"]["phase"], "Bound")
        self.assertEqual(v["spec"]["claimRef"]["uid"], c["metadata"]["uid"])
        self.assertEqual(v["spec"]["claimRef"]["kind"], "PersistentVolumeClaim")
        self.assertNotIn("pv.kubernetes.io/bound-by-controller", v["metadata"].get("annotations", {}))
        self.assertEqual(v["metadata"]["finalizers"], ["kubernetes.io/pv-protection"])
        # Claim deleted (no pod uses it: pvc-protection lifts) -> Released.
        self.ok(self.c.delete(PVCS + "/pb-1"))
        eventually(lambda: self.c.get(PVCS + "/pb-1").status == 404, what="claim gone")
        eventually(lambda: self.get(PVS + "/pb-pv-1")["status"]["phase"] == "Released", what="Released")

    def test_matching_available_volume(self):
        self.ok(self.c.post(PVS, testlib.pv("m-small", size="1Gi", cls="local")), 201)
        self.ok(self.c.post(PVS, testlib.pv("m-big", size="5Gi", cls="local")), 201)
        eventually(lambda: self.get(PVS + "/m-big")["status"]["phase"] == "Available")
        self.ok(self.c.post(PVCS, testlib.pvc("m-1", cls="local", size="2Gi")), 201)
        claim = eventually(lambda: (lambda o: o if o["status"].get("phase") == "Bound" else None)(self.claim("m-1")))
        self.assertEqual(claim["spec"]["volumeName"], "m-big")
        v = self.get(PVS + "/m-big")
        self.assertEqual(v["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"], "yes")
        self.assertEqual(self.get(PVS + "/m-small")["status"]["phase"], "Available")

    def test_delete_policy_without_provisioner_fails(self):
        self.ok(self.c.post(PVCS, testlib.pvc("fd-1", cls="local")), 201)
        self.ok(self.c.post(PVS, testlib.pv("fd-pv", cls="local", claim=("default", "fd-1"), policy="Delete")), 201)
        eventually(lambda: self.claim("fd-1")["status"].get("phase") == "Bound")
        self.ok(self.c.delete(PVCS + "/fd-1"))
        v = eventually(lambda: (lambda o: o if o["status"]["phase"] == "Failed" else None)(self.get(PVS + "/fd-pv")))
        self.assertIn("no deletable volume plugin matched", v["status"]["message"])

    def test_wait_for_first_consumer(self):
        self.ok(self.c.post(PVCS, testlib.pvc("wf-1", cls="late")), 201)
        eventually(lambda: ("WaitForFirstConsumer", "waiting for first consumer to be created before binding")
                   in self.events_of("wf-1"))
        self.assertNotIn("volume.kubernetes.io/storage-provisioner",
                         self.claim("wf-1")["metadata"].get("annotations", {}))
        self.ok(self.c.post(PODS, pod("wf-pod", claim="wf-1")), 201)
        self.idle()
        self.assertNotIn("volume.kubernetes.io/selected-node", self.claim("wf-1")["metadata"].get("annotations", {}))
        self.ok(self.c.post(PODS + "/wf-pod/binding", {"target": {"kind": "Node", "name": "node-7"}}), 201)
        anns = eventually(lambda: (lambda a: a if "volume.kubernetes.io/selected-node" in a else None)(
            self.claim("wf-1")["metadata"].get("annotations", {})))
        self.assertEqual(anns["volume.kubernetes.io/selected-node"], "node-7")
        eventually(lambda: self.claim("wf-1")["metadata"]["annotations"].get(
            "volume.kubernetes.io/storage-provisioner") == "berth.example.com/ebs")

    def test_pvc_protection_while_pod_runs(self):
        self.ok(self.c.post(PVCS, testlib.pvc("prot-1", cls="ext")), 201)
        self.ok(self.c.post(PODS, pod("prot-pod", claim="prot-1")), 201)
        self.ok(self.c.delete(PVCS + "/prot-1"))
        self.idle()
        self.assertIn("deletionTimestamp", self.claim("prot-1")["metadata"])
        self.ok(self.c.delete(PODS + "/prot-pod"))
        eventually(lambda: self.c.get(PVCS + "/prot-1").status == 404, what="claim gone")

    def test_claim_lost_when_volume_deleted(self):
        self.ok(self.c.post(PVCS, testlib.pvc("lost-1", cls="local")), 201)
        self.ok(self.c.post(PVS, testlib.pv("lost-pv", cls="local", claim=("default", "lost-1"))), 201)
        eventually(lambda: self.claim("lost-1")["status"].get("phase") == "Bound")
        self.ok(self.c.patch(PVS + "/lost-pv", {"metadata": {"finalizers": None}}))
        self.ok(self.c.delete(PVS + "/lost-pv"))
        eventually(lambda: self.claim("lost-1")["status"].get("phase") == "Lost")
        # The controller records the Event just after the phase change.
        eventually(lambda: "ClaimLost" in [r for r, _ in self.events_of("lost-1")])

    def test_namespace_deletion(self):
        self.ok(self.c.post("/api/v1/namespaces", {"metadata": {"name": "doomed"}}), 201)
        base = "/api/v1/namespaces/doomed"
        self.ok(self.c.post(base + "/configmaps", {"metadata": {"name": "a"}}), 201)
        self.ok(self.c.post(base + "/persistentvolumeclaims", testlib.pvc("b", "doomed", cls="ext")), 201)
        self.ok(self.c.post(base + "/configmaps", {"metadata": {"name": "held", "finalizers": ["t/x"]}}), 201)
        o = self.ok(self.c.delete("/api/v1/namespaces/doomed"))
        self.assertEqual(o["status"]["phase"], "Terminating")
        s = self.status(self.c.post(base + "/configmaps", {"metadata": {"name": "late"}}), 403, "Forbidden")
        self.assertIn("being terminated", s["message"])
        eventually(lambda: [o["metadata"]["name"] for o in self.get(base + "/configmaps")["items"]] == ["held"])
        self.idle()
        self.assertEqual(self.get("/api/v1/namespaces/doomed")["status"]["phase"], "Terminating")
        self.ok(self.c.patch(base + "/configmaps/held", {"metadata": {"finalizers": None}}))
        eventually(lambda: self.c.get("/api/v1/namespaces/doomed").status == 404, what="namespace gone")


class Faults(Base):
    def test_throttle_429(self):
        admin("POST", "/faults", {"kind": "throttle", "count": 2, "retryAfter": 3, "path": "/configmaps"})
        self.assertEqual(self.c.get(PODS).status, 200)          # other paths unaffected
        for _ in range(2):
            r = self.c.get(CMS)
            s = self.status(r, 429, "TooManyRequests")
            self.assertEqual(r.headers.get("Retry-After"), "3")
            self.assertEqual(s["details"]["retryAfterSeconds"], 3)
        self.assertEqual(self.c.get(CMS).status, 200)
        self.assertEqual(admin("GET", "/faults")["faults"], [])

    def test_server_errors(self):
        admin("POST", "/faults", {"kind": "error", "count": 1, "code": 503, "verb": "list"})
        self.assertEqual(self.c.get(CMS + "/nope").status, 404)  # a get, not a list
        self.status(self.c.get(CMS), 503, "ServiceUnavailable")
        self.assertEqual(self.c.get(CMS).status, 200)
        admin("POST", "/faults", {"kind": "error", "count": 1})
        self.status(self.c.get(CMS), 500, "InternalError")

    def test_latency(self):
        admin("POST", "/faults", {"kind": "latency", "ms": 300, "count": 1})
        t0 = time.monotonic()
        self.c.get(CMS)
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)
        t0 = time.monotonic()
        self.c.get(CMS)
        self.assertLess(time.monotonic() - t0, 0.25)

    def test_conflict_on_updates(self):
        self.ok(self.c.post(CMS, {"metadata": {"name": "fc"}}), 201)
        admin("POST", "/faults", {"kind": "conflict", "count": 2})
        self.assertEqual(self.c.get(CMS + "/fc").status, 200)
        self.status(self.c.patch(CMS + "/fc", {"data": {"a": "1"}}), 409, "Conflict")
        o = self.get(CMS + "/fc")
        self.status(self.c.put(CMS + "/fc", o), 409, "Conflict")
        self.ok(self.c.patch(CMS + "/fc", {"data": {"a": "1"}}))

    def test_watch_gone(self):
        admin("POST", "/faults", {"kind": "watch-gone", "count": 1})
        evs = testlib.Watch(CMS + "?watch=1&resourceVersion=" + self.get(CMS)["metadata"]["resourceVersion"]).wait_done(5)
        self.assertEqual(evs[0]["type"], "ERROR")
        self.assertEqual((evs[0]["object"]["code"], evs[0]["object"]["reason"]), (410, "Expired"))
        admin("POST", "/faults", {"kind": "watch-gone", "count": 1, "http": True})
        w = testlib.Watch(CMS + "?watch=1")
        self.assertEqual(w.status, 410)

    def test_watch_drop_after_n_events(self):
        admin("POST", "/faults", {"kind": "watch-drop", "after": 2, "count": 1})
        w = testlib.Watch(CMS + "?watch=1&resourceVersion=" + self.get(CMS)["metadata"]["resourceVersion"])
        for i in range(4):
            self.ok(self.c.post(CMS, {"metadata": {"name": "drop-%d" % i}}), 201)
        evs = w.wait_done(5)
        self.assertEqual(len(evs), 2)

    def test_request_log_counts_verbs(self):
        admin("DELETE", "/requests")
        self.c.get(CMS)
        self.c.get(CMS)
        self.c.get(CMS + "/nope")
        self.c.post(CMS, {"metadata": {"generateName": "rl-"}})
        r = admin("GET", "/requests?resource=configmaps")
        self.assertEqual(r["matchedByVerb"], {"list": 2, "get": 1, "create": 1})
        self.assertEqual(r["byVerb"]["list"], 2)
        self.assertEqual(r["byResource"]["list configmaps"], 2)
        self.assertEqual([i["code"] for i in r["items"]], [200, 200, 404, 201])

    def test_close_watches(self):
        w = testlib.Watch(CMS + "?watch=1&resourceVersion=" + self.get(CMS)["metadata"]["resourceVersion"])
        eventually(lambda: admin("GET", "/state")["watches"] >= 1)
        self.assertGreaterEqual(admin("POST", "/watches/close")["closed"], 1)
        w.wait_done(5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
