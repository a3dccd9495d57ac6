/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: a hook's environment, see event.h. */
#include "event.h"

#include "hooks.h"

#include "berth/buf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_keys[] = {
    "BERTH_EVENT",     "BERTH_SELF",        "BERTH_ORDINAL",
    "BERTH_PEERS",     "BERTH_PEER_COUNT",  "BERTH_PRIMARY",
    "BERTH_ADDED",     "BERTH_REMOVED",     "BERTH_SERVICE",
    "BERTH_NAMESPACE", "BERTH_DOMAIN",      "BERTH_READY_PEERS",
    "HOST_ADDRESS",    "HOST_ADDRESS_TYPE", "POD_IP",
    "POD_IP_TYPE",
};

#define EVENT_KEYS (sizeof(event_keys) / sizeof(event_keys[0]))

static bool is_event_key(const char *entry)
{
  size_t i;
  size_t n;

  for (i = 0; i < EVENT_KEYS; i++) {
    n = strlen(event_keys[i]);
    if (strncmp(entry, event_keys[i], n) == 0 && entry[n] == '=')
      return true;
  }
  return false;
}

/* "IPv4" or "IPv6" for a text address, "" for anything else. */
static const char *ip_type(const char *a)
{
  unsigned char buf[16];

  if (a == NULL)
    return "";
  if (inet_pton(AF_INET, a, buf) == 1)
    return "IPv4";
  if (inet_pton(AF_INET6, a, buf) == 1)
    return "IPv6";
  return "";
}

/* This member's first address of family ("IPv4", "IPv6", or NULL for
 * any), or NULL. Borrowed. */
static const char *self_addr(const peers_event_t *ev, const char *family)
{
  const peers_member_t *m = peers_set_find(ev->peers, ev->self->fqdn);
  size_t i;

  for (i = 0; m != NULL && i < m->naddrs; i++) {
    if (family == NULL || strcmp(ip_type(m->addrs[i]), family) == 0)
      return m->addrs[i];
  }
  return NULL;
}

/* kmodules/peer-finder's HOST_ADDRESS, HOST_ADDRESS_TYPE, POD_IP and
 * POD_IP_TYPE into vals[0..3]. */
static void host_values(const peers_event_t *ev, char **vals)
{
  const char *type = ev->address_type != NULL ? ev->address_type : "DNS";
  const char *host;
  const char *pod;

  if (strcmp(type, "DNS") == 0) {
    host = ev->self->fqdn;
    pod = ip_type(ev->pod_ip)[0] != '\0' ? ev->pod_ip : self_addr(ev, NULL);
  } else {
    host = self_addr(ev, strcmp(type, "IP") == 0 ? NULL : type);
    pod = host;
  }
  vals[0] = berth_strdup_printf("HOST_ADDRESS=%s", host != NULL ? host : "");
  vals[1] = berth_strdup_printf(
      "HOST_ADDRESS_TYPE=%s", strcmp(type, "DNS") == 0 ? "DNS" : ip_type(host));
  vals[2] = berth_strdup_printf("POD_IP=%s", pod != NULL ? pod : "");
  vals[3] = berth_strdup_printf("POD_IP_TYPE=%s", ip_type(pod));
}

/* The ready members' names, comma-separated, into out. */
static berth_status_t join_ready(const peers_set_t *set, berth_buf_t *out)
{
  berth_status_t st = BERTH_OK;
  size_t i;

  for (i = 0; i < set->count && st == BERTH_OK; i++) {
    if (!peers_member_ready(&set->items[i]))
      continue;
    if (out->len > 0)
      st = berth_buf_append_byte(out, ',');
    if (st == BERTH_OK)
      st = berth_buf_append_str(out, set->items[i].name);
  }
  return st;
}

/* The values, in the order of event_keys, as "KEY=value" strings. */
static berth_status_t event_values(const peers_event_t *ev, char **vals)
{
  const peers_member_t *primary = peers_set_primary(ev->peers);
  berth_buf_t peers;
  berth_buf_t added;
  berth_buf_t removed;
  berth_buf_t ready;
  char ordinal[24] = "";
  berth_status_t st;
  size_t i;

  berth_buf_init(&peers);
  berth_buf_init(&added);
  berth_buf_init(&removed);
  berth_buf_init(&ready);
  if (ev->self->ordinal >= 0)
    snprintf(ordinal, sizeof(ordinal), "%ld", ev->self->ordinal);
  st = peers_set_join(ev->peers, ",", &peers);
  if (st == BERTH_OK)
    st = peers_set_diff(ev->before, ev->peers, &added, &removed);
  if (st == BERTH_OK)
    st = join_ready(ev->peers, &ready);
  if (st == BERTH_OK) {
    vals[0] = berth_strdup_printf("BERTH_EVENT=%s", ev->kind);
    vals[1] = berth_strdup_printf("BERTH_SELF=%s", ev->self->fqdn);
    vals[2] = berth_strdup_printf("BERTH_ORDINAL=%s", ordinal);
    vals[3] = berth_strdup_printf("BERTH_PEERS=%s", berth_buf_str(&peers));
    vals[4] = berth_strdup_printf("BERTH_PEER_COUNT=%zu", ev->peers->count);
    vals[5] =
        berth_strdup_printf("BERTH_PRIMARY=%s", primary ? primary->name : "");
    vals[6] = berth_strdup_printf("BERTH_ADDED=%s", berth_buf_str(&added));
    vals[7] = berth_strdup_printf("BERTH_REMOVED=%s", berth_buf_str(&removed));
    vals[8] = berth_strdup_printf("BERTH_SERVICE=%s", ev->self->service);
    vals[9] = berth_strdup_printf("BERTH_NAMESPACE=%s", ev->self->ns);
    vals[10] = berth_strdup_printf("BERTH_DOMAIN=%s", ev->self->domain);
    vals[11] =
        berth_strdup_printf("BERTH_READY_PEERS=%s", berth_buf_str(&ready));
    host_values(ev, vals + 12);
    for (i = 0; i < EVENT_KEYS; i++)
      if (vals[i] == NULL)
        st = BERTH_ENOMEM;
  }
  berth_buf_cleanup(&peers);
  berth_buf_cleanup(&added);
  berth_buf_cleanup(&removed);
  berth_buf_cleanup(&ready);
  return st;
}

berth_status_t peers_event_env(const peers_event_t *ev, char *const *base,
                               char ***out)
{
  char *vals[EVENT_KEYS] = {NULL};
  char **env;
  size_t nbase = 0;
  size_t n = 0;
  size_t i;
  berth_status_t st;

  while (base != NULL && base[nbase] != NULL)
    nbase++;
  env = calloc(nbase + EVENT_KEYS + 1, sizeof(*env));
  st = env != NULL ? event_values(ev, vals) : BERTH_ENOMEM;
  for (i = 0; i < nbase && st == BERTH_OK; i++) {
    if (is_event_key(base[i]))
      continue;
    env[n] = strdup(base[i]);
    st = env[n++] != NULL ? BERTH_OK : BERTH_ENOMEM;
  }
  for (i = 0; i < EVENT_KEYS && st == BERTH_OK; i++) {
    env[n++] = vals[i];
    vals[i] = NULL;
  }
  for (i = 0; i < EVENT_KEYS; i++)
    free(vals[i]);
  if (st == BERTH_OK)
    *out = env;
  else
    peers_argv_free(env);
  return st;
}
