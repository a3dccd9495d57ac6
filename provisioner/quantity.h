/* berth-provisioner: Kubernetes resource quantities ("10Gi", "500M",
 * "1.5Gi", "1e9") as bytes, for claims' storage requests and PVs'
 * capacity (k8s.io/apimachinery/pkg/api/resource). */
#ifndef BERTH_PROV_QUANTITY_H
#define BERTH_PROV_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

#include "berth/status.h"

/* Parse a quantity into bytes, rounding a fraction up as Kubernetes'
 * Value() does. Negative values, malformed text and values above
 * UINT64_MAX give BERTH_EINVAL. *out is set only on success. */
berth_status_t prov_quantity_parse(const char *s, uint64_t *out);

/* Format bytes as the shortest exact binary quantity ("10Gi", "1536Mi")
 * or plain bytes ("1000") into out (at least 24 bytes). */
void prov_quantity_format(uint64_t bytes, char *out, size_t outsize);

#endif /* BERTH_PROV_QUANTITY_H */
