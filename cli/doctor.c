/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl doctor: is everything berth needs in place? One line per
 * check ("ok", "warn", "fail" or "skip"), and under each failure the fix.
 * Exit status 1 when a check failed.
 *
 *   kubeconfig     loaded, which file, context, user, namespace
 *   API server     answers, with these credentials
 *   RBAC           what berthctl reads, and (SelfSubjectAccessReview,
 *                  where the server has it) what its repairs write
 *   provisioners   which are berth's, found where; a live leader Lease
 *   classes        each berth class: valid parameters, backend reachable
 *   defaults       a backend's default storage, when one is named (the
 *                  nfs backend's default export) */
#include "ctl_backend.h"

#include <stdlib.h>
#include <string.h>

typedef struct doc {
  ctl_ctx_t *ctx;
  int failed;
  int warned;
  json_t *checks; /* -o json|yaml: every report, printed at the end */
} doc_t;

static void report(doc_t *d, const char *status, const char *what,
                   const char *fix, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static void report(doc_t *d, const char *status, const char *what,
                   const char *fix, const char *fmt, ...)
{
  va_list ap;
  char line[2048];

  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (d->checks != NULL) {
    json_t *c = json_pack("{s:s,s:s,s:s}", "status", status, "check", what,
                          "message", line);

    if (c != NULL && fix != NULL)
      json_object_set_new(c, "fix", json_string(fix));
    json_array_append_new(d->checks, c);
  } else {
    fprintf(d->ctx->out, "%-5s %s: %s\n", status, what, line);
    if (fix != NULL)
      fprintf(d->ctx->out, "      fix: %s\n", fix);
  }
  if (strcmp(status, "fail") == 0)
    d->failed++;
  else if (strcmp(status, "warn") == 0)
    d->warned++;
}

static const char *msg(const berth_error_t *err, berth_status_t st)
{
  return err->message[0] ? err->message : berth_strerror(st);
}

static bool check_config(doc_t *d)
{
  ctl_ctx_t *ctx = d->ctx;
  berth_k8s_config_options_t co;
  berth_error_t err;
  berth_status_t st;

  memset(&co, 0, sizeof(co));
  co.kubeconfig = ctx->opt->kubeconfig;
  co.context = ctx->opt->context;
  co.namespace_name = ctx->opt->namespace_name;
  berth_error_clear(&err);
  berth_k8s_config_init(&ctx->cfg);
  st = berth_k8s_config_load(&co, &ctx->cfg, &err);
  if (st != BERTH_OK) {
    report(
        d, "fail", "kubeconfig",
        st == BERTH_ENOTFOUND
            ? "set KUBECONFIG, pass --kubeconfig FILE, or create "
              "~/.kube/config"
            : "fix the field this message names, or pick another context with "
              "--context",
        "%s", msg(&err, st));
    return false;
  }
  ctx->cfg_loaded = true;
  report(d, "ok", "kubeconfig", NULL,
         "%s, context %s, cluster %s, user %s, namespace %s",
         ctl_nz(ctx->cfg.source),
         ctx->cfg.context_name ? ctx->cfg.context_name : "(in-cluster)",
         ctx->cfg.cluster_name ? ctx->cfg.cluster_name : "(in-cluster)",
         ctx->cfg.user_name ? ctx->cfg.user_name : "(service account)",
         ctl_nz(ctx->cfg.namespace_name));
  return true;
}

/* One read berthctl needs; false when it failed. */
static bool can_list(doc_t *d, const berth_k8s_resource_t *res, bool all_ns,
                     berth_status_t *out)
{
  berth_k8s_list_options_t lo;
  json_t *list = NULL;
  berth_error_t err;
  berth_status_t st;

  memset(&lo, 0, sizeof(lo));
  lo.limit = 1;
  berth_error_clear(&err);
  st = berth_k8s_list(d->ctx->k8s, res, all_ns ? NULL : d->ctx->ns, &lo, &list,
                      &err);
  json_decref(list);
  *out = st;
  return st == BERTH_OK;
}

static bool check_api(doc_t *d)
{
  ctl_ctx_t *ctx = d->ctx;
  berth_k8s_list_options_t lo;
  json_t *list = NULL;
  berth_error_t err;
  berth_status_t st;

  if (!ctl_kube_connect(ctx)) {
    report(d, "fail", "API client",
           "check the kubeconfig's server, certificate-authority and user "
           "(kubectl config view --minify shows them)",
           "cannot be made");
    return false;
  }
  memset(&lo, 0, sizeof(lo));
  lo.limit = 1;
  berth_error_clear(&err);
  st = berth_k8s_list(ctx->k8s, &berth_k8s_res_storageclasses, NULL, &lo, &list,
                      &err);
  json_decref(list);
  if (st != BERTH_OK && st != BERTH_EFORBIDDEN) {
    report(d, "fail", "API server", ctl_kube_hint(ctx, st), "%s: %s",
           ctl_nz(ctx->cfg.server), msg(&err, st));
    return false;
  }
  report(d, "ok", "API server", NULL,
         "%s answers and accepts the "
         "credentials",
         ctl_nz(ctx->cfg.server));
  return true;
}

/* Access reviews, where the server serves them. */
static const berth_k8s_resource_t res_ssar = {
    "authorization.k8s.io",    "v1",  "selfsubjectaccessreviews",
    "SelfSubjectAccessReview", false,
};

static void check_rbac(doc_t *d)
{
  static const struct {
    const berth_k8s_resource_t *res;
    const char *name;
  } reads[] = {
      {&berth_k8s_res_storageclasses, "storageclasses"},
      {&berth_k8s_res_persistentvolumes, "persistentvolumes"},
      {&berth_k8s_res_persistentvolumeclaims,
       "persistentvolumeclaims (all namespaces)"},
      {&berth_k8s_res_events, "events (all namespaces)"},
  };
  static const struct {
    const char *verb;
    const char *resource;
  } writes[] = {
      {"delete", "persistentvolumes"},
      {"patch", "persistentvolumes"},
      {"create", "persistentvolumes"},
  };
  berth_buf_t denied;
  berth_status_t st = BERTH_OK;
  berth_error_t err;
  size_t i;

  berth_buf_init(&denied);
  for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
    if (!can_list(d, reads[i].res, true, &st))
      berth_buf_appendf(&denied, "%slist %s (%s)", denied.len ? ", " : "",
                        reads[i].name, berth_strerror(st));
  }
  if (denied.len > 0)
    report(d, "fail", "RBAC (reads)",
           "grant list and get on these (berthctl reads them); "
           "'kubectl auth can-i list persistentvolumes' checks",
           "cannot %s", berth_buf_str(&denied));
  else
    report(d, "ok", "RBAC (reads)", NULL,
           "can list storageclasses, persistentvolumes, claims and events");
  berth_buf_reset(&denied);
  for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
    json_t *review =
        json_pack("{s:s,s:s,s:{s:{s:s,s:s,s:s}}}", "apiVersion",
                  "authorization.k8s.io/v1", "kind", "SelfSubjectAccessReview",
                  "spec", "resourceAttributes", "verb", writes[i].verb,
                  "resource", writes[i].resource, "group", "");
    json_t *answer = NULL;

    berth_error_clear(&err);
    st = berth_k8s_create(d->ctx->k8s, &res_ssar, NULL, review, &answer, &err);
    json_decref(review);
    if (st == BERTH_OK && !json_is_true(json_object_get(
                              json_object_get(answer, "status"), "allowed")))
      berth_buf_appendf(&denied, "%s%s %s", denied.len ? ", " : "",
                        writes[i].verb, writes[i].resource);
    json_decref(answer);
    if (st != BERTH_OK)
      break;
  }
  if (st != BERTH_OK)
    report(d, "skip", "RBAC (repairs)", NULL,
           "the server does not answer SelfSubjectAccessReviews (%s): "
           "cannot tell whether delete, provision and orphans --delete "
           "are allowed",
           berth_strerror(st));
  else if (denied.len > 0)
    report(d, "warn", "RBAC (repairs)",
           "delete, provision and orphans --delete need these verbs on "
           "persistentvolumes",
           "cannot %s", berth_buf_str(&denied));
  else
    report(d, "ok", "RBAC (repairs)", NULL,
           "can create, patch and delete persistentvolumes");
  berth_buf_cleanup(&denied);
}

/* Where berth-provisioner keeps the Lease of a provisioner name. */
typedef struct lease_ref {
  char ns[254]; /* "": any namespace */
  char name[256];
  char from[320]; /* how it was found, for the report */
  bool elected;   /* false: that Deployment runs without election */
} lease_ref_t;

/* berth-provisioner's Lease name: '/' becomes '-' (as the sig-storage
 * library and berth-provisioner's prov_lease_name). */
static void lease_name_of(const char *prov, char *out, size_t size)
{
  char *p;

  snprintf(out, size, "%s", prov);
  for (p = out; *p != '\0'; p++) {
    if (*p == '/')
      *p = '-';
  }
}

/* The value of flag in a container's args ("--flag=v" or "--flag v"), the
 * first (or, with last, the last) one, or NULL. */
static const char *arg_value(const json_t *args, const char *flag, size_t nth)
{
  size_t n = strlen(flag);
  size_t i;
  size_t seen = 0;
  const char *a;

  for (i = 0; i < json_array_size(args); i++) {
    a = json_string_value(json_array_get(args, i));
    if (a == NULL || strncmp(a, flag, n) != 0)
      continue;
    if (a[n] == '=' && seen++ == nth)
      return a + n + 1;
    if (a[n] == '\0' && i + 1 < json_array_size(args) && seen++ == nth)
      return json_string_value(json_array_get(args, i + 1));
  }
  return NULL;
}

/* Does a berth-provisioner container serve prov? Its --provisioner flags,
 * or PROVISIONER_NAME without them. *first: the name the Lease is named
 * after. */
static bool container_serves(const json_t *c, const char *prov, char *first,
                             size_t size)
{
  const json_t *args = json_object_get(c, "args");
  const char *v;
  const json_t *e;
  size_t i;
  bool found = false;

  for (i = 0; (v = arg_value(args, "--provisioner", i)) != NULL; i++) {
    size_t n = strcspn(v, "=");

    if (i == 0)
      snprintf(first, size, "%.*s", (int)n, v);
    if (strlen(prov) == n && strncmp(v, prov, n) == 0)
      found = true;
  }
  if (i > 0)
    return found;
  json_array_foreach(json_object_get(c, "env"), i, e)
  {
    v = json_string_value(json_object_get(e, "value"));
    if (v != NULL &&
        strcmp(ctl_nz(json_string_value(json_object_get(e, "name"))),
               "PROVISIONER_NAME") == 0 &&
        strcmp(v, prov) == 0) {
      snprintf(first, size, "%s", v);
      return true;
    }
  }
  return false;
}

/* What lease_from_deployments looks for, and found. */
typedef struct lease_search {
  const char *prov;
  lease_ref_t *out;
} lease_search_t;

/* The Lease of a berth-provisioner container that serves the search's
 * provisioner, from its flags. */
static bool container_lease(void *ud, const json_t *dep, const json_t *c)
{
  lease_search_t *ls = ud;
  lease_ref_t *out = ls->out;
  const json_t *args = json_object_get(c, "args");
  char first[256] = "";
  const char *v;

  if (!container_serves(c, ls->prov, first, sizeof(first)))
    return false;
  v = arg_value(args, "--leader-elect", 0);
  out->elected = v == NULL || strcmp(v, "false") != 0;
  v = arg_value(args, "--leader-election-name", 0);
  if (v != NULL)
    snprintf(out->name, sizeof(out->name), "%s", v);
  else
    lease_name_of(first, out->name, sizeof(out->name));
  v = arg_value(args, "--leader-election-namespace", 0);
  snprintf(out->ns, sizeof(out->ns), "%s",
           v != NULL && strcmp(v, "$(POD_NAMESPACE)") != 0
               ? v
               : ctl_nz(berth_k8s_obj_namespace(dep)));
  snprintf(out->from, sizeof(out->from), "Deployment %s/%s",
           ctl_nz(berth_k8s_obj_namespace(dep)),
           ctl_nz(berth_k8s_obj_name(dep)));
  return true;
}

/* The Lease of prov from the Deployment that runs it, as berth-provisioner
 * names it; false when no Deployment (that berthctl may list) runs it. */
static bool lease_from_deployments(doc_t *d, const char *prov, lease_ref_t *out)
{
  lease_search_t ls = {prov, out};

  return berth_inspect_provisioner_containers(d->ctx->k8s, container_lease,
                                              &ls);
}

/* Without a Lease: the Endpoints lock berth-provisioner elects on when
 * its RBAC forbids Leases (nfs-subdir-external-provisioner's Role grants
 * endpoints only). true when one was found and reported. */
static bool check_endpoints_lock(doc_t *d, const char *what, const char *ns,
                                 const char *lock_name, const char *fs)
{
  berth_k8s_list_options_t lo;
  json_t *list = NULL;
  json_t *rec = NULL;
  const json_t *ep;
  const char *text;
  bool found = false;

  memset(&lo, 0, sizeof(lo));
  lo.field_selector = fs;
  if (berth_k8s_list(d->ctx->k8s, &berth_k8s_res_endpoints,
                     ns[0] != '\0' ? ns : NULL, &lo, &list, NULL) != BERTH_OK)
    goto done;
  ep = json_array_get(json_object_get(list, "items"), 0);
  text = ep != NULL ? berth_k8s_obj_annotation(
                          ep, "control-plane.alpha.kubernetes.io/leader")
                    : NULL;
  rec = text != NULL ? json_loads(text, 0, NULL) : NULL;
  if (rec == NULL)
    goto done;
  found = true;
  {
    const char *holder =
        json_string_value(json_object_get(rec, "holderIdentity"));
    int64_t renewed =
        ctl_time_parse(json_string_value(json_object_get(rec, "renewTime")));
    json_int_t dur =
        json_integer_value(json_object_get(rec, "leaseDurationSeconds"));
    char age[32];

    if (renewed >= 0)
      ctl_duration_human(d->ctx->now_s - renewed, age, sizeof(age));
    else
      snprintf(age, sizeof(age), "never");
    if (holder == NULL || holder[0] == '\0' || renewed < 0 ||
        d->ctx->now_s - renewed > (int64_t)(dur > 0 ? dur : 15))
      report(d, "fail", what,
             "no berth-provisioner replica renews the lock: is "
             "berth-provisioner running? (its logs say why)",
             "Endpoints lock %s/%s has no live holder (renewed %s ago): "
             "nothing provisions or deletes volumes",
             berth_k8s_obj_namespace(ep), lock_name, age);
    else
      report(d, "ok", what, NULL,
             "leader %s (Endpoints lock %s/%s, renewed %s ago: its RBAC "
             "grants no Leases, as nfs-subdir's; examples/migrate/README.md)",
             holder, berth_k8s_obj_namespace(ep), lock_name, age);
  }
done:
  json_decref(rec);
  json_decref(list);
  return found;
}

/* The provisioner's leader Lease, named as berth-provisioner names it
 * (lease_from_deployments), else the one named after prov itself in any
 * namespace; a Lease without a live holder means nothing provisions. */
static void check_lease(doc_t *d, const char *prov)
{
  berth_k8s_list_options_t lo;
  json_t *list = NULL;
  const json_t *lease;
  berth_error_t err;
  berth_status_t st;
  lease_ref_t ref;
  char fs[300];
  char what[320];

  memset(&ref, 0, sizeof(ref));
  ref.elected = true;
  if (!lease_from_deployments(d, prov, &ref)) {
    lease_name_of(prov, ref.name, sizeof(ref.name));
    snprintf(ref.from, sizeof(ref.from), "its name");
  }
  snprintf(what, sizeof(what), "provisioner %s: Lease", prov);
  if (!ref.elected) {
    report(d, "ok", what, NULL,
           "%s runs without leader election (--leader-elect=false): no Lease",
           ref.from);
    return;
  }
  snprintf(fs, sizeof(fs), "metadata.name=%s", ref.name);
  memset(&lo, 0, sizeof(lo));
  lo.field_selector = fs;
  berth_error_clear(&err);
  st = berth_k8s_list(d->ctx->k8s, &berth_k8s_res_leases,
                      ref.ns[0] != '\0' ? ref.ns : NULL, &lo, &list, &err);
  if (st != BERTH_OK) {
    report(d, "fail", what,
           "grant your user list on leases (coordination.k8s.io), or run "
           "berthctl doctor as a user who may",
           "cannot list leases: %s", msg(&err, st));
    json_decref(list);
    return;
  }
  lease = json_array_get(json_object_get(list, "items"), 0);
  if (lease == NULL && check_endpoints_lock(d, what, ref.ns, ref.name, fs)) {
    /* reported */
  } else if (lease == NULL) {
    report(d, "fail", what,
           "start berth-provisioner (kubectl apply -k deploy/overlays/nfs, or "
           "helm install berth deploy/helm/berth), then look at its logs: "
           "kubectl -n berth logs deploy/berth-provisioner",
           "no Lease %s%s%s (named after %s): berth-provisioner is not "
           "running, so nothing provisions or deletes %s volumes",
           ref.ns[0] != '\0' ? ref.ns : "", ref.ns[0] != '\0' ? "/" : "",
           ref.name, ref.from, prov);
  } else {
    const json_t *spec = json_object_get(lease, "spec");
    const char *holder =
        json_string_value(json_object_get(spec, "holderIdentity"));
    int64_t renewed =
        ctl_time_parse(json_string_value(json_object_get(spec, "renewTime")));
    json_int_t dur =
        json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
    char age[32];
    char fix[512];

    if (renewed >= 0)
      ctl_duration_human(d->ctx->now_s - renewed, age, sizeof(age));
    else
      snprintf(age, sizeof(age), "never");
    snprintf(fix, sizeof(fix),
             "no berth-provisioner replica renews the Lease: kubectl -n %s "
             "get pods -l app.kubernetes.io/name=berth-provisioner, and "
             "kubectl -n %s logs deploy/berth-provisioner say why",
             berth_k8s_obj_namespace(lease), berth_k8s_obj_namespace(lease));
    if (holder == NULL || holder[0] == '\0' || renewed < 0 ||
        d->ctx->now_s - renewed > (int64_t)(dur > 0 ? dur : 15))
      report(d, "fail", what, fix,
             "Lease %s/%s has no live holder (renewed %s ago): nothing "
             "provisions or deletes %s volumes",
             berth_k8s_obj_namespace(lease), ref.name, age, prov);
    else
      report(d, "ok", what, NULL, "leader %s (Lease %s/%s, renewed %s ago)",
             holder, berth_k8s_obj_namespace(lease), ref.name, age);
  }
  json_decref(list);
}

static void check_provisioners(doc_t *d)
{
  ctl_ctx_t *ctx = d->ctx;
  size_t n = ctl_registry_nprovisioners(ctx->reg);
  size_t i;

  if (n == 0) {
    report(d, "warn", "provisioners",
           "name berth's provisioner: --provisioner NAME=BACKEND (as "
           "berth-provisioner's --provisioner or PROVISIONER_NAME), or "
           "$BERTHCTL_PROVISIONERS",
           "no StorageClass or PersistentVolume names a berth provisioner "
           "that berthctl recognises");
    return;
  }
  for (i = 0; i < n; i++) {
    const char *name;
    const char *backend;
    const char *source;
    char what[300];

    ctl_registry_provisioner_at(ctx->reg, i, &name, &backend, &source);
    snprintf(what, sizeof(what), "provisioner %s", name);
    report(d, "ok", what, NULL, "backend %s (from %s)", backend, source);
    check_lease(d, name);
  }
}

static void check_classes(doc_t *d)
{
  ctl_ctx_t *ctx = d->ctx;
  const json_t *sc;
  size_t n = 0;
  size_t i;

  json_array_foreach(ctl_registry_classes(ctx->reg), i, sc)
  {
    const berth_backend_ops_t *ops = ctl_registry_class_backend(ctx->reg, sc);
    berth_inspector_t *be = NULL;
    berth_error_t err;
    berth_status_t st;
    char *detail = NULL;
    char what[300];

    if (ops == NULL)
      continue;
    n++;
    snprintf(what, sizeof(what), "StorageClass %s", berth_k8s_obj_name(sc));
    berth_error_clear(&err);
    st = ctl_registry_backend(ctx, ops, &be, &err);
    if (st == BERTH_OK)
      st = ops->inspect->check(be, sc, &detail, &err);
    if (st == BERTH_OK)
      report(d, "ok", what, NULL, "%s: %s", ops->name, ctl_nz(detail));
    else if (st == BERTH_ENOTFOUND)
      report(d, "warn", what, NULL, "%s: %s", ops->name, msg(&err, st));
    else
      report(d, "fail", what,
             st == BERTH_EINVAL || st == BERTH_ENOTFOUND
                 ? "correct the StorageClass's parameters (kubectl get "
                   "storageclass NAME -o yaml; README.md lists each "
                   "backend's): a class's parameters cannot be changed, so "
                   "create a new class"
                 : "make the backend reachable from here (berthctl talks to "
                   "it directly, as berth-provisioner does)",
             "%s: %s", ops->name, msg(&err, st));
    free(detail);
  }
  if (n == 0 && ctl_registry_nprovisioners(ctx->reg) > 0)
    report(d, "warn", "StorageClasses",
           "create one (examples/demo/storageclass.yaml)",
           "no StorageClass names berth's provisioners");
}

/* The default storage of each backend that has one named (the nfs
 * backend's default export, from --nfs-url or NFS_URL). */
static void check_defaults(doc_t *d)
{
  ctl_ctx_t *ctx = d->ctx;
  const berth_inspect_env_t *env = ctl_registry_env(ctx->reg);
  size_t i;

  for (i = 0; berth_backends[i] != NULL; i++) {
    const berth_backend_ops_t *ops = berth_backends[i];
    const berth_inspect_ops_t *in = ops->inspect;
    berth_inspector_t *be = NULL;
    berth_error_t err;
    berth_status_t st;
    char *detail = NULL;
    char what[128];

    if (in == NULL || in->has_default == NULL || !in->has_default(env))
      continue;
    snprintf(what, sizeof(what), "%s %s", ops->name, ctl_nz(in->default_noun));
    berth_error_clear(&err);
    st = ctl_registry_backend(ctx, ops, &be, &err);
    if (st == BERTH_OK)
      st = in->check(be, NULL, &detail, &err);
    if (st == BERTH_OK)
      report(d, "ok", what, NULL, "%s", ctl_nz(detail));
    else
      report(d, "fail", what, in->default_hint, "%s", msg(&err, st));
    free(detail);
  }
}

int ctl_run_doctor(ctl_ctx_t *ctx)
{
  doc_t d;

  memset(&d, 0, sizeof(d));
  d.ctx = ctx;
  if (ctx->opt->nargs > 0)
    return ctl_usage_error(ctx, "doctor takes no arguments");
  if (ctl_output_is_doc(ctx)) {
    d.checks = json_array();
    if (d.checks == NULL)
      return ctl_fail(ctx, "out of memory");
  } else if (ctx->opt->output != CTL_OUT_TABLE) {
    return ctl_usage_error(ctx, "doctor prints a report, or -o json, yaml, "
                                "jsonpath= or custom-columns=");
  }
  if (check_config(&d) && check_api(&d)) {
    check_rbac(&d);
    if (ctl_registry_load(ctx)) {
      check_provisioners(&d);
      check_classes(&d);
      check_defaults(&d);
    } else {
      report(&d, "fail", "StorageClasses and PersistentVolumes",
             "grant your user list on storageclasses and persistentvolumes "
             "(kubectl auth can-i list persistentvolumes)",
             "cannot be listed");
    }
  }
  if (d.checks != NULL) {
    json_t *doc =
        json_pack("{s:s,s:s,s:o,s:i,s:i}", "apiVersion", "berth.io/v1alpha1",
                  "kind", "DoctorReport", "checks", d.checks, "failed",
                  d.failed, "warnings", d.warned);

    d.checks = NULL;
    if (doc == NULL || ctl_print_doc(ctx, doc) != CTL_EXIT_OK) {
      json_decref(doc);
      return ctl_fail(ctx, "out of memory");
    }
    json_decref(doc);
  } else {
    fprintf(ctx->out, "%s: %d failed, %d warnings\n",
            d.failed ? "problems found" : "all good", d.failed, d.warned);
  }
  return d.failed ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}
