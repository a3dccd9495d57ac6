/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: host name checks and ordinals, see names.h. */
#include "names.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool peers_label_valid(const char *label, size_t len)
{
  size_t i;

  /* RFC 1123 section 2.1: letters, digits and hyphens; a label may start
   * with a digit but neither starts nor ends with a hyphen. */
  if (len == 0 || len > PEERS_LABEL_MAX)
    return false;
  if (label[0] == '-' || label[len - 1] == '-')
    return false;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)label[i];
    if (!(isascii(c) && (isalnum(c) || c == '-')))
      return false;
  }
  return true;
}

berth_status_t peers_name_normalize(const char *name, char **out,
                                    berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const char *label;
  const char *dot;
  char *copy = NULL;
  size_t len;
  size_t i;

  if (name == NULL || name[0] == '\0') {
    st = berth_error_set(err, BERTH_EINVAL, "empty name");
    goto done;
  }
  len = strlen(name);
  if (name[len - 1] == '.')
    len--;
  if (len > 0 && name[len - 1] == '.') {
    st = berth_error_set(err, BERTH_EINVAL, "name ends in an empty label");
    goto done;
  }
  if (len == 0 || len > PEERS_NAME_MAX) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "name of %zu characters (1 to %d allowed)", len,
                         PEERS_NAME_MAX);
    goto done;
  }
  for (label = name; label < name + len; label = dot + 1) {
    dot = memchr(label, '.', (size_t)(name + len - label));
    if (dot == NULL)
      dot = name + len;
    if (!peers_label_valid(label, (size_t)(dot - label))) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "the label at offset %zu is not an RFC 1123 "
                           "host label",
                           (size_t)(label - name));
      goto done;
    }
  }
  copy = malloc(len + 1);
  if (copy == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  for (i = 0; i < len; i++)
    copy[i] = (char)tolower((unsigned char)name[i]);
  copy[len] = '\0';
  *out = copy;
done:
  return st;
}

size_t peers_name_host_len(const char *name)
{
  const char *dot = strchr(name, '.');

  return dot != NULL ? (size_t)(dot - name) : strlen(name);
}

long peers_name_ordinal(const char *name)
{
  size_t len = peers_name_host_len(name);
  size_t start = len;
  long value = 0;
  size_t i;

  while (start > 0 && isdigit((unsigned char)name[start - 1]))
    start--;
  /* Digits, preceded by '-', preceded by at least one character. */
  if (start == len || start < 2 || name[start - 1] != '-')
    return -1;
  if (name[start] == '0' && len - start > 1)
    return -1;
  for (i = start; i < len; i++) {
    if (value > (PEERS_ORDINAL_MAX - (name[i] - '0')) / 10)
      return -1;
    value = value * 10 + (name[i] - '0');
  }
  return value;
}
