/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl orphans [--delete]: drift between the API and the backends,
 * both ways:
 *
 *   directory  a backend object (a directory on an export) that no
 *              PersistentVolume uses: left by a crash, by a PV deleted by
 *              hand, by another provisioner's leftovers
 *   volume     a PV of berth's classes whose backend object is gone
 *   archived   (with --archived) what a delete archived on purpose
 *
 * --delete asks first (or takes --yes), then scans again and deletes only
 * what both scans found, so that a volume provisioned in between is never
 * touched; directories younger than --min-age are left alone for the same
 * reason. PVs that are still Bound are listed but not deleted: the claim
 * owns them. */
#include "ctl_backend.h"

#include <stdlib.h>
#include <string.h>

/* PVs of berth's classes whose backend object is gone. */
static void find_volumes(ctl_ctx_t *ctx, berth_orphans_t *out)
{
  const json_t *pv;
  size_t i;

  json_array_foreach(ctl_registry_pvs(ctx->reg), i, pv)
  {
    const berth_backend_ops_t *ops = ctl_registry_pv_backend(ctx->reg, pv);
    const json_t *ref =
        json_object_get(json_object_get(pv, "spec"), "claimRef");
    const char *phase = ctl_str_at(pv, "status", "phase");
    berth_volume_info_t info;
    berth_orphan_t *o;

    if (ops == NULL)
      continue;
    berth_volume_info_init(&info);
    ctl_inspect_pv(ctx, ops, pv, false, &info);
    if (info.state == BERTH_VOLUME_MISSING && (o = berth_orphans_add(out))) {
      o->ops = ops;
      o->kind = strdup("volume");
      o->name = strdup(berth_k8s_obj_name(pv));
      o->source = info.source ? strdup(info.source) : NULL;
      o->location = info.location ? strdup(info.location) : NULL;
      o->problem = berth_strdup_printf("its %s %s is gone",
                                       ops->inspect->object_noun != NULL
                                           ? ops->inspect->object_noun
                                           : "backend object",
                                       ctl_nz(info.location));
      o->pv_phase = strdup(ctl_nz(phase));
      if (phase != NULL && strcmp(phase, "Bound") == 0 && ref != NULL)
        o->claim = berth_strdup_printf(
            "%s/%s", ctl_nz(ctl_str_at(ref, "namespace", NULL)),
            ctl_nz(ctl_str_at(ref, "name", NULL)));
      o->time_s =
          ctl_time_parse(ctl_str_at(pv, "metadata", "creationTimestamp"));
    } else if (info.state == BERTH_VOLUME_ERROR && info.message != NULL) {
      fprintf(ctx->err, "warning: volume %s: %s\n", berth_k8s_obj_name(pv),
              info.message);
    }
    berth_volume_info_cleanup(&info);
  }
}

/* Scan every backend; false when one could not be scanned (printed). */
static bool find_all(ctl_ctx_t *ctx, berth_orphans_t *out)
{
  bool ok = true;
  size_t i;
  size_t p;

  for (i = 0; berth_backends[i] != NULL; i++) {
    const berth_backend_ops_t *ops = berth_backends[i];
    bool used = false;
    berth_inspector_t *be = NULL;
    berth_error_t err;

    for (p = 0; p < ctl_registry_nprovisioners(ctx->reg); p++) {
      const char *name;
      const char *backend;
      const char *source;

      ctl_registry_provisioner_at(ctx->reg, p, &name, &backend, &source);
      used = used || strcmp(backend, ops->name) == 0;
    }
    if (!berth_backend_can_inspect(ops))
      continue;
    /* A backend with a default (the nfs backend's default export) scans
     * it even when no class names the backend yet. */
    if (!used && !(ops->inspect->has_default != NULL &&
                   ops->inspect->has_default(ctl_registry_env(ctx->reg))))
      continue;
    berth_error_clear(&err);
    if (ctl_registry_backend(ctx, ops, &be, &err) != BERTH_OK ||
        ops->inspect->scan(be, out, &err) != BERTH_OK) {
      fprintf(ctx->err, "error: %s: %s\n", ops->name, err.message);
      ok = false;
    }
  }
  find_volumes(ctx, out);
  return ok;
}

static bool deletable(const ctl_ctx_t *ctx, const berth_orphan_t *o)
{
  if (o->recent)
    return false;
  if (strcmp(o->kind, "volume") == 0)
    return o->claim == NULL;
  return true;
}

static void problem_text(const berth_orphan_t *o, char *out, size_t size)
{
  snprintf(out, size, "%s%s%s%s%s", o->problem, o->claim ? " (bound to " : "",
           o->claim ? o->claim : "",
           o->claim ? ": delete the claim, or restore the data)" : "",
           o->recent ? " (recent: may be a volume being provisioned)" : "");
}

static void print_list(ctl_ctx_t *ctx, const berth_orphans_t *list)
{
  const ctl_options_t *opt = ctx->opt;
  ctl_table_t *t;
  size_t i;

  if (opt->output == CTL_OUT_NAME) {
    for (i = 0; i < list->n; i++)
      fprintf(ctx->out, "%s/%s\n",
              strcmp(list->items[i].kind, "volume") == 0 ? "persistentvolume"
                                                         : "directory",
              list->items[i].name);
    return;
  }
  if (ctl_list_structured(ctx)) {
    /* Kubernetes-shaped: a v1 List of Orphan objects (what it is in spec,
     * what is wrong in status), for -o json|yaml|jsonpath=|custom-columns=. */
    json_t *items = json_array();

    for (i = 0; i < list->n; i++) {
      const berth_orphan_t *o = &list->items[i];
      json_t *status =
          json_pack("{s:s,s:b,s:b}", "problem", o->problem, "recent", o->recent,
                    "deletable", deletable(ctx, o));
      json_t *item = json_pack(
          "{s:s,s:s,s:{s:s},s:{s:s,s:s,s:s?,s:s?},s:o}", "apiVersion",
          "berth.io/v1alpha1", "kind", "Orphan", "metadata", "name", o->name,
          "spec", "type", o->kind, "backend", o->ops->name, "source", o->source,
          "location", o->location, "status", status);

      if (item == NULL)
        continue;
      if (o->pv_phase != NULL)
        json_object_set_new(status, "phase", json_string(o->pv_phase));
      if (o->claim != NULL)
        json_object_set_new(status, "claim", json_string(o->claim));
      if (o->has_usage)
        json_object_set_new(status, "usage",
                            json_pack("{s:I,s:I,s:b}", "bytes",
                                      (json_int_t)o->usage.bytes, "files",
                                      (json_int_t)o->usage.files, "truncated",
                                      o->usage.truncated));
      json_array_append_new(items, item);
    }
    ctl_list_print(ctx, items);
    json_decref(items);
    return;
  }
  if (list->n == 0 && ctl_registry_nprovisioners(ctx->reg) == 0) {
    fprintf(ctx->err, "Nothing to check: no StorageClass or PV names a "
                      "berth provisioner that berthctl recognises (pass "
                      "--provisioner NAME=BACKEND, or --nfs-url URL to scan "
                      "an export).\n");
    return;
  }
  if (list->n == 0) {
    fprintf(ctx->err, "No orphans found: every backend object has its "
                      "volume and every volume its backend object.\n");
    return;
  }
  t = ctl_table_create();
  if (t == NULL)
    return;
  ctl_table_column(t, "KIND", true);
  ctl_table_column(t, "NAME", true);
  ctl_table_column(t, "BACKEND", true);
  ctl_table_column(t, "USED", true);
  ctl_table_column(t, "FILES", true);
  ctl_table_column(t, "PROBLEM", true);
  ctl_table_column(t, "AGE", true);
  ctl_table_column(t, "SOURCE", opt->output == CTL_OUT_WIDE);
  for (i = 0; i < list->n; i++) {
    const berth_orphan_t *o = &list->items[i];
    char used[32] = "-";
    char files[32] = "-";
    char problem[1024];
    char age[32];

    if (o->has_usage) {
      ctl_bytes_human(o->usage.bytes, used, sizeof(used));
      snprintf(files, sizeof(files), "%llu",
               (unsigned long long)o->usage.files);
    }
    problem_text(o, problem, sizeof(problem));
    if (o->time_s >= 0)
      ctl_duration_human(ctx->now_s - o->time_s, age, sizeof(age));
    else
      snprintf(age, sizeof(age), "<unknown>");
    ctl_table_row(t);
    ctl_table_cell(t, o->kind);
    ctl_table_cell(t, o->name);
    ctl_table_cell(t, o->ops->name);
    ctl_table_cell(t, used);
    ctl_table_cell(t, files);
    ctl_table_cell(t, problem);
    ctl_table_cell(t, age);
    ctl_table_cell(t, o->source ? o->source : "-");
  }
  ctl_table_print(t, ctx->out, !opt->no_headers);
  ctl_table_destroy(t);
}

static const berth_orphan_t *find_same(const berth_orphans_t *list,
                                       const berth_orphan_t *o)
{
  size_t i;

  for (i = 0; i < list->n; i++) {
    const berth_orphan_t *x = &list->items[i];

    if (x->ops == o->ops && strcmp(x->kind, o->kind) == 0 &&
        strcmp(x->name, o->name) == 0 &&
        strcmp(ctl_nz(x->source), ctl_nz(o->source)) == 0)
      return x;
  }
  return NULL;
}

/* Lift the provisioner's finalizer from PV name, if it has it. The
 * provisioner may be updating the PV at the same moment (it lifts the
 * finalizer too once it sees the backend object gone): a conflict means
 * read again and retry. */
static berth_status_t lift_finalizer(ctl_ctx_t *ctx, const char *name,
                                     berth_error_t *err)
{
  berth_status_t st = BERTH_ECONFLICT;
  int attempt;

  for (attempt = 0; attempt < 5 && st == BERTH_ECONFLICT; attempt++) {
    json_t *pv = NULL;
    json_t *keep = json_array();
    json_t *patch = NULL;
    const json_t *fins;
    const json_t *f;
    size_t i;

    st = berth_k8s_get(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL, name,
                       &pv, err);
    if (st == BERTH_OK) {
      fins = json_object_get(json_object_get(pv, "metadata"), "finalizers");
      json_array_foreach(fins, i, f)
      {
        if (strcmp(ctl_nz(json_string_value(f)), BERTH_PV_FINALIZER) != 0)
          json_array_append(keep, (json_t *)f);
      }
      if (json_array_size(keep) != json_array_size(fins)) {
        patch =
            json_pack("{s:{s:O,s:s}}", "metadata", "finalizers", keep,
                      "resourceVersion", berth_k8s_obj_resource_version(pv));
        st = berth_k8s_patch(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL,
                             name, NULL, BERTH_K8S_PATCH_MERGE, patch, NULL,
                             err);
      }
    }
    json_decref(pv);
    json_decref(keep);
    json_decref(patch);
  }
  return st == BERTH_ENOTFOUND ? BERTH_OK : st;
}

berth_status_t ctl_pv_delete(ctl_ctx_t *ctx, const char *name,
                             berth_error_t *err)
{
  berth_k8s_delete_options_t o;
  json_t *answer = NULL;
  berth_status_t st;

  memset(&o, 0, sizeof(o));
  st = berth_k8s_delete(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL, name,
                        &o, &answer, err);
  json_decref(answer);
  /* The provisioner's finalizer holds the PV until the backend object is
   * deleted, which is what berthctl has just done (or found done): let it
   * go. Other finalizers (pv-protection) are not ours to remove. */
  if (st == BERTH_OK)
    st = lift_finalizer(ctx, name, err);
  return st;
}

static int delete_found(ctl_ctx_t *ctx, const berth_orphans_t *first)
{
  const ctl_options_t *opt = ctx->opt;
  berth_orphans_t again;
  size_t ndirs = 0;
  size_t npvs = 0;
  size_t skipped = 0;
  size_t i;
  char prompt[256];
  int rc = CTL_EXIT_OK;

  for (i = 0; i < first->n; i++) {
    if (!deletable(ctx, &first->items[i]))
      skipped++;
    else if (strcmp(first->items[i].kind, "volume") == 0)
      npvs++;
    else
      ndirs++;
  }
  if (skipped > 0)
    fprintf(ctx->err,
            "%zu of them will be left alone: bound to a claim, "
            "or younger than --min-age\n",
            skipped);
  if (ndirs + npvs == 0) {
    fprintf(ctx->err, "Nothing to delete.\n");
    return CTL_EXIT_OK;
  }
  snprintf(prompt, sizeof(prompt),
           "%s %zu backend object%s and %zu "
           "PersistentVolume%s listed above?",
           opt->archive ? "Archive" : "Delete", ndirs, ndirs == 1 ? "" : "s",
           npvs, npvs == 1 ? "" : "s");
  if (opt->dry_run) {
    fprintf(ctx->out, "%s (dry run: nothing done)\n", prompt);
    return CTL_EXIT_OK;
  }
  if (!ctl_confirm(ctx, prompt))
    return CTL_EXIT_ERROR;

  /* Look again, with fresh lists: only what is still an orphan goes. */
  memset(&again, 0, sizeof(again));
  ctl_registry_destroy(ctx->reg);
  ctx->reg = NULL;
  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  find_all(ctx, &again);
  for (i = 0; i < first->n; i++) {
    const berth_orphan_t *o = &first->items[i];
    const berth_orphan_t *now = find_same(&again, o);
    berth_error_t err;
    berth_status_t st;
    berth_inspector_t *be = NULL;
    char *done = NULL;

    if (!deletable(ctx, o))
      continue;
    if (now == NULL || !deletable(ctx, now)) {
      fprintf(ctx->out, "%s %s: no longer an orphan, left alone\n", o->kind,
              o->name);
      continue;
    }
    berth_error_clear(&err);
    if (strcmp(o->kind, "volume") == 0) {
      st = ctl_pv_delete(ctx, o->name, &err);
      if (st == BERTH_OK)
        fprintf(ctx->out, "persistentvolume \"%s\" deleted\n", o->name);
    } else {
      st = ctl_registry_backend(ctx, o->ops, &be, &err);
      if (st == BERTH_OK)
        st = o->ops->inspect->remove(be, o, opt->archive, &done, &err);
      if (st == BERTH_OK)
        fprintf(ctx->out, "%s \"%s\" %s\n", o->kind, o->name, ctl_nz(done));
      free(done);
    }
    if (st != BERTH_OK) {
      fprintf(ctx->err, "error: %s %s: %s\n", o->kind, o->name,
              err.message[0] ? err.message : berth_strerror(st));
      rc = CTL_EXIT_ERROR;
    }
  }
  berth_orphans_cleanup(&again);
  return rc;
}

int ctl_run_orphans(ctl_ctx_t *ctx)
{
  berth_orphans_t list;
  bool ok;
  int rc;

  if (ctx->opt->nargs > 0)
    return ctl_usage_error(ctx, "orphans takes no arguments");
  if ((ctx->opt->archive || ctx->opt->yes || ctx->opt->dry_run) &&
      !ctx->opt->do_delete)
    return ctl_usage_error(ctx, "--archive, --yes and --dry-run go with "
                                "--delete");
  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  memset(&list, 0, sizeof(list));
  ok = find_all(ctx, &list);
  print_list(ctx, &list);
  rc = ok ? CTL_EXIT_OK : CTL_EXIT_ERROR;
  if (ctx->opt->do_delete && list.n > 0) {
    int drc = delete_found(ctx, &list);

    if (drc != CTL_EXIT_OK)
      rc = drc;
  }
  berth_orphans_cleanup(&list);
  return rc;
}
