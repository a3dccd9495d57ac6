/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl describe claim|volume NAME: everything about one, in the style
 * of kubectl describe, with the backend object's details and the Events. */
#include "ctl_backend.h"

#include <stdlib.h>
#include <string.h>

/* ---- a describe writer: "Key:  value" lines, aligned per section
 * -------------- */

typedef struct dline {
  int indent;
  char *key; /* NULL: a continuation line, aligned with the values */
  char *value;
} dline_t;

typedef struct dwriter {
  dline_t *lines;
  size_t n;
  size_t cap;
} dwriter_t;

static void dw_add(dwriter_t *w, int indent, const char *key, const char *value)
{
  dline_t *grown;

  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 32;

    grown = realloc(w->lines, cap * sizeof(*grown));
    if (grown == NULL)
      return;
    w->lines = grown;
    w->cap = cap;
  }
  w->lines[w->n].indent = indent;
  w->lines[w->n].key = key != NULL ? strdup(key) : NULL;
  w->lines[w->n].value = strdup(value != NULL ? value : "");
  w->n++;
}

/* Keys of one indent level, until a line of a smaller indent, share one
 * column (as kubectl's tabwriter does for a block). */
static void dw_print(dwriter_t *w, FILE *out)
{
  size_t i;
  size_t k;

  for (i = 0; i < w->n; i++) {
    const dline_t *l = &w->lines[i];
    size_t width = 0;

    for (k = i; k < w->n && w->lines[k].indent >= l->indent; k++) {
      if (w->lines[k].indent == l->indent && w->lines[k].key != NULL &&
          strlen(w->lines[k].key) > width)
        width = strlen(w->lines[k].key);
    }
    /* Look back too: a block started before this line. */
    for (k = i; k > 0 && w->lines[k - 1].indent >= l->indent; k--) {
      if (w->lines[k - 1].indent == l->indent && w->lines[k - 1].key != NULL &&
          strlen(w->lines[k - 1].key) > width)
        width = strlen(w->lines[k - 1].key);
    }
    if (l->key != NULL && l->value[0] == '\0')
      fprintf(out, "%*s%s:\n", l->indent, "", l->key);
    else if (l->key != NULL)
      fprintf(out, "%*s%s:%*s%s\n", l->indent, "", l->key,
              (int)(width - strlen(l->key) + 2), "", l->value);
    else
      fprintf(out, "%*s%*s%s\n", l->indent, "", (int)(width + 3), "", l->value);
  }
}

static void dw_cleanup(dwriter_t *w)
{
  size_t i;

  for (i = 0; i < w->n; i++) {
    free(w->lines[i].key);
    free(w->lines[i].value);
  }
  free(w->lines);
}

/* Labels or Annotations: "k=v" (labels) or "k: v" (annotations), one per
 * line, sorted; "<none>" when empty. */
static void dw_map(dwriter_t *w, const char *key, const json_t *obj,
                   const char *field, const char *sep)
{
  const json_t *map = json_object_get(json_object_get(obj, "metadata"), field);
  const char **keys;
  size_t shown = 0;
  size_t n = 0;
  size_t i;
  const char *k;
  json_t *v;

  if (!json_is_object(map) || json_object_size(map) == 0) {
    dw_add(w, 0, key, "<none>");
    return;
  }
  keys = calloc(json_object_size(map), sizeof(*keys));
  if (keys == NULL)
    return;
  json_object_foreach((json_t *)map, k, v) keys[n++] = k;
  /* Sorted, as kubectl prints them. */
  for (i = 1; i < n; i++) {
    const char *x = keys[i];
    size_t j = i;

    while (j > 0 && strcmp(keys[j - 1], x) > 0) {
      keys[j] = keys[j - 1];
      j--;
    }
    keys[j] = x;
  }
  for (i = 0; i < n; i++) {
    const char *val = json_string_value(json_object_get(map, keys[i]));
    char *line;

    /* kubectl leaves out the last-applied configuration: it is long and
     * says nothing describe does not. */
    if (strcmp(keys[i], "kubectl.kubernetes.io/last-applied-configuration") ==
        0)
      continue;
    line = berth_strdup_printf("%s%s%s", keys[i], sep, ctl_nz(val));
    if (line != NULL)
      dw_add(w, 0, shown == 0 ? key : NULL, line);
    shown++;
    free(line);
  }
  if (shown == 0)
    dw_add(w, 0, key, "<none>");
  free(keys);
}

static void dw_finalizers(dwriter_t *w, const json_t *obj)
{
  const json_t *f =
      json_object_get(json_object_get(obj, "metadata"), "finalizers");
  berth_buf_t b;
  const json_t *v;
  size_t i;

  berth_buf_init(&b);
  berth_buf_append_str(&b, "[");
  json_array_foreach(f, i, v)
      berth_buf_appendf(&b, "%s%s", i ? " " : "", ctl_nz(json_string_value(v)));
  berth_buf_append_str(&b, "]");
  dw_add(w, 0, "Finalizers", berth_buf_str(&b));
  berth_buf_cleanup(&b);
}

/* The backend's section: what the backend itself says. */
static void dw_backend(ctl_ctx_t *ctx, dwriter_t *w,
                       const berth_backend_ops_t *ops, const json_t *pv)
{
  berth_volume_info_t info;
  const char *k;
  json_t *v;
  char used[32];
  char line[256];

  if (ops == NULL) {
    dw_add(w, 0, "Backend", "<none> (not one of berth's classes)");
    return;
  }
  if (pv == NULL) {
    snprintf(line, sizeof(line), "%s (no volume yet)", ops->name);
    dw_add(w, 0, "Backend", line);
    return;
  }
  berth_volume_info_init(&info);
  ctl_inspect_pv(ctx, ops, pv, !ctx->opt->no_usage, &info);
  /* The backend's name on the section's line: its details may have a
   * Type of their own (an EBS disk's gp3). */
  dw_add(w, 0, "Backend", ops->name);
  json_object_foreach(info.details, k, v) dw_add(w, 2, k, json_string_value(v));
  if (info.has_usage) {
    ctl_bytes_human(info.usage.bytes, used, sizeof(used));
    snprintf(line, sizeof(line), "%s%s (%llu bytes) in %llu file%s%s",
             info.usage.truncated ? "at least " : "", used,
             (unsigned long long)info.usage.bytes,
             (unsigned long long)info.usage.files,
             info.usage.files == 1 ? "" : "s",
             info.usage.truncated ? " (the walk stopped at its limit)" : "");
    dw_add(w, 2, "Used", line);
  }
  if (info.state != BERTH_VOLUME_PRESENT && info.state != BERTH_VOLUME_MISSING)
    dw_add(w, 2, "State", berth_volume_state_name(info.state));
  if (info.message != NULL)
    dw_add(w, 2, "Problem", info.message);
  else if (info.state == BERTH_VOLUME_MISSING)
    dw_add(w, 2, "Problem",
           "the backend object is gone: 'berthctl orphans' lists such "
           "volumes; delete the claim, or the volume with 'berthctl "
           "delete'");
  berth_volume_info_cleanup(&info);
}

/* "Events:" and a table, as kubectl describe prints them. */
static void print_events(ctl_ctx_t *ctx, const char *kind, const char *ns,
                         const char *name, const char *uid)
{
  json_t *events = NULL;
  berth_error_t err;
  berth_status_t st;
  ctl_table_t *t;
  const json_t *ev;
  size_t i;

  berth_error_clear(&err);
  st = ctl_kube_events(ctx, kind, ns, name, uid, &events, &err);
  if (st != BERTH_OK) {
    fprintf(ctx->out, "Events:  <unknown: %s>\n",
            err.message[0] ? err.message : berth_strerror(st));
    return;
  }
  if (json_array_size(events) == 0) {
    fprintf(ctx->out, "Events:  <none>\n");
    json_decref(events);
    return;
  }
  fprintf(ctx->out, "Events:\n");
  t = ctl_table_create();
  if (t == NULL) {
    json_decref(events);
    return;
  }
  /* kubectl describe's event table: two spaces between columns. */
  ctl_table_gap(t, 2);
  ctl_table_column(t, "  Type", true);
  ctl_table_column(t, "Reason", true);
  ctl_table_column(t, "Age", true);
  ctl_table_column(t, "From", true);
  ctl_table_column(t, "Message", true);
  ctl_table_row(t);
  ctl_table_cell(t, "  ----");
  ctl_table_cell(t, "------");
  ctl_table_cell(t, "----");
  ctl_table_cell(t, "----");
  ctl_table_cell(t, "-------");
  json_array_foreach(events, i, ev)
  {
    const char *last = ctl_str_at(ev, "lastTimestamp", NULL);
    const char *first = ctl_str_at(ev, "firstTimestamp", NULL);
    const char *from = ctl_str_at(ev, "source", "component");
    json_int_t count = json_integer_value(json_object_get(ev, "count"));
    char age[32];
    char over[32];

    if (last == NULL)
      last = ctl_str_at(ev, "eventTime", NULL);
    if (first == NULL)
      first = last;
    if (from == NULL || from[0] == '\0')
      from = ctl_str_at(ev, "reportingComponent", NULL);
    ctl_age(ctx, last, age, sizeof(age));
    ctl_table_row(t);
    ctl_table_cellf(t, "  %s", ctl_nz(ctl_str_at(ev, "type", NULL)));
    ctl_table_cell(t, ctl_str_at(ev, "reason", NULL));
    if (count > 1) {
      ctl_age(ctx, first, over, sizeof(over));
      ctl_table_cellf(t, "%s (x%lld over %s)", age, (long long)count, over);
    } else {
      ctl_table_cell(t, age);
    }
    ctl_table_cell(t, from != NULL && from[0] ? from : "-");
    ctl_table_cell(t, ctl_str_at(ev, "message", NULL));
  }
  ctl_table_print(t, ctx->out, true);
  ctl_table_destroy(t);
  json_decref(events);
}

static int not_found(ctl_ctx_t *ctx, const char *resource, const char *name,
                     berth_status_t st, const berth_error_t *err)
{
  if (st == BERTH_ENOTFOUND) {
    fprintf(ctx->err, "Error from server (NotFound): %s \"%s\" not found\n",
            resource, name);
    if (strcmp(resource, "persistentvolumeclaims") == 0)
      fprintf(ctx->err,
              "  (in namespace %s: -n NAMESPACE picks another; "
              "'berthctl claims -A' lists them all)\n",
              ctx->ns);
    else
      fprintf(ctx->err, "  ('berthctl volumes' lists them)\n");
    return CTL_EXIT_ERROR;
  }
  return ctl_kube_error(ctx, "get", st, err);
}

/* The claim's data source as kubectl shows it, and for a clone berth
 * made, where its data came from (the PV's berth.io/cloned-from). */
static void dw_data_source(dwriter_t *w, const json_t *claim, const json_t *pv)
{
  const json_t *ds =
      json_object_get(json_object_get(claim, "spec"), "dataSource");
  const char *from = berth_k8s_obj_annotation(pv, "berth.io/cloned-from");
  const char *uid = berth_k8s_obj_annotation(pv, "berth.io/cloned-from-uid");
  char line[512];

  if (json_is_object(ds)) {
    dw_add(w, 0, "DataSource", "");
    if (ctl_str_at(ds, "apiGroup", NULL) != NULL)
      dw_add(w, 2, "APIGroup", ctl_str_at(ds, "apiGroup", NULL));
    dw_add(w, 2, "Kind", ctl_str_at(ds, "kind", NULL));
    dw_add(w, 2, "Name", ctl_str_at(ds, "name", NULL));
  }
  if (from != NULL) {
    snprintf(line, sizeof(line), "%s (uid %s)", from, ctl_nz(uid));
    dw_add(w, 0, "Cloned From", line);
  }
}

static int describe_claim(ctl_ctx_t *ctx, const char *name)
{
  dwriter_t w;
  json_t *claim = NULL;
  const json_t *pv = NULL;
  const berth_backend_ops_t *ops;
  berth_error_t err;
  berth_status_t st;
  const char *cls;
  const char *vol;
  const char *prov;
  char modes[64];
  char line[512];

  memset(&w, 0, sizeof(w));
  berth_error_clear(&err);
  st = berth_k8s_get(ctx->k8s, &berth_k8s_res_persistentvolumeclaims, ctx->ns,
                     name, &claim, &err);
  if (st != BERTH_OK)
    return not_found(ctx, "persistentvolumeclaims", name, st, &err);
  cls = ctl_str_at(claim, "spec", "storageClassName");
  vol = ctl_str_at(claim, "spec", "volumeName");
  pv = vol != NULL ? ctl_registry_pv(ctx->reg, vol) : NULL;
  ops = ctl_registry_class_backend(ctx->reg, ctl_registry_class(ctx->reg, cls));
  if (ops == NULL && pv != NULL)
    ops = ctl_registry_pv_backend(ctx->reg, pv);

  dw_add(&w, 0, "Name", name);
  dw_add(&w, 0, "Namespace", berth_k8s_obj_namespace(claim));
  dw_add(&w, 0, "StorageClass", cls);
  dw_add(&w, 0, "Status", ctl_str_at(claim, "status", "phase"));
  dw_add(&w, 0, "Volume", vol);
  dw_map(&w, "Labels", claim, "labels", "=");
  dw_map(&w, "Annotations", claim, "annotations", ": ");
  dw_finalizers(&w, claim);
  dw_add(&w, 0, "Capacity",
         json_string_value(json_object_get(
             json_object_get(json_object_get(claim, "status"), "capacity"),
             "storage")));
  ctl_access_modes(
      json_object_get(json_object_get(claim, "status"), "accessModes"), modes,
      sizeof(modes));
  dw_add(&w, 0, "Access Modes", modes);
  dw_add(&w, 0, "VolumeMode", ctl_str_at(claim, "spec", "volumeMode"));
  dw_data_source(&w, claim, pv);
  prov = pv != NULL ? berth_k8s_obj_annotation(pv, BERTH_ANN_PROVISIONED_BY)
                    : prov_claim_provisioner(claim);
  if (prov != NULL) {
    snprintf(line, sizeof(line), "%s%s%s%s", prov, ops ? " (" : "",
             ops ? ops->name : "", ops ? " backend)" : "");
    dw_add(&w, 0, "Provisioner", line);
  }
  dw_backend(ctx, &w, ops, pv);
  dw_print(&w, ctx->out);
  print_events(ctx, "PersistentVolumeClaim", berth_k8s_obj_namespace(claim),
               name, berth_k8s_obj_uid(claim));
  dw_cleanup(&w);
  json_decref(claim);
  return CTL_EXIT_OK;
}

/* The PV's volume source, in kubectl's words. */
static void dw_source(dwriter_t *w, const json_t *spec)
{
  const json_t *nfs = json_object_get(spec, "nfs");
  const char *k;
  json_t *v;

  dw_add(w, 0, "Source", "");
  if (nfs != NULL) {
    dw_add(w, 4, "Type", "NFS (an NFS mount that lasts the lifetime of a pod)");
    dw_add(w, 4, "Server", ctl_str_at(nfs, "server", NULL));
    dw_add(w, 4, "Path", ctl_str_at(nfs, "path", NULL));
    dw_add(w, 4, "ReadOnly",
           json_is_true(json_object_get(nfs, "readOnly")) ? "true" : "false");
    return;
  }
  /* Another source (the AWS backends' CSI volumes, later): its type. */
  json_object_foreach((json_t *)spec, k, v)
  {
    if (json_is_object(v) && strcmp(k, "capacity") != 0 &&
        strcmp(k, "claimRef") != 0 && strcmp(k, "nodeAffinity") != 0) {
      dw_add(w, 4, "Type", k);
      return;
    }
  }
}

static int describe_volume(ctl_ctx_t *ctx, const char *name)
{
  dwriter_t w;
  json_t *pv = NULL;
  const json_t *spec;
  const json_t *ref;
  const berth_backend_ops_t *ops;
  berth_error_t err;
  berth_status_t st;
  char modes[64];
  char claim[512] = "";

  memset(&w, 0, sizeof(w));
  berth_error_clear(&err);
  st = berth_k8s_get(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL, name,
                     &pv, &err);
  if (st != BERTH_OK)
    return not_found(ctx, "persistentvolumes", name, st, &err);
  ops = ctl_registry_pv_backend(ctx->reg, pv);
  spec = json_object_get(pv, "spec");
  ref = json_object_get(spec, "claimRef");
  if (ref != NULL)
    snprintf(claim, sizeof(claim), "%s/%s",
             ctl_nz(ctl_str_at(ref, "namespace", NULL)),
             ctl_nz(ctl_str_at(ref, "name", NULL)));

  dw_add(&w, 0, "Name", name);
  dw_map(&w, "Labels", pv, "labels", "=");
  dw_map(&w, "Annotations", pv, "annotations", ": ");
  dw_finalizers(&w, pv);
  dw_add(&w, 0, "StorageClass", ctl_str_at(spec, "storageClassName", NULL));
  dw_add(&w, 0, "Status", ctl_str_at(pv, "status", "phase"));
  dw_add(&w, 0, "Claim", claim);
  dw_data_source(&w, NULL, pv);
  dw_add(&w, 0, "Reclaim Policy",
         ctl_str_at(spec, "persistentVolumeReclaimPolicy", NULL));
  ctl_access_modes(json_object_get(spec, "accessModes"), modes, sizeof(modes));
  dw_add(&w, 0, "Access Modes", modes);
  dw_add(&w, 0, "VolumeMode", ctl_str_at(spec, "volumeMode", NULL));
  dw_add(&w, 0, "Capacity",
         json_string_value(
             json_object_get(json_object_get(spec, "capacity"), "storage")));
  dw_add(&w, 0, "Node Affinity",
         json_object_get(spec, "nodeAffinity") ? "(set)" : "<none>");
  dw_add(&w, 0, "Message", ctl_str_at(pv, "status", "message"));
  dw_source(&w, spec);
  dw_backend(ctx, &w, ops, pv);
  dw_print(&w, ctx->out);
  print_events(ctx, "PersistentVolume", NULL, name, berth_k8s_obj_uid(pv));
  dw_cleanup(&w);
  json_decref(pv);
  return CTL_EXIT_OK;
}

int ctl_run_describe(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  const char *kind;
  const char *slash;
  char kindbuf[64];
  const char *name;
  size_t i;
  int rc = CTL_EXIT_OK;

  if (opt->nargs < 1)
    return ctl_usage_error(ctx, "describe needs what to describe: claim "
                                "NAME or volume NAME");
  /* kubectl's "TYPE NAME" and "TYPE/NAME" both work. */
  kind = opt->args[0];
  slash = strchr(kind, '/');
  if (slash != NULL) {
    snprintf(kindbuf, sizeof(kindbuf), "%.*s", (int)(slash - kind), kind);
    kind = kindbuf;
  }
  if (strcmp(kind, "claim") != 0 && strcmp(kind, "claims") != 0 &&
      strcmp(kind, "pvc") != 0 && strcmp(kind, "persistentvolumeclaim") != 0 &&
      strcmp(kind, "volume") != 0 && strcmp(kind, "volumes") != 0 &&
      strcmp(kind, "pv") != 0 && strcmp(kind, "persistentvolume") != 0)
    return ctl_usage_error(ctx,
                           "describe: unknown type '%s' (claim or "
                           "volume)",
                           kind);
  if (slash == NULL && opt->nargs < 2)
    return ctl_usage_error(ctx, "describe %s needs a NAME", kind);
  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  for (i = slash != NULL ? 0 : 1; i < opt->nargs; i++) {
    name = opt->args[i];
    if (i == 0)
      name = slash + 1;
    else if (strchr(name, '/') != NULL)
      name = strchr(name, '/') + 1;
    if (i > (slash != NULL ? 0u : 1u))
      fputs("\n\n", ctx->out);
    if (kind[0] == 'v' || strcmp(kind, "pv") == 0 ||
        strcmp(kind, "persistentvolume") == 0)
      rc |= describe_volume(ctx, name);
    else
      rc |= describe_claim(ctx, name);
  }
  return rc;
}
