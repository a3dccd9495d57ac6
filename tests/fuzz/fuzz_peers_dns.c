/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: DNS SRV answers to peer sets: a raw answer as c-ares hands
 * it over (lib/dns/dns.c) turned into berth-peers' membership
 * (peer-discovery/resolve.c, members.c) for the service
 * web.default.svc.cluster.local. Invariants: every member is
 * "<label>.<service>", lower case, without a trailing dot, once; its
 * ordinal is the host's trailing number; after sorting, numbered members
 * come first in numeric order (web-2 before web-10). */
#include <string.h>

#include "dns_int.h"
#include "fuzz.h"
#include "members.h"
#include "names.h"
#include "resolve.h"

#define SERVICE "web.default.svc.cluster.local"

static void on_reject(void *ctx, const char *name, const char *why)
{
  size_t *n = ctx;

  FUZZ_CHECK(why != NULL && why[0] != '\0', "rejected %s without a reason",
             name);
  (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  berth_dns_srv_list_t *srv = NULL;
  berth_error_t err;
  peers_set_t set;
  size_t rejected = 0;
  size_t i;
  size_t j;

  fuzz_quiet_logs();
  if (size > 65535)
    return 0;
  if (berth__dns_srv_parse(data, (int)size, "_peer._tcp." SERVICE, &srv,
                           &err) != BERTH_OK)
    return 0;
  peers_set_init(&set);
  if (peers_srv_members(SERVICE, srv, &set, on_reject, &rejected) == BERTH_OK) {
    FUZZ_CHECK(set.count + rejected <= srv->count,
               "%zu members + %zu "
               "rejected from %zu records",
               set.count, rejected, srv->count);
    peers_set_sort(&set);
    for (i = 0; i < set.count; i++) {
      const peers_member_t *m = &set.items[i];
      size_t hl = strlen(m->host);
      const char *p;

      FUZZ_CHECK(strncmp(m->name, m->host, hl) == 0 && m->name[hl] == '.' &&
                     strcmp(m->name + hl + 1, SERVICE) == 0,
                 "member %s (host %s) is not in the service", m->name, m->host);
      FUZZ_CHECK(peers_label_valid(m->host, hl), "host label '%s'", m->host);
      for (p = m->name; *p != '\0'; p++)
        FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'), "upper case in %s", m->name);
      FUZZ_CHECK(m->ordinal == peers_name_ordinal(m->name), "ordinal of %s",
                 m->name);
      for (j = 0; j < i; j++)
        FUZZ_CHECK(strcmp(set.items[j].name, m->name) != 0, "%s twice",
                   m->name);
      if (i > 0) {
        const peers_member_t *prev = &set.items[i - 1];

        if (prev->ordinal < 0)
          FUZZ_CHECK(m->ordinal < 0, "numbered %s after unnumbered %s", m->name,
                     prev->name);
        else if (m->ordinal >= 0)
          FUZZ_CHECK(prev->ordinal <= m->ordinal, "%s before %s", prev->name,
                     m->name);
      }
    }
  }
  peers_set_cleanup(&set);
  berth_dns_srv_list_free(srv);
  return 0;
}
