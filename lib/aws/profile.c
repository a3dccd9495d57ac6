/* SPDX-License-Identifier: Apache-2.0 */
/* The shared credentials and config files (~/.aws/credentials,
 * ~/.aws/config), see lib/aws/aws_int.h.
 *
 * Format, as the AWS CLI and SDKs read it ("Configuration and credential
 * file settings" in the AWS CLI user guide): INI sections; in the config
 * file a profile is "[profile NAME]" except "[default]"; in the
 * credentials file it is "[NAME]". "key = value" lines; '#' and ';' start
 * comment lines (and inline comments after white space); an indented
 * line continues the previous key as a sub-setting (e.g. "s3 =" blocks),
 * which berth ignores. */
#include "aws_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (1024 * 1024)

static berth_status_t set_value(berth__aws_profile_t *p, const char *key,
                                size_t key_len, const char *value,
                                size_t value_len)
{
  size_t i;
  char *v;
  char *k;

  v = malloc(value_len + 1);
  if (v == NULL)
    return BERTH_ENOMEM;
  memcpy(v, value, value_len);
  v[value_len] = '\0';
  for (i = 0; i < p->count; i++) {
    if (strlen(p->keys[i]) == key_len &&
        memcmp(p->keys[i], key, key_len) == 0) {
      berth__aws_free_secret(p->values[i]);
      p->values[i] = v;
      return BERTH_OK;
    }
  }
  k = malloc(key_len + 1);
  if (k == NULL) {
    free(v);
    return BERTH_ENOMEM;
  }
  memcpy(k, key, key_len);
  k[key_len] = '\0';
  {
    char **keys = realloc(p->keys, (p->count + 1) * sizeof(char *));
    char **values;
    if (keys == NULL) {
      free(k);
      free(v);
      return BERTH_ENOMEM;
    }
    p->keys = keys;
    values = realloc(p->values, (p->count + 1) * sizeof(char *));
    if (values == NULL) {
      free(k);
      free(v);
      return BERTH_ENOMEM;
    }
    p->values = values;
  }
  p->keys[p->count] = k;
  p->values[p->count] = v;
  p->count++;
  return BERTH_OK;
}

static void trim_span(const char **s, const char **e)
{
  while (*s < *e && isspace((unsigned char)**s))
    (*s)++;
  while (*e > *s && isspace((unsigned char)(*e)[-1]))
    (*e)--;
}

/* Does the header "[ ... ]" between s and e name our section? */
static bool section_matches(const char *s, const char *e, const char *name,
                            bool config_file)
{
  size_t n = strlen(name);

  trim_span(&s, &e);
  if (config_file) {
    if (strcmp(name, "default") == 0 && (size_t)(e - s) == 7 &&
        memcmp(s, "default", 7) == 0)
      return true;
    if ((size_t)(e - s) > 8 && memcmp(s, "profile", 7) == 0 &&
        isspace((unsigned char)s[7])) {
      s += 8;
      trim_span(&s, &e);
      return (size_t)(e - s) == n && memcmp(s, name, n) == 0;
    }
    return false;
  }
  return (size_t)(e - s) == n && memcmp(s, name, n) == 0;
}

berth_status_t berth__aws_profile_parse(const char *text, const char *section,
                                        bool config_file,
                                        berth__aws_profile_t *out)
{
  const char *p = text;
  bool in_section = false;
  berth_status_t st = BERTH_OK;

  while (*p != '\0' && st == BERTH_OK) {
    const char *eol = strchr(p, '\n');
    const char *e = eol != NULL ? eol : p + strlen(p);
    const char *next = eol != NULL ? eol + 1 : e;
    const char *s = p;
    bool indented = s < e && (*s == ' ' || *s == '\t');

    trim_span(&s, &e);
    if (s == e || *s == '#' || *s == ';') {
      /* blank or comment */
    } else if (*s == '[' && !indented) {
      const char *close = memchr(s, ']', (size_t)(e - s));
      in_section =
          close != NULL && section_matches(s + 1, close, section, config_file);
      if (in_section)
        out->found = true;
    } else if (in_section && !indented) {
      const char *eq = memchr(s, '=', (size_t)(e - s));
      if (eq != NULL) {
        const char *ks = s, *ke = eq;
        const char *vs = eq + 1, *ve = e;
        const char *c;

        trim_span(&ks, &ke);
        trim_span(&vs, &ve);
        /* An inline comment: " #..." or " ;..." after the value. */
        for (c = vs; c < ve; c++) {
          if ((*c == '#' || *c == ';') && c > vs &&
              isspace((unsigned char)c[-1])) {
            ve = c;
            trim_span(&vs, &ve);
            break;
          }
        }
        if (ke > ks)
          st = set_value(out, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs));
      }
    }
    p = next;
  }
  return st;
}

/* Parse one file into out; a missing file is fine. */
static berth_status_t load_file(const char *path, const char *name,
                                bool config_file, berth__aws_profile_t *out,
                                berth_error_t *err)
{
  char *text = NULL;
  berth_status_t st;

  st = berth__aws_read_file(path, MAX_FILE_BYTES, &text);
  if (st == BERTH_ENOTFOUND)
    return BERTH_OK;
  if (st != BERTH_OK)
    return berth_error_set(err, st == BERTH_ENOMEM ? st : BERTH_EIO,
                           "cannot read %s: %s", path, berth_strerror(st));
  st = berth__aws_profile_parse(text, name, config_file, out);
  berth__aws_free_secret(text);
  if (st != BERTH_OK)
    berth_error_set(err, st, "cannot parse %s", path);
  return st;
}

berth_status_t berth__aws_profile_load(const berth__aws_config_t *cfg,
                                       const char *name,
                                       berth__aws_profile_t *out,
                                       berth_error_t *err)
{
  const char *home = berth__aws_env(cfg, BERTH__AWS_ENV_HOME);
  const char *config = berth__aws_env(cfg, BERTH__AWS_ENV_CONFIG_FILE);
  const char *creds =
      berth__aws_env(cfg, BERTH__AWS_ENV_SHARED_CREDENTIALS_FILE);
  char *config_path = NULL;
  char *creds_path = NULL;
  berth_status_t st = BERTH_OK;

  memset(out, 0, sizeof(*out));
  out->name = strdup(name);
  if (out->name == NULL)
    return BERTH_ENOMEM;
  if (config != NULL)
    config_path = strdup(config);
  else if (home != NULL)
    config_path = berth_strdup_printf("%s/.aws/config", home);
  if (creds != NULL)
    creds_path = strdup(creds);
  else if (home != NULL)
    creds_path = berth_strdup_printf("%s/.aws/credentials", home);
  if ((config_path == NULL && (config != NULL || home != NULL)) ||
      (creds_path == NULL && (creds != NULL || home != NULL))) {
    st = BERTH_ENOMEM;
    goto done;
  }
  /* Config first, so that the credentials file's values win. */
  if (config_path != NULL)
    st = load_file(config_path, name, true, out, err);
  if (st == BERTH_OK && creds_path != NULL)
    st = load_file(creds_path, name, false, out, err);

done:
  free(config_path);
  free(creds_path);
  if (st != BERTH_OK)
    berth__aws_profile_cleanup(out);
  return st;
}

const char *berth__aws_profile_get(const berth__aws_profile_t *p,
                                   const char *key)
{
  size_t i;

  for (i = 0; i < p->count; i++)
    if (strcmp(p->keys[i], key) == 0)
      return *p->values[i] != '\0' ? p->values[i] : NULL;
  return NULL;
}

void berth__aws_profile_cleanup(berth__aws_profile_t *p)
{
  size_t i;

  if (p == NULL)
    return;
  for (i = 0; i < p->count; i++) {
    free(p->keys[i]);
    berth__aws_free_secret(p->values[i]);
  }
  free(p->keys);
  free(p->values);
  free(p->name);
  memset(p, 0, sizeof(*p));
}
