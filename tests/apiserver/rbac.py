# SPDX-License-Identifier: Apache-2.0
"""RBAC authorization for service-account users, as kube-apiserver's RBAC
authorizer decides (plugin/pkg/auth/authorizer/rbac).

Users named system:serviceaccount:<ns>:<name> (tokens added through the
admin endpoint, POST /tokens) are authorized by the Roles, ClusterRoles,
RoleBindings and ClusterRoleBindings in the store: a request is allowed
when a rule of a role bound to the user (or to its groups
system:serviceaccounts and system:serviceaccounts:<ns>) covers its API
group, resource (with "/subresource"), verb and, when the rule lists
resourceNames, its name. A RoleBinding grants only in its namespace.
Every other user (the bed's admin token, system:masters) may do
everything, as before. A denied request is 403 Forbidden worded as the
real server words it, so clients can tell what they lack.
"""

SA_PREFIX = "system:serviceaccount:"


def _rule_allows(rule, group, resource, sub, verb, name):
    groups = rule.get("apiGroups") or []
    if "*" not in groups and group not in groups:
        return False
    res = rule.get("resources") or []
    want = resource + ("/" + sub if sub else "")
    if "*" not in res and want not in res and not (sub and resource + "/*" in res):
        return False
    verbs = rule.get("verbs") or []
    if "*" not in verbs and verb not in verbs:
        return False
    names = rule.get("resourceNames") or []
    if names and (name is None or name not in names):
        return False
    return True


def _subject_matches(subj, user, groups):
    kind = subj.get("kind")
    if kind == "ServiceAccount":
        return user == "%s%s:%s" % (SA_PREFIX, subj.get("namespace", ""), subj.get("name"))
    if kind == "User":
        return user == subj.get("name")
    if kind == "Group":
        return subj.get("name") in groups
    return False


def _objs(store, storage):
    entries, _ = store.list(storage)
    return [e.obj for e in entries]


def allowed(store, user, info):
    """True when RBAC lets user make the request info (a RequestInfo)."""
    if not user or not user.startswith(SA_PREFIX):
        return True
    ns_of_sa = user[len(SA_PREFIX):].split(":", 1)[0]
    groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns_of_sa,
              "system:authenticated"}
    group = info.get("group") or ""
    resource = info.get("resource")
    if not resource:
        return True  # discovery, /version: granted to every user by default
    sub = info.get("subresource")
    verb = info.get("verb")
    name = info.get("name")
    ns = info.get("namespace")
    if resource == "namespaces" and name:
        ns = None
    croles = {o["metadata"]["name"]: o for o in _objs(store, "rbac.authorization.k8s.io/clusterroles")}
    roles = {(o["metadata"].get("namespace"), o["metadata"]["name"]): o
             for o in _objs(store, "rbac.authorization.k8s.io/roles")}

    def grants(role):
        return role is not None and any(
            _rule_allows(r, group, resource, sub, verb, name) for r in role.get("rules") or [])

    for b in _objs(store, "rbac.authorization.k8s.io/clusterrolebindings"):
        if any(_subject_matches(s, user, groups) for s in b.get("subjects") or []):
            if grants(croles.get(b.get("roleRef", {}).get("name"))):
                return True
    if ns:
        for b in _objs(store, "rbac.authorization.k8s.io/rolebindings"):
            if b["metadata"].get("namespace") != ns:
                continue
            if not any(_subject_matches(s, user, groups) for s in b.get("subjects") or []):
                continue
            ref = b.get("roleRef", {})
            role = croles.get(ref.get("name")) if ref.get("kind") == "ClusterRole" \
                else roles.get((ns, ref.get("name")))
            if grants(role):
                return True
    return False


def forbidden_message(user, info):
    """kube-apiserver's wording of an RBAC denial."""
    group = info.get("group") or ""
    res = info.get("resource") or ""
    if info.get("subresource"):
        res += "/" + info["subresource"]
    what = '%s "%s"' % (res if not group else res + "." + group, info.get("name")) \
        if info.get("name") else (res if not group else res + "." + group)
    scope = 'in the namespace "%s"' % info["namespace"] if info.get("namespace") \
        else "at the cluster scope"
    return '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s' % (
        what, user, info.get("verb"), res, group, scope)
