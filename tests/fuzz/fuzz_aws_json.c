/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the JSON AWS sends: EFS (lib/aws/efs.c) and the
 * credentials of IMDS and container endpoints (credentials.c). The first
 * byte picks the parser, the rest is the body. Invariants: success frees
 * cleanly and has the fields it promises (times in range: issue 14's
 * CreationTime 1e300), failure has a message. */
#include <string.h>

#include "aws_int.h"
#include "berth/aws.h"
#include "berth/aws_efs.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *json = (const char *)data + 1;
  size_t len = size - 1;
  berth_error_t err;
  berth_status_t st = BERTH_OK;

  fuzz_quiet_logs();
  if (size < 1)
    return 0;
  berth_error_clear(&err);
  switch (data[0] % 5) {
  case 0: {
    berth_efs_access_point_t a;
    if ((st = berth_efs_parse_access_point(json, len, &a, &err)) == BERTH_OK)
      berth_efs_access_point_cleanup(&a);
    break;
  }
  case 1: {
    berth_efs_access_point_list_t l;
    if ((st = berth_efs_parse_access_points(json, len, &l, &err)) == BERTH_OK)
      berth_efs_access_point_list_cleanup(&l);
    break;
  }
  case 2: {
    berth_efs_file_system_list_t l;
    if ((st = berth_efs_parse_file_systems(json, len, &l, &err)) == BERTH_OK) {
      size_t i;

      for (i = 0; i < l.count; i++)
        FUZZ_CHECK(l.items[i].creation_time_ms >= -9200000000000000000LL &&
                       l.items[i].creation_time_ms <= 9200000000000000000LL,
                   "CreationTime %lld ms",
                   (long long)l.items[i].creation_time_ms);
      berth_efs_file_system_list_cleanup(&l);
    }
    break;
  }
  case 3: {
    berth_efs_mount_target_list_t l;
    if ((st = berth_efs_parse_mount_targets(json, len, &l, &err)) == BERTH_OK)
      berth_efs_mount_target_list_cleanup(&l);
    break;
  }
  default: {
    berth_aws_credentials_t c;
    memset(&c, 0, sizeof(c));
    st = berth__aws_parse_json_credentials(json, len, "imds", &c, &err);
    if (st == BERTH_OK)
      FUZZ_CHECK(c.access_key_id != NULL && c.access_key_id[0] != '\0' &&
                     c.secret_access_key != NULL,
                 "credentials without keys");
    berth_aws_credentials_cleanup(&c);
    break;
  }
  }
  if (st != BERTH_OK)
    FUZZ_CHECK(err.message[0] != '\0', "status %d without a message", (int)st);
  return 0;
}
