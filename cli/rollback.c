/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl rollback: lift what berth added to PersistentVolumes and claims
 * so that switching a class back to the tool berth replaced never leaves
 * an object nobody can finish deleting.
 *
 * What berth adds (examples/migrate/README.md lists it too):
 *   PVs     the finalizer external-provisioner.volume.kubernetes.io/
 *           finalizer (the sig-storage library's; the CSI drivers' own
 *           external-provisioner handles it, nfs-subdir-external-
 *           provisioner never removes it, so its deleted PVs would stay
 *           Terminating), the backends' annotations (keys under
 *           berth.io: nfs.berth.io/directory, ...), and
 *           pv.kubernetes.io/provisioned-by naming berth's provisioner (the
 *           old tool ignores PVs that name another: --to hands them back);
 *   claims  the finalizer provisioner.berth.io/provisioning while a volume
 *           is being made (only berth removes it).
 * Every change is a JSON merge patch carrying the resourceVersion read,
 * so a concurrent writer makes it fail (run it again) instead of being
 * overwritten. berth-provisioner must be stopped first, or it puts its
 * finalizers back. */
#include "ctl.h"
#include "ctl_backend.h"

#include <stdlib.h>
#include <string.h>

/* One planned change. */
typedef struct rb_change {
  const berth_k8s_resource_t *res;
  char *ns; /* NULL for PVs */
  char *name;
  json_t *patch;
  char *what; /* for the operator */
} rb_change_t;

typedef struct rb {
  ctl_ctx_t *ctx;
  rb_change_t *changes;
  size_t n;
} rb_t;

/* A key of berth's own: "<something>berth.io/<name>". */
static bool berth_key(const char *key)
{
  const char *slash = strchr(key, '/');
  size_t n = slash != NULL ? (size_t)(slash - key) : 0;

  return n >= 8 && strncmp(slash - 8, "berth.io", 8) == 0;
}

/* The finalizers of obj without f: a new array. */
static json_t *without(const json_t *obj, const char *f)
{
  json_t *fs = json_object_get(json_object_get(obj, "metadata"), "finalizers");
  json_t *out = json_array();
  json_t *v;
  size_t i;

  json_array_foreach(fs, i, v)
  {
    if (!json_is_string(v) || strcmp(json_string_value(v), f) != 0)
      json_array_append(out, v);
  }
  return out;
}

static bool add_change(rb_t *rb, const berth_k8s_resource_t *res,
                       const json_t *obj, json_t *patch, berth_buf_t *what)
{
  rb_change_t *c = realloc(rb->changes, (rb->n + 1) * sizeof(*c));
  const char *ns = berth_k8s_obj_namespace(obj);

  if (c == NULL)
    return false;
  rb->changes = c;
  c = &rb->changes[rb->n++];
  c->res = res;
  c->ns = ns != NULL ? strdup(ns) : NULL;
  c->name = strdup(berth_k8s_obj_name(obj));
  c->patch = patch;
  c->what =
      berth_strdup_printf("%s %s%s%s: %s", res->resource, ns != NULL ? ns : "",
                          ns != NULL ? "/" : "", c->name != NULL ? c->name : "",
                          berth_buf_str(what));
  return c->name != NULL && c->what != NULL;
}

/* A new merge patch {"metadata": {"resourceVersion": <obj's>}}. */
static json_t *patch_for(const json_t *obj)
{
  return json_pack("{s:{s:s}}", "metadata", "resourceVersion",
                   ctl_nz(berth_k8s_obj_resource_version(obj)));
}

/* "; " between the notes of one change. */
static void note(berth_buf_t *what, const char *prefix, const char *arg,
                 const char *suffix)
{
  if (what->len > 0)
    berth_buf_append_str(what, "; ");
  berth_buf_appendf(what, "%s%s%s", prefix, arg, suffix);
}

/* Is this PV berth's, or one berth adopted from --to? */
static bool pv_in_scope(rb_t *rb, const json_t *pv)
{
  const char *to = rb->ctx->opt->to;
  const char *by = berth_k8s_obj_annotation(pv, BERTH_ANN_PROVISIONED_BY);
  json_t *ann = json_object_get(json_object_get(pv, "metadata"), "annotations");
  const char *k;
  json_t *v;

  if (ctl_registry_pv_backend(rb->ctx->reg, pv) != NULL)
    return true;
  if (to != NULL && by != NULL && strcmp(by, to) == 0)
    return true;
  json_object_foreach(ann, k, v)
  {
    if (berth_key(k))
      return true;
  }
  return false;
}

static bool plan_pv(rb_t *rb, const json_t *pv)
{
  const char *to = rb->ctx->opt->to;
  const char *by = berth_k8s_obj_annotation(pv, BERTH_ANN_PROVISIONED_BY);
  json_t *ann = json_object_get(json_object_get(pv, "metadata"), "annotations");
  const char *drv = json_string_value(json_object_get(
      json_object_get(json_object_get(pv, "spec"), "csi"), "driver"));
  json_t *patch, *md, *pann;
  berth_buf_t what;
  const char *k;
  json_t *v;
  bool ok = true;

  if (!pv_in_scope(rb, pv))
    return true;
  berth_buf_init(&what);
  patch = patch_for(pv);
  md = json_object_get(patch, "metadata");
  pann = json_object();
  json_object_foreach(ann, k, v)
  {
    if (berth_key(k)) {
      json_object_set_new(pann, k, json_null());
      note(&what, "annotation ", k, " removed");
    }
  }
  if (to != NULL && by != NULL && strcmp(by, to) != 0 &&
      ctl_registry_provisioner(rb->ctx->reg, by) != NULL) {
    json_object_set_new(pann, BERTH_ANN_PROVISIONED_BY, json_string(to));
    note(&what, "provisioned-by ", to, "");
  }
  if (json_object_size(pann) > 0)
    json_object_set(md, "annotations", pann);
  /* The CSI drivers' external-provisioner owns this finalizer on their
   * own PVs: leave it there when the PV goes back to that driver. */
  if (prov_obj_has_finalizer(pv, BERTH_PV_FINALIZER) &&
      !(to != NULL && drv != NULL && strcmp(drv, to) == 0)) {
    json_object_set_new(md, "finalizers", without(pv, BERTH_PV_FINALIZER));
    note(&what, "finalizer ", BERTH_PV_FINALIZER, " removed");
  }
  json_decref(pann);
  if (what.len > 0)
    ok = add_change(rb, &berth_k8s_res_persistentvolumes, pv, patch, &what);
  else
    json_decref(patch);
  berth_buf_cleanup(&what);
  return ok;
}

static bool plan_claim(rb_t *rb, const json_t *claim)
{
  const char *to = rb->ctx->opt->to;
  const char *phase = json_string_value(
      json_object_get(json_object_get(claim, "status"), "phase"));
  static const char *const keys[] = {BERTH_ANN_STORAGE_PROVISIONER,
                                     BERTH_ANN_STORAGE_PROVISIONER_BETA};
  json_t *patch = patch_for(claim);
  json_t *md = json_object_get(patch, "metadata");
  berth_buf_t what;
  size_t i;
  bool ok = true;

  berth_buf_init(&what);
  if (prov_obj_has_finalizer(claim, BERTH_CLAIM_FINALIZER)) {
    json_object_set_new(md, "finalizers",
                        without(claim, BERTH_CLAIM_FINALIZER));
    note(&what, "finalizer ", BERTH_CLAIM_FINALIZER, " removed");
  }
  /* A Pending claim still waits for berth: point it at the old tool. */
  for (i = 0;
       to != NULL && phase != NULL && strcmp(phase, "Pending") == 0 && i < 2;
       i++) {
    const char *p = berth_k8s_obj_annotation(claim, keys[i]);
    if (p != NULL && strcmp(p, to) != 0 &&
        ctl_registry_provisioner(rb->ctx->reg, p) != NULL) {
      if (json_object_get(md, "annotations") == NULL)
        json_object_set_new(md, "annotations", json_object());
      json_object_set_new(json_object_get(md, "annotations"), keys[i],
                          json_string(to));
      note(&what, keys[i], "", " now names the old provisioner");
    }
  }
  if (what.len > 0)
    ok = add_change(rb, &berth_k8s_res_persistentvolumeclaims, claim, patch,
                    &what);
  else
    json_decref(patch);
  berth_buf_cleanup(&what);
  return ok;
}

static int apply_all(rb_t *rb)
{
  ctl_ctx_t *ctx = rb->ctx;
  size_t i, failed = 0;

  for (i = 0; i < rb->n; i++) {
    rb_change_t *c = &rb->changes[i];
    berth_error_t err;
    berth_status_t st;

    berth_error_clear(&err);
    st = berth_k8s_patch(ctx->k8s, c->res, c->ns, c->name, NULL,
                         BERTH_K8S_PATCH_MERGE, c->patch, NULL, &err);
    if (st == BERTH_OK) {
      fprintf(ctx->out, "%s\n", c->what);
    } else if (st != BERTH_ENOTFOUND) {
      failed++;
      fprintf(ctx->err, "error: %s %s: %s%s\n", c->res->resource, c->name,
              err.message[0] ? err.message : berth_strerror(st),
              st == BERTH_ECONFLICT ? " (changed meanwhile: run berthctl "
                                      "rollback again)"
                                    : "");
    }
  }
  return failed == 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR;
}

int ctl_run_rollback(ctl_ctx_t *ctx)
{
  rb_t rb = {ctx, NULL, 0};
  json_t *claims = NULL, *o;
  berth_error_t err;
  berth_status_t st;
  char prompt[160];
  int rc = CTL_EXIT_ERROR;
  size_t i;

  if (ctx->opt->nargs != 0)
    return ctl_usage_error(ctx, "rollback takes no arguments");
  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  berth_error_clear(&err);
  st = berth_k8s_list_all(ctx->k8s, &berth_k8s_res_persistentvolumeclaims, NULL,
                          NULL, &claims, &err);
  if (st != BERTH_OK)
    return ctl_kube_error(ctx, "list persistentvolumeclaims", st, &err);
  json_array_foreach(ctl_registry_pvs(ctx->reg), i, o)
  {
    if (!plan_pv(&rb, o))
      goto oom;
  }
  json_array_foreach(json_object_get(claims, "items"), i, o)
  {
    if (!plan_claim(&rb, o))
      goto oom;
  }
  if (rb.n == 0) {
    fprintf(ctx->out, "nothing of berth's to lift: no finalizer or "
                      "annotation of berth's on any volume or claim\n");
    rc = CTL_EXIT_OK;
    goto done;
  }
  if (ctx->opt->dry_run || !ctx->opt->yes) {
    for (i = 0; i < rb.n; i++)
      fprintf(ctx->out, "%s\n", rb.changes[i].what);
  }
  if (ctx->opt->dry_run) {
    fprintf(ctx->out, "(dry run: nothing changed)\n");
    rc = CTL_EXIT_OK;
    goto done;
  }
  snprintf(prompt, sizeof(prompt), "Make these %zu change%s?", rb.n,
           rb.n == 1 ? "" : "s");
  if (!ctx->opt->yes && !ctl_confirm(ctx, prompt))
    goto done;
  rc = apply_all(&rb);
  goto done;
oom:
  rc = ctl_fail(ctx, "out of memory");
done:
  for (i = 0; i < rb.n; i++) {
    free(rb.changes[i].ns);
    free(rb.changes[i].name);
    free(rb.changes[i].what);
    json_decref(rb.changes[i].patch);
  }
  free(rb.changes);
  json_decref(claims);
  return rc;
}
