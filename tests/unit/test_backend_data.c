/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the backend tests' data files (tests/data/backends/): one value
 * per line, '#' comments, \xNN and \\ escapes, <empty> for "".
 *
 * Not a test of its own: the backend tests #include this file (static
 * functions only), so that unit and integration tests read the same data
 * the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/buf.h"

#define TBD_MAX_LINES 256

/* One decoded line: len bytes at s (which may hold NUL bytes). */
typedef struct tbd_line {
  char *s;
  size_t len;
} tbd_line_t;

typedef struct tbd_file {
  tbd_line_t lines[TBD_MAX_LINES];
  size_t n;
} tbd_file_t;

static int tbd_hex(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decode the escapes of text (len bytes) into a new buffer. */
static tbd_line_t tbd_decode(const char *text, size_t len)
{
  tbd_line_t out;
  size_t i;

  out.s = malloc(len + 1);
  out.len = 0;
  if (out.s == NULL)
    abort();
  if (len == 7 && memcmp(text, "<empty>", 7) == 0)
    len = 0;
  for (i = 0; i < len; i++) {
    if (text[i] == '\\' && i + 1 < len && text[i + 1] == '\\') {
      out.s[out.len++] = '\\';
      i++;
    } else if (text[i] == '\\' && i + 3 < len && text[i + 1] == 'x' &&
               tbd_hex(text[i + 2]) >= 0 && tbd_hex(text[i + 3]) >= 0) {
      out.s[out.len++] =
          (char)(tbd_hex(text[i + 2]) * 16 + tbd_hex(text[i + 3]));
      i += 3;
    } else {
      out.s[out.len++] = text[i];
    }
  }
  out.s[out.len] = '\0';
  return out;
}

/* Read tests/data/backends/<name>; abort the test run when it is not
 * there. */
static void tbd_load(const char *name, tbd_file_t *f)
{
  char path[1024];
  char line[4096];
  FILE *fp;

  memset(f, 0, sizeof(*f));
  snprintf(path, sizeof(path), "%s/backends/%s", BERTH_TEST_DATA, name);
  fp = fopen(path, "r");
  if (fp == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    abort();
  }
  while (fgets(line, sizeof(line), fp) != NULL && f->n < TBD_MAX_LINES) {
    size_t len = strcspn(line, "\n");

    if (len == 0 || line[0] == '#')
      continue;
    f->lines[f->n++] = tbd_decode(line, len);
  }
  fclose(fp);
}

static void tbd_free(tbd_file_t *f)
{
  size_t i;

  for (i = 0; i < f->n; i++)
    free(f->lines[i].s);
  f->n = 0;
}

/* true when the message is one printable line (no control bytes): what
 * a claim puts in a message must not break a log line or an Event. */
static int tbd_printable(const char *msg)
{
  for (; *msg != '\0'; msg++) {
    if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
      return 0;
  }
  return 1;
}
