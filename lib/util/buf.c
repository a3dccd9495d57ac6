/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte buffer, see include/berth/buf.h. */
#include "berth/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void berth_buf_init(berth_buf_t *buf)
{
  memset(buf, 0, sizeof(*buf));
}

void berth_buf_cleanup(berth_buf_t *buf)
{
  if (buf == NULL)
    return;
  free(buf->data);
  buf->data = NULL;
  buf->len = 0;
  buf->cap = 0;
}

void berth_buf_set_limit(berth_buf_t *buf, size_t limit)
{
  buf->limit = limit;
}

berth_status_t berth_buf_reserve(berth_buf_t *buf, size_t extra)
{
  size_t need;
  size_t cap;
  char *p;

  if (extra > SIZE_MAX - buf->len - 1)
    return BERTH_ENOMEM;
  need = buf->len + extra + 1;
  if (buf->limit != 0 && buf->len + extra > buf->limit)
    return BERTH_ETOOBIG;
  if (need <= buf->cap)
    return BERTH_OK;
  cap = buf->cap != 0 ? buf->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  p = realloc(buf->data, cap);
  if (p == NULL)
    return BERTH_ENOMEM;
  if (buf->data == NULL)
    p[0] = '\0';
  buf->data = p;
  buf->cap = cap;
  return BERTH_OK;
}

berth_status_t berth_buf_append(berth_buf_t *buf, const void *data, size_t len)
{
  berth_status_t st;

  st = berth_buf_reserve(buf, len);
  if (st != BERTH_OK)
    return st;
  if (len > 0)
    memcpy(buf->data + buf->len, data, len);
  buf->len += len;
  buf->data[buf->len] = '\0';
  return BERTH_OK;
}

berth_status_t berth_buf_append_str(berth_buf_t *buf, const char *str)
{
  return berth_buf_append(buf, str, strlen(str));
}

berth_status_t berth_buf_append_byte(berth_buf_t *buf, char c)
{
  return berth_buf_append(buf, &c, 1);
}

berth_status_t berth_buf_appendf(berth_buf_t *buf, const char *fmt, ...)
{
  va_list ap;
  int n;
  berth_status_t st;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return BERTH_EINVAL;
  st = berth_buf_reserve(buf, (size_t)n);
  if (st != BERTH_OK)
    return st;
  va_start(ap, fmt);
  vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  buf->len += (size_t)n;
  return BERTH_OK;
}

void berth_buf_reset(berth_buf_t *buf)
{
  buf->len = 0;
  if (buf->data != NULL)
    buf->data[0] = '\0';
}

void berth_buf_consume(berth_buf_t *buf, size_t n)
{
  if (n >= buf->len) {
    berth_buf_reset(buf);
    return;
  }
  memmove(buf->data, buf->data + n, buf->len - n);
  buf->len -= n;
  buf->data[buf->len] = '\0';
}

const char *berth_buf_str(const berth_buf_t *buf)
{
  return buf->data != NULL ? buf->data : "";
}

char *berth_buf_detach(berth_buf_t *buf)
{
  char *p = buf->data;

  if (p == NULL)
    p = calloc(1, 1);
  buf->data = NULL;
  buf->len = 0;
  buf->cap = 0;
  return p;
}
