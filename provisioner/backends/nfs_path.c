/* SPDX-License-Identifier: Apache-2.0 */
/* pathPattern expansion and path safety for the NFS backend: pure string
 * work, no I/O, so that a hostile claim is refused before anything is
 * sent to the server.
 *
 * The pattern language is nfs-subdir-external-provisioner's: ${.PVC.X}
 * where X is namespace, name, annotations.KEY or labels.KEY (its regular
 * expression is \${\.PVC\.((labels|annotations)\.(.*?)|.*?)}). Two things
 * are stricter here, because nfs-subdir's filepath.Join quietly cleans
 * what we refuse: an unknown variable or an unclosed "${" is an error, not
 * literal text; and the expanded path must already be clean (no "..", no
 * ".", no empty component), since a claim's author chooses the values. */
#include "backends/nfs_int.h"

#include "berth/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFSB_QUOTED 96 /* room for a quoted value in a message */

#define NFSB_STR_(x) #x
#define NFSB_STR(x) NFSB_STR_(x)

/* The variables' prefixes after "${". */
#define NFSB_VAR_PREFIX ".PVC."
#define NFSB_VAR_ANNOTATIONS ".PVC.annotations."
#define NFSB_VAR_LABELS ".PVC.labels."

static void nfsb_quote(const char *s, size_t len, char *out)
{
  berth_backend_quote(s, len, out, NFSB_QUOTED);
}

/* What a variable expands to. value is borrowed; field names the claim
 * field for messages ("annotation \"k\""). */
typedef struct nfsb_value {
  const char *value;
  size_t len;
  char field[NFSB_QUOTED + 16];
} nfsb_value_t;

/* Look key up in obj (annotations or labels). Missing: "" as nfs-subdir. */
static berth_status_t nfsb_map_value(const json_t *obj, const char *kind,
                                     const char *key, size_t keylen,
                                     nfsb_value_t *v, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  char quoted[NFSB_QUOTED];
  json_t *j = NULL;
  char *k;

  nfsb_quote(key, keylen, quoted);
  snprintf(v->field, sizeof(v->field), "%s %s", kind, quoted);
  v->value = "";
  v->len = 0;
  k = strndup(key, keylen);
  if (k == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "pathPattern: out of memory");
    goto done;
  }
  if (obj != NULL)
    j = json_object_get(obj, k);
  if (j == NULL || json_is_null(j))
    goto done;
  if (!json_is_string(j)) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "pathPattern: the claim's %s is not a string",
                         v->field);
    goto done;
  }
  v->value = json_string_value(j);
  v->len = json_string_length(j);

done:
  free(k);
  return st;
}

/* Resolve the variable var (the text between "${" and "}"). With vars
 * NULL, every variable is the placeholder "x" (berth__nfsb_pattern_check). */
static berth_status_t nfsb_resolve(const berth__nfsb_vars_t *vars,
                                   const char *var, size_t len, nfsb_value_t *v,
                                   berth_error_t *err)
{
  static const size_t ann_len = sizeof(NFSB_VAR_ANNOTATIONS) - 1;
  static const size_t lab_len = sizeof(NFSB_VAR_LABELS) - 1;
  berth_status_t st = BERTH_OK;
  char quoted[NFSB_QUOTED];
  bool is_ann =
      len > ann_len && memcmp(var, NFSB_VAR_ANNOTATIONS, ann_len) == 0;
  bool is_lab = len > lab_len && memcmp(var, NFSB_VAR_LABELS, lab_len) == 0;

  memset(v, 0, sizeof(*v));
  if (len == 14 && memcmp(var, ".PVC.namespace", 14) == 0) {
    snprintf(v->field, sizeof(v->field), "namespace");
    v->value = vars != NULL ? vars->ns : "x";
  } else if (len == 9 && memcmp(var, ".PVC.name", 9) == 0) {
    snprintf(v->field, sizeof(v->field), "name");
    v->value = vars != NULL ? vars->name : "x";
  } else if (len == 8 && memcmp(var, ".PV.name", 8) == 0) {
    /* berth's addition (EFS's subPathPattern has it): the PV's name. */
    snprintf(v->field, sizeof(v->field), "PV name");
    v->value = vars != NULL ? vars->pv_name : "x";
  } else if (is_ann || is_lab) {
    if (vars == NULL) {
      v->value = "x";
    } else {
      st = nfsb_map_value(is_ann ? vars->annotations : vars->labels,
                          is_ann ? "annotation" : "label",
                          var + (is_ann ? ann_len : lab_len),
                          len - (is_ann ? ann_len : lab_len), v, err);
      goto done;
    }
  } else {
    nfsb_quote(var, len, quoted);
    st = berth_error_set(err, BERTH_EINVAL,
                         "pathPattern: unknown variable ${%s}: use "
                         "${.PVC.namespace}, ${.PVC.name}, ${.PV.name}, "
                         "${.PVC.annotations.KEY} or ${.PVC.labels.KEY}",
                         quoted);
    goto done;
  }
  if (v->value == NULL)
    v->value = "";
  v->len = strlen(v->value);

done:
  return st;
}

/* A value may not add directory levels or hide a NUL byte. */
static berth_status_t nfsb_check_value(const nfsb_value_t *v,
                                       berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  char quoted[NFSB_QUOTED];

  if (memchr(v->value, '\0', v->len) != NULL || strlen(v->value) != v->len) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "pathPattern: the claim's %s holds a NUL byte",
                         v->field);
  } else if (memchr(v->value, '/', v->len) != NULL) {
    nfsb_quote(v->value, v->len, quoted);
    st = berth_error_set(err, BERTH_EINVAL,
                         "pathPattern: the claim's %s is %s, which holds "
                         "'/': a claim may not add directory levels",
                         v->field, quoted);
  }
  return st;
}

/* Expand pattern into out. */
static berth_status_t nfsb_expand_into(const char *pattern,
                                       const berth__nfsb_vars_t *vars,
                                       berth_buf_t *out, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const char *p = pattern;
  const char *close;
  nfsb_value_t v;

  while (*p != '\0' && st == BERTH_OK) {
    if (p[0] != '$' || p[1] != '{') {
      st = berth_buf_append_byte(out, *p++);
      continue;
    }
    close = strchr(p + 2, '}');
    if (close == NULL) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "pathPattern: \"${\" at offset %zu is not closed "
                           "by '}'",
                           (size_t)(p - pattern));
      break;
    }
    st = nfsb_resolve(vars, p + 2, (size_t)(close - p - 2), &v, err);
    if (st == BERTH_OK)
      st = nfsb_check_value(&v, err);
    if (st == BERTH_OK)
      st = berth_buf_append(out, v.value, v.len);
    p = close + 1;
  }
  if (st == BERTH_ENOMEM)
    berth_error_set(err, st, "pathPattern: out of memory");
  return st;
}

/* The default directory, as nfs-subdir: <namespace>-<name>-<pv name>. The
 * names come from the API server, which allows no '/' in them; check all
 * the same, a request may come from anywhere. */
static berth_status_t nfsb_default_name(const berth__nfsb_vars_t *vars,
                                        berth_buf_t *out, berth_error_t *err)
{
  const char *parts[3];
  const char *fields[3] = {"namespace", "name", "PV name"};
  berth_status_t st = BERTH_OK;
  nfsb_value_t v;
  size_t i;

  parts[0] = vars != NULL ? vars->ns : "x";
  parts[1] = vars != NULL ? vars->name : "x";
  parts[2] = vars != NULL ? vars->pv_name : "x";
  for (i = 0; i < 3 && st == BERTH_OK; i++) {
    memset(&v, 0, sizeof(v));
    v.value = parts[i] != NULL ? parts[i] : "";
    v.len = strlen(v.value);
    snprintf(v.field, sizeof(v.field), "%s", fields[i]);
    if (v.len == 0)
      st = berth_error_set(err, BERTH_EINVAL, "the claim's %s is empty",
                           fields[i]);
    else
      st = nfsb_check_value(&v, err);
    if (st == BERTH_OK)
      st = berth_buf_appendf(out, "%s%s", i > 0 ? "-" : "", v.value);
  }
  return st;
}

static berth_status_t nfsb_expand(const char *pattern,
                                  const berth__nfsb_vars_t *vars, char **out,
                                  berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  char quoted[NFSB_QUOTED];
  char what[NFSB_QUOTED + 32];
  berth_buf_t buf;
  char *path;

  berth_buf_init(&buf);
  if (pattern != NULL)
    st = nfsb_expand_into(pattern, vars, &buf, err);
  if (st == BERTH_OK && buf.len == 0)
    st = nfsb_default_name(vars, &buf, err);
  if (st != BERTH_OK)
    goto done;
  if (pattern != NULL) {
    nfsb_quote(pattern, strlen(pattern), quoted);
    snprintf(what, sizeof(what), "pathPattern %s", quoted);
  } else {
    snprintf(what, sizeof(what), "the default directory name");
  }
  st = berth__nfsb_path_check(berth_buf_str(&buf), what, err);
  if (st != BERTH_OK)
    goto done;
  path = berth_buf_detach(&buf);
  if (path == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "pathPattern: out of memory");
    goto done;
  }
  *out = path;

done:
  berth_buf_cleanup(&buf);
  return st;
}

berth_status_t berth__nfsb_expand(const char *pattern,
                                  const berth__nfsb_vars_t *vars, char **out,
                                  berth_error_t *err)
{
  if (vars == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL, "pathPattern: no claim");
  return nfsb_expand(pattern, vars, out, err);
}

berth_status_t berth__nfsb_pattern_check(const char *pattern,
                                         berth_error_t *err)
{
  berth_status_t st;
  char *path = NULL;

  st = nfsb_expand(pattern, NULL, &path, err);
  free(path);
  return st;
}

/* Check one component (len bytes at c, not NUL-terminated); index counts
 * from 1 for the message. */
static berth_status_t nfsb_component_check(const char *c, size_t len,
                                           size_t index, const char *what,
                                           const char *path, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  char qpath[NFSB_QUOTED];
  const char *why = NULL;
  size_t i;

  if (len == 0)
    why = "is empty (a leading, trailing or doubled '/')";
  else if (len == 1 && c[0] == '.')
    why = "is \".\"";
  else if (len == 2 && c[0] == '.' && c[1] == '.')
    why = "is \"..\"";
  else if (index == 1 && len == 6 && memcmp(c, ".berth", 6) == 0)
    why = "is \".berth\", where berth keeps its own records";
  else if (len > BERTH_NFS_NAME_MAX)
    why = "is longer than " NFSB_STR(BERTH_NFS_NAME_MAX) " bytes";
  for (i = 0; why == NULL && i < len; i++) {
    if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
      why = "holds a control character";
  }
  if (why != NULL) {
    nfsb_quote(path, strlen(path), qpath);
    st = berth_error_set(err, BERTH_EINVAL,
                         "%s gives the path %s, whose component %zu %s: "
                         "refused, the path must stay inside the export",
                         what, qpath, index, why);
  }
  return st;
}

berth_status_t berth__nfsb_path_check(const char *path, const char *what,
                                      berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const char *p;
  size_t index = 1;
  size_t len;

  if (path == NULL || path[0] == '\0') {
    st = berth_error_set(err, BERTH_EINVAL, "%s gives an empty path", what);
    goto done;
  }
  len = strlen(path);
  if (len > BERTH_NFS_PATH_MAX) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "%s gives a path of %zu bytes, longer than %d: "
                         "refused",
                         what, len, BERTH_NFS_PATH_MAX);
    goto done;
  }
  if (path[0] == '/') {
    char qpath[NFSB_QUOTED];

    nfsb_quote(path, len, qpath);
    st = berth_error_set(err, BERTH_EINVAL,
                         "%s gives the absolute path %s: refused, the path "
                         "must be relative to the export",
                         what, qpath);
    goto done;
  }
  for (p = path;; p += len + 1, index++) {
    len = strcspn(p, "/");
    st = nfsb_component_check(p, len, index, what, path, err);
    if (st != BERTH_OK || p[len] == '\0')
      break;
  }

done:
  return st;
}

const char *berth__nfsb_leaf(const char *path)
{
  const char *slash = strrchr(path, '/');

  return slash != NULL ? slash + 1 : path;
}
