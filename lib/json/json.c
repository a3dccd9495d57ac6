/* SPDX-License-Identifier: Apache-2.0 */
/* Safe typed JSON access over jansson, see include/berth/json.h. */
#include "berth/json.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One step of a path: an object key or an array index. */
typedef struct {
  char key[256];
  bool is_index;
  size_t index;
} path_step_t;

static const char *type_label(json_type type)
{
  switch (type) {
  case JSON_OBJECT:
    return "object";
  case JSON_ARRAY:
    return "array";
  case JSON_STRING:
    return "string";
  case JSON_INTEGER:
    return "integer";
  case JSON_REAL:
    return "real";
  case JSON_TRUE:
  case JSON_FALSE:
    return "boolean";
  case JSON_NULL:
    return "null";
  }
  return "unknown";
}

const char *berth_json_type_name(const json_t *value)
{
  if (value == NULL)
    return "nothing";
  return type_label(json_typeof(value));
}

berth_status_t berth_json_parse(const char *data, size_t len, json_t **out,
                                berth_error_t *err)
{
  json_error_t jerr;
  json_t *doc;

  /* Accept "\u0000" so that one hostile object cannot make a whole list
   * unreadable; the string getters refuse such strings instead. */
  doc = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
  if (doc == NULL)
    return berth_error_set(err, BERTH_EPARSE,
                           "invalid JSON at line %d column %d: %s", jerr.line,
                           jerr.column, jerr.text);
  *out = doc;
  return BERTH_OK;
}

/* Parse a bracket step starting at p ('[' already seen at p[-1]): either
 * digits or a double-quoted key. Returns the byte after ']' or NULL. */
static const char *parse_bracket(const char *p, path_step_t *step)
{
  size_t n = 0;

  if (*p == '"') {
    p++;
    while (*p != '\0' && *p != '"' && n < sizeof(step->key) - 1)
      step->key[n++] = *p++;
    step->key[n] = '\0';
    if (*p != '"' || p[1] != ']')
      return NULL;
    step->is_index = false;
    return p + 2;
  }
  if (!isdigit((unsigned char)*p))
    return NULL;
  step->index = 0;
  while (isdigit((unsigned char)*p)) {
    if (step->index > 100000000)
      return NULL;
    step->index = step->index * 10 + (size_t)(*p++ - '0');
  }
  if (*p != ']')
    return NULL;
  step->is_index = true;
  return p + 1;
}

/* Parse the next step of path at p into step; returns the rest or NULL on
 * a malformed path. */
static const char *next_step(const char *p, path_step_t *step)
{
  size_t n = 0;

  if (*p == '.')
    p++;
  if (*p == '[')
    return parse_bracket(p + 1, step);
  while (*p != '\0' && *p != '.' && *p != '[') {
    if (n == sizeof(step->key) - 1)
      return NULL;
    step->key[n++] = *p++;
  }
  if (n == 0)
    return NULL;
  step->key[n] = '\0';
  step->is_index = false;
  return p;
}

berth_status_t berth_json_lookup(const json_t *root, const char *path,
                                 json_t **out, berth_error_t *err)
{
  const json_t *cur = root;
  const char *p = path;
  const char *rest;
  path_step_t step;
  berth_status_t st = BERTH_OK;

  while (*p != '\0') {
    rest = next_step(p, &step);
    if (rest == NULL) {
      st = berth_error_set(err, BERTH_EINVAL, "%s: malformed path", path);
      goto done;
    }
    if (step.is_index) {
      if (!json_is_array(cur)) {
        st = berth_error_set(err, BERTH_EPARSE, "%.*s: expected array, got %s",
                             (int)(p - path), path, berth_json_type_name(cur));
        goto done;
      }
      cur = json_array_get(cur, step.index);
    } else {
      if (!json_is_object(cur)) {
        st = berth_error_set(err, BERTH_EPARSE, "%.*s: expected object, got %s",
                             p == path ? 6 : (int)(p - path),
                             p == path ? "(root)" : path,
                             berth_json_type_name(cur));
        goto done;
      }
      cur = json_object_get(cur, step.key);
    }
    if (cur == NULL) {
      st = berth_error_set(err, BERTH_ENOTFOUND, "%.*s: missing",
                           (int)(rest - path), path);
      goto done;
    }
    p = rest;
  }
  *out = (json_t *)cur;
done:
  return st;
}

/* Look up a required value of the given type. */
static berth_status_t get_typed(const json_t *root, const char *path,
                                json_type type, json_t **out,
                                berth_error_t *err)
{
  json_t *v = NULL;
  berth_status_t st;

  st = berth_json_lookup(root, path, &v, err);
  if (st == BERTH_ENOTFOUND)
    st = berth_error_set(err, BERTH_EPARSE, "%s: missing", path);
  if (st != BERTH_OK)
    return st;
  if (json_typeof(v) != type &&
      !(type == JSON_TRUE && json_typeof(v) == JSON_FALSE)) {
    return berth_error_set(err, BERTH_EPARSE, "%s: expected %s, got %s", path,
                           type_label(type), berth_json_type_name(v));
  }
  *out = v;
  return BERTH_OK;
}

/* Look up an optional value: missing or null gives *out = NULL. */
static berth_status_t get_optional(const json_t *root, const char *path,
                                   json_type type, json_t **out,
                                   berth_error_t *err)
{
  json_t *v = NULL;
  berth_status_t st;

  st = berth_json_lookup(root, path, &v, NULL);
  if (st == BERTH_ENOTFOUND || (st == BERTH_OK && json_is_null(v))) {
    *out = NULL;
    return BERTH_OK;
  }
  if (st != BERTH_OK)
    return berth_json_lookup(root, path, &v, err); /* fill err */
  return get_typed(root, path, type, out, err);
}

/* A string with an embedded NUL would be cut short as a C string: refuse
 * it rather than hand out something other than what was sent. */
static berth_status_t check_no_nul(const json_t *v, const char *path,
                                   berth_error_t *err)
{
  if (strlen(json_string_value(v)) != json_string_length(v))
    return berth_error_set(err, BERTH_EPARSE, "%s: contains a NUL byte", path);
  return BERTH_OK;
}

berth_status_t berth_json_get_string(const json_t *root, const char *path,
                                     const char **out, berth_error_t *err)
{
  json_t *v = NULL;
  berth_status_t st = get_typed(root, path, JSON_STRING, &v, err);

  if (st == BERTH_OK)
    st = check_no_nul(v, path, err);
  if (st == BERTH_OK)
    *out = json_string_value(v);
  return st;
}

berth_status_t berth_json_get_int(const json_t *root, const char *path,
                                  long long *out, berth_error_t *err)
{
  json_t *v = NULL;
  berth_status_t st = get_typed(root, path, JSON_INTEGER, &v, err);

  if (st == BERTH_OK)
    *out = (long long)json_integer_value(v);
  return st;
}

berth_status_t berth_json_get_bool(const json_t *root, const char *path,
                                   bool *out, berth_error_t *err)
{
  json_t *v = NULL;
  berth_status_t st = get_typed(root, path, JSON_TRUE, &v, err);

  if (st == BERTH_OK)
    *out = json_is_true(v);
  return st;
}

berth_status_t berth_json_get_object(const json_t *root, const char *path,
                                     json_t **out, berth_error_t *err)
{
  return get_typed(root, path, JSON_OBJECT, out, err);
}

berth_status_t berth_json_get_array(const json_t *root, const char *path,
                                    json_t **out, berth_error_t *err)
{
  return get_typed(root, path, JSON_ARRAY, out, err);
}

berth_status_t berth_json_opt_string(const json_t *root, const char *path,
                                     const char *def, const char **out,
                                     berth_error_t *err)
{
  json_t *v = NULL;
  berth_status_t st = get_optional(root, path, JSON_STRING, &v, err);

  if (st == BERTH_OK && v != NULL)
    st = check_no_nul(v, path, err);
  if (st == BERTH_OK)
    *out = v != NULL ? json_string_value(v) : def;
  return st;
}

berth_status_t berth_json_opt_int(const json_t *root, const char *path,
                                  long long def, long long *out,
                                  berth_error_t *err)
{
  json_t *v = NULL;
  berth_status_t st = get_optional(root, path, JSON_INTEGER, &v, err);

  if (st == BERTH_OK)
    *out = v != NULL ? (long long)json_integer_value(v) : def;
  return st;
}

berth_status_t berth_json_opt_bool(const json_t *root, const char *path,
                                   bool def, bool *out, berth_error_t *err)
{
  json_t *v = NULL;
  berth_status_t st = get_optional(root, path, JSON_TRUE, &v, err);

  if (st == BERTH_OK)
    *out = v != NULL ? json_is_true(v) : def;
  return st;
}

berth_status_t berth_json_opt_object(const json_t *root, const char *path,
                                     json_t **out, berth_error_t *err)
{
  return get_optional(root, path, JSON_OBJECT, out, err);
}

berth_status_t berth_json_opt_array(const json_t *root, const char *path,
                                    json_t **out, berth_error_t *err)
{
  return get_optional(root, path, JSON_ARRAY, out, err);
}

/* jansson's dump callback: append to a berth_buf_t. */
static int dump_cb(const char *data, size_t size, void *ctx)
{
  return berth_buf_append(ctx, data, size) == BERTH_OK ? 0 : -1;
}

berth_status_t berth_json_dump(const json_t *value, berth_buf_t *out)
{
  if (json_dump_callback(value, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY) !=
      0)
    return BERTH_ENOMEM;
  return BERTH_OK;
}
