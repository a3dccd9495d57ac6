# SPDX-License-Identifier: Apache-2.0
"""The resource table, discovery documents and OpenAPI v3.

Every resource the server serves is one Resource below. Discovery is the
legacy kind (/api, /api/v1, /apis, /apis/<group>/<version>): kubectl 1.32
asks for aggregated discovery (apidiscovery.k8s.io/v2) first and falls back
to it when the answer is plain application/json.

OpenAPI: kubectl 1.32 checks /openapi/v3/<group-version> for a PATCH
operation with a `fieldValidation` query parameter to learn that the server
validates fields itself; if the document is missing, `kubectl apply` (whose
default is --validate=strict) fails with "failed to download openapi". So
/openapi/v3 serves a minimal document per group-version: the paths of each
resource with their operations, the x-kubernetes-group-version-kind
extension and the query parameters, but no schemas. The PATCH request body
does not list application/strategic-merge-patch+json, so that kubectl
computes apply's strategic merge patch from its compiled-in Go types (its
fallback) rather than from schemas that are not there. /openapi/v2 is 404
(kubectl then skips it quietly). `kubectl explain` needs schemas and does
not work.
"""

import hashlib
import json

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch",
             "update", "watch"]


class Resource:
    def __init__(self, group, version, kind, plural, namespaced, short=(),
                 status=False, categories=(), storage=None,
                 create_on_update=False, fields=(), field_aliases=None,
                 subresources=()):
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = kind.lower()
        self.namespaced = namespaced
        self.short = list(short)
        self.status = status
        self.categories = list(categories)
        self.storage = storage or (group + "/" + plural)
        self.create_on_update = create_on_update
        self.fields = {"metadata.name", "metadata.namespace"} | set(fields)
        self.field_aliases = field_aliases or {}
        self.subresources = list(subresources) + (["status"] if status else [])

    @property
    def api_version(self):
        return self.version if not self.group else self.group + "/" + self.version

    @property
    def gv_path(self):
        return "/api/" + self.version if not self.group else \
            "/apis/%s/%s" % (self.group, self.version)

    @property
    def qualified(self):
        """The name in messages: `persistentvolumeclaims`,
        `storageclasses.storage.k8s.io`."""
        return self.plural if not self.group else self.plural + "." + self.group

    def __repr__(self):
        return "<Resource %s>" % self.qualified


_EVENT_FIELDS = ["involvedObject.kind", "involvedObject.namespace",
                 "involvedObject.name", "involvedObject.uid",
                 "involvedObject.apiVersion", "involvedObject.resourceVersion",
                 "involvedObject.fieldPath", "reason", "reportingComponent",
                 "source", "type"]
_EVENT_ALIASES = {"source": "source.component"}
_NEW_EVENT_ALIASES = dict(_EVENT_ALIASES)
for _f in list(_EVENT_FIELDS):
    if _f.startswith("involvedObject."):
        _NEW_EVENT_ALIASES["regarding." + _f.split(".", 1)[1]] = _f

RESOURCES = [
    Resource("", "v1", "Namespace", "namespaces", False, ["ns"], status=True,
             fields=["status.phase"], subresources=["finalize"]),
    Resource("", "v1", "Node", "nodes", False, ["no"], status=True,
             fields=["spec.unschedulable"]),
    Resource("", "v1", "Pod", "pods", True, ["po"], status=True,
             categories=["all"], subresources=["binding"],
             fields=["spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                     "spec.serviceAccountName", "spec.hostNetwork",
                     "status.phase", "status.podIP", "status.nominatedNodeName"]),
    Resource("", "v1", "Service", "services", True, ["svc"], status=True,
             categories=["all"], create_on_update=True),
    Resource("", "v1", "Endpoints", "endpoints", True, ["ep"], create_on_update=True),
    Resource("", "v1", "Event", "events", True, ["ev"], storage="events",
             create_on_update=True, fields=_EVENT_FIELDS,
             field_aliases=_EVENT_ALIASES),
    Resource("", "v1", "PersistentVolume", "persistentvolumes", False, ["pv"],
             status=True),
    Resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True,
             ["pvc"], status=True),
    Resource("", "v1", "Secret", "secrets", True, fields=["type"]),
    Resource("", "v1", "ConfigMap", "configmaps", True, ["cm"]),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", True, ["sa"]),
    Resource("events.k8s.io", "v1", "Event", "events", True, ["ev"],
             storage="events", create_on_update=True,
             fields=_EVENT_FIELDS + list(_NEW_EVENT_ALIASES),
             field_aliases=_NEW_EVENT_ALIASES),
    Resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ["sc"]),
    Resource("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments",
             False, status=True),
    Resource("storage.k8s.io", "v1", "CSINode", "csinodes", False),
    Resource("storage.k8s.io", "v1", "CSIDriver", "csidrivers", False),
    Resource("coordination.k8s.io", "v1", "Lease", "leases", True),
    # Stored and served, not run: there is no workload controller here, so
    # these exist for `kubectl apply` of manifests (deploy/, examples/).
    Resource("apps", "v1", "Deployment", "deployments", True, ["deploy"],
             status=True, categories=["all"]),
    Resource("apps", "v1", "StatefulSet", "statefulsets", True, ["sts"],
             status=True, categories=["all"]),
    Resource("apps", "v1", "DaemonSet", "daemonsets", True, ["ds"],
             status=True, categories=["all"]),
    Resource("apps", "v1", "ReplicaSet", "replicasets", True, ["rs"],
             status=True, categories=["all"]),
    Resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets",
             True, ["pdb"], status=True),
    Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    Resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings",
             True),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles",
             False),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding",
             "clusterrolebindings", False),
]

# (group, version, plural) -> Resource
BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
# storage -> the Resource objects are kept as (the first one is canonical)
BY_STORAGE = {}
for _r in RESOURCES:
    BY_STORAGE.setdefault(_r.storage, _r)
GROUPS = []  # [(group, [versions])] in discovery order
for _r in RESOURCES:
    if _r.group and _r.group not in [g for g, _ in GROUPS]:
        GROUPS.append((_r.group, [_r.version]))


def lookup(group, version, plural):
    return BY_PATH.get((group, version, plural))


def by_kind(api_version, kind):
    for r in RESOURCES:
        if r.api_version == api_version and r.kind == kind:
            return r
    return None


# --- discovery ---------------------------------------------------------------

def _resource_entries(group, version):
    out = []
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        e = {"name": r.plural, "singularName": r.singular,
             "namespaced": r.namespaced, "kind": r.kind, "verbs": ALL_VERBS,
             "storageVersionHash": hashlib.sha256(r.qualified.encode()).hexdigest()[:12]}
        if r.short:
            e["shortNames"] = r.short
        if r.categories:
            e["categories"] = r.categories
        out.append(e)
        for sub in r.subresources:
            verbs = {"status": ["get", "patch", "update"], "binding": ["create"],
                     "finalize": ["update"]}[sub]
            kind = "Binding" if sub == "binding" else r.kind
            out.append({"name": r.plural + "/" + sub, "singularName": "",
                        "namespaced": r.namespaced, "kind": kind, "verbs": verbs})
    return out


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def _group_doc(group, versions):
    vs = [{"groupVersion": group + "/" + v, "version": v} for v in versions]
    return {"name": group, "versions": vs, "preferredVersion": vs[0]}


def api_group_list():
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(g, vs) for g, vs in GROUPS]}


def api_group(group):
    for g, vs in GROUPS:
        if g == group:
            d = _group_doc(g, vs)
            d.update({"kind": "APIGroup", "apiVersion": "v1"})
            return d
    return None


def api_resource_list(group, version):
    entries = _resource_entries(group, version)
    if not entries:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": version if not group else group + "/" + version,
            "resources": entries}


# --- OpenAPI v3 --------------------------------------------------------------

def _gv_key(group, version):
    return "api/" + version if not group else "apis/%s/%s" % (group, version)


def _param(name, typ="string"):
    return {"name": name, "in": "query", "schema": {"type": typ, "uniqueItems": True}}


_LIST_PARAMS = [_param(n) for n in ("labelSelector", "fieldSelector", "continue",
                                    "resourceVersion", "resourceVersionMatch")] + \
    [_param("limit", "integer"), _param("timeoutSeconds", "integer"),
     _param("watch", "boolean"), _param("allowWatchBookmarks", "boolean"),
     _param("sendInitialEvents", "boolean")]
_WRITE_PARAMS = [_param("dryRun"), _param("fieldManager"), _param("fieldValidation")]


def _op(r, action, params, body_types=None):
    op = {"operationId": action + r.kind, "tags": [r.api_version],
          "x-kubernetes-action": action,
          "x-kubernetes-group-version-kind": {"group": r.group,
                                              "version": r.version,
                                              "kind": r.kind},
          "parameters": params,
          "responses": {"200": {"description": "OK"}}}
    if body_types:
        op["requestBody"] = {"content": {t: {"schema": {"type": "object"}}
                                         for t in body_types}, "required": True}
    return op


def openapi_v3_index():
    paths = {}
    for g, v in [("", "v1")] + [(g, vs[0]) for g, vs in GROUPS]:
        doc = openapi_v3_doc(_gv_key(g, v))
        h = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest().upper()[:64]
        paths[_gv_key(g, v)] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (_gv_key(g, v), h)}
    return {"paths": paths}


def openapi_v3_doc(key):
    paths = {}
    found = False
    for r in RESOURCES:
        if _gv_key(r.group, r.version) != key:
            continue
        found = True
        base = r.gv_path + ("/namespaces/{namespace}/" if r.namespaced else "/") + r.plural
        paths[base] = {
            "get": _op(r, "list", _LIST_PARAMS),
            "post": _op(r, "post", _WRITE_PARAMS, ["*/*"]),
            "delete": _op(r, "deletecollection", _LIST_PARAMS + [_param("dryRun")]),
        }
        patch_types = ["application/json-patch+json", "application/merge-patch+json",
                       "application/apply-patch+yaml"]
        paths[base + "/{name}"] = {
            "get": _op(r, "get", []),
            "put": _op(r, "put", _WRITE_PARAMS, ["*/*"]),
            "patch": _op(r, "patch", _WRITE_PARAMS + [_param("force", "boolean")], patch_types),
            "delete": _op(r, "delete", [_param("dryRun"), _param("gracePeriodSeconds", "integer"),
                                        _param("propagationPolicy")]),
        }
        if r.status:
            paths[base + "/{name}/status"] = {
                "get": _op(r, "get", []),
                "put": _op(r, "put", _WRITE_PARAMS, ["*/*"]),
                "patch": _op(r, "patch", _WRITE_PARAMS + [_param("force", "boolean")], patch_types),
            }
    if not found:
        return None
    return {"openapi": "3.0.0",
            "info": {"title": "Kubernetes (berth test server)", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": {}}}
