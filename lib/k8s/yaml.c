/* SPDX-License-Identifier: Apache-2.0 */
/* YAML documents to jansson trees, for kubeconfig files (lib/k8s).
 *
 * libyaml's document API composes the file; we turn the first document
 * into JSON: mappings to objects, sequences to arrays, and scalars to
 * strings, except that plain (unquoted) "", "~" and "null" become JSON
 * null, as sigs.k8s.io/yaml (which client-go uses) reads them. Typed
 * fields (booleans) are interpreted by the reader of each field. Aliases
 * are followed with a bound on depth, on the number of nodes produced and
 * on the bytes produced, so a "billion laughs" document fails at once
 * instead of eating memory, whether it repeats many small nodes or a few
 * long scalars. Kubeconfig files use no aliases; the byte bound (a few
 * bytes per node plus the scalars' bytes, against a budget of
 * OUTPUT_PER_BYTE times the file's size plus OUTPUT_BASE) is far above
 * what any document without aliases can produce. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "k8s_int.h"
#include "yaml_int.h"

#define MAX_DEPTH 64
#define MAX_NODES 1000000
/* Each node counts NODE_COST bytes besides its scalar or key text. A file
 * of len bytes without aliases produces less than 2 nodes and 1 byte of
 * text per byte, so 32 * len + 1 MiB is never reached without them. */
#define NODE_COST 8
#define OUTPUT_PER_BYTE 32
#define OUTPUT_BASE (1024 * 1024)

typedef struct {
  yaml_document_t *doc;
  size_t produced;
  size_t bytes;  /* output so far, counted as above */
  size_t budget; /* the most output allowed */
  const char *path;
  berth_error_t *err;
} conv_t;

static berth_status_t convert(conv_t *cv, yaml_node_t *node, int depth,
                              json_t **out);

static berth_status_t fail(conv_t *cv, yaml_node_t *node, const char *what)
{
  return berth_error_set(
      cv->err, BERTH_EPARSE, "kubeconfig %s: line %lu: %s", cv->path,
      node != NULL ? (unsigned long)node->start_mark.line + 1 : 0UL, what);
}

/* Count n more bytes of output; false past the budget. */
static bool spend(conv_t *cv, size_t n)
{
  if (n > cv->budget - cv->bytes)
    return false;
  cv->bytes += n;
  return true;
}

static berth_status_t too_big(conv_t *cv, yaml_node_t *node)
{
  char msg[160];

  snprintf(msg, sizeof(msg),
           "aliases expand the document beyond %zu bytes (a kubeconfig "
           "needs no aliases)",
           cv->budget);
  return fail(cv, node, msg);
}

static berth_status_t convert_scalar(yaml_node_t *node, json_t **out)
{
  const char *v = (const char *)node->data.scalar.value;
  size_t n = node->data.scalar.length;

  if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
      (n == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0))
    *out = json_null();
  else
    *out = json_stringn(v, n);
  return *out != NULL ? BERTH_OK : BERTH_EPARSE;
}

static berth_status_t convert_mapping(conv_t *cv, yaml_node_t *node, int depth,
                                      json_t **out)
{
  yaml_node_pair_t *pair;
  yaml_node_t *key;
  json_t *obj = json_object();
  json_t *value = NULL;
  berth_status_t st = BERTH_OK;
  char msg[320];

  if (obj == NULL)
    return berth_error_set(cv->err, BERTH_ENOMEM, "out of memory");
  for (pair = node->data.mapping.pairs.start;
       pair < node->data.mapping.pairs.top; pair++) {
    key = yaml_document_get_node(cv->doc, pair->key);
    if (key == NULL || key->type != YAML_SCALAR_NODE) {
      st = fail(cv, key, "a mapping key is not a string");
      goto done;
    }
    if (!spend(cv, key->data.scalar.length + NODE_COST)) {
      st = too_big(cv, key);
      goto done;
    }
    if (json_object_get(obj, (const char *)key->data.scalar.value) != NULL) {
      snprintf(msg, sizeof(msg), "duplicate key \"%.256s\"",
               (const char *)key->data.scalar.value);
      st = fail(cv, key, msg);
      goto done;
    }
    st = convert(cv, yaml_document_get_node(cv->doc, pair->value), depth + 1,
                 &value);
    if (st != BERTH_OK)
      goto done;
    if (json_object_set_new(obj, (const char *)key->data.scalar.value, value) !=
        0) {
      st = fail(cv, key, "a mapping key is not valid UTF-8");
      goto done;
    }
  }
  *out = obj;
  obj = NULL;

done:
  json_decref(obj);
  return st;
}

static berth_status_t convert(conv_t *cv, yaml_node_t *node, int depth,
                              json_t **out)
{
  yaml_node_item_t *item;
  json_t *arr = NULL;
  json_t *value = NULL;
  berth_status_t st = BERTH_OK;

  if (node == NULL)
    return fail(cv, NULL, "dangling node");
  if (depth > MAX_DEPTH)
    return fail(cv, node, "nested too deeply");
  if (++cv->produced > MAX_NODES)
    return fail(cv, node, "too many nodes (alias expansion?)");
  if (!spend(cv, NODE_COST + (node->type == YAML_SCALAR_NODE
                                  ? node->data.scalar.length
                                  : 0)))
    return too_big(cv, node);
  switch (node->type) {
  case YAML_SCALAR_NODE:
    st = convert_scalar(node, out);
    if (st != BERTH_OK)
      st = fail(cv, node, "a value is not valid UTF-8");
    break;
  case YAML_MAPPING_NODE:
    st = convert_mapping(cv, node, depth, out);
    break;
  case YAML_SEQUENCE_NODE:
    arr = json_array();
    if (arr == NULL)
      return berth_error_set(cv->err, BERTH_ENOMEM, "out of memory");
    for (item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++) {
      st = convert(cv, yaml_document_get_node(cv->doc, *item), depth + 1,
                   &value);
      if (st != BERTH_OK)
        break;
      json_array_append_new(arr, value);
    }
    if (st == BERTH_OK) {
      *out = arr;
      arr = NULL;
    }
    json_decref(arr);
    break;
  default:
    st = fail(cv, node, "empty node");
    break;
  }
  return st;
}

berth_status_t berth__k8s_yaml_to_json(const char *path, const char *text,
                                       size_t len, json_t **out,
                                       berth_error_t *err)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  bool have_parser = false;
  bool have_doc = false;
  yaml_node_t *root;
  conv_t cv;
  json_t *value = NULL;
  berth_status_t st = BERTH_OK;

  if (!yaml_parser_initialize(&parser)) {
    st = berth_error_set(err, BERTH_ENOMEM, "kubeconfig %s: out of memory",
                         path);
    goto done;
  }
  have_parser = true;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "kubeconfig %s: line %lu column %lu: invalid YAML: %s",
                         path, (unsigned long)parser.problem_mark.line + 1,
                         (unsigned long)parser.problem_mark.column + 1,
                         parser.problem != NULL ? parser.problem : "?");
    goto done;
  }
  have_doc = true;
  root = yaml_document_get_root_node(&doc);
  if (root == NULL) {
    /* An empty file is an empty configuration, as in client-go. */
    value = json_object();
  } else {
    cv.doc = &doc;
    cv.produced = 0;
    cv.bytes = 0;
    cv.budget = len > (SIZE_MAX - OUTPUT_BASE) / OUTPUT_PER_BYTE
                    ? SIZE_MAX
                    : len * OUTPUT_PER_BYTE + OUTPUT_BASE;
    cv.path = path;
    cv.err = err;
    st = convert(&cv, root, 0, &value);
    if (st != BERTH_OK)
      goto done;
    if (json_is_null(value)) {
      json_decref(value);
      value = json_object();
    }
  }
  if (value == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "kubeconfig %s: out of memory",
                         path);
    goto done;
  }
  *out = value;
  value = NULL;

done:
  json_decref(value);
  if (have_doc)
    yaml_document_delete(&doc);
  if (have_parser)
    yaml_parser_delete(&parser);
  return st;
}
