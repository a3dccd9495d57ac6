/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: kubectl's JSONPath templates, for -o jsonpath=TEMPLATE,
 * -o custom-columns=HEADER:PATH,... and --sort-by=PATH. */
#ifndef BERTH_CTL_JSONPATH_H
#define BERTH_CTL_JSONPATH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "berth/buf.h"

typedef struct ctl_jsonpath ctl_jsonpath_t;

/* Parse a template ("{.items[*].metadata.name}", "{range .items[*]}{.a}
 * {\"\\n\"}{end}") into *out; false with a message in err when it is not
 * one. */
bool ctl_jsonpath_parse(const char *tmpl, ctl_jsonpath_t **out, char *err,
                        size_t errsize);

/* The same for one expression, with or without braces (".metadata.name"),
 * as custom-columns and --sort-by take them. */
bool ctl_jsonpath_parse_expr(const char *expr, ctl_jsonpath_t **out, char *err,
                             size_t errsize);

void ctl_jsonpath_destroy(ctl_jsonpath_t *jp);

/* Append the template's output for root to out. */
bool ctl_jsonpath_exec(const ctl_jsonpath_t *jp, const json_t *root,
                       berth_buf_t *out, char *err, size_t errsize);

/* Every value the template's expressions match in root (borrowed values
 * in a new array). */
json_t *ctl_jsonpath_values(const ctl_jsonpath_t *jp, const json_t *root);

/* A value as kubectl prints it: strings raw, the rest compact JSON. */
void ctl_jsonpath_value_text(const json_t *v, berth_buf_t *out);

#endif /* BERTH_CTL_JSONPATH_H */
