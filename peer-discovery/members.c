/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: membership sets, see members.h. */
#include "members.h"

#include "names.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

void peers_set_init(peers_set_t *set)
{
  set->items = NULL;
  set->count = 0;
  set->cap = 0;
}

static void member_cleanup(peers_member_t *m)
{
  size_t i;

  for (i = 0; i < m->naddrs; i++)
    free(m->addrs[i]);
  free(m->addrs);
  free(m->name);
  free(m->host);
  memset(m, 0, sizeof(*m));
}

void peers_set_cleanup(peers_set_t *set)
{
  size_t i;

  if (set == NULL)
    return;
  for (i = 0; i < set->count; i++)
    member_cleanup(&set->items[i]);
  free(set->items);
  peers_set_init(set);
}

/* Compare a normalised name with one that may differ in case or carry a
 * trailing dot. */
static bool name_matches(const char *norm, const char *name)
{
  size_t n = strlen(norm);
  size_t m = strlen(name);

  if (m > 0 && name[m - 1] == '.')
    m--;
  return n == m && strncasecmp(norm, name, n) == 0;
}

const peers_member_t *peers_set_find(const peers_set_t *set, const char *name)
{
  size_t i;

  for (i = 0; i < set->count; i++)
    if (name_matches(set->items[i].name, name))
      return &set->items[i];
  return NULL;
}

static berth_status_t set_grow(peers_set_t *set)
{
  peers_member_t *items;
  size_t cap;

  if (set->count < set->cap)
    return BERTH_OK;
  cap = set->cap ? set->cap * 2 : 8;
  items = realloc(set->items, cap * sizeof(*items));
  if (items == NULL)
    return BERTH_ENOMEM;
  set->items = items;
  set->cap = cap;
  return BERTH_OK;
}

berth_status_t peers_set_add(peers_set_t *set, const char *name, unsigned port,
                             peers_member_t **out, berth_error_t *err)
{
  berth_status_t st;
  peers_member_t m;
  const peers_member_t *found;

  memset(&m, 0, sizeof(m));
  found = peers_set_find(set, name);
  if (found != NULL) {
    if (out != NULL)
      *out = (peers_member_t *)found;
    return BERTH_OK;
  }
  st = peers_name_normalize(name, &m.name, err);
  if (st != BERTH_OK)
    goto done;
  m.host = strndup(m.name, peers_name_host_len(m.name));
  st = m.host != NULL ? set_grow(set) : BERTH_ENOMEM;
  if (st != BERTH_OK) {
    berth_error_set(err, st, "out of memory");
    goto done;
  }
  m.ordinal = peers_name_ordinal(m.name);
  m.port = port;
  set->items[set->count] = m;
  if (out != NULL)
    *out = &set->items[set->count];
  set->count++;
  memset(&m, 0, sizeof(m));
done:
  member_cleanup(&m);
  return st;
}

/* An address in binary form, for ordering: family first, then bytes. */
typedef struct bin_addr {
  int family;
  unsigned char bytes[16];
} bin_addr_t;

static bool addr_parse(const char *text, bin_addr_t *out)
{
  memset(out, 0, sizeof(*out));
  if (inet_pton(AF_INET, text, out->bytes) == 1) {
    out->family = 4;
    return true;
  }
  if (inet_pton(AF_INET6, text, out->bytes) == 1) {
    out->family = 6;
    return true;
  }
  return false;
}

static int addr_cmp(const bin_addr_t *a, const bin_addr_t *b)
{
  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

berth_status_t peers_member_add_addr(peers_member_t *m, const char *addr)
{
  char text[INET6_ADDRSTRLEN];
  bin_addr_t bin;
  bin_addr_t other;
  char **addrs;
  size_t pos;
  int c = 1;

  if (addr == NULL || !addr_parse(addr, &bin))
    return BERTH_EINVAL;
  inet_ntop(bin.family == 4 ? AF_INET : AF_INET6, bin.bytes, text,
            sizeof(text));
  for (pos = 0; pos < m->naddrs; pos++) {
    addr_parse(m->addrs[pos], &other);
    c = addr_cmp(&bin, &other);
    if (c <= 0)
      break;
  }
  if (c == 0)
    return BERTH_OK;
  addrs = realloc(m->addrs, (m->naddrs + 1) * sizeof(*addrs));
  if (addrs == NULL)
    return BERTH_ENOMEM;
  m->addrs = addrs;
  memmove(&addrs[pos + 1], &addrs[pos], (m->naddrs - pos) * sizeof(*addrs));
  addrs[pos] = strdup(text);
  if (addrs[pos] == NULL) {
    memmove(&addrs[pos], &addrs[pos + 1], (m->naddrs - pos) * sizeof(*addrs));
    return BERTH_ENOMEM;
  }
  m->naddrs++;
  return BERTH_OK;
}

/* Numbered members first, by ordinal; then the rest; ties by name. */
static int member_cmp(const void *pa, const void *pb)
{
  const peers_member_t *a = pa;
  const peers_member_t *b = pb;

  if ((a->ordinal < 0) != (b->ordinal < 0))
    return a->ordinal < 0 ? 1 : -1;
  if (a->ordinal != b->ordinal)
    return a->ordinal < b->ordinal ? -1 : 1;
  return strcmp(a->name, b->name);
}

void peers_set_sort(peers_set_t *set)
{
  if (set->count > 1)
    qsort(set->items, set->count, sizeof(set->items[0]), member_cmp);
}

bool peers_member_ready(const peers_member_t *m)
{
  if ((m->conds & PEERS_COND_KNOWN) == 0)
    return true;
  return (m->conds & PEERS_COND_READY) != 0 &&
         (m->conds & PEERS_COND_TERMINATING) == 0;
}

static bool addrs_equal(const peers_member_t *a, const peers_member_t *b)
{
  size_t i;

  if (a->naddrs != b->naddrs)
    return false;
  for (i = 0; i < a->naddrs; i++)
    if (strcmp(a->addrs[i], b->addrs[i]) != 0)
      return false;
  return true;
}

bool peers_set_equal(const peers_set_t *a, const peers_set_t *b,
                     bool with_addrs)
{
  const peers_member_t *m;
  size_t i;

  if (a->count != b->count)
    return false;
  for (i = 0; i < a->count; i++) {
    m = peers_set_find(b, a->items[i].name);
    if (m == NULL || m->conds != a->items[i].conds ||
        (with_addrs && !addrs_equal(&a->items[i], m)))
      return false;
  }
  return true;
}

berth_status_t peers_set_copy(peers_set_t *dst, const peers_set_t *src)
{
  berth_status_t st = BERTH_OK;
  peers_member_t *m;
  size_t i;
  size_t j;

  peers_set_cleanup(dst);
  for (i = 0; i < src->count && st == BERTH_OK; i++) {
    st = peers_set_add(dst, src->items[i].name, src->items[i].port, &m, NULL);
    if (st == BERTH_OK)
      m->conds = src->items[i].conds;
    for (j = 0; st == BERTH_OK && j < src->items[i].naddrs; j++)
      st = peers_member_add_addr(m, src->items[i].addrs[j]);
  }
  if (st != BERTH_OK)
    peers_set_cleanup(dst);
  return st;
}

void peers_set_move(peers_set_t *dst, peers_set_t *src)
{
  peers_set_cleanup(dst);
  *dst = *src;
  peers_set_init(src);
}

/* Append to out the names of a that are not in b, comma-separated. */
static berth_status_t append_missing(const peers_set_t *a, const peers_set_t *b,
                                     berth_buf_t *out)
{
  berth_status_t st = BERTH_OK;
  size_t i;

  for (i = 0; i < a->count && st == BERTH_OK; i++) {
    if (peers_set_find(b, a->items[i].name) != NULL)
      continue;
    if (out->len > 0)
      st = berth_buf_append_byte(out, ',');
    if (st == BERTH_OK)
      st = berth_buf_append_str(out, a->items[i].name);
  }
  return st;
}

berth_status_t peers_set_diff(const peers_set_t *before, const peers_set_t *now,
                              berth_buf_t *added, berth_buf_t *removed)
{
  berth_status_t st = append_missing(now, before, added);

  if (st == BERTH_OK)
    st = append_missing(before, now, removed);
  return st;
}

berth_status_t peers_set_join(const peers_set_t *set, const char *sep,
                              berth_buf_t *out)
{
  berth_status_t st = BERTH_OK;
  size_t i;

  for (i = 0; i < set->count && st == BERTH_OK; i++) {
    if (i > 0)
      st = berth_buf_append_str(out, sep);
    if (st == BERTH_OK)
      st = berth_buf_append_str(out, set->items[i].name);
  }
  return st;
}

const peers_member_t *peers_set_primary(const peers_set_t *set)
{
  const peers_member_t *best = NULL;
  size_t i;

  /* Do not rely on the set being sorted. */
  for (i = 0; i < set->count; i++)
    if (best == NULL || member_cmp(&set->items[i], best) < 0)
      best = &set->items[i];
  return best;
}

bool peers_set_has_lower(const peers_set_t *set, const char *base, long ordinal,
                         const char *domain, long *missing)
{
  char name[PEERS_NAME_MAX + 32];
  long i;

  for (i = 0; i < ordinal; i++) {
    snprintf(name, sizeof(name), "%s-%ld.%s", base, i, domain);
    if (peers_set_find(set, name) == NULL) {
      if (missing != NULL)
        *missing = i;
      return false;
    }
  }
  return true;
}
