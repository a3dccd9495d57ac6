/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: NFS path patterns (provisioner/backends/nfs_path.c) and
 * the quoting of hostile values in messages (backend.c). The input is
 * lines: pathPattern, namespace, name, PV name, then a JSON object
 * {"annotations": {...}, "labels": {...}}. Invariants of every path that
 * is accepted (the export invariants): not empty, never absolute, no
 * ".", ".." or empty component, no control byte, at most
 * BERTH_NFS_NAME_MAX bytes per component and BERTH_NFS_PATH_MAX in all,
 * and nothing a claim supplies adds a '/': the path has no more
 * components than the same pattern with every value a plain name. The
 * quoted form of any value is printable, valid UTF-8 and terminated. */
#include <string.h>

#include "backends/nfs_int.h"
#include "fuzz.h"

static void check_path(const char *path)
{
  size_t len = strlen(path);
  const char *c = path;

  FUZZ_CHECK(len > 0 && len <= BERTH_NFS_PATH_MAX, "length %zu", len);
  FUZZ_CHECK(path[0] != '/', "absolute: %s", path);
  for (;;) {
    size_t n = strcspn(c, "/");
    size_t i;

    FUZZ_CHECK(n > 0, "empty component in %s", path);
    FUZZ_CHECK(n <= BERTH_NFS_NAME_MAX, "component of %zu bytes", n);
    FUZZ_CHECK(!(n == 1 && c[0] == '.') &&
                   !(n == 2 && c[0] == '.' && c[1] == '.'),
               "dot component in %s", path);
    for (i = 0; i < n; i++)
      FUZZ_CHECK((unsigned char)c[i] >= 0x20 && c[i] != 0x7f,
                 "control byte 0x%02x in %s", (unsigned char)c[i], path);
    if (c[n] == '\0')
      break;
    c += n + 1;
  }
}

static size_t slashes(const char *s)
{
  size_t n = 0;

  for (; *s != '\0'; s++)
    n += *s == '/';
  return n;
}

/* A copy of an object of strings with every string "x". */
static json_t *plain(const json_t *obj)
{
  json_t *out;
  const char *k;
  json_t *v;

  if (!json_is_object(obj))
    return NULL;
  out = json_object();
  json_object_foreach((json_t *)obj, k, v)
  {
    json_object_set_new(
        out, k, json_is_string(v) ? json_string("x") : json_deep_copy(v));
  }
  return out;
}

static void check_quote(const char *s, size_t len)
{
  char out[96];
  size_t n;
  size_t i;
  json_t *j;

  berth_backend_quote(s, len, out, sizeof(out));
  n = strnlen(out, sizeof(out));
  FUZZ_CHECK(n < sizeof(out), "quote not terminated");
  for (i = 0; i < n; i++)
    FUZZ_CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f,
               "quote has byte 0x%02x", (unsigned char)out[i]);
  /* jansson refuses invalid UTF-8: an Event's JSON could not hold it. */
  j = json_string(out);
  FUZZ_CHECK(j != NULL, "quote is not valid UTF-8: %s", out);
  json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_strndup(data, size);
  char *line[4];
  char *p;
  size_t n = 0;
  json_t *extra = NULL;
  json_t *pa = NULL;
  json_t *pl = NULL;
  berth__nfsb_vars_t vars;
  berth__nfsb_vars_t xvars;
  char *path = NULL;
  char *xpath = NULL;
  berth_error_t err;

  fuzz_quiet_logs();
  if (text == NULL)
    return 0;
  check_quote((const char *)data, size);
  p = text;
  while (n < 4 && p != NULL) {
    char *nl = strchr(p, '\n');

    line[n++] = p;
    if (nl != NULL)
      *nl = '\0';
    p = nl != NULL ? nl + 1 : NULL;
  }
  if (n < 4)
    goto done;
  if (p != NULL)
    extra = json_loads(p, 0, NULL);
  memset(&vars, 0, sizeof(vars));
  vars.ns = line[1];
  vars.name = line[2];
  vars.pv_name = line[3];
  vars.annotations = json_object_get(extra, "annotations");
  vars.labels = json_object_get(extra, "labels");
  if (berth__nfsb_expand(line[0][0] != '\0' ? line[0] : NULL, &vars, &path,
                         &err) == BERTH_OK) {
    check_path(path);
    FUZZ_CHECK(berth__nfsb_path_check(path, "fuzz", &err) == BERTH_OK,
               "expanded path fails the check: %s", err.message);
    FUZZ_CHECK(strchr(berth__nfsb_leaf(path), '/') == NULL, "leaf");
    /* The same pattern with plain names. */
    pa = plain(vars.annotations);
    pl = plain(vars.labels);
    xvars.ns = "x";
    xvars.name = "x";
    xvars.pv_name = "x";
    xvars.annotations = pa;
    xvars.labels = pl;
    if (line[0][0] != '\0' &&
        berth__nfsb_expand(line[0], &xvars, &xpath, &err) == BERTH_OK &&
        strcmp(xpath, "x-x-x") != 0)
      FUZZ_CHECK(slashes(path) <= slashes(xpath),
                 "the claim added a '/': %s (plain: %s)", path, xpath);
  } else {
    FUZZ_CHECK(err.message[0] != '\0', "refused without a message");
  }
  if (berth__nfsb_pattern_check(line[0], &err) == BERTH_OK)
    FUZZ_CHECK(line[0][0] != '/', "absolute pattern passed the check");

done:
  free(path);
  free(xpath);
  json_decref(pa);
  json_decref(pl);
  json_decref(extra);
  free(text);
  return 0;
}
