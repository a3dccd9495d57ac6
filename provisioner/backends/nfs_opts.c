/* SPDX-License-Identifier: Apache-2.0 */
/* The NFS backend's StorageClass parameters (see backends/nfs.h): parsed
 * and checked in one place, for validate and for every call that needs
 * them. Messages name the parameter at fault. */
#include "backends/nfs_int.h"

#include "berth/buf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const berth__nfsb_known_params[] = {
    "pathPattern", "onDelete", "archiveOnDelete", "server",
    "share",       "url",      "nfsvers",         "directoryPerms",
    "uid",         "gid",      "gidRangeStart",   "gidRangeEnd",
    NULL,
};

/* The largest id we accept: (uint32_t)-1 means "no id" to NFS. */
#define NFSB_ID_MAX 4294967294LL

/* A parameter's value from params, else from defaults; NULL when neither
 * has it. An empty string counts as absent, as in nfs-subdir (Go's map
 * lookup of a missing key gives ""). */
static const char *nfsb_get(const json_t *defaults, const json_t *params,
                            const char *key)
{
  const char *v = berth_backend_parameter(params, key);

  if (v == NULL || v[0] == '\0')
    v = berth_backend_parameter(defaults, key);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

bool berth_backend_nfs_names_export(const json_t *params)
{
  return berth_backend_parameter(params, "server") != NULL ||
         berth_backend_parameter(params, "share") != NULL ||
         berth_backend_parameter(params, "url") != NULL;
}

/* true when s has a byte that has no place in a URL or a path we build:
 * control characters and space. */
static bool nfsb_has_control(const char *s)
{
  for (; *s != '\0'; s++) {
    if ((unsigned char)*s <= 0x20 || *s == 0x7f)
      return true;
  }
  return false;
}

/* true when the absolute path s has a "." or ".." component. */
static bool nfsb_has_dots(const char *s)
{
  size_t n;

  for (; *s != '\0'; s += n) {
    while (*s == '/')
      s++;
    n = strcspn(s, "/");
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
      return true;
  }
  return false;
}

/* A new copy of path without trailing '/' (except for "/" itself). */
static char *nfsb_trim_path(const char *path, size_t len)
{
  while (len > 1 && path[len - 1] == '/')
    len--;
  return strndup(path, len);
}

/* A port: 1 to 5 digits, 1 to 65535, from p up to end. */
static bool nfsb_port_ok(const char *p, const char *end)
{
  long v = 0;

  if (p == end || end - p > 5)
    return false;
  for (; p < end; p++) {
    if (*p < '0' || *p > '9')
      return false;
    v = v * 10 + (*p - '0');
  }
  return v >= 1 && v <= 65535;
}

berth_status_t berth__nfsb_url_split(const char *url, char **server,
                                     char **path, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const char *host;
  const char *slash;
  const char *end;
  size_t hlen;
  char *s = NULL;
  char *p = NULL;

  if (!berth_str_has_prefix(url, "nfs://") || nfsb_has_control(url)) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "url: expected nfs://server/path[?arg=value...] "
                         "without spaces or control characters");
    goto done;
  }
  host = url + 6;
  slash = strchr(host, '/');
  end = strchr(host, '?');
  if (slash == NULL || (end != NULL && end < slash) || slash == host) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "url: expected nfs://server/path[?arg=value...]");
    goto done;
  }
  hlen = (size_t)(slash - host);
  {
    /* host, [IPv6], then an optional :port; the PV wants the bare
     * address. */
    const char *close = host[0] == '[' ? memchr(host, ']', hlen) : NULL;
    const char *colon = close != NULL ? close + 1 : memchr(host, ':', hlen);
    size_t name_len = close != NULL   ? (size_t)(close + 1 - host)
                      : colon != NULL ? (size_t)(colon - host)
                                      : hlen;
    bool v6;

    if (colon == slash)
      colon = NULL;
    if (berth__nfsb_host_check(host, name_len, &v6) != BERTH_OK ||
        (host[0] == '[') != (close != NULL) ||
        (colon != NULL && (*colon != ':' || !nfsb_port_ok(colon + 1, slash)))) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "url: the server is not a host name, an IPv4 "
                           "address or a [bracketed IPv6] address, with an "
                           "optional :port");
      goto done;
    }
    s = close != NULL ? strndup(host + 1, name_len - 2)
                      : strndup(host, name_len);
  }
  if (end == NULL)
    end = slash + strlen(slash);
  p = nfsb_trim_path(slash, (size_t)(end - slash));
  if (s == NULL || p == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "url: out of memory");
    goto done;
  }
  if (s[0] == '\0' || nfsb_has_dots(p)) {
    st = berth_error_set(err, BERTH_EINVAL, "url: %s",
                         s[0] == '\0' ? "no server"
                                      : "the path may not have \".\" or "
                                        "\"..\" components");
    goto done;
  }
  *server = s;
  *path = p;
  s = NULL;
  p = NULL;

done:
  free(s);
  free(p);
  return st;
}

/* One DNS label of a host name: 1 to 63 letters, digits, '-' or '_'
 * (RFC 1123 section 2.1, and '_' as some resolvers allow), not starting or
 * ending with '-'. */
static bool nfsb_label_ok(const char *s, size_t n)
{
  size_t i;

  if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
    return false;
  for (i = 0; i < n; i++) {
    if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
      return false;
  }
  return true;
}

/* A host name: labels joined by '.', an optional final '.', at most 253
 * bytes, the last label not all digits (so "10.0.0.256" is neither an
 * address nor a name). */
static bool nfsb_name_ok(const char *s, size_t n)
{
  size_t start = 0;
  size_t i;

  if (n > 0 && s[n - 1] == '.')
    n--;
  if (n == 0 || n > 253)
    return false;
  for (i = 0; i <= n; i++) {
    if (i < n && s[i] != '.')
      continue;
    if (!nfsb_label_ok(s + start, i - start))
      return false;
    if (i == n && strspn(s + start, "0123456789") >= i - start)
      return false;
    start = i + 1;
  }
  return true;
}

/* An address of family af, written in full in s (n bytes). */
static bool nfsb_addr_ok(int af, const char *s, size_t n)
{
  char buf[INET6_ADDRSTRLEN];
  unsigned char addr[sizeof(struct in6_addr)];

  if (n == 0 || n >= sizeof(buf))
    return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  return inet_pton(af, buf, addr) == 1;
}

berth_status_t berth__nfsb_host_check(const char *host, size_t len, bool *v6)
{
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']' &&
      nfsb_addr_ok(AF_INET6, host + 1, len - 2)) {
    *v6 = true;
    return BERTH_OK;
  }
  if (memchr(host, ':', len) != NULL && nfsb_addr_ok(AF_INET6, host, len)) {
    *v6 = true;
    return BERTH_OK;
  }
  *v6 = false;
  if (nfsb_addr_ok(AF_INET, host, len) || nfsb_name_ok(host, len))
    return BERTH_OK;
  return BERTH_EINVAL;
}

/* server + share (+ nfsvers) -> url, server, export_path. */
static berth_status_t nfsb_export_from_parts(const char *server,
                                             const char *share, int vers,
                                             berth__nfsb_opts_t *out,
                                             berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  size_t n = strlen(server);
  bool v6 = false;

  if (berth__nfsb_host_check(server, n, &v6) != BERTH_OK) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "server: expected a host name, an IPv4 address or "
                         "an IPv6 address (bare or in brackets)");
    goto done;
  }
  if (share[0] != '/' || nfsb_has_control(share) || nfsb_has_dots(share) ||
      strpbrk(share, "?#") != NULL || strlen(share) > BERTH_NFS_PATH_MAX) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "share: expected an absolute path without \".\", "
                         "\"..\", '?', '#', spaces or control characters");
    goto done;
  }
  if (server[0] == '[' && server[n - 1] == ']')
    out->server = strndup(server + 1, n - 2);
  else
    out->server = strdup(server);
  out->export_path = nfsb_trim_path(share, strlen(share));
  out->url = berth_strdup_printf(
      "nfs://%s%s%s%s%s", v6 && server[0] != '[' ? "[" : "", server,
      v6 && server[0] != '[' ? "]" : "", out->export_path,
      vers == 4   ? "?version=4"
      : vers == 3 ? "?version=3"
                  : "");
  if (out->server == NULL || out->export_path == NULL || out->url == NULL)
    st = berth_error_set(err, BERTH_ENOMEM, "server: out of memory");

done:
  return st;
}

static berth_status_t nfsb_parse_vers(const char *s, int *out,
                                      berth_error_t *err)
{
  berth_status_t st = BERTH_OK;

  if (s == NULL)
    *out = 0; /* not given: negotiated when connecting */
  else if (strcmp(s, "3") == 0)
    *out = 3;
  else if (strcmp(s, "4") == 0 || strcmp(s, "4.0") == 0)
    *out = 4;
  else
    st = berth_error_set(err, BERTH_EINVAL,
                         "nfsvers: expected \"3\" or \"4\" (libnfs speaks "
                         "NFSv3 and NFSv4.0)");
  return st;
}

/* The export: url, or server and share, from src; nfsvers from params
 * first. */
static berth_status_t nfsb_parse_export(const json_t *src, const json_t *params,
                                        berth__nfsb_opts_t *out,
                                        berth_error_t *err)
{
  const char *url = berth_backend_parameter(src, "url");
  const char *server = berth_backend_parameter(src, "server");
  const char *share = berth_backend_parameter(src, "share");
  const char *vers_s = nfsb_get(src, params, "nfsvers");
  berth_status_t st;
  int vers = 0;

  st = nfsb_parse_vers(vers_s, &vers, err);
  if (st != BERTH_OK)
    goto done;
  if (url != NULL && (server != NULL || share != NULL || vers_s != NULL)) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "url: give either url or server and share (with "
                         "nfsvers), not both; the URL says its version "
                         "(?version=4)");
  } else if (url != NULL) {
    out->url = strdup(url);
    st = out->url == NULL
             ? berth_error_set(err, BERTH_ENOMEM, "url: out of memory")
             : berth__nfsb_url_split(url, &out->server, &out->export_path, err);
  } else if (server != NULL && share != NULL) {
    st = nfsb_export_from_parts(server, share, vers, out, err);
  } else if (server != NULL || share != NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "%s: needs %s too",
                         server != NULL ? "server" : "share",
                         server != NULL ? "share" : "server");
  } else {
    st = berth_error_set(err, BERTH_EINVAL,
                         "no export: the StorageClass needs url, or server "
                         "and share (or the provisioner NFS_SERVER and "
                         "NFS_PATH)");
  }

done:
  return st;
}

/* Go's strconv.ParseBool, which nfs-subdir uses for archiveOnDelete. */
static berth_status_t nfsb_parse_bool(const char *s, bool *out)
{
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  size_t i;

  for (i = 0; i < 6; i++) {
    if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
      *out = strcmp(s, yes[i]) == 0;
      return BERTH_OK;
    }
  }
  return BERTH_EINVAL;
}

/* onDelete wins; then archiveOnDelete, whose default is true. */
static berth_status_t nfsb_parse_on_delete(const json_t *defaults,
                                           const json_t *params,
                                           berth__nfsb_opts_t *out,
                                           berth_error_t *err)
{
  const char *on_delete = nfsb_get(defaults, params, "onDelete");
  const char *archive = nfsb_get(defaults, params, "archiveOnDelete");
  berth_status_t st = BERTH_OK;
  bool b = true;

  out->on_delete = BERTH__NFSB_ON_DELETE_ARCHIVE;
  if (on_delete != NULL) {
    if (strcmp(on_delete, "delete") == 0)
      out->on_delete = BERTH__NFSB_ON_DELETE_DELETE;
    else if (strcmp(on_delete, "retain") == 0)
      out->on_delete = BERTH__NFSB_ON_DELETE_RETAIN;
    else
      st = berth_error_set(err, BERTH_EINVAL,
                           "onDelete: expected \"delete\" or \"retain\"");
  }
  if (st == BERTH_OK && archive != NULL) {
    if (nfsb_parse_bool(archive, &b) != BERTH_OK)
      st = berth_error_set(err, BERTH_EINVAL,
                           "archiveOnDelete: expected \"true\" or \"false\"");
    else if (on_delete == NULL && !b)
      out->on_delete = BERTH__NFSB_ON_DELETE_DELETE;
  }
  return st;
}

/* Octal permission bits, "0777", "755", "02770": at most 07777. */
static berth_status_t nfsb_parse_perms(const char *s, uint32_t *out,
                                       berth_error_t *err)
{
  size_t n = s != NULL ? strlen(s) : 0;
  uint32_t v = 0;
  size_t i;

  if (s == NULL) {
    *out = 0777;
    return BERTH_OK;
  }
  if (n == 0 || n > 5 || strspn(s, "01234567") != n)
    goto bad;
  for (i = 0; i < n; i++)
    v = v * 8 + (uint32_t)(s[i] - '0');
  if (v > 07777)
    goto bad;
  *out = v;
  return BERTH_OK;

bad:
  return berth_error_set(err, BERTH_EINVAL,
                         "directoryPerms: expected octal permission bits "
                         "such as \"0777\" or \"2770\"");
}

/* A decimal uid or gid; absent gives BERTH__NFSB_NO_ID. */
static berth_status_t nfsb_parse_id(const char *name, const char *s,
                                    uint32_t *out, berth_error_t *err)
{
  long long v;

  *out = BERTH__NFSB_NO_ID;
  if (s == NULL)
    return BERTH_OK;
  if (berth_str_to_ll(s, 0, NFSB_ID_MAX, &v) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL,
                           "%s: expected a number from 0 to %lld", name,
                           NFSB_ID_MAX);
  *out = (uint32_t)v;
  return BERTH_OK;
}

static berth_status_t nfsb_parse_ids(const json_t *defaults,
                                     const json_t *params,
                                     berth__nfsb_opts_t *out,
                                     berth_error_t *err)
{
  const char *start = nfsb_get(defaults, params, "gidRangeStart");
  const char *end = nfsb_get(defaults, params, "gidRangeEnd");
  berth_status_t st;

  st = nfsb_parse_id("uid", nfsb_get(defaults, params, "uid"), &out->uid, err);
  if (st == BERTH_OK)
    st =
        nfsb_parse_id("gid", nfsb_get(defaults, params, "gid"), &out->gid, err);
  if (st == BERTH_OK)
    st = nfsb_parse_id("gidRangeStart", start, &out->gid_min, err);
  if (st == BERTH_OK)
    st = nfsb_parse_id("gidRangeEnd", end, &out->gid_max, err);
  if (st != BERTH_OK || (start == NULL && end == NULL))
    goto done;
  if (start == NULL || end == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "%s: needs %s too",
                         start != NULL ? "gidRangeStart" : "gidRangeEnd",
                         start != NULL ? "gidRangeEnd" : "gidRangeStart");
  } else if (out->gid_min > out->gid_max) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "gidRangeStart: %u is above gidRangeEnd %u",
                         out->gid_min, out->gid_max);
  } else if (out->gid != BERTH__NFSB_NO_ID) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "gid: give either gid or gidRangeStart and "
                         "gidRangeEnd, not both");
  }
  out->gid_range = st == BERTH_OK;

done:
  return st;
}

static berth_status_t nfsb_parse_pattern(const json_t *defaults,
                                         const json_t *params,
                                         berth__nfsb_opts_t *out,
                                         berth_error_t *err)
{
  const char *pattern = nfsb_get(defaults, params, "pathPattern");
  berth_status_t st = BERTH_OK;

  if (pattern == NULL)
    goto done;
  st = berth__nfsb_pattern_check(pattern, err);
  if (st != BERTH_OK)
    goto done;
  out->pattern = strdup(pattern);
  if (out->pattern == NULL)
    st = berth_error_set(err, BERTH_ENOMEM, "pathPattern: out of memory");

done:
  return st;
}

/* Every key of params and of defaults is one the backend knows. */
static berth_status_t nfsb_check_params(const json_t *defaults,
                                        const json_t *params,
                                        berth_error_t *err)
{
  berth_status_t st = berth_backend_check_parameters(
      "nfs", params, berth__nfsb_known_params, err);

  if (st == BERTH_OK)
    st = berth_backend_check_parameters("nfs (provisioner defaults)", defaults,
                                        berth__nfsb_known_params, err);
  return st;
}

berth_status_t berth__nfsb_opts_parse(const json_t *defaults,
                                      const json_t *params,
                                      berth__nfsb_opts_t *out,
                                      berth_error_t *err)
{
  berth_status_t st;

  memset(out, 0, sizeof(*out));
  out->uid = BERTH__NFSB_NO_ID;
  out->gid = BERTH__NFSB_NO_ID;
  out->perms = 0777;
  st = nfsb_check_params(defaults, params, err);
  if (st == BERTH_OK)
    st = nfsb_parse_export(berth_backend_nfs_names_export(params) ? params
                                                                  : defaults,
                           params, out, err);
  if (st == BERTH_OK)
    st = nfsb_parse_pattern(defaults, params, out, err);
  if (st == BERTH_OK)
    st = nfsb_parse_on_delete(defaults, params, out, err);
  if (st == BERTH_OK)
    st = nfsb_parse_perms(nfsb_get(defaults, params, "directoryPerms"),
                          &out->perms, err);
  if (st == BERTH_OK)
    st = nfsb_parse_ids(defaults, params, out, err);
  return st;
}

berth_status_t berth_backend_nfs_export(const json_t *defaults,
                                        const json_t *params,
                                        berth_backend_nfs_export_t *out,
                                        berth_error_t *err)
{
  berth__nfsb_opts_t opts;
  berth_status_t st;

  memset(&opts, 0, sizeof(opts));
  memset(out, 0, sizeof(*out));
  if (!berth_backend_nfs_names_export(params) &&
      !berth_backend_nfs_names_export(defaults))
    return berth_error_set(err, BERTH_ENOTFOUND, "no export");
  st = nfsb_check_params(defaults, params, err);
  if (st == BERTH_OK)
    st = nfsb_parse_export(berth_backend_nfs_names_export(params) ? params
                                                                  : defaults,
                           params, &opts, err);
  if (st == BERTH_OK) {
    out->url = opts.url;
    out->server = opts.server;
    out->path = opts.export_path;
    opts.url = opts.server = opts.export_path = NULL;
  }
  berth__nfsb_opts_cleanup(&opts);
  return st;
}

void berth_backend_nfs_export_cleanup(berth_backend_nfs_export_t *e)
{
  if (e == NULL)
    return;
  free(e->url);
  free(e->server);
  free(e->path);
  memset(e, 0, sizeof(*e));
}

void berth__nfsb_opts_cleanup(berth__nfsb_opts_t *opts)
{
  if (opts == NULL)
    return;
  free(opts->url);
  free(opts->server);
  free(opts->export_path);
  free(opts->pattern);
  memset(opts, 0, sizeof(*opts));
}

const char *berth__nfsb_on_delete_name(berth__nfsb_on_delete_t v)
{
  switch (v) {
  case BERTH__NFSB_ON_DELETE_DELETE:
    return "delete";
  case BERTH__NFSB_ON_DELETE_RETAIN:
    return "retain";
  case BERTH__NFSB_ON_DELETE_ARCHIVE:
    return "archive";
  }
  return "archive";
}

berth_status_t berth__nfsb_on_delete_parse(const char *s,
                                           berth__nfsb_on_delete_t *out)
{
  berth__nfsb_on_delete_t v;

  for (v = BERTH__NFSB_ON_DELETE_DELETE; v <= BERTH__NFSB_ON_DELETE_ARCHIVE;
       v++) {
    if (s != NULL && strcmp(s, berth__nfsb_on_delete_name(v)) == 0) {
      *out = v;
      return BERTH_OK;
    }
  }
  return BERTH_EINVAL;
}

/* ---- mountOptions ------------------------------------------------------ */

/* The version named by one mount option, nfs(5)'s nfsvers=N or vers=N
 * (N: 3, 4, 4.0, 4.1, 4.2): 3 or 4; 0 for any other option; -1 for a
 * version berth cannot speak. */
static int nfsb_option_version(const char *o)
{
  const char *v = NULL;

  if (strncmp(o, "nfsvers=", 8) == 0)
    v = o + 8;
  else if (strncmp(o, "vers=", 5) == 0)
    v = o + 5;
  if (v == NULL)
    return 0;
  if (strcmp(v, "3") == 0)
    return 3;
  if (strcmp(v, "4") == 0 || strcmp(v, "4.0") == 0 || strcmp(v, "4.1") == 0 ||
      strcmp(v, "4.2") == 0)
    return 4;
  return -1;
}

/* The version in a libnfs URL's version= argument, or 0. */
static int nfsb_url_version(const char *url)
{
  const char *q = strchr(url, '?');

  while (q != NULL) {
    q++;
    if (strncmp(q, "version=", 8) == 0)
      return q[8] == '4' ? 4 : 3;
    q = strchr(q, '&');
  }
  return 0;
}

berth_status_t berth__nfsb_url_mount_version(char **url,
                                             const json_t *mount_options,
                                             berth_error_t *err)
{
  int want = 0;
  int have;
  size_t i;
  json_t *o;
  char *u;

  json_array_foreach(mount_options, i, o)
  {
    const char *s = json_string_value(o);
    int v = s != NULL ? nfsb_option_version(s) : 0;

    if (v < 0)
      return berth_error_set(err, BERTH_EINVAL,
                             "mountOptions: %.64s: berth speaks NFS "
                             "versions 3 and 4 (4.x as 4.0)",
                             s);
    if (v > 0)
      want = v; /* the last one wins, as for mount(8) */
  }
  if (want == 0)
    return BERTH_OK;
  have = nfsb_url_version(*url);
  if (have != 0 && have != want)
    return berth_error_set(err, BERTH_EINVAL,
                           "mountOptions ask for NFSv%d but the class's "
                           "export says NFSv%d (nfsvers or the url's "
                           "version=): make them agree",
                           want, have);
  if (have != 0)
    return BERTH_OK;
  u = berth_strdup_printf("%s%sversion=%d", *url,
                          strchr(*url, '?') != NULL ? "&" : "?", want);
  if (u == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  free(*url);
  *url = u;
  return BERTH_OK;
}
