/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl claims, berthctl volumes: the claims and volumes of berth's
 * classes, with what the backend says beside what the API says. */
#include "ctl_backend.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Warnings about backends, printed once each after the listing. */
typedef struct warnings {
  char **items;
  size_t n;
} warnings_t;

static void warn_add(warnings_t *w, const char *who, const char *msg)
{
  char *line = berth_strdup_printf("%s: %s", who, msg);
  char **grown;
  size_t i;

  if (line == NULL)
    return;
  for (i = 0; i < w->n; i++) {
    /* One line per distinct message (a dead export would otherwise say
     * the same for each of its volumes). */
    const char *colon = strchr(w->items[i], ':');

    if (colon != NULL && strcmp(colon + 2, msg) == 0) {
      free(line);
      return;
    }
  }
  grown = realloc(w->items, (w->n + 1) * sizeof(*grown));
  if (grown == NULL) {
    free(line);
    return;
  }
  w->items = grown;
  w->items[w->n++] = line;
}

static void warn_flush(ctl_ctx_t *ctx, warnings_t *w)
{
  size_t i;

  for (i = 0; i < w->n; i++) {
    fprintf(ctx->err, "warning: %s\n", w->items[i]);
    free(w->items[i]);
  }
  free(w->items);
  memset(w, 0, sizeof(*w));
}

/* The details with describe's titles as JSON names ("On Delete" ->
 * "onDelete"). New reference. */
static json_t *camel_keys(const json_t *details)
{
  json_t *out = json_object();
  const char *k;
  json_t *v;

  json_object_foreach((json_t *)details, k, v)
  {
    char key[64];
    const char *c;
    size_t n = 0;
    bool up = false;

    /* Not k itself: json_object_foreach finds the next key through it. */
    for (c = k; *c != '\0' && n + 1 < sizeof(key); c++) {
      if (*c == ' ') {
        up = true;
        continue;
      }
      key[n] = n == 0 ? (char)tolower((unsigned char)*c)
               : up   ? (char)toupper((unsigned char)*c)
                      : *c;
      n++;
      up = false;
    }
    key[n] = '\0';
    /* Booleans as booleans, as Kubernetes objects carry them. */
    if (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 ||
                              strcmp(json_string_value(v), "false") == 0))
      json_object_set_new(out, key,
                          json_boolean(json_string_value(v)[0] == 't'));
    else
      json_object_set(out, key, v);
  }
  return out;
}

/* -o json/yaml: the backend's part of an item. New reference. */
static json_t *backend_json(const berth_volume_info_t *info)
{
  json_t *b;

  if (info->ops == NULL)
    return json_null();
  b = json_pack("{s:s,s:s?,s:s?,s:s}", "name", info->ops->name, "source",
                info->source, "location", info->location, "state",
                berth_volume_state_name(info->state));
  if (b == NULL)
    return json_null();
  if (info->message != NULL)
    json_object_set_new(b, "message", json_string(info->message));
  if (info->has_usage)
    json_object_set_new(b, "usage",
                        json_pack("{s:I,s:I,s:b}", "bytes",
                                  (json_int_t)info->usage.bytes, "files",
                                  (json_int_t)info->usage.files, "truncated",
                                  info->usage.truncated));
  if (info->details != NULL)
    json_object_set_new(b, "details", camel_keys(info->details));
  return b;
}

/* The backend columns: BACKEND LOCATION (wide), STATE, USED, FILES
 * (wide). */
static void backend_cells(ctl_table_t *t, const berth_volume_info_t *info,
                          const berth_backend_ops_t *ops)
{
  char used[32];

  ctl_table_cell(t, ops != NULL ? ops->name : "-");
  ctl_table_cell(t, info->location != NULL ? info->location : "-");
  ctl_table_cell(t, info->ops != NULL ? berth_volume_state_name(info->state)
                                      : "-");
  if (info->has_usage) {
    ctl_bytes_human(info->usage.bytes, used, sizeof(used));
    ctl_table_cellf(t, "%s%s", info->usage.truncated ? ">" : "", used);
    ctl_table_cellf(t, "%s%llu", info->usage.truncated ? ">" : "",
                    (unsigned long long)info->usage.files);
  } else {
    ctl_table_cell(t, "-");
    ctl_table_cell(t, "-");
  }
}

/* kubectl's default table is narrow (what fits 80 columns for the
 * usual names): the backend's STATE and USED; -o wide adds BACKEND,
 * LOCATION and FILES. */
static void backend_columns(ctl_table_t *t, bool wide)
{
  ctl_table_column(t, "BACKEND", wide);
  ctl_table_column(t, "LOCATION", wide);
  ctl_table_column(t, "STATE", true);
  ctl_table_column(t, "USED", true);
  ctl_table_column(t, "FILES", wide);
}

/* The object as -o json|yaml|jsonpath print it: as the API server gave
 * it (apiVersion and kind filled in: list items lack them), with what the
 * backend says under "berth". New reference. */
static json_t *list_item(const json_t *obj, const char *kind,
                         const berth_volume_info_t *info)
{
  json_t *item = json_pack("{s:s,s:s}", "apiVersion", "v1", "kind", kind);
  const char *k;
  json_t *v;

  if (item == NULL)
    return NULL;
  /* apiVersion and kind first, as kubectl prints objects. */
  json_object_foreach((json_t *)obj, k, v)
  {
    if (strcmp(k, "apiVersion") != 0 && strcmp(k, "kind") != 0)
      json_object_set_new(item, k, json_deep_copy(v));
  }
  json_object_set_new(item, "berth", backend_json(info));
  return item;
}

/* NAME arguments that matched nothing: kubectl's NotFound, exit 1. */
static int not_found(ctl_ctx_t *ctx, const json_t *shown, const char *res)
{
  const json_t *o;
  size_t i;
  size_t j;
  int rc = CTL_EXIT_OK;

  for (i = 0; i < ctx->opt->nargs; i++) {
    bool seen = false;

    json_array_foreach(shown, j, o) seen =
        seen || strcmp(ctl_nz(berth_k8s_obj_name(o)), ctx->opt->args[i]) == 0;
    if (!seen) {
      fprintf(ctx->err,
              "Error from server (NotFound): %s \"%s\" not found (or not of "
              "berth's classes)\n",
              res, ctx->opt->args[i]);
      rc = CTL_EXIT_ERROR;
    }
  }
  return rc;
}

/* The backend a claim is berth's through: its class, the provisioner the
 * PV controller asked for, or its bound PV. NULL: not berth's. */
static const berth_backend_ops_t *
claim_backend(ctl_ctx_t *ctx, const json_t *claim, const json_t **pv)
{
  const ctl_registry_t *reg = ctx->reg;
  const berth_backend_ops_t *ops;
  const char *vol = ctl_str_at(claim, "spec", "volumeName");

  *pv = vol != NULL ? ctl_registry_pv(reg, vol) : NULL;
  ops = ctl_registry_class_backend(
      reg, ctl_registry_class(reg, prov_claim_class(claim)));
  if (ops == NULL)
    ops = ctl_registry_provisioner(reg, prov_claim_provisioner(claim));
  if (ops == NULL && *pv != NULL)
    ops = ctl_registry_pv_backend(reg, *pv);
  return ops;
}

static void no_resources(ctl_ctx_t *ctx, const char *what, bool namespaced)
{
  if (namespaced && !ctx->opt->all_namespaces)
    fprintf(ctx->err, "No %s of berth's classes found in %s namespace.\n", what,
            ctx->ns);
  else
    fprintf(ctx->err, "No %s of berth's classes found.\n", what);
  if (ctl_registry_nprovisioners(ctx->reg) == 0)
    fprintf(ctx->err, "  (no StorageClass or PV names a berth provisioner "
                      "that berthctl recognises: pass --provisioner "
                      "NAME=BACKEND; 'berthctl doctor' shows what was "
                      "found)\n");
}

static bool want_usage(const ctl_ctx_t *ctx)
{
  return !ctx->opt->no_usage && ctx->opt->output != CTL_OUT_NAME;
}

/* Claims and volumes share the shape of a run: list, keep berth's (and
 * the named), sort, ask the backends, print. */
typedef struct listing {
  ctl_table_t *t;
  json_t *objs;  /* berth's objects to show, sorted */
  json_t *items; /* -o json|yaml|...: the objects with "berth" */
  warnings_t warns;
  bool failed; /* a backend could not be asked */
} listing_t;

static bool listing_init(ctl_ctx_t *ctx, listing_t *l)
{
  memset(l, 0, sizeof(*l));
  l->t = ctl_table_create();
  l->objs = json_array();
  l->items = json_array();
  if (l->t == NULL || l->objs == NULL || l->items == NULL) {
    ctl_fail(ctx, "out of memory");
    return false;
  }
  return true;
}

static void listing_cleanup(listing_t *l)
{
  ctl_table_destroy(l->t);
  json_decref(l->objs);
  json_decref(l->items);
}

/* Print what was gathered; the exit status: 1 when a NAME was not found
 * or a backend could not be asked (after printing all the rest). */
static int listing_finish(ctl_ctx_t *ctx, listing_t *l, const char *what,
                          const char *res, bool namespaced)
{
  int rc = CTL_EXIT_OK;

  ctl_progress(ctx, NULL);
  if (ctl_list_structured(ctx))
    rc = ctl_list_print(ctx, l->items);
  else if (json_array_size(l->objs) > 0)
    ctl_table_print(l->t, ctx->out, !ctx->opt->no_headers);
  if (json_array_size(l->objs) == 0 && ctx->opt->nargs == 0 &&
      !ctl_list_structured(ctx))
    no_resources(ctx, what, namespaced);
  warn_flush(ctx, &l->warns);
  if (not_found(ctx, l->objs, res) != CTL_EXIT_OK)
    rc = CTL_EXIT_ERROR;
  if (l->failed) {
    fprintf(ctx->err, "error: a backend could not be asked (see the "
                      "warnings above; berthctl doctor checks each)\n");
    rc = CTL_EXIT_ERROR;
  }
  return rc;
}

int ctl_run_claims(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  berth_k8s_list_options_t lo;
  listing_t l;
  json_t *list = NULL;
  berth_error_t err;
  berth_status_t st;
  const json_t *claim;
  bool wide = opt->output == CTL_OUT_WIDE;
  size_t i;
  int rc = CTL_EXIT_OK;

  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  memset(&lo, 0, sizeof(lo));
  lo.label_selector = opt->selector;
  berth_error_clear(&err);
  st = berth_k8s_list_all(ctx->k8s, &berth_k8s_res_persistentvolumeclaims,
                          opt->all_namespaces ? NULL : ctx->ns, &lo, &list,
                          &err);
  if (st != BERTH_OK)
    return ctl_kube_error(ctx, "list persistentvolumeclaims", st, &err);
  if (!listing_init(ctx, &l)) {
    rc = CTL_EXIT_ERROR;
    goto done;
  }
  json_array_foreach(json_object_get(list, "items"), i, claim)
  {
    const json_t *pv = NULL;

    if (claim_backend(ctx, claim, &pv) != NULL && ctl_list_named(ctx, claim))
      json_array_append(l.objs, (json_t *)claim);
  }
  if (!ctl_list_sort(ctx, l.objs)) {
    rc = CTL_EXIT_USAGE;
    goto done;
  }
  ctl_table_column(l.t, "NAMESPACE", opt->all_namespaces);
  ctl_table_column(l.t, "NAME", true);
  ctl_table_column(l.t, "STATUS", true);
  ctl_table_column(l.t, "VOLUME", true);
  ctl_table_column(l.t, "CAPACITY", true);
  ctl_table_column(l.t, "ACCESS MODES", wide);
  ctl_table_column(l.t, "STORAGECLASS", true);
  backend_columns(l.t, wide);
  ctl_table_column(l.t, "AGE", true);
  ctl_table_column(l.t, "SOURCE", wide);
  ctl_table_column(l.t, "PROVISIONER", wide);

  json_array_foreach(l.objs, i, claim)
  {
    const json_t *pv = NULL;
    const berth_backend_ops_t *ops = claim_backend(ctx, claim, &pv);
    const char *name = berth_k8s_obj_name(claim);
    const char *provisioner;
    berth_volume_info_t info;
    char modes[64];
    char age[32];

    berth_volume_info_init(&info);
    if (pv != NULL && opt->output != CTL_OUT_NAME) {
      ctl_progress(ctx, "asking the backends: %s (%zu)", name, i + 1);
      ctl_inspect_pv(ctx, ops, pv, want_usage(ctx), &info);
    }
    if (info.message != NULL)
      warn_add(&l.warns, name, info.message);
    l.failed =
        l.failed || (info.ops != NULL && info.state == BERTH_VOLUME_ERROR);
    provisioner = pv != NULL
                      ? berth_k8s_obj_annotation(pv, BERTH_ANN_PROVISIONED_BY)
                      : NULL;
    if (provisioner == NULL)
      provisioner = prov_claim_provisioner(claim);
    if (ctl_list_structured(ctx)) {
      json_array_append_new(l.items,
                            list_item(claim, "PersistentVolumeClaim", &info));
    } else {
      ctl_access_modes(
          json_object_get(json_object_get(claim, "status"), "accessModes"),
          modes, sizeof(modes));
      ctl_age(ctx, ctl_str_at(claim, "metadata", "creationTimestamp"), age,
              sizeof(age));
      ctl_table_row(l.t);
      ctl_table_cell(l.t, berth_k8s_obj_namespace(claim));
      ctl_table_cell(l.t, name);
      ctl_table_cell(l.t, ctl_str_at(claim, "status", "phase"));
      ctl_table_cell(l.t, ctl_nz(ctl_str_at(claim, "spec", "volumeName")));
      ctl_table_cell(
          l.t,
          ctl_nz(json_string_value(json_object_get(
              json_object_get(json_object_get(claim, "status"), "capacity"),
              "storage"))));
      ctl_table_cell(l.t, modes);
      ctl_table_cell(l.t, prov_claim_class(claim));
      backend_cells(l.t, &info, ops);
      ctl_table_cell(l.t, age);
      ctl_table_cell(l.t, info.source ? info.source : "-");
      ctl_table_cell(l.t, provisioner ? provisioner : "-");
    }
    berth_volume_info_cleanup(&info);
  }
  rc = listing_finish(ctx, &l, "claims", "persistentvolumeclaims", true);

done:
  listing_cleanup(&l);
  json_decref(list);
  return rc;
}

int ctl_run_volumes(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  berth_k8s_list_options_t lo;
  listing_t l;
  json_t *list = NULL;
  const json_t *pvs;
  const json_t *pv;
  berth_error_t err;
  berth_status_t st;
  bool wide = opt->output == CTL_OUT_WIDE;
  size_t i;
  int rc = CTL_EXIT_OK;

  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  pvs = ctl_registry_pvs(ctx->reg);
  if (opt->selector != NULL) {
    memset(&lo, 0, sizeof(lo));
    lo.label_selector = opt->selector;
    berth_error_clear(&err);
    st = berth_k8s_list_all(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL,
                            &lo, &list, &err);
    if (st != BERTH_OK)
      return ctl_kube_error(ctx, "list persistentvolumes", st, &err);
    pvs = json_object_get(list, "items");
  }
  if (!listing_init(ctx, &l)) {
    rc = CTL_EXIT_ERROR;
    goto done;
  }
  json_array_foreach(pvs, i, pv)
  {
    if (ctl_registry_pv_backend(ctx->reg, pv) != NULL &&
        ctl_list_named(ctx, pv))
      json_array_append(l.objs, (json_t *)pv);
  }
  if (!ctl_list_sort(ctx, l.objs)) {
    rc = CTL_EXIT_USAGE;
    goto done;
  }
  ctl_table_column(l.t, "NAME", true);
  ctl_table_column(l.t, "CAPACITY", true);
  ctl_table_column(l.t, "ACCESS MODES", wide);
  ctl_table_column(l.t, "RECLAIM POLICY", wide);
  ctl_table_column(l.t, "STATUS", true);
  ctl_table_column(l.t, "CLAIM", true);
  ctl_table_column(l.t, "STORAGECLASS", true);
  backend_columns(l.t, wide);
  ctl_table_column(l.t, "AGE", true);
  ctl_table_column(l.t, "SOURCE", wide);
  ctl_table_column(l.t, "PROVISIONER", wide);

  json_array_foreach(l.objs, i, pv)
  {
    const berth_backend_ops_t *ops = ctl_registry_pv_backend(ctx->reg, pv);
    const char *name = berth_k8s_obj_name(pv);
    const json_t *spec = json_object_get(pv, "spec");
    const json_t *ref = json_object_get(spec, "claimRef");
    const char *provisioner =
        berth_k8s_obj_annotation(pv, BERTH_ANN_PROVISIONED_BY);
    berth_volume_info_t info;
    char claim[512] = "";
    char modes[64];
    char age[32];

    if (ref != NULL)
      snprintf(claim, sizeof(claim), "%s/%s",
               ctl_nz(ctl_str_at(ref, "namespace", NULL)),
               ctl_nz(ctl_str_at(ref, "name", NULL)));
    berth_volume_info_init(&info);
    if (opt->output != CTL_OUT_NAME) {
      ctl_progress(ctx, "asking the backends: %s (%zu)", name, i + 1);
      ctl_inspect_pv(ctx, ops, pv, want_usage(ctx), &info);
    }
    if (info.message != NULL)
      warn_add(&l.warns, name, info.message);
    l.failed =
        l.failed || (info.ops != NULL && info.state == BERTH_VOLUME_ERROR);
    if (ctl_list_structured(ctx)) {
      json_array_append_new(l.items, list_item(pv, "PersistentVolume", &info));
    } else {
      ctl_access_modes(json_object_get(spec, "accessModes"), modes,
                       sizeof(modes));
      ctl_age(ctx, ctl_str_at(pv, "metadata", "creationTimestamp"), age,
              sizeof(age));
      ctl_table_row(l.t);
      ctl_table_cell(l.t, name);
      ctl_table_cell(l.t, json_string_value(json_object_get(
                              json_object_get(spec, "capacity"), "storage")));
      ctl_table_cell(l.t, modes);
      ctl_table_cell(l.t,
                     ctl_str_at(spec, "persistentVolumeReclaimPolicy", NULL));
      ctl_table_cell(l.t, ctl_str_at(pv, "status", "phase"));
      ctl_table_cell(l.t, claim);
      ctl_table_cell(l.t, ctl_str_at(spec, "storageClassName", NULL));
      backend_cells(l.t, &info, ops);
      ctl_table_cell(l.t, age);
      ctl_table_cell(l.t, info.source ? info.source : "-");
      ctl_table_cell(l.t, provisioner ? provisioner : "-");
    }
    berth_volume_info_cleanup(&info);
  }
  rc = listing_finish(ctx, &l, "volumes", "persistentvolumes", false);

done:
  listing_cleanup(&l);
  json_decref(list);
  return rc;
}
