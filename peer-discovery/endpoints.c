/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: members from EndpointSlices, see endpoints.h. */
#include "endpoints.h"

#include <stdio.h>
#include <string.h>

#include "berth/json.h"

#define SERVICE_LABEL "kubernetes.io/service-name"

void peers_endpoints_result_init(peers_endpoints_result_t *r)
{
  peers_set_init(&r->members);
  peers_set_init(&r->ready);
  r->skipped = 0;
}

void peers_endpoints_result_cleanup(peers_endpoints_result_t *r)
{
  if (r == NULL)
    return;
  peers_set_cleanup(&r->members);
  peers_set_cleanup(&r->ready);
  r->skipped = 0;
}

/* The endpoint's conditions as PEERS_COND_* flags into *conds. */
static berth_status_t endpoint_conds(const json_t *ep, unsigned *conds,
                                     berth_error_t *err)
{
  bool ready, serving, terminating;
  berth_status_t st;

  st = berth_json_opt_bool(ep, "conditions.ready", true, &ready, err);
  if (st == BERTH_OK)
    st = berth_json_opt_bool(ep, "conditions.serving", true, &serving, err);
  if (st == BERTH_OK)
    st = berth_json_opt_bool(ep, "conditions.terminating", false, &terminating,
                             err);
  if (st == BERTH_OK)
    *conds = PEERS_COND_KNOWN | (ready ? PEERS_COND_READY : 0) |
             (serving ? PEERS_COND_SERVING : 0) |
             (terminating ? PEERS_COND_TERMINATING : 0);
  return st;
}

/* Add the member of one endpoint (and its addresses) to set. */
static berth_status_t add_member(peers_set_t *set, const char *name,
                                 unsigned port, unsigned conds,
                                 const json_t *addrs, berth_error_t *err)
{
  peers_member_t *m = NULL;
  berth_status_t st;
  size_t i;
  json_t *a;

  st = peers_set_add(set, name, port, &m, err);
  if (st != BERTH_OK)
    return st;
  /* Dual stack: the same pod in two slices; the last slice read wins. */
  m->conds = conds;
  json_array_foreach(addrs, i, a)
  {
    if (!json_is_string(a) ||
        peers_member_add_addr(m, json_string_value(a)) != BERTH_OK)
      return berth_error_set(err, BERTH_EPARSE, "endpoint %s: bad address",
                             name);
  }
  return BERTH_OK;
}

/* One endpoint of a slice. */
static berth_status_t add_endpoint(const json_t *ep, const char *service,
                                   const char *domain, unsigned port,
                                   bool ready_only, peers_endpoints_result_t *r,
                                   berth_error_t *err)
{
  const char *host = NULL;
  json_t *addrs = NULL;
  char name[512];
  unsigned conds = 0;
  bool ready;
  berth_status_t st;

  st = berth_json_opt_string(ep, "hostname", NULL, &host, err);
  if (st == BERTH_OK)
    st = berth_json_opt_array(ep, "addresses", &addrs, err);
  if (st == BERTH_OK)
    st = endpoint_conds(ep, &conds, err);
  if (st != BERTH_OK)
    return st;
  ready = (conds & PEERS_COND_READY) && !(conds & PEERS_COND_TERMINATING);
  if (host == NULL || strchr(host, '.') != NULL ||
      (size_t)snprintf(name, sizeof(name), "%s.%s.%s", host, service, domain) >=
          sizeof(name)) {
    /* No hostname: not a member of the StatefulSet this Service governs. */
    r->skipped++;
    return BERTH_OK;
  }
  if (ready_only && !ready)
    return BERTH_OK;
  st = add_member(&r->members, name, port, conds, addrs, err);
  if (st == BERTH_EINVAL) {
    /* A label that cannot be a DNS name is dropped, as the DNS source
     * drops such names. */
    r->skipped++;
    return BERTH_OK;
  }
  if (st == BERTH_OK && ready)
    st = add_member(&r->ready, name, port, conds, addrs, err);
  return st;
}

/* One slice: its endpoints, when it is the Service's and names pods. */
static berth_status_t add_slice(const json_t *slice, const char *service,
                                const char *domain, bool ready_only,
                                peers_endpoints_result_t *r, berth_error_t *err)
{
  const char *label = NULL, *type = NULL;
  json_t *eps = NULL, *ports = NULL, *ep;
  long long port = 0;
  berth_status_t st;
  size_t i;

  st = berth_json_opt_string(slice, "metadata.labels[\"" SERVICE_LABEL "\"]",
                             NULL, &label, err);
  if (st == BERTH_OK)
    st = berth_json_opt_string(slice, "addressType", NULL, &type, err);
  if (st == BERTH_OK)
    st = berth_json_opt_array(slice, "endpoints", &eps, err);
  /* A headless Service may have no ports; the first is the SRV port. */
  if (st == BERTH_OK)
    st = berth_json_opt_array(slice, "ports", &ports, err);
  if (st == BERTH_OK && json_array_size(ports) > 0)
    st = berth_json_opt_int(slice, "ports[0].port", 0, &port, err);
  if (st != BERTH_OK)
    return st;
  if (label == NULL || strcmp(label, service) != 0 || type == NULL ||
      (strcmp(type, "IPv4") != 0 && strcmp(type, "IPv6") != 0))
    return BERTH_OK;
  if (port < 0 || port > 65535)
    return berth_error_set(err, BERTH_EPARSE, "ports[0].port: out of range");
  json_array_foreach(eps, i, ep)
  {
    st = add_endpoint(ep, service, domain, (unsigned)port, ready_only, r, err);
    if (st != BERTH_OK)
      return st;
  }
  return BERTH_OK;
}

berth_status_t peers_endpoints_members(const json_t *slices,
                                       const char *service, const char *domain,
                                       bool ready_only,
                                       peers_endpoints_result_t *r,
                                       berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const char *name = NULL;
  char prefix[300];
  json_t *slice;
  size_t i;

  if (!json_is_array(slices))
    return berth_error_set(err, BERTH_EINVAL, "slices: expected an array");
  json_array_foreach(slices, i, slice)
  {
    st = add_slice(slice, service, domain, ready_only, r, err);
    if (st != BERTH_OK) {
      if (berth_json_opt_string(slice, "metadata.name", "?", &name, NULL) !=
          BERTH_OK)
        name = "?";
      snprintf(prefix, sizeof(prefix), "EndpointSlice %s", name);
      berth_error_prefix(err, prefix);
      goto done;
    }
  }
  peers_set_sort(&r->members);
  peers_set_sort(&r->ready);
done:
  if (st != BERTH_OK)
    peers_endpoints_result_cleanup(r);
  return st;
}
