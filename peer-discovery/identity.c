/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: this member's identity, see identity.h. */
#include "identity.h"

#include "names.h"

#include "berth/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Read a small text file (at most 64 KiB) into a new string. */
static char *read_small_file(const char *path)
{
  berth_buf_t buf;
  char chunk[4096];
  FILE *f = fopen(path, "r");
  size_t n;

  if (f == NULL)
    return NULL;
  berth_buf_init(&buf);
  berth_buf_set_limit(&buf, 65536);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    if (berth_buf_append(&buf, chunk, n) != BERTH_OK)
      break;
  fclose(f);
  return berth_buf_detach(&buf);
}

/* The zone in one search entry "svc.<zone>" or "<label>.svc.<zone>". */
static const char *zone_in_entry(const char *entry)
{
  const char *p = entry;
  const char *dot = strchr(entry, '.');

  /* Skip one leading label (the namespace) unless it is "svc" itself. */
  if (dot != NULL && !(dot - entry == 3 && strncasecmp(entry, "svc", 3) == 0))
    p = dot + 1;
  if (strncasecmp(p, "svc.", 4) != 0 || p[4] == '\0')
    return NULL;
  return p + 4;
}

berth_status_t peers_zone_from_resolv_conf(const char *text, char **out)
{
  berth_status_t st = BERTH_ENOTFOUND;
  char *copy = strdup(text);
  char *save = NULL;
  char *line;
  char *search = NULL;
  char *tok;
  const char *zone;

  if (copy == NULL)
    return BERTH_ENOMEM;
  /* resolv.conf(5): the last "search" line wins. */
  for (line = strtok_r(copy, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    line += strspn(line, " \t");
    if (strncmp(line, "search", 6) == 0 && (line[6] == ' ' || line[6] == '\t'))
      search = line + 6;
  }
  for (tok = search ? strtok_r(search, " \t\r", &save) : NULL; tok != NULL;
       tok = strtok_r(NULL, " \t\r", &save)) {
    zone = zone_in_entry(tok);
    if (zone != NULL && peers_name_normalize(zone, out, NULL) == BERTH_OK) {
      st = BERTH_OK;
      break;
    }
  }
  free(copy);
  return st;
}

static berth_status_t pick_host(const peers_identity_opts_t *opts,
                                peers_identity_t *id, berth_error_t *err)
{
  char sys[256] = "";
  const char *host = opts->hostname;
  char *first;
  berth_status_t st;

  id->host_source = "flag";
  if (host == NULL || *host == '\0') {
    host = opts->env_hostname;
    id->host_source = "env";
  }
  if ((host == NULL || *host == '\0') && !opts->no_gethostname &&
      gethostname(sys, sizeof(sys) - 1) == 0) {
    host = sys;
    id->host_source = "gethostname";
  }
  if (host == NULL || *host == '\0')
    return berth_error_set(err, BERTH_EINVAL,
                           "no host name: set --hostname or HOSTNAME");
  /* A fully qualified host name counts by its first label. */
  first = strndup(host, peers_name_host_len(host));
  if (first == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = peers_name_normalize(first, &id->host, err);
  if (st != BERTH_OK)
    berth_error_prefix(err, "host name");
  free(first);
  return st;
}

static berth_status_t pick_namespace(const peers_identity_opts_t *opts,
                                     peers_identity_t *id, berth_error_t *err)
{
  const char *ns = opts->ns;
  char *file = NULL;
  berth_status_t st;

  id->ns_source = "flag";
  if (ns == NULL || *ns == '\0') {
    ns = opts->env_namespace;
    id->ns_source = "env";
  }
  if (ns == NULL || *ns == '\0') {
    file = read_small_file(opts->ns_file ? opts->ns_file : PEERS_NS_FILE);
    ns = file != NULL ? berth_str_trim(file) : NULL;
    id->ns_source = "file";
  }
  if (ns == NULL || *ns == '\0') {
    st = berth_error_set(err, BERTH_EINVAL,
                         "no namespace: set -ns or POD_NAMESPACE");
    goto done;
  }
  st = peers_name_normalize(ns, &id->ns, err);
  if (st == BERTH_OK && strchr(id->ns, '.') != NULL)
    st = berth_error_set(err, BERTH_EINVAL, "a namespace is a single label");
  if (st != BERTH_OK)
    berth_error_prefix(err, "namespace");
done:
  free(file);
  return st;
}

static berth_status_t pick_domain(const peers_identity_opts_t *opts,
                                  peers_identity_t *id, berth_error_t *err)
{
  char *text;
  berth_status_t st;

  if (opts->domain != NULL && *opts->domain != '\0') {
    id->domain_source = "flag";
    st = peers_name_normalize(opts->domain, &id->domain, err);
    if (st != BERTH_OK)
      berth_error_prefix(err, "domain");
    return st;
  }
  text = read_small_file(opts->resolv_conf ? opts->resolv_conf
                                           : PEERS_RESOLV_CONF);
  st = text != NULL ? peers_zone_from_resolv_conf(text, &id->domain)
                    : BERTH_ENOTFOUND;
  free(text);
  id->domain_source = "resolv.conf";
  if (st == BERTH_ENOTFOUND) {
    id->domain_source = "default";
    id->domain = strdup(PEERS_DEFAULT_DOMAIN);
    st = id->domain != NULL ? BERTH_OK : BERTH_ENOMEM;
  }
  return st == BERTH_OK ? st : berth_error_set(err, st, "out of memory");
}

static berth_status_t pick_service(const peers_identity_opts_t *opts,
                                   peers_identity_t *id, berth_error_t *err)
{
  berth_status_t st;

  if (opts->service == NULL || *opts->service == '\0')
    return berth_error_set(err, BERTH_EINVAL,
                           "no service: set -service to the StatefulSet's "
                           "governing headless Service");
  st = peers_name_normalize(opts->service, &id->service, err);
  if (st == BERTH_OK && strchr(id->service, '.') != NULL)
    st = berth_error_set(err, BERTH_EINVAL, "a service is a single label");
  if (st != BERTH_OK)
    berth_error_prefix(err, "service");
  return st;
}

/* Fill base, ordinal, service_fqdn and fqdn from the other parts. */
static berth_status_t derive(peers_identity_t *id, berth_error_t *err)
{
  size_t base_len = strlen(id->host);

  id->ordinal = peers_name_ordinal(id->host);
  if (id->ordinal >= 0)
    base_len = (size_t)(strrchr(id->host, '-') - id->host);
  id->base = strndup(id->host, base_len);
  id->service_fqdn =
      berth_strdup_printf("%s.%s.svc.%s", id->service, id->ns, id->domain);
  id->fqdn = berth_strdup_printf("%s.%s", id->host, id->service_fqdn);
  if (id->base == NULL || id->service_fqdn == NULL || id->fqdn == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if (strlen(id->fqdn) > PEERS_NAME_MAX)
    return berth_error_set(err, BERTH_EINVAL,
                           "own name %s is longer than %d characters", id->fqdn,
                           PEERS_NAME_MAX);
  return BERTH_OK;
}

berth_status_t peers_identity_resolve(const peers_identity_opts_t *opts,
                                      peers_identity_t *out, berth_error_t *err)
{
  peers_identity_t id;
  berth_status_t st;

  memset(&id, 0, sizeof(id));
  st = pick_service(opts, &id, err);
  if (st == BERTH_OK)
    st = pick_host(opts, &id, err);
  if (st == BERTH_OK)
    st = pick_namespace(opts, &id, err);
  if (st == BERTH_OK)
    st = pick_domain(opts, &id, err);
  if (st == BERTH_OK)
    st = derive(&id, err);
  if (st == BERTH_OK)
    *out = id;
  else
    peers_identity_cleanup(&id);
  return st;
}

void peers_identity_cleanup(peers_identity_t *id)
{
  if (id == NULL)
    return;
  free(id->host);
  free(id->base);
  free(id->service);
  free(id->ns);
  free(id->domain);
  free(id->service_fqdn);
  free(id->fqdn);
  memset(id, 0, sizeof(*id));
}
