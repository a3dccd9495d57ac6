/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: EBS StorageClass parameters and tag templates
 * (provisioner/backends/ebs_params.c). The input is a JSON object
 * {"parameters": {...}, "bytes": N, "pvc": "...", "ns": "...", "pv":
 * "..."}. Invariants: accepted parameters give a size in GiB that holds
 * the claim and sane IOPS; each tag spec expands (or is refused) within
 * its buffer, terminated; the client token is 64 hex digits. */
#include <string.h>

#include "backends/ebs.h"
#include "fuzz.h"

static const char *str_or(const json_t *o, const char *k, const char *def)
{
  const char *s = json_string_value(json_object_get(o, k));

  return s != NULL ? s : def;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *in = json_loadb((const char *)data, size, 0, NULL);
  berth_ebs_params_t p;
  berth_error_t err;
  char token[65];
  const char *pvc;
  const char *ns;
  const char *pv;

  fuzz_quiet_logs();
  if (in == NULL)
    return 0;
  pvc = str_or(in, "pvc", "data-0");
  ns = str_or(in, "ns", "default");
  pv = str_or(in, "pv", "pvc-1");
  berth_ebs_client_token(pv, token);
  FUZZ_CHECK(strlen(token) == 64 && strspn(token, "0123456789abcdef") == 64,
             "client token '%s'", token);
  berth_error_clear(&err);
  if (berth_ebs_params_parse(json_object_get(in, "parameters"), &p, &err) ==
      BERTH_OK) {
    json_int_t b = json_integer_value(json_object_get(in, "bytes"));
    uint64_t bytes = b > 0 ? (uint64_t)b : 1;
    int64_t gib = berth_ebs_size_gib(&p, bytes);
    size_t i;

    FUZZ_CHECK(gib > 0 && (uint64_t)gib >= (bytes + (1ULL << 30) - 1) >> 30,
               "%llu bytes in %lld GiB", (unsigned long long)bytes,
               (long long)gib);
    {
      int64_t iops = -1;

      /* Limits a size cannot meet are refused with a message; an answer
       * is never negative. */
      if (berth_ebs_iops(&p, gib, &iops, &err) == BERTH_OK)
        FUZZ_CHECK(iops >= 0, "negative IOPS");
      else
        FUZZ_CHECK(err.message[0] != '\0', "IOPS refused without a message");
    }
    FUZZ_CHECK(p.n_tag_specs <= BERTH_EBS_MAX_EXTRA_TAGS, "tags");
    for (i = 0; i < p.n_tag_specs; i++) {
      char out[300];

      memset(out, 'Z', sizeof(out));
      if (berth_ebs_expand(p.tag_specs[i], pvc, ns, pv, out, sizeof(out),
                           &err) == BERTH_OK)
        FUZZ_CHECK(memchr(out, '\0', sizeof(out)) != NULL,
                   "expansion not terminated");
    }
  } else {
    FUZZ_CHECK(err.message[0] != '\0', "refused without a message");
  }
  /* Any text as a template, into a small buffer. */
  {
    const char *t = str_or(in, "template", NULL);
    char small[16];

    if (t != NULL && berth_ebs_expand(t, pvc, ns, pv, small, sizeof(small),
                                      &err) == BERTH_OK)
      FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL,
                 "expansion not terminated");
  }
  json_decref(in);
  return 0;
}
