/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: lists as kubectl prints them (-o json|yaml|name|jsonpath=|
 * custom-columns=, --sort-by, NAME arguments), see ctl.h. */
#include "ctl.h"
#include "jsonpath.h"

#include "berth/quantity.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool ctl_list_structured(const ctl_ctx_t *ctx)
{
  switch (ctx->opt->output) {
  case CTL_OUT_JSON:
  case CTL_OUT_YAML:
  case CTL_OUT_NAME:
  case CTL_OUT_JSONPATH:
  case CTL_OUT_CUSTOM_COLUMNS:
    return true;
  default:
    return false;
  }
}

bool ctl_list_named(const ctl_ctx_t *ctx, const json_t *obj)
{
  const char *name = berth_k8s_obj_name(obj);
  size_t i;

  if (ctx->opt->nargs == 0)
    return true;
  for (i = 0; i < ctx->opt->nargs; i++) {
    if (name != NULL && strcmp(ctx->opt->args[i], name) == 0)
      return true;
  }
  return false;
}

/* ---- --sort-by ----------------------------------------------------------- */

typedef struct sort_key {
  json_t *obj;
  char *text; /* the value as text, or NULL when absent */
  double num; /* its value, when numeric */
  bool is_num;
} sort_key_t;

static int key_cmp(const void *a, const void *b)
{
  const sort_key_t *x = a;
  const sort_key_t *y = b;

  if (x->text == NULL || y->text == NULL)
    return (x->text != NULL) - (y->text != NULL);
  if (x->is_num && y->is_num)
    return (x->num > y->num) - (x->num < y->num);
  return strcmp(x->text, y->text);
}

static void key_of(const ctl_jsonpath_t *jp, json_t *obj, sort_key_t *k)
{
  json_t *vals = ctl_jsonpath_values(jp, obj);
  const json_t *v = json_array_get(vals, 0);
  berth_buf_t b;
  uint64_t bytes;

  memset(k, 0, sizeof(*k));
  k->obj = obj;
  if (v != NULL && !json_is_null(v)) {
    berth_buf_init(&b);
    ctl_jsonpath_value_text(v, &b);
    k->text = berth_buf_detach(&b);
    if (json_is_number(v)) {
      k->is_num = true;
      k->num = json_number_value(v);
    } else if (k->text != NULL && isdigit((unsigned char)k->text[0]) &&
               berth_quantity_parse(k->text, &bytes, NULL) == BERTH_OK) {
      /* A quantity ("1Gi" after "500Mi") sorts by its value. */
      k->is_num = true;
      k->num = (double)bytes;
    }
  }
  json_decref(vals);
}

bool ctl_list_sort(ctl_ctx_t *ctx, json_t *items)
{
  ctl_jsonpath_t *jp = NULL;
  sort_key_t *keys;
  char msg[256];
  size_t n = json_array_size(items);
  size_t i;

  if (ctx->opt->sort_by == NULL || n < 2)
    return true;
  if (!ctl_jsonpath_parse_expr(ctx->opt->sort_by, &jp, msg, sizeof(msg))) {
    ctl_usage_error(ctx, "--sort-by %s: %s", ctx->opt->sort_by, msg);
    return false;
  }
  keys = calloc(n, sizeof(*keys));
  if (keys == NULL) {
    ctl_jsonpath_destroy(jp);
    ctl_fail(ctx, "out of memory");
    return false;
  }
  for (i = 0; i < n; i++)
    key_of(jp, json_incref(json_array_get(items, i)), &keys[i]);
  /* qsort is not stable: equal keys keep the API's order by index. */
  qsort(keys, n, sizeof(*keys), key_cmp);
  json_array_clear(items);
  for (i = 0; i < n; i++) {
    json_array_append_new(items, keys[i].obj);
    free(keys[i].text);
  }
  free(keys);
  ctl_jsonpath_destroy(jp);
  return true;
}

/* ---- printing ------------------------------------------------------------ */

/* -o custom-columns=HEADER:PATH,...: a table of one column per spec. */
static int print_columns(ctl_ctx_t *ctx, const json_t *items)
{
  char *spec = strdup(ctx->opt->output_arg);
  ctl_jsonpath_t *paths[32];
  ctl_table_t *t = ctl_table_create();
  char msg[256];
  char *save = NULL;
  char *col;
  size_t ncols = 0;
  size_t i;
  size_t j;
  const json_t *item;
  int rc = CTL_EXIT_OK;

  if (spec == NULL || t == NULL) {
    rc = ctl_fail(ctx, "out of memory");
    goto done;
  }
  for (col = strtok_r(spec, ",", &save); col != NULL;
       col = strtok_r(NULL, ",", &save)) {
    char *colon = strchr(col, ':');

    if (colon == NULL || colon == col || colon[1] == '\0' || ncols == 32) {
      rc = ctl_usage_error(ctx,
                           "custom-columns format: expected HEADER:PATH "
                           "pairs separated by ',', got \"%s\"",
                           col);
      goto done;
    }
    *colon = '\0';
    if (!ctl_jsonpath_parse_expr(colon + 1, &paths[ncols], msg, sizeof(msg))) {
      rc = ctl_usage_error(ctx, "custom-columns %s: %s", col, msg);
      goto done;
    }
    ctl_table_column(t, col, true);
    ncols++;
  }
  json_array_foreach(items, i, item)
  {
    ctl_table_row(t);
    for (j = 0; j < ncols; j++) {
      json_t *vals = ctl_jsonpath_values(paths[j], item);
      const json_t *v;
      size_t k;
      berth_buf_t b;

      berth_buf_init(&b);
      json_array_foreach(vals, k, v)
      {
        if (k > 0)
          berth_buf_append_byte(&b, ',');
        ctl_jsonpath_value_text(v, &b);
      }
      ctl_table_cell(t, b.len > 0 ? berth_buf_str(&b) : NULL);
      berth_buf_cleanup(&b);
      json_decref(vals);
    }
  }
  ctl_table_print(t, ctx->out, !ctx->opt->no_headers);

done:
  for (j = 0; j < ncols; j++)
    ctl_jsonpath_destroy(paths[j]);
  ctl_table_destroy(t);
  free(spec);
  return rc;
}

static int print_jsonpath(ctl_ctx_t *ctx, const json_t *list)
{
  ctl_jsonpath_t *jp = NULL;
  berth_buf_t b;
  char msg[256];
  int rc = CTL_EXIT_OK;

  if (!ctl_jsonpath_parse(ctx->opt->output_arg, &jp, msg, sizeof(msg)))
    return ctl_usage_error(ctx, "jsonpath %s: %s", ctx->opt->output_arg, msg);
  berth_buf_init(&b);
  if (!ctl_jsonpath_exec(jp, list, &b, msg, sizeof(msg)))
    rc = ctl_fail(ctx, "jsonpath: %s", msg);
  else if (b.len > 0)
    fwrite(b.data, 1, b.len, ctx->out);
  berth_buf_cleanup(&b);
  ctl_jsonpath_destroy(jp);
  return rc;
}

bool ctl_output_is_doc(const ctl_ctx_t *ctx)
{
  return ctx->opt->output == CTL_OUT_JSON || ctx->opt->output == CTL_OUT_YAML ||
         ctx->opt->output == CTL_OUT_JSONPATH ||
         ctx->opt->output == CTL_OUT_CUSTOM_COLUMNS;
}

int ctl_list_print_doc(ctl_ctx_t *ctx, const json_t *doc)
{
  json_t *rows;
  int rc;

  if (ctx->opt->output == CTL_OUT_JSONPATH)
    return print_jsonpath(ctx, doc);
  rows = json_is_array(json_object_get(doc, "items"))
             ? json_incref(json_object_get(doc, "items"))
             : json_pack("[O]", doc);
  rc = print_columns(ctx, rows);
  json_decref(rows);
  return rc;
}

int ctl_list_print(ctl_ctx_t *ctx, const json_t *items)
{
  json_t *list;
  const json_t *item;
  size_t i;
  int rc = CTL_EXIT_OK;

  switch (ctx->opt->output) {
  case CTL_OUT_NAME:
    json_array_foreach(items, i, item)
    {
      char kind[64];
      size_t k;

      snprintf(kind, sizeof(kind), "%s",
               ctl_nz(json_string_value(json_object_get(item, "kind"))));
      for (k = 0; kind[k] != '\0'; k++)
        kind[k] = (char)tolower((unsigned char)kind[k]);
      fprintf(ctx->out, "%s/%s\n", kind, ctl_nz(berth_k8s_obj_name(item)));
    }
    return CTL_EXIT_OK;
  case CTL_OUT_CUSTOM_COLUMNS:
    return print_columns(ctx, items);
  default:
    break;
  }
  /* kubectl's List: what `kubectl get -o json` prints for several. */
  list = json_pack("{s:s,s:O,s:s,s:{s:s}}", "apiVersion", "v1", "items", items,
                   "kind", "List", "metadata", "resourceVersion", "");
  if (list == NULL)
    return ctl_fail(ctx, "out of memory");
  if (ctx->opt->output == CTL_OUT_JSONPATH)
    rc = print_jsonpath(ctx, list);
  else
    rc = ctl_print_doc(ctx, list);
  json_decref(list);
  return rc;
}
