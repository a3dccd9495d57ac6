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
    json_object_set(out, key, v);
  }
  return out;
}

/* -o json/yaml: the backend's part of an item. New reference. */
static json_t *backend_json(const ctl_volume_info_t *info)
{
  json_t *b;

  if (info->ops == NULL)
    return json_null();
  b = json_pack("{s:s,s:s?,s:s?,s:s}", "name", info->ops->name, "source",
                info->source, "location", info->location, "state",
                ctl_state_name(info->state));
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

/* The backend columns: BACKEND LOCATION STATE USED FILES. */
static void backend_cells(ctl_table_t *t, const ctl_volume_info_t *info,
                          const ctl_backend_ops_t *ops)
{
  char used[32];

  ctl_table_cell(t, ops != NULL ? ops->name : "-");
  ctl_table_cell(t, info->location != NULL ? info->location : "-");
  ctl_table_cell(t, info->ops != NULL ? ctl_state_name(info->state) : "-");
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

static void backend_columns(ctl_table_t *t)
{
  ctl_table_column(t, "BACKEND", true);
  ctl_table_column(t, "LOCATION", true);
  ctl_table_column(t, "STATE", true);
  ctl_table_column(t, "USED", true);
  ctl_table_column(t, "FILES", true);
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
  const json_t *v = json_object_get(o, a);

  if (b != NULL)
    v = json_object_get(v, b);
  return json_string_value(v);
}

/* A claim's class: spec.storageClassName, else the beta annotation. */
static const char *claim_class(const json_t *claim)
{
  const char *cls = str_at(claim, "spec", "storageClassName");

  return cls != NULL ? cls
                     : berth_k8s_obj_annotation(
                           claim, "volume.beta.kubernetes.io/storage-class");
}

/* The backend a claim is berth's through: its class, the provisioner the
 * PV controller asked for, or its bound PV. NULL: not berth's. */
static const ctl_backend_ops_t *
claim_backend(ctl_ctx_t *ctx, const json_t *claim, const json_t **pv)
{
  const ctl_registry_t *reg = ctx->reg;
  const ctl_backend_ops_t *ops;
  const char *vol = str_at(claim, "spec", "volumeName");

  *pv = vol != NULL ? ctl_registry_pv(reg, vol) : NULL;
  ops = ctl_registry_class_backend(reg,
                                   ctl_registry_class(reg, claim_class(claim)));
  if (ops == NULL)
    ops = ctl_registry_provisioner(
        reg, berth_k8s_obj_annotation(
                 claim, "volume.kubernetes.io/storage-provisioner"));
  if (ops == NULL)
    ops = ctl_registry_provisioner(
        reg, berth_k8s_obj_annotation(
                 claim, "volume.beta.kubernetes.io/storage-provisioner"));
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

int ctl_run_claims(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  berth_k8s_list_options_t lo;
  ctl_table_t *t = NULL;
  json_t *list = NULL;
  json_t *doc_items = NULL;
  warnings_t warns;
  berth_error_t err;
  berth_status_t st;
  const json_t *claim;
  bool wide = opt->output == CTL_OUT_WIDE;
  size_t shown = 0;
  size_t i;
  int rc = CTL_EXIT_OK;

  memset(&warns, 0, sizeof(warns));
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

  t = ctl_table_create();
  doc_items = json_array();
  if (t == NULL || doc_items == NULL) {
    rc = ctl_fail(ctx, "out of memory");
    goto done;
  }
  ctl_table_column(t, "NAMESPACE", opt->all_namespaces);
  ctl_table_column(t, "NAME", true);
  ctl_table_column(t, "STATUS", true);
  ctl_table_column(t, "VOLUME", true);
  ctl_table_column(t, "CAPACITY", true);
  ctl_table_column(t, "ACCESS MODES", true);
  ctl_table_column(t, "STORAGECLASS", true);
  backend_columns(t);
  ctl_table_column(t, "AGE", true);
  ctl_table_column(t, "SOURCE", wide);
  ctl_table_column(t, "PROVISIONER", wide);

  json_array_foreach(json_object_get(list, "items"), i, claim)
  {
    const json_t *pv = NULL;
    const ctl_backend_ops_t *ops = claim_backend(ctx, claim, &pv);
    const char *name = berth_k8s_obj_name(claim);
    const char *ns = berth_k8s_obj_namespace(claim);
    const char *provisioner;
    ctl_volume_info_t info;
    char modes[64];
    char age[32];

    if (ops == NULL)
      continue;
    shown++;
    if (opt->output == CTL_OUT_NAME) {
      fprintf(ctx->out, "persistentvolumeclaim/%s\n", name);
      continue;
    }
    ctl_volume_info_init(&info);
    if (pv != NULL) {
      ctl_progress(ctx, "asking the backends: %s (%zu)", name, shown);
      ctl_inspect_pv(ctx, ops, pv, want_usage(ctx), &info);
    }
    if (info.message != NULL)
      warn_add(&warns, name, info.message);
    provisioner =
        pv != NULL
            ? berth_k8s_obj_annotation(pv, "pv.kubernetes.io/provisioned-by")
            : NULL;
    if (provisioner == NULL)
      provisioner = berth_k8s_obj_annotation(
          claim, "volume.kubernetes.io/storage-provisioner");
    if (opt->output == CTL_OUT_JSON || opt->output == CTL_OUT_YAML) {
      json_t *item = json_pack(
          "{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:O?,s:s?,s:s?,s:s?,s:o}",
          "namespace", ns, "name", name, "uid", berth_k8s_obj_uid(claim),
          "phase", str_at(claim, "status", "phase"), "volume",
          str_at(claim, "spec", "volumeName"), "capacity",
          json_string_value(json_object_get(
              json_object_get(json_object_get(claim, "status"), "capacity"),
              "storage")),
          "accessModes",
          json_object_get(json_object_get(claim, "spec"), "accessModes"),
          "storageClass", claim_class(claim), "provisioner", provisioner,
          "creationTimestamp", str_at(claim, "metadata", "creationTimestamp"),
          "backend", backend_json(&info));

      json_array_append_new(doc_items, item);
    } else {
      ctl_access_modes(
          json_object_get(json_object_get(claim, "status"), "accessModes"),
          modes, sizeof(modes));
      ctl_age(ctx, str_at(claim, "metadata", "creationTimestamp"), age,
              sizeof(age));
      ctl_table_row(t);
      ctl_table_cell(t, ns);
      ctl_table_cell(t, name);
      ctl_table_cell(t, str_at(claim, "status", "phase"));
      ctl_table_cell(t, ctl_nz(str_at(claim, "spec", "volumeName")));
      ctl_table_cell(
          t, ctl_nz(json_string_value(json_object_get(
                 json_object_get(json_object_get(claim, "status"), "capacity"),
                 "storage"))));
      ctl_table_cell(t, modes);
      ctl_table_cell(t, claim_class(claim));
      backend_cells(t, &info, ops);
      ctl_table_cell(t, age);
      ctl_table_cell(t, info.source ? info.source : "-");
      ctl_table_cell(t, provisioner ? provisioner : "-");
    }
    ctl_volume_info_cleanup(&info);
  }

  ctl_progress(ctx, NULL);
  if (opt->output == CTL_OUT_JSON || opt->output == CTL_OUT_YAML) {
    json_t *doc =
        json_pack("{s:s,s:O}", "kind", "ClaimList", "items", doc_items);

    rc = ctl_print_doc(ctx, doc);
    json_decref(doc);
  } else if (opt->output != CTL_OUT_NAME && shown > 0) {
    ctl_table_print(t, ctx->out, !opt->no_headers);
  }
  if (shown == 0 && opt->output != CTL_OUT_JSON && opt->output != CTL_OUT_YAML)
    no_resources(ctx, "claims", true);
  warn_flush(ctx, &warns);

done:
  ctl_table_destroy(t);
  json_decref(doc_items);
  json_decref(list);
  return rc;
}

int ctl_run_volumes(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  berth_k8s_list_options_t lo;
  ctl_table_t *t = NULL;
  json_t *list = NULL;
  json_t *doc_items = NULL;
  const json_t *pvs;
  const json_t *pv;
  warnings_t warns;
  berth_error_t err;
  berth_status_t st;
  bool wide = opt->output == CTL_OUT_WIDE;
  size_t shown = 0;
  size_t i;
  int rc = CTL_EXIT_OK;

  memset(&warns, 0, sizeof(warns));
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
  t = ctl_table_create();
  doc_items = json_array();
  if (t == NULL || doc_items == NULL) {
    rc = ctl_fail(ctx, "out of memory");
    goto done;
  }
  ctl_table_column(t, "NAME", true);
  ctl_table_column(t, "CAPACITY", true);
  ctl_table_column(t, "ACCESS MODES", true);
  ctl_table_column(t, "RECLAIM POLICY", true);
  ctl_table_column(t, "STATUS", true);
  ctl_table_column(t, "CLAIM", true);
  ctl_table_column(t, "STORAGECLASS", true);
  backend_columns(t);
  ctl_table_column(t, "AGE", true);
  ctl_table_column(t, "SOURCE", wide);
  ctl_table_column(t, "PROVISIONER", wide);

  json_array_foreach(pvs, i, pv)
  {
    const ctl_backend_ops_t *ops = ctl_registry_pv_backend(ctx->reg, pv);
    const char *name = berth_k8s_obj_name(pv);
    const json_t *spec = json_object_get(pv, "spec");
    const json_t *ref = json_object_get(spec, "claimRef");
    const char *provisioner =
        berth_k8s_obj_annotation(pv, "pv.kubernetes.io/provisioned-by");
    ctl_volume_info_t info;
    char claim[512] = "";
    char modes[64];
    char age[32];

    if (ops == NULL)
      continue;
    shown++;
    if (opt->output == CTL_OUT_NAME) {
      fprintf(ctx->out, "persistentvolume/%s\n", name);
      continue;
    }
    if (ref != NULL)
      snprintf(claim, sizeof(claim), "%s/%s",
               ctl_nz(str_at(ref, "namespace", NULL)),
               ctl_nz(str_at(ref, "name", NULL)));
    ctl_volume_info_init(&info);
    ctl_progress(ctx, "asking the backends: %s (%zu)", name, shown);
    ctl_inspect_pv(ctx, ops, pv, want_usage(ctx), &info);
    if (info.message != NULL)
      warn_add(&warns, name, info.message);
    if (opt->output == CTL_OUT_JSON || opt->output == CTL_OUT_YAML) {
      json_t *item = json_pack(
          "{s:s?,s:s?,s:s?,s:s?,s:O?,s:s?,s:s?,s:s?,s:s?,s:s?,s:o}", "name",
          name, "uid", berth_k8s_obj_uid(pv), "phase",
          str_at(pv, "status", "phase"), "capacity",
          json_string_value(
              json_object_get(json_object_get(spec, "capacity"), "storage")),
          "accessModes", json_object_get(spec, "accessModes"), "reclaimPolicy",
          str_at(spec, "persistentVolumeReclaimPolicy", NULL), "storageClass",
          str_at(spec, "storageClassName", NULL), "claim",
          claim[0] ? claim : NULL, "provisioner", provisioner,
          "creationTimestamp", str_at(pv, "metadata", "creationTimestamp"),
          "backend", backend_json(&info));

      json_array_append_new(doc_items, item);
    } else {
      ctl_access_modes(json_object_get(spec, "accessModes"), modes,
                       sizeof(modes));
      ctl_age(ctx, str_at(pv, "metadata", "creationTimestamp"), age,
              sizeof(age));
      ctl_table_row(t);
      ctl_table_cell(t, name);
      ctl_table_cell(t, json_string_value(json_object_get(
                            json_object_get(spec, "capacity"), "storage")));
      ctl_table_cell(t, modes);
      ctl_table_cell(t, str_at(spec, "persistentVolumeReclaimPolicy", NULL));
      ctl_table_cell(t, str_at(pv, "status", "phase"));
      ctl_table_cell(t, claim);
      ctl_table_cell(t, str_at(spec, "storageClassName", NULL));
      backend_cells(t, &info, ops);
      ctl_table_cell(t, age);
      ctl_table_cell(t, info.source ? info.source : "-");
      ctl_table_cell(t, provisioner ? provisioner : "-");
    }
    ctl_volume_info_cleanup(&info);
  }

  ctl_progress(ctx, NULL);
  if (opt->output == CTL_OUT_JSON || opt->output == CTL_OUT_YAML) {
    json_t *doc =
        json_pack("{s:s,s:O}", "kind", "VolumeList", "items", doc_items);

    rc = ctl_print_doc(ctx, doc);
    json_decref(doc);
  } else if (opt->output != CTL_OUT_NAME && shown > 0) {
    ctl_table_print(t, ctx->out, !opt->no_headers);
  }
  if (shown == 0 && opt->output != CTL_OUT_JSON && opt->output != CTL_OUT_YAML)
    no_resources(ctx, "volumes", false);
  warn_flush(ctx, &warns);

done:
  ctl_table_destroy(t);
  json_decref(doc_items);
  json_decref(list);
  return rc;
}
