# SPDX-License-Identifier: Apache-2.0
"""Unit tests of the API server's pure parts (no server needed): quantities,
selectors, JSON/merge/strategic patches, tables, RBAC decisions.

    /usr/bin/python3 tests/apiserver/test_units.py
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from apiserver import patch, quantity, rbac, selector, store, tables  # noqa: E402


class Quantity(unittest.TestCase):
    def test_canonical(self):
        for src, want in [("1Gi", "1Gi"), ("1024Mi", "1Gi"), ("1536Mi", "1536Mi"), ("1.5Gi", "1536Mi"),
                          ("1000M", "1G"), ("0.5", "500m"), ("2000", "2k"), ("1500", "1500"),
                          ("100m", "100m"), ("1e3", "1e3"), ("0", "0"), (5, "5"), ("512", "512")]:
            self.assertEqual(quantity.canonical(src), want, src)

    def test_compare_and_errors(self):
        self.assertLess(quantity.value("1Gi"), quantity.value("1100Mi"))
        self.assertEqual(quantity.value("1G"), 10 ** 9)
        for bad in ("", "Gi", "1 Gi", "1.2.3", "abc", True):
            with self.assertRaises(quantity.QuantityError, msg=bad):
                quantity.parse(bad)


class Selectors(unittest.TestCase):
    def match(self, sel, labels):
        return selector.match_labels(selector.parse_labels(sel), labels)

    def test_labels(self):
        L = {"app": "web", "tier": "db", "n": "5"}
        for sel, want in [("app=web", True), ("app==web", True), ("app!=web", False),
                          ("app!=x", True), ("missing!=x", True), ("app in (web, x)", True),
                          ("app notin (web)", False), ("tier", True), ("!tier", False),
                          ("!missing", True), ("app=web,tier=db", True), ("app=web,tier=x", False),
                          ("n>4", True), ("n<5", False), ("", True)]:
            self.assertEqual(self.match(sel, L), want, sel)
        for bad in ("app in (", "a b c", "=x", "app in ()"):
            with self.assertRaises(selector.SelectorError, msg=bad):
                selector.parse_labels(bad)

    def test_fields(self):
        reqs = selector.parse_fields("metadata.name=a,spec.nodeName!=n1",
                                     {"metadata.name", "spec.nodeName"})
        self.assertTrue(selector.match_fields(reqs, {"metadata": {"name": "a"}, "spec": {}}))
        self.assertFalse(selector.match_fields(reqs, {"metadata": {"name": "a"}, "spec": {"nodeName": "n1"}}))
        with self.assertRaisesRegex(selector.SelectorError, "field label not supported: spec.x"):
            selector.parse_fields("spec.x=1", {"metadata.name"})


class Patches(unittest.TestCase):
    def test_merge(self):
        self.assertEqual(patch.merge_patch({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"b": None}, "l": [2]}),
                         {"a": {"c": 2}, "l": [2]})

    def test_json_patch(self):
        doc = {"a": [1, 2], "b": {"c~d": 1, "e/f": 2}}
        out = patch.json_patch(doc, [{"op": "add", "path": "/a/-", "value": 3},
                                     {"op": "remove", "path": "/b/c~0d"},
                                     {"op": "replace", "path": "/b/e~1f", "value": 9},
                                     {"op": "copy", "from": "/a/0", "path": "/x"},
                                     {"op": "move", "from": "/x", "path": "/y"},
                                     {"op": "test", "path": "/y", "value": 1}])
        self.assertEqual(out, {"a": [1, 2, 3], "b": {"e/f": 9}, "y": 1})
        self.assertEqual(doc["a"], [1, 2])      # the input is not changed
        with self.assertRaises(patch.PatchError):
            patch.json_patch(doc, [{"op": "replace", "path": "/nope", "value": 1}])
        with self.assertRaises(patch.PatchError):
            patch.json_patch(doc, [{"op": "test", "path": "/a/0", "value": 7}])

    def test_strategic(self):
        pod = {"metadata": {"finalizers": ["a"], "labels": {"x": "1"}},
               "spec": {"containers": [{"name": "c1", "image": "i1", "ports": [{"containerPort": 80}]},
                                       {"name": "c2", "image": "i2"}],
                        "volumes": [{"name": "v", "emptyDir": {}}], "tolerations": [{"key": "k"}]}}
        out = patch.strategic_merge(pod, {
            "metadata": {"finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["a"]},
            "spec": {"containers": [{"name": "c1", "image": "new"}, {"name": "c2", "$patch": "delete"},
                                    {"name": "c3", "image": "i3"}],
                     "$setElementOrder/containers": [{"name": "c3"}, {"name": "c1"}],
                     "tolerations": [{"key": "other"}],
                     "volumes": [{"$patch": "replace"}, {"name": "v", "hostPath": {"path": "/x"}}]}})
        self.assertEqual(out["metadata"], {"finalizers": ["b"], "labels": {"x": "1"}})
        self.assertEqual(out["spec"]["containers"],
                         [{"name": "c3", "image": "i3"},
                          {"name": "c1", "image": "new", "ports": [{"containerPort": 80}]}])
        self.assertEqual(out["spec"]["tolerations"], [{"key": "other"}])       # no merge key: replaced
        self.assertEqual(out["spec"]["volumes"], [{"name": "v", "hostPath": {"path": "/x"}}])
        svc = {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}}
        out = patch.strategic_merge(svc, {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}})
        self.assertEqual(out["spec"]["ports"][1], {"port": 443, "name": "https", "targetPort": 8443})
        self.assertEqual(patch.strategic_merge({"a": {"b": 1}}, {"a": {"$patch": "replace", "c": 2}}),
                         {"a": {"c": 2}})
        self.assertEqual(patch.strategic_merge({"a": 1, "b": 2}, {"$retainKeys": ["a"], "a": 3}), {"a": 3})


class Tables(unittest.TestCase):
    def test_human_duration(self):
        for s, want in [(0, "0s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (3 * 3600, "3h"),
                        (3 * 3600 + 120, "3h2m"), (30 * 3600, "30h"), (3 * 86400, "3d"),
                        (400 * 86400, "400d"), (800 * 86400, "2y70d")]:
            self.assertEqual(tables.human_duration(s), want, s)

    def test_pvc_row(self):
        pvc = {"metadata": {"name": "d", "creationTimestamp": "2025-01-01T00:00:00Z"},
               "spec": {"volumeName": "v", "storageClassName": "sc", "volumeMode": "Filesystem"},
               "status": {"phase": "Bound", "capacity": {"storage": "1Gi"},
                          "accessModes": ["ReadWriteOnce", "ReadWriteMany"]}}
        names = [c["name"] for c in tables.column_definitions("PersistentVolumeClaim")]
        self.assertEqual(names, ["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
                                 "VolumeAttributesClass", "Age", "VolumeMode"])
        row = tables.row("PersistentVolumeClaim", pvc, now=1735689600 + 90)
        self.assertEqual(row["cells"], ["d", "Bound", "v", "1Gi", "RWO,RWX", "sc", "<unset>", "90s", "Filesystem"])
        self.assertEqual(row["object"]["kind"], "PartialObjectMetadata")


class RBAC(unittest.TestCase):
    SA = "system:serviceaccount:default:prov"

    def setUp(self):
        self.st = store.Store()
        G = "rbac.authorization.k8s.io/"
        for storage, obj in [
            (G + "clusterroles", {"metadata": {"name": "runner"}, "rules": [
                {"apiGroups": [""], "resources": ["persistentvolumes"],
                 "verbs": ["get", "create", "delete"]},
                {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"],
                 "verbs": ["*"]},
                {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["get"]},
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                 "resourceNames": ["one"]}]}),
            (G + "clusterrolebindings", {"metadata": {"name": "b"}, "roleRef": {
                "kind": "ClusterRole", "name": "runner"}, "subjects": [
                {"kind": "ServiceAccount", "name": "prov", "namespace": "default"}]}),
            (G + "roles", {"metadata": {"name": "lock", "namespace": "default"}, "rules": [
                {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get", "update"]}]}),
            (G + "rolebindings", {"metadata": {"name": "lock", "namespace": "default"},
                                  "roleRef": {"kind": "Role", "name": "lock"}, "subjects": [
                {"kind": "ServiceAccount", "name": "prov", "namespace": "default"}]})]:
            self.st.create(storage, obj)

    def ok(self, verb, resource, group="", ns=None, name=None, sub=None, user=None):
        return rbac.allowed(self.st, user or self.SA, {
            "verb": verb, "resource": resource, "group": group, "namespace": ns,
            "name": name, "subresource": sub})

    def test_decisions(self):
        self.assertTrue(self.ok("create", "persistentvolumes"))
        self.assertFalse(self.ok("patch", "persistentvolumes", name="x"))
        self.assertFalse(self.ok("update", "persistentvolumes", name="x"))
        self.assertTrue(self.ok("watch", "storageclasses", "storage.k8s.io"))
        self.assertFalse(self.ok("get", "storageclasses"))  # wrong group
        self.assertTrue(self.ok("get", "pods", ns="x", name="p", sub="status"))
        self.assertFalse(self.ok("get", "pods", ns="x", name="p"))
        self.assertTrue(self.ok("get", "configmaps", ns="x", name="one"))
        self.assertFalse(self.ok("get", "configmaps", ns="x", name="two"))
        self.assertFalse(self.ok("list", "configmaps", ns="x"))
        # The Role grants in its namespace only.
        self.assertTrue(self.ok("update", "endpoints", ns="default", name="l"))
        self.assertFalse(self.ok("update", "endpoints", ns="other", name="l"))
        self.assertFalse(self.ok("create", "leases", "coordination.k8s.io", ns="default"))
        # Another service account gets nothing; other users everything.
        self.assertFalse(self.ok("get", "persistentvolumes", user="system:serviceaccount:x:prov"))
        self.assertTrue(self.ok("delete", "nodes", user="admin"))

    def test_message(self):
        m = rbac.forbidden_message(self.SA, {"verb": "patch", "resource": "persistentvolumes",
                                             "group": "", "name": "pv1"})
        self.assertEqual(m, 'persistentvolumes "pv1" is forbidden: User "%s" cannot patch '
                            'resource "persistentvolumes" in API group "" at the cluster '
                            'scope' % self.SA)


if __name__ == "__main__":
    unittest.main(verbosity=2)
