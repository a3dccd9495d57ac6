/* SPDX-License-Identifier: Apache-2.0 */
/* lib/dns internals exposed for tests and fuzz targets; not public API. */
#ifndef BERTH_DNS_INT_H
#define BERTH_DNS_INT_H

#include <stddef.h>

#include "berth/dns.h"

/* Parse a raw DNS answer to an SRV query for name (alen bytes at abuf, as
 * c-ares hands it to its callback) into a new list in *out, exactly as
 * berth_dns_resolve_srv does with what it receives. */
berth_status_t berth__dns_srv_parse(const unsigned char *abuf, int alen,
                                    const char *name,
                                    berth_dns_srv_list_t **out,
                                    berth_error_t *err);

#endif /* BERTH_DNS_INT_H */
