/* The backend vtable's dispatch and the helpers backends share, see
 * backend.h. */
#include "backends/backend.h"

#include "berth/buf.h"

#include <string.h>

const char *berth_backend_name(const berth_backend_t *be)
{
  return be != NULL ? be->ops->name : "(none)";
}

berth_status_t berth_backend_validate(berth_backend_t *be,
                                      const json_t *parameters,
                                      berth_error_t *err)
{
  if (be == NULL)
    return berth_error_set(err, BERTH_EINVAL, "validate: no backend");
  return be->ops->validate(be, parameters, err);
}

berth_status_t berth_backend_provision(berth_backend_t *be,
                                       const berth_provision_request_t *req,
                                       berth_provision_result_t *out,
                                       berth_error_t *err)
{
  if (be == NULL || req == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "provision: no backend, request or result");
  return be->ops->provision(be, req, out, err);
}

berth_status_t berth_backend_delete(berth_backend_t *be,
                                    const berth_delete_request_t *req,
                                    berth_delete_outcome_t *out,
                                    berth_error_t *err)
{
  berth_delete_outcome_t outcome = BERTH_DELETE_DELETED;
  berth_status_t st;

  if (be == NULL || req == NULL || req->pv == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "delete: no backend, request or PV");
  st = be->ops->delete_volume(be, req, &outcome, err);
  if (st == BERTH_OK && out != NULL)
    *out = outcome;
  return st;
}

berth_status_t berth_backend_usage(berth_backend_t *be, const json_t *pv,
                                   const json_t *parameters,
                                   berth_usage_t *out, berth_error_t *err)
{
  if (be == NULL || pv == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL, "usage: no backend, PV or out");
  if (be->ops->usage == NULL)
    return berth_error_set(err, BERTH_EPERM,
                           "%s: usage is not measurable from the controller",
                           be->ops->name);
  return be->ops->usage(be, pv, parameters, out, err);
}

bool berth_backend_can_measure_usage(const berth_backend_t *be)
{
  return be != NULL && be->ops->usage != NULL;
}

bool berth_backend_can_expand(const berth_backend_t *be)
{
  return be != NULL && be->ops->expand != NULL;
}

berth_status_t berth_backend_expand(berth_backend_t *be, const json_t *pv,
                                    uint64_t new_bytes, uint64_t *out_bytes,
                                    berth_error_t *err)
{
  if (be == NULL || pv == NULL || out_bytes == NULL)
    return berth_error_set(err, BERTH_EINVAL, "expand: no backend, PV or out");
  if (be->ops->expand == NULL)
    return berth_error_set(err, BERTH_EPERM,
                           "the %s backend cannot expand volumes",
                           be->ops->name);
  return be->ops->expand(be, pv, new_bytes, out_bytes, err);
}

void berth_backend_destroy(berth_backend_t *be)
{
  if (be != NULL)
    be->ops->destroy(be);
}

void berth_provision_result_init(berth_provision_result_t *res)
{
  memset(res, 0, sizeof(*res));
}

void berth_provision_result_cleanup(berth_provision_result_t *res)
{
  if (res == NULL)
    return;
  json_decref(res->source);
  json_decref(res->annotations);
  json_decref(res->node_affinity);
  memset(res, 0, sizeof(*res));
}

unsigned berth_access_mode_parse(const char *name)
{
  static const struct {
    const char *name;
    unsigned bit;
  } modes[] = {
    { "ReadWriteOnce", BERTH_ACCESS_RWO },
    { "ReadOnlyMany", BERTH_ACCESS_ROX },
    { "ReadWriteMany", BERTH_ACCESS_RWX },
    { "ReadWriteOncePod", BERTH_ACCESS_RWOP },
  };
  size_t i;

  for (i = 0; name != NULL && i < sizeof(modes) / sizeof(modes[0]); i++) {
    if (strcmp(name, modes[i].name) == 0)
      return modes[i].bit;
  }
  return 0;
}

static bool bbe_is_known(const char *key, const char *const *known)
{
  for (; *known != NULL; known++) {
    if (strcmp(key, *known) == 0)
      return true;
  }
  return false;
}

/* "a, b, c" from a NULL-terminated list, for messages. */
static void bbe_list(const char *const *known, berth_buf_t *out)
{
  for (; *known != NULL; known++)
    berth_buf_appendf(out, "%s%s", out->len > 0 ? ", " : "", *known);
}

berth_status_t berth_backend_check_parameters(const char *backend,
                                              const json_t *parameters,
                                              const char *const *known,
                                              berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const char *key;
  json_t *value;
  berth_buf_t list;

  berth_buf_init(&list);
  if (parameters == NULL)
    goto done;
  if (!json_is_object(parameters)) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "%s: StorageClass parameters must be an object",
                         backend);
    goto done;
  }
  json_object_foreach((json_t *)parameters, key, value) {
    if (!bbe_is_known(key, known)) {
      char quoted[80];

      bbe_list(known, &list);
      berth_backend_quote(key, strlen(key), quoted, sizeof(quoted));
      st = berth_error_set(err, BERTH_EINVAL,
                           "%s: unknown StorageClass parameter %s "
                           "(known: %s)",
                           backend, quoted, berth_buf_str(&list));
      goto done;
    }
    /* StorageClass parameters are map[string]string; a string holding a
     * NUL byte would be cut short by C, so refuse it. */
    if (!json_is_string(value) ||
        json_string_length(value) != strlen(json_string_value(value))) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "%s: StorageClass parameter \"%s\" must be a "
                           "string without NUL bytes",
                           backend, key);
      goto done;
    }
  }

done:
  berth_buf_cleanup(&list);
  return st;
}

const char *berth_backend_parameter(const json_t *parameters, const char *key)
{
  json_t *v;

  if (parameters == NULL)
    return NULL;
  v = json_object_get(parameters, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The length of the valid UTF-8 sequence at s (at most len bytes), or 0
 * when the bytes there are not one. ASCII gives 1. */
static size_t bbe_utf8_len(const unsigned char *s, size_t len)
{
  size_t n;
  size_t i;

  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    n = 3;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    n = 4;
  else
    return 0;
  if (n > len)
    return 0;
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  }
  return n;
}

void berth_backend_quote(const char *s, size_t len, char *out, size_t outsize)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t room = outsize - 5; /* kept for "...", the quote and the NUL */
  size_t o = 0;
  size_t i = 0;

  if (outsize < 8) { /* too small to say anything useful */
    if (outsize > 0)
      out[0] = '\0';
    return;
  }
  out[o++] = '"';
  while (i < len) {
    size_t n = bbe_utf8_len(u + i, len - i);
    bool escape = n == 0 || u[i] < 0x20 || u[i] == 0x7f;
    size_t need = escape ? 4 : n + (u[i] == '"' || u[i] == '\\');

    /* Whole sequences only, so that the message stays valid UTF-8 (an
     * Event with invalid UTF-8 cannot be encoded as JSON). */
    if (o + need > room) {
      memcpy(out + o, "...", 3);
      o += 3;
      break;
    }
    if (escape) {
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[u[i] >> 4];
      out[o++] = hex[u[i] & 15];
      i++;
      continue;
    }
    if (need > n)
      out[o++] = '\\';
    memcpy(out + o, s + i, n);
    o += n;
    i += n;
  }
  out[o++] = '"';
  out[o] = '\0';
}
