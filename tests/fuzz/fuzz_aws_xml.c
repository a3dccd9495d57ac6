/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the EC2, STS and error XML AWS sends (lib/aws/ec2_xml.c,
 * sts.c, errors.c, xml.c). The first byte picks the parser, the rest is
 * the body. Invariants: a parse either succeeds and its result frees
 * cleanly, or fails with a message; an error body's code and message are
 * NUL-terminated within their buffers, on one line, printable, valid
 * UTF-8. */
#include <string.h>

#include <jansson.h>

#include "aws_int.h"
#include "berth/aws.h"
#include "berth/aws_ec2.h"
#include "fuzz.h"

static void check_line(const char *what, const char *s, size_t size)
{
  size_t n = strnlen(s, size);
  size_t i;

  FUZZ_CHECK(n < size, "%s not terminated", what);
  for (i = 0; i < n; i++)
    FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f,
               "%s has byte 0x%02x", what, (unsigned char)s[i]);
  /* jansson refuses invalid UTF-8: a log line or Event could not hold
   * it. */
  {
    json_t *j = json_string(s);

    FUZZ_CHECK(j != NULL, "%s is not valid UTF-8", what);
    json_decref(j);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *xml = (const char *)data + 1;
  size_t len = size - 1;
  berth_error_t err;
  berth_status_t st = BERTH_OK;

  fuzz_quiet_logs();
  if (size < 1)
    return 0;
  berth_error_clear(&err);
  switch (data[0] % 9) {
  case 0: {
    berth_ec2_volume_t v;
    if ((st = berth_ec2_parse_volume(xml, len, &v, &err)) == BERTH_OK)
      berth_ec2_volume_cleanup(&v);
    break;
  }
  case 1: {
    berth_ec2_volume_list_t l;
    if ((st = berth_ec2_parse_volumes(xml, len, &l, &err)) == BERTH_OK) {
      FUZZ_CHECK(l.count == 0 || l.items != NULL, "count without items");
      berth_ec2_volume_list_cleanup(&l);
    }
    break;
  }
  case 2: {
    berth_ec2_attachment_t a;
    if ((st = berth_ec2_parse_attachment(xml, len, &a, &err)) == BERTH_OK)
      berth_ec2_attachment_cleanup(&a);
    break;
  }
  case 3: {
    berth_ec2_modification_t m;
    if ((st = berth_ec2_parse_modification(xml, len, &m, &err)) == BERTH_OK)
      berth_ec2_modification_cleanup(&m);
    break;
  }
  case 4: {
    berth_ec2_modification_list_t l;
    if ((st = berth_ec2_parse_modifications(xml, len, &l, &err)) == BERTH_OK)
      berth_ec2_modification_list_cleanup(&l);
    break;
  }
  case 5: {
    berth_ec2_instance_list_t l;
    if ((st = berth_ec2_parse_instances(xml, len, &l, &err)) == BERTH_OK)
      berth_ec2_instance_list_cleanup(&l);
    break;
  }
  case 6:
    st = berth_ec2_parse_return(xml, len, &err);
    if (st == BERTH_EHTTP)
      st = BERTH_OK;
    break;
  case 7: {
    berth_aws_credentials_t c;
    memset(&c, 0, sizeof(c));
    st = berth__aws_sts_parse_credentials(xml, len, &c, &err);
    if (st == BERTH_OK)
      FUZZ_CHECK(c.access_key_id != NULL && c.secret_access_key != NULL,
                 "credentials without keys");
    berth_aws_credentials_cleanup(&c);
    break;
  }
  default: {
    char code[64];
    char message[256];

    if (berth_aws_parse_error(xml, len, code, sizeof(code), message,
                              sizeof(message)) == BERTH_OK) {
      check_line("code", code, sizeof(code));
      check_line("message", message, sizeof(message));
    }
    break;
  }
  }
  if (st != BERTH_OK)
    FUZZ_CHECK(err.message[0] != '\0', "status %d without a message", (int)st);
  return 0;
}
