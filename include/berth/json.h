/* SPDX-License-Identifier: Apache-2.0 */
/* berth: safe, typed access to JSON through jansson.
 *
 * Kubernetes and AWS objects arrive from the network and may be malformed
 * or hostile. These helpers read a field by path and check its type; a
 * missing or wrongly typed required field is BERTH_EPARSE with the field's
 * path in the error message ("metadata.uid: missing", "spec.capacity:
 * expected object, got string"), never a crash.
 *
 * Paths: keys separated by '.', array elements as [N], and keys that
 * contain dots or brackets quoted in brackets:
 *
 *   metadata.name
 *   spec.accessModes[0]
 *   metadata.annotations["volume.kubernetes.io/selected-node"]
 *
 * Returned json_t pointers and strings are borrowed from the document
 * (jansson's word): valid while the document is alive and unchanged. */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "berth/buf.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parse len bytes of JSON text into a new reference in *out. Malformed text
 * gives BERTH_EPARSE with jansson's line, column and reason; a document
 * nested deeper than jansson allows is malformed too. Strings may contain
 * "\u0000" (so one hostile object cannot make a whole list unreadable);
 * the string getters below refuse them with BERTH_EPARSE. Code that calls
 * json_string_value() itself must compare strlen with json_string_length. */
berth_status_t berth_json_parse(const char *data, size_t len, json_t **out,
                                berth_error_t *err);

/* Find the value at path under root. Missing gives BERTH_ENOTFOUND with
 * the path in the message; a malformed path gives BERTH_EINVAL; an
 * intermediate value of the wrong type gives BERTH_EPARSE. *out is
 * borrowed. */
berth_status_t berth_json_lookup(const json_t *root, const char *path,
                                 json_t **out, berth_error_t *err);

/* Required typed getters: missing or of another type is BERTH_EPARSE,
 * naming the path; so is a string with an embedded NUL byte. Strings and values
 * are borrowed. Integers must be JSON integers (not reals). */
berth_status_t berth_json_get_string(const json_t *root, const char *path,
                                     const char **out, berth_error_t *err);
berth_status_t berth_json_get_int(const json_t *root, const char *path,
                                  long long *out, berth_error_t *err);
berth_status_t berth_json_get_bool(const json_t *root, const char *path,
                                   bool *out, berth_error_t *err);
berth_status_t berth_json_get_object(const json_t *root, const char *path,
                                     json_t **out, berth_error_t *err);
berth_status_t berth_json_get_array(const json_t *root, const char *path,
                                    json_t **out, berth_error_t *err);

/* Optional typed getters: a missing field or JSON null sets *out to def
 * and returns BERTH_OK; a field of another type is still BERTH_EPARSE. */
berth_status_t berth_json_opt_string(const json_t *root, const char *path,
                                     const char *def, const char **out,
                                     berth_error_t *err);
berth_status_t berth_json_opt_int(const json_t *root, const char *path,
                                  long long def, long long *out,
                                  berth_error_t *err);
berth_status_t berth_json_opt_bool(const json_t *root, const char *path,
                                   bool def, bool *out, berth_error_t *err);
/* Missing or null gives *out = NULL. */
berth_status_t berth_json_opt_object(const json_t *root, const char *path,
                                     json_t **out, berth_error_t *err);
berth_status_t berth_json_opt_array(const json_t *root, const char *path,
                                    json_t **out, berth_error_t *err);

/* Append the compact JSON text of value to out. */
berth_status_t berth_json_dump(const json_t *value, berth_buf_t *out);

/* The JSON type's name for messages: "object", "string", "integer", ... */
const char *berth_json_type_name(const json_t *value);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_JSON_H */
