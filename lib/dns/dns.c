/* SPDX-License-Identifier: Apache-2.0 */
/* DNS look-ups through c-ares, see include/berth/dns.h.
 *
 * Written for c-ares 1.18 (Debian bookworm): ares_getaddrinfo for
 * addresses, ares_query/ares_search with ares_parse_srv_reply for SRV, and
 * ares_getsock + ares_timeout + poll() + ares_process_fd for the event
 * loop. Every ares status is converted to a berth_status_t in exactly one
 * place, dns_status_from_ares. */
#include "berth/dns.h"
#include "dns_int.h"

#include "berth/buf.h"
#include "berth/clock.h"

#include <ares.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#define DNS_DEFAULT_TIMEOUT_MS 1000
#define DNS_DEFAULT_TRIES 2
#define DNS_LABEL_MAX 63

struct berth_dns {
  ares_channel channel;
  int deadline_ms; /* bound on each whole call */
  bool use_search;
};

/* The state of one call, shared with its c-ares callback. It lives on the
 * caller's stack: dns_wait returns only after the callback ran (ares_cancel
 * runs pending callbacks at once), so the callback never sees it dead. */
typedef struct dns_call {
  bool done;
  int status;                 /* ares status from the callback */
  struct ares_addrinfo *ai;   /* ares_getaddrinfo result, owned */
  struct ares_srv_reply *srv; /* ares_parse_srv_reply result, owned */
} dns_call_t;

/* --- c-ares status conversion ------------------------------------------ */

/* Convert an ares status to a berth status, filling err with what was
 * asked (op, name) and the reason. The only place where ares codes are
 * interpreted. */
static berth_status_t dns_status_from_ares(int ares_status, const char *op,
                                           const char *name, berth_error_t *err)
{
  berth_status_t st;
  const char *reason = NULL;

  switch (ares_status) {
  case ARES_SUCCESS:
    st = BERTH_OK;
    goto done;
  case ARES_ENOTFOUND:
    /* The name does not exist (RCODE 3, RFC 1035 section 4.1.1). */
    st = BERTH_ENOTFOUND;
    reason = "NXDOMAIN";
    break;
  case ARES_ENODATA:
    /* The name exists but has no records of the type asked for (RFC 2308
     * section 2.2). */
    st = BERTH_ENOTFOUND;
    reason = "NODATA";
    break;
  case ARES_ETIMEOUT:
    st = BERTH_ETIMEOUT;
    reason = "TIMEOUT";
    break;
  case ARES_ENOMEM:
    st = BERTH_ENOMEM;
    break;
  case ARES_EBADNAME:
  case ARES_EBADSTR:
    st = BERTH_EINVAL;
    break;
  case ARES_ESERVFAIL:
    st = BERTH_EDNS;
    reason = "SERVFAIL";
    break;
  case ARES_EREFUSED:
    st = BERTH_EDNS;
    reason = "REFUSED";
    break;
  case ARES_ECONNREFUSED:
    st = BERTH_EDNS;
    reason = "ECONNREFUSED";
    break;
  case ARES_EFORMERR:
    st = BERTH_EDNS;
    reason = "FORMERR";
    break;
  case ARES_ENOTIMP:
    st = BERTH_EDNS;
    reason = "NOTIMP";
    break;
  default:
    st = BERTH_EDNS;
    break;
  }
  berth_error_set(err, st, "%s %s: %s", op, name != NULL ? name : "",
                  ares_strerror(ares_status));
  berth_error_set_reason(err, reason);

done:
  return st;
}

/* --- library initialisation -------------------------------------------- */

static pthread_once_t dns_lib_once = PTHREAD_ONCE_INIT;
static int dns_lib_status = ARES_SUCCESS;

static void dns_lib_init(void)
{
  /* Never undone with ares_library_cleanup: other handles may live until
   * exit, and on Unix the call allocates nothing. */
  dns_lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* --- create and destroy ------------------------------------------------- */

berth_status_t berth_dns_create(const berth_dns_options_t *opts,
                                berth_dns_t **out, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  berth_dns_options_t o;
  struct ares_options ao;
  int optmask = 0;
  int rc;
  int64_t deadline;
  char lookups[] = "b";
  berth_dns_t *dns = NULL;

  if (out == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "berth_dns_create: out is NULL");
    goto done;
  }
  memset(&o, 0, sizeof(o));
  if (opts != NULL)
    o = *opts;
  if (o.timeout_ms < 0 || o.tries < 0 || o.deadline_ms < 0) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "dns: timeout_ms, tries and deadline_ms must not be "
                         "negative");
    goto done;
  }
  if (o.servers != NULL && o.servers[0] == '\0') {
    st = berth_error_set(err, BERTH_EINVAL,
                         "dns: servers is empty (use NULL for "
                         "/etc/resolv.conf)");
    goto done;
  }
  if (o.timeout_ms == 0)
    o.timeout_ms = DNS_DEFAULT_TIMEOUT_MS;
  if (o.tries == 0)
    o.tries = DNS_DEFAULT_TRIES;
  deadline = o.deadline_ms;
  if (deadline == 0)
    deadline = (int64_t)4 * o.timeout_ms * o.tries;
  if (deadline > INT_MAX)
    deadline = INT_MAX;

  pthread_once(&dns_lib_once, dns_lib_init);
  if (dns_lib_status != ARES_SUCCESS) {
    st = dns_status_from_ares(dns_lib_status, "ares_library_init", NULL, err);
    goto done;
  }

  dns = calloc(1, sizeof(*dns));
  if (dns == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "dns: out of memory");
    goto done;
  }
  dns->deadline_ms = (int)deadline;
  dns->use_search = o.use_search;

  memset(&ao, 0, sizeof(ao));
  ao.timeout = o.timeout_ms;
  ao.tries = o.tries;
  /* "b": DNS only, never /etc/hosts, so that every answer has a real TTL
   * and the test bed's server is the only source. */
  ao.lookups = lookups;
  optmask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
  if (!o.use_search) {
    /* No search domains at all, so ares_getaddrinfo asks the name as
     * given, whatever ndots says. */
    ao.domains = NULL;
    ao.ndomains = 0;
    optmask |= ARES_OPT_DOMAINS;
  }
  rc = ares_init_options(&dns->channel, &ao, optmask);
  if (rc != ARES_SUCCESS) {
    dns->channel = NULL;
    st = dns_status_from_ares(rc, "ares_init_options", NULL, err);
    goto done;
  }
  if (o.servers != NULL) {
    rc = ares_set_servers_ports_csv(dns->channel, o.servers);
    if (rc != ARES_SUCCESS) {
      st = dns_status_from_ares(rc, "dns servers", o.servers, err);
      goto done;
    }
  }

  *out = dns;
  dns = NULL;

done:
  berth_dns_destroy(dns);
  return st;
}

void berth_dns_destroy(berth_dns_t *dns)
{
  if (dns != NULL && dns->channel != NULL)
    ares_destroy(dns->channel);
  free(dns);
}

/* --- the event loop ----------------------------------------------------- */

/* Run c-ares until call->done or dns->deadline_ms pass. At the deadline
 * the pending queries are cancelled (their callbacks run at once with
 * ARES_ECANCELLED) and *timed_out is set. Returns BERTH_OK, or an error
 * when poll() itself fails (after cancelling likewise). Either way the
 * callback has run when it returns. */
static berth_status_t dns_wait(berth_dns_t *dns, dns_call_t *call,
                               bool *timed_out, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  int64_t deadline;

  *timed_out = false;
  deadline = berth_clock_monotonic_ms(NULL) + dns->deadline_ms;
  while (!call->done) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    struct pollfd pfds[ARES_GETSOCK_MAXNUM];
    struct timeval maxtv;
    struct timeval tv;
    struct timeval *tvp;
    nfds_t nfds = 0;
    int64_t left;
    int wait_ms;
    unsigned bits;
    int rc;
    int i;

    left = deadline - berth_clock_monotonic_ms(NULL);
    if (left <= 0) {
      *timed_out = true;
      ares_cancel(dns->channel);
      break;
    }
    bits = (unsigned)ares_getsock(dns->channel, socks, ARES_GETSOCK_MAXNUM);
    for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
      short events = 0;

      /* Not ARES_GETSOCK_WRITABLE: for the last socket it computes
       * 1 << 31 on an int, which is undefined behaviour. */
      if ((bits >> i) & 1u)
        events |= POLLIN;
      if ((bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
        events |= POLLOUT;
      if (events == 0)
        continue;
      pfds[nfds].fd = socks[i];
      pfds[nfds].events = events;
      pfds[nfds].revents = 0;
      nfds++;
    }
    maxtv.tv_sec = (time_t)(left / 1000);
    maxtv.tv_usec = (suseconds_t)((left % 1000) * 1000);
    tvp = ares_timeout(dns->channel, &maxtv, &tv);
    /* Round up, so that c-ares's timer has expired when poll returns. */
    wait_ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);

    rc = poll(pfds, nfds, wait_ms);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      st = berth_error_set(err, BERTH_EDNS, "dns: poll: %s", strerror(errno));
      ares_cancel(dns->channel);
      break;
    }
    if (rc == 0) {
      /* Nothing to read or write: let c-ares handle its timeouts. */
      ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      continue;
    }
    for (i = 0; i < (int)nfds; i++) {
      ares_socket_t rfd = ARES_SOCKET_BAD;
      ares_socket_t wfd = ARES_SOCKET_BAD;

      if (pfds[i].revents & (POLLIN | POLLERR | POLLHUP))
        rfd = pfds[i].fd;
      if (pfds[i].revents & (POLLOUT | POLLERR | POLLHUP))
        wfd = pfds[i].fd;
      if (rfd != ARES_SOCKET_BAD || wfd != ARES_SOCKET_BAD)
        ares_process_fd(dns->channel, rfd, wfd);
    }
  }
  if (!call->done) {
    /* ares_cancel promises to run every pending callback; if it did not,
     * returning would leave c-ares a pointer into our caller's stack. */
    abort();
  }
  return st;
}

/* --- addresses ---------------------------------------------------------- */

static void dns_addrinfo_cb(void *arg, int status, int timeouts,
                            struct ares_addrinfo *ai)
{
  dns_call_t *call = arg;

  (void)timeouts;
  call->done = true;
  call->status = status;
  call->ai = ai;
}

/* Copy the AF_INET/AF_INET6 nodes of ai into a new berth_dns_addrs_t. */
static berth_status_t dns_addrs_from_ai(const struct ares_addrinfo *ai,
                                        const char *name,
                                        berth_dns_addrs_t **out,
                                        berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const struct ares_addrinfo_node *n;
  berth_dns_addrs_t *addrs = NULL;
  size_t count = 0;

  for (n = ai != NULL ? ai->nodes : NULL; n != NULL; n = n->ai_next)
    if (n->ai_family == AF_INET || n->ai_family == AF_INET6)
      count++;
  if (count == 0) {
    st = dns_status_from_ares(ARES_ENODATA, "resolve", name, err);
    goto done;
  }
  addrs = calloc(1, sizeof(*addrs) + count * sizeof(addrs->items[0]));
  if (addrs == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "dns: out of memory");
    goto done;
  }
  for (n = ai->nodes; n != NULL; n = n->ai_next) {
    berth_dns_addr_t *a = &addrs->items[addrs->count];
    const void *src;

    if (n->ai_family == AF_INET)
      src = &((const struct sockaddr_in *)(const void *)n->ai_addr)->sin_addr;
    else if (n->ai_family == AF_INET6)
      src = &((const struct sockaddr_in6 *)(const void *)n->ai_addr)->sin6_addr;
    else
      continue;
    a->family = n->ai_family;
    a->ttl = n->ai_ttl > 0 ? (uint32_t)n->ai_ttl : 0;
    if (inet_ntop(n->ai_family, src, a->addr, sizeof(a->addr)) == NULL) {
      st = berth_error_set(err, BERTH_EINTERNAL, "dns: inet_ntop: %s",
                           strerror(errno));
      goto done;
    }
    addrs->count++;
  }
  *out = addrs;
  addrs = NULL;

done:
  berth_dns_addrs_free(addrs);
  return st;
}

berth_status_t berth_dns_resolve_addrs(berth_dns_t *dns, const char *name,
                                       int family, berth_dns_addrs_t **out,
                                       berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  struct ares_addrinfo_hints hints;
  dns_call_t call;
  bool timed_out = false;

  memset(&call, 0, sizeof(call));
  if (dns == NULL || out == NULL) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "berth_dns_resolve_addrs: dns or out is NULL");
    goto done;
  }
  if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "dns: family %d is not AF_UNSPEC, AF_INET or "
                         "AF_INET6",
                         family);
    goto done;
  }
  if (!berth_dns_name_valid(name)) {
    st = berth_error_set(err, BERTH_EINVAL, "dns: %s%s%s is not a valid name",
                         name != NULL ? "\"" : "", name != NULL ? name : "NULL",
                         name != NULL ? "\"" : "");
    goto done;
  }

  memset(&hints, 0, sizeof(hints));
  hints.ai_family = family;
  /* One node per address rather than one per socket type. */
  hints.ai_socktype = SOCK_STREAM;
  ares_getaddrinfo(dns->channel, name, NULL, &hints, dns_addrinfo_cb, &call);
  st = dns_wait(dns, &call, &timed_out, err);
  if (st != BERTH_OK)
    goto done;
  if (call.status != ARES_SUCCESS) {
    st = dns_status_from_ares(timed_out ? ARES_ETIMEOUT : call.status,
                              "resolve", name, err);
    goto done;
  }
  st = dns_addrs_from_ai(call.ai, name, out, err);

done:
  if (call.ai != NULL)
    ares_freeaddrinfo(call.ai);
  return st;
}

void berth_dns_addrs_free(berth_dns_addrs_t *addrs)
{
  free(addrs);
}

/* --- SRV ---------------------------------------------------------------- */

static void dns_srv_cb(void *arg, int status, int timeouts, unsigned char *abuf,
                       int alen)
{
  dns_call_t *call = arg;

  (void)timeouts;
  call->done = true;
  call->status = status;
  /* abuf lives only during the callback: parse it now. */
  if (status == ARES_SUCCESS)
    call->status = ares_parse_srv_reply(abuf, alen, &call->srv);
}

/* Copy a c-ares SRV list into a new berth_dns_srv_list_t. */
static berth_status_t dns_srv_from_reply(const struct ares_srv_reply *reply,
                                         const char *name,
                                         berth_dns_srv_list_t **out,
                                         berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const struct ares_srv_reply *r;
  berth_dns_srv_list_t *list = NULL;
  size_t count = 0;

  for (r = reply; r != NULL; r = r->next)
    count++;
  if (count == 0) {
    st = dns_status_from_ares(ARES_ENODATA, "resolve SRV", name, err);
    goto done;
  }
  list = calloc(1, sizeof(*list) + count * sizeof(list->items[0]));
  if (list == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "dns: out of memory");
    goto done;
  }
  for (r = reply; r != NULL; r = r->next) {
    berth_dns_srv_t *s = &list->items[list->count];

    if (r->host == NULL ||
        berth_strlcpy(s->target, r->host, sizeof(s->target)) >=
            sizeof(s->target)) {
      st = berth_error_set(err, BERTH_EDNS,
                           "resolve SRV %s: a target name is too long", name);
      goto done;
    }
    berth_dns_name_normalize(s->target);
    s->port = r->port;
    s->priority = r->priority;
    s->weight = r->weight;
    s->ttl = 0;
    list->count++;
  }
  *out = list;
  list = NULL;

done:
  berth_dns_srv_list_free(list);
  return st;
}

berth_status_t berth__dns_srv_parse(const unsigned char *abuf, int alen,
                                    const char *name,
                                    berth_dns_srv_list_t **out,
                                    berth_error_t *err)
{
  struct ares_srv_reply *srv = NULL;
  int status = ares_parse_srv_reply(abuf, alen, &srv);
  berth_status_t st;

  if (status != ARES_SUCCESS)
    st = dns_status_from_ares(status, "resolve SRV", name, err);
  else
    st = dns_srv_from_reply(srv, name, out, err);
  if (srv != NULL)
    ares_free_data(srv);
  return st;
}

berth_status_t berth_dns_resolve_srv(berth_dns_t *dns, const char *name,
                                     berth_dns_srv_list_t **out,
                                     berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  dns_call_t call;
  bool timed_out = false;

  memset(&call, 0, sizeof(call));
  if (dns == NULL || out == NULL) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "berth_dns_resolve_srv: dns or out is NULL");
    goto done;
  }
  if (!berth_dns_name_valid(name)) {
    st = berth_error_set(err, BERTH_EINVAL, "dns: %s%s%s is not a valid name",
                         name != NULL ? "\"" : "", name != NULL ? name : "NULL",
                         name != NULL ? "\"" : "");
    goto done;
  }

  /* ns_c_in = 1, ns_t_srv = 33 (RFC 2782). */
  if (dns->use_search)
    ares_search(dns->channel, name, 1, 33, dns_srv_cb, &call);
  else
    ares_query(dns->channel, name, 1, 33, dns_srv_cb, &call);
  st = dns_wait(dns, &call, &timed_out, err);
  if (st != BERTH_OK)
    goto done;
  if (call.status != ARES_SUCCESS) {
    st = dns_status_from_ares(timed_out ? ARES_ETIMEOUT : call.status,
                              "resolve SRV", name, err);
    goto done;
  }
  st = dns_srv_from_reply(call.srv, name, out, err);

done:
  if (call.srv != NULL)
    ares_free_data(call.srv);
  return st;
}

void berth_dns_srv_list_free(berth_dns_srv_list_t *list)
{
  free(list);
}

/* --- names -------------------------------------------------------------- */

/* Length of name without one trailing dot. */
static size_t dns_name_len(const char *name)
{
  size_t n = strlen(name);

  if (n > 0 && name[n - 1] == '.')
    n--;
  return n;
}

static char dns_ascii_lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool berth_dns_name_eq(const char *a, const char *b)
{
  bool eq = false;
  size_t na;
  size_t nb;
  size_t i;

  if (a == NULL || b == NULL) {
    eq = a == b;
    goto done;
  }
  na = dns_name_len(a);
  nb = dns_name_len(b);
  if (na != nb)
    goto done;
  /* ASCII only: RFC 4343 section 3 says other octets compare exactly. */
  for (i = 0; i < na; i++)
    if (dns_ascii_lower(a[i]) != dns_ascii_lower(b[i]))
      goto done;
  eq = true;

done:
  return eq;
}

char *berth_dns_name_normalize(char *name)
{
  size_t n;
  size_t i;

  if (name == NULL)
    goto done;
  n = dns_name_len(name);
  name[n] = '\0';
  for (i = 0; i < n; i++)
    name[i] = dns_ascii_lower(name[i]);

done:
  return name;
}

bool berth_dns_name_valid(const char *name)
{
  bool ok = false;
  size_t n;
  size_t i;
  size_t label = 0;

  if (name == NULL)
    goto done;
  n = dns_name_len(name);
  if (n == 0 || n > BERTH_DNS_NAME_MAX)
    goto done;
  for (i = 0; i < n; i++) {
    char c = name[i];

    if (c == '.') {
      /* An empty label: a leading dot or two dots in a row. */
      if (label == 0)
        goto done;
      label = 0;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '_'))
      goto done;
    if (++label > DNS_LABEL_MAX)
      goto done;
  }
  ok = label > 0;

done:
  return ok;
}
