/* SPDX-License-Identifier: Apache-2.0 */
/* YAML to JSON for kubeconfig files (lib/k8s/yaml.c); internal. */
#ifndef BERTH_K8S_YAML_INT_H
#define BERTH_K8S_YAML_INT_H

#include <stddef.h>

#include <jansson.h>

#include "berth/status.h"

/* Parse the first YAML document of text (len bytes) into a new JSON value
 * in *out: an object for a mapping, an empty object for an empty file.
 * Errors name path and the line. */
berth_status_t berth__k8s_yaml_to_json(const char *path, const char *text,
                                       size_t len, json_t **out,
                                       berth_error_t *err);

#endif /* BERTH_K8S_YAML_INT_H */
