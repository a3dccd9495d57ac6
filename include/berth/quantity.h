/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes resource quantities ("10Gi", "500M", "1.5Gi", "1e9") as
 * bytes, for claims' storage requests, PVs' capacity and berthctl's
 * --size: one exact parser for the provisioner and berthctl.
 *
 * The grammar is resource.Quantity's (k8s.io/apimachinery/pkg/api/
 * resource/quantity.go):
 *   <quantity> ::= <sign>? <number> <suffix>
 *   <number>   ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
 *   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | n | u | m | "" | k | M | G
 *                | T | P | E | (e | E) <sign>? <digits>
 * read exactly (no floating point) and rounded up to whole bytes, as
 * Quantity.Value() does. Refused: anything outside that grammar (white
 * space anywhere, "1e" or "1E 9"), negative sizes, exponents outside a
 * 32-bit integer, and values above INT64_MAX bytes (which no
 * Quantity.Value() holds). */
#ifndef BERTH_QUANTITY_H
#define BERTH_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parse s into bytes, rounding a fraction up. BERTH_EINVAL with a message
 * in err (which may be NULL) when s is not a quantity or is out of range;
 * *out is set only on success. */
berth_status_t berth_quantity_parse(const char *s, uint64_t *out,
                                    berth_error_t *err);

/* Format bytes as the largest binary suffix that divides it exactly
 * ("10Gi", "1536Mi"), else plain bytes ("1000"), into out (at least 24
 * bytes; shorter output is truncated). */
void berth_quantity_format(uint64_t bytes, char *out, size_t outsize);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_QUANTITY_H */
