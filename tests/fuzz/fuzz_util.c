/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the fuzz targets (fuzz.h). */
#include "fuzz.h"

#include <string.h>

#include "berth/log.h"

char *fuzz_strndup(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);

  if (s != NULL) {
    if (size > 0)
      memcpy(s, data, size);
    s[size] = '\0';
  }
  return s;
}

static void check_line(void *ctx, berth_log_level_t level, const char *line)
{
  const unsigned char *p;

  (void)ctx;
  (void)level;
  for (p = (const unsigned char *)line; *p != '\0'; p++)
    FUZZ_CHECK(*p >= 0x20 && *p != 0x7f, "log line with byte 0x%02x: %s", *p,
               line);
}

void fuzz_quiet_logs(void)
{
  berth_log_set_level(BERTH_LOG_TRACE);
  berth_log_set_sink(check_line, NULL);
}
