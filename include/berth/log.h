/* SPDX-License-Identifier: Apache-2.0 */
/* berth: structured logging, one line per event, secrets never written.
 *
 * Libraries return errors; programs log them once, where they are handled.
 * A log call is a message plus key/value pairs ended by NULL:
 *
 *   berth_log(BERTH_LOG_INFO, "provisioned volume",
 *             "claim", "default/data", "pv", pv_name, NULL);
 *
 * gives, in logfmt (the default):
 *
 *   time=2026-11-25T15:18:33.123Z level=info msg="provisioned volume"
 * claim=default/data pv=pvc-1
 *
 * or, with BERTH_LOG_FORMAT_JSON, one JSON object per line.
 *
 * Redaction: a value whose key names a secret (authorization, token, secret,
 * password, signature, credential, cookie, private key) is written as
 * [REDACTED]; and every message and value is scanned for secrets in running
 * text (an Authorization header, "Bearer ...", "Signature=...", an AWS
 * secret or session token, "token": "...") which are replaced by [REDACTED]
 * too. Nothing bypasses this: it is applied inside the one function that
 * formats lines. */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "berth/buf.h"
#include "berth/clock.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum berth_log_level {
  BERTH_LOG_ERROR = 0,
  BERTH_LOG_WARN,
  BERTH_LOG_INFO,
  BERTH_LOG_DEBUG,
  BERTH_LOG_TRACE
} berth_log_level_t;

typedef enum berth_log_format {
  BERTH_LOG_FORMAT_LOGFMT = 0,
  BERTH_LOG_FORMAT_JSON
} berth_log_format_t;

/* Receives each finished line (without the trailing newline). */
typedef void (*berth_log_sink_fn)(void *ctx, berth_log_level_t level,
                                  const char *line);

/* Set the most verbose level written (default BERTH_LOG_INFO). */
void berth_log_set_level(berth_log_level_t level);

/* Set the line format (default logfmt). */
void berth_log_set_format(berth_log_format_t format);

/* Send lines to sink instead of standard error; NULL restores stderr. */
void berth_log_set_sink(berth_log_sink_fn sink, void *ctx);

/* Use clock for timestamps; NULL restores the system clock. */
void berth_log_set_clock(const berth_clock_t *clock);

/* Parse "error", "warn"/"warning", "info", "debug", "trace" or "0".."4". */
berth_status_t berth_log_level_parse(const char *s, berth_log_level_t *out);

/* Parse "logfmt", "text" (same as logfmt) or "json". */
berth_status_t berth_log_format_parse(const char *s, berth_log_format_t *out);

/* Return the level's lower-case name ("info"). */
const char *berth_log_level_name(berth_log_level_t level);

/* true when a message at level would be written. */
bool berth_log_enabled(berth_log_level_t level);

/* Write one event: msg then key, value pairs, ended by a NULL key. A NULL
 * value is written as an empty string. */
void berth_log(berth_log_level_t level, const char *msg, ...)
#if defined(__GNUC__)
    __attribute__((sentinel))
#endif
    ;

/* Like berth_log, with a va_list. */
void berth_logv(berth_log_level_t level, const char *msg, va_list ap);

/* Format one event into out (without the newline), applying redaction,
 * whatever the current level. Used by berth_log and by tests. */
berth_status_t berth_log_format_line(berth_buf_t *out,
                                     berth_log_format_t format, int64_t time_ms,
                                     berth_log_level_t level, const char *msg,
                                     va_list ap);

/* true when a key names a secret, compared without case and ignoring '-',
 * '_' and '.' ("X-Amz-Security-Token", "client_secret", "Authorization"). */
bool berth_log_key_is_secret(const char *key);

/* Append in to out with every secret found in running text replaced by
 * [REDACTED]. */
berth_status_t berth_redact(const char *in, berth_buf_t *out);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_LOG_H */
