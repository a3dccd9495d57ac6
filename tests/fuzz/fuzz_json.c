/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: berth's JSON parse and getters (lib/json/json.c), which
 * every API server, EFS and credential response goes through. The input
 * is "<path>\n<document>". Invariants: a getter that succeeds gives a
 * value of its type (strings without NUL bytes), one that fails says why;
 * the required and optional getters agree; nothing leaks. */
#include <string.h>

#include "berth/buf.h"
#include "berth/json.h"
#include "fuzz.h"

static void check_err(berth_status_t st, const berth_error_t *err)
{
  if (st != BERTH_OK)
    FUZZ_CHECK(err->message[0] != '\0' &&
                   memchr(err->message, '\0', sizeof(err->message)) != NULL,
               "status %d without a message", (int)st);
}

static void getters(const json_t *doc, const char *path)
{
  berth_error_t err;
  berth_status_t st;
  berth_status_t st2;
  const char *s = NULL;
  const char *s2 = NULL;
  long long i = 0;
  long long i2 = 0;
  bool b = false;
  json_t *v = NULL;

  berth_error_clear(&err);
  st = berth_json_lookup(doc, path, &v, &err);
  check_err(st, &err);
  FUZZ_CHECK(st != BERTH_OK || v != NULL, "lookup OK without a value");

  st = berth_json_get_string(doc, path, &s, &err);
  check_err(st, &err);
  if (st == BERTH_OK)
    FUZZ_CHECK(s != NULL && strlen(s) == json_string_length(v),
               "string with a NUL byte passed");
  st2 = berth_json_opt_string(doc, path, "dflt", &s2, &err);
  if (st == BERTH_OK)
    FUZZ_CHECK(st2 == BERTH_OK && s2 == s, "opt_string disagrees");

  st = berth_json_get_int(doc, path, &i, &err);
  check_err(st, &err);
  if (st == BERTH_OK)
    FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) == i, "int");
  st2 = berth_json_opt_int(doc, path, 7, &i2, &err);
  if (st == BERTH_OK)
    FUZZ_CHECK(st2 == BERTH_OK && i2 == i, "opt_int disagrees");

  st = berth_json_get_bool(doc, path, &b, &err);
  check_err(st, &err);
  if (st == BERTH_OK)
    FUZZ_CHECK(json_is_boolean(v) && json_is_true(v) == b, "bool");

  st = berth_json_get_object(doc, path, &v, &err);
  check_err(st, &err);
  if (st == BERTH_OK)
    FUZZ_CHECK(json_is_object(v), "object");
  st = berth_json_get_array(doc, path, &v, &err);
  check_err(st, &err);
  if (st == BERTH_OK)
    FUZZ_CHECK(json_is_array(v), "array");
  st = berth_json_opt_object(doc, path, &v, &err);
  check_err(st, &err);
  st = berth_json_opt_array(doc, path, &v, &err);
  check_err(st, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *nl = memchr(data, '\n', size);
  char *path;
  json_t *doc = NULL;
  berth_error_t err;
  berth_status_t st;

  fuzz_quiet_logs();
  if (nl == NULL)
    return 0;
  path = fuzz_strndup(data, (size_t)(nl - data));
  if (path == NULL)
    return 0;
  st = berth_json_parse((const char *)nl + 1, size - (size_t)(nl - data) - 1,
                        &doc, &err);
  check_err(st, &err);
  FUZZ_CHECK((st == BERTH_OK) == (doc != NULL), "parse result and value");
  if (doc != NULL) {
    berth_buf_t out;

    getters(doc, path);
    /* What berth dumps parses back to an equal document. */
    berth_buf_init(&out);
    if (berth_json_dump(doc, &out) == BERTH_OK) {
      json_t *again = NULL;

      FUZZ_CHECK(berth_json_parse(berth_buf_str(&out), out.len, &again, &err) ==
                         BERTH_OK &&
                     json_equal(doc, again),
                 "dump does not parse back: %s", berth_buf_str(&out));
      json_decref(again);
    }
    berth_buf_cleanup(&out);
  }
  json_decref(doc);
  free(path);
  return 0;
}
