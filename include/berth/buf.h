/* SPDX-License-Identifier: Apache-2.0 */
/* berth: a growable byte buffer and small string helpers.
 *
 * A berth_buf_t is embedded (berth_buf_init/berth_buf_cleanup). Its data is
 * always NUL-terminated when non-NULL, so it can be used as a C string, and
 * may hold binary data too (len counts bytes, not including the NUL). An
 * optional limit makes appends that would grow it past `limit` bytes fail
 * with BERTH_ETOOBIG, which is how response size limits are enforced. */
#ifndef BERTH_BUF_H
#define BERTH_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_buf {
  char *data;   /* NULL until the first append, then NUL-terminated */
  size_t len;   /* bytes in use, not counting the terminating NUL */
  size_t cap;   /* bytes allocated */
  size_t limit; /* maximum len; 0 means no limit */
} berth_buf_t;

/* Initialise an empty buffer with no limit. */
void berth_buf_init(berth_buf_t *buf);

/* Free the buffer's memory and leave it empty (it may be reused). Accepts
 * NULL. */
void berth_buf_cleanup(berth_buf_t *buf);

/* Set the maximum length; appends past it fail with BERTH_ETOOBIG. */
void berth_buf_set_limit(berth_buf_t *buf, size_t limit);

/* Make room for at least `extra` more bytes. */
berth_status_t berth_buf_reserve(berth_buf_t *buf, size_t extra);

/* Append len bytes of data. */
berth_status_t berth_buf_append(berth_buf_t *buf, const void *data, size_t len);

/* Append a NUL-terminated string. */
berth_status_t berth_buf_append_str(berth_buf_t *buf, const char *str);

/* Append one byte. */
berth_status_t berth_buf_append_byte(berth_buf_t *buf, char c);

/* Append printf-style formatted text. */
berth_status_t berth_buf_appendf(berth_buf_t *buf, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Forget the contents but keep the memory. */
void berth_buf_reset(berth_buf_t *buf);

/* Remove the first n bytes (n > len removes all). */
void berth_buf_consume(berth_buf_t *buf, size_t n);

/* Return the contents as a string: "" for an empty buffer. Borrowed. */
const char *berth_buf_str(const berth_buf_t *buf);

/* Hand the contents to the caller (free() it) and leave the buffer empty.
 * An empty buffer gives a new "". Returns NULL only when out of memory. */
char *berth_buf_detach(berth_buf_t *buf);

/* true when str starts with prefix. */
bool berth_str_has_prefix(const char *str, const char *prefix);

/* true when str ends with suffix. */
bool berth_str_has_suffix(const char *str, const char *suffix);

/* ASCII case-insensitive equality; NULLs are equal only to each other. */
bool berth_str_case_eq(const char *a, const char *b);

/* Copy src into dst of size dstsize, always NUL-terminated (if dstsize > 0).
 * Returns strlen(src), so a result >= dstsize means it was truncated. */
size_t berth_strlcpy(char *dst, const char *src, size_t dstsize);

/* Return a new string (free() it) made from printf-style arguments, or NULL
 * when out of memory. */
char *berth_strdup_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Trim ASCII white space from both ends, in place. Returns s. */
char *berth_str_trim(char *s);

/* Parse a whole string as a base-10 integer in [min, max]. Leading/trailing
 * garbage, overflow or an empty string give BERTH_EPARSE. *out is set only
 * on success. */
berth_status_t berth_str_to_ll(const char *s, long long min, long long max,
                               long long *out);

/* The length (1 to 4) of the well-formed UTF-8 sequence at s, which has
 * len > 0 bytes, or 0 when the bytes there are not one: RFC 3629's
 * grammar, so overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code
 * points above U+10FFFF are refused. ASCII gives 1. */
size_t berth_utf8_len(const unsigned char *s, size_t len);

/* Overwrite n bytes at p with zeros in a way the compiler cannot remove:
 * for secrets (keys, tokens) before their memory is freed. */
void berth_memzero(void *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_BUF_H */
