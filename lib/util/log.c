/* SPDX-License-Identifier: Apache-2.0 */
/* Structured logging with redaction, see include/berth/log.h. */
#include "berth/log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define REDACTED "[REDACTED]"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static berth_log_level_t log_level = BERTH_LOG_INFO;
static berth_log_format_t log_format = BERTH_LOG_FORMAT_LOGFMT;
static berth_log_sink_fn log_sink;
static void *log_sink_ctx;
static const berth_clock_t *log_clock;

static const char *const level_names[] = {"error", "warn", "info", "debug",
                                          "trace"};

/* Words that, inside a key, mark its value as secret. Keys are compared
 * after lower-casing and dropping '-', '_' and '.'. */
static const char *const secret_key_words[] = {
    "authorization", "token",     "secret",      "password",
    "passwd",        "signature", "cookie",      "privatekey",
    "apikey",        "clientkey", "credentials",
};

/* Markers of a secret in running text, longest first where one contains
 * another. Each must be followed by an assignment ('=', ':' or '>' after
 * optional quotes and blanks) for the value after it to be redacted. */
static const char *const secret_text_markers[] = {
    "secret_access_key",
    "secret-access-key",
    "secretaccesskey",
    "session_token",
    "session-token",
    "sessiontoken",
    "security_token",
    "security-token",
    "securitytoken",
    "client-key-data",
    "client_secret",
    "secret_key",
    "secret-key",
    "secretkey",
    "signature",
    "password",
    "passwd",
    "token",
};

void berth_log_set_level(berth_log_level_t level)
{
  pthread_mutex_lock(&log_lock);
  log_level = level;
  pthread_mutex_unlock(&log_lock);
}

void berth_log_set_format(berth_log_format_t format)
{
  pthread_mutex_lock(&log_lock);
  log_format = format;
  pthread_mutex_unlock(&log_lock);
}

void berth_log_set_sink(berth_log_sink_fn sink, void *ctx)
{
  pthread_mutex_lock(&log_lock);
  log_sink = sink;
  log_sink_ctx = ctx;
  pthread_mutex_unlock(&log_lock);
}

void berth_log_set_clock(const berth_clock_t *clock)
{
  pthread_mutex_lock(&log_lock);
  log_clock = clock;
  pthread_mutex_unlock(&log_lock);
}

const char *berth_log_level_name(berth_log_level_t level)
{
  if ((unsigned)level > BERTH_LOG_TRACE)
    return "unknown";
  return level_names[level];
}

berth_status_t berth_log_level_parse(const char *s, berth_log_level_t *out)
{
  size_t i;

  if (s == NULL)
    return BERTH_EINVAL;
  if (strcasecmp(s, "warning") == 0) {
    *out = BERTH_LOG_WARN;
    return BERTH_OK;
  }
  for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
    if (strcasecmp(s, level_names[i]) == 0 ||
        (s[0] == (char)('0' + i) && s[1] == '\0')) {
      *out = (berth_log_level_t)i;
      return BERTH_OK;
    }
  }
  return BERTH_EINVAL;
}

berth_status_t berth_log_format_parse(const char *s, berth_log_format_t *out)
{
  if (s == NULL)
    return BERTH_EINVAL;
  if (strcasecmp(s, "logfmt") == 0 || strcasecmp(s, "text") == 0) {
    *out = BERTH_LOG_FORMAT_LOGFMT;
    return BERTH_OK;
  }
  if (strcasecmp(s, "json") == 0) {
    *out = BERTH_LOG_FORMAT_JSON;
    return BERTH_OK;
  }
  return BERTH_EINVAL;
}

bool berth_log_enabled(berth_log_level_t level)
{
  bool on;

  pthread_mutex_lock(&log_lock);
  on = level <= log_level;
  pthread_mutex_unlock(&log_lock);
  return on;
}

bool berth_log_key_is_secret(const char *key)
{
  char norm[128];
  size_t n = 0;
  size_t i;

  if (key == NULL)
    return false;
  for (; *key != '\0' && n < sizeof(norm) - 1; key++) {
    if (*key == '-' || *key == '_' || *key == '.')
      continue;
    norm[n++] = (char)tolower((unsigned char)*key);
  }
  norm[n] = '\0';
  for (i = 0; i < sizeof(secret_key_words) / sizeof(secret_key_words[0]); i++)
    if (strstr(norm, secret_key_words[i]) != NULL)
      return true;
  return false;
}

/* Characters that end an unquoted secret value in running text. */
static bool ends_value(char c)
{
  return c == '\0' || isspace((unsigned char)c) || strchr("\"'<&,;)}]", c);
}

/* Length of a quoted or bare value starting at p; *quoted says whether the
 * value is enclosed in the quote at p[-1]. */
static size_t value_len(const char *p, char quote, bool to_eol)
{
  size_t n = 0;

  if (quote != '\0') {
    while (p[n] != '\0' && p[n] != quote) {
      if (p[n] == '\\' && p[n + 1] != '\0')
        n++;
      n++;
    }
    return n;
  }
  if (to_eol) {
    while (p[n] != '\0' && p[n] != '\n' && p[n] != '\r')
      n++;
    return n;
  }
  while (!ends_value(p[n]))
    n++;
  return n;
}

/* If text at p starts an assignment ("=", ":", ">" after optional closing
 * quotes and blanks, then optional blanks and an opening quote), return
 * its length and the opening quote; else 0. */
static size_t assignment_len(const char *p, char *quote)
{
  size_t n = 0;
  bool assigned = false;

  while (p[n] == '"' || p[n] == '\'')
    n++;
  while (p[n] == ' ' || p[n] == '\t')
    n++;
  if (p[n] == '=' || p[n] == ':' || p[n] == '>') {
    assigned = true;
    n++;
  }
  if (!assigned)
    return 0;
  while (p[n] == ' ' || p[n] == '\t')
    n++;
  *quote = '\0';
  if (p[n] == '"' || p[n] == '\'')
    *quote = p[n++];
  return n;
}

/* Try to redact a secret starting at in; on success append the kept prefix
 * and [REDACTED] to out and return the number of input bytes consumed. */
static size_t redact_at(const char *in, berth_buf_t *out, berth_status_t *st)
{
  size_t i;
  size_t m;
  size_t a;
  size_t v;
  char quote = '\0';
  bool to_eol = false;

  if (strncasecmp(in, "bearer ", 7) == 0 && !ends_value(in[7])) {
    m = 7;
    a = 0;
  } else if (strncasecmp(in, "authorization", 13) == 0 &&
             (a = assignment_len(in + 13, &quote)) > 0) {
    m = 13;
    to_eol = true;
  } else {
    for (i = 0;
         i < sizeof(secret_text_markers) / sizeof(secret_text_markers[0]);
         i++) {
      m = strlen(secret_text_markers[i]);
      if (strncasecmp(in, secret_text_markers[i], m) == 0 &&
          (a = assignment_len(in + m, &quote)) > 0)
        break;
    }
    if (i == sizeof(secret_text_markers) / sizeof(secret_text_markers[0]))
      return 0;
  }
  v = value_len(in + m + a, quote, to_eol);
  if (v == 0)
    return 0;
  *st = berth_buf_append(out, in, m + a);
  if (*st == BERTH_OK)
    *st = berth_buf_append_str(out, REDACTED);
  return m + a + v;
}

berth_status_t berth_redact(const char *in, berth_buf_t *out)
{
  berth_status_t st = BERTH_OK;
  size_t used;
  bool word_start = true;

  while (*in != '\0' && st == BERTH_OK) {
    used = word_start ? redact_at(in, out, &st) : 0;
    if (used > 0) {
      in += used;
      continue;
    }
    /* Markers count at the start of a word or after a separator such as
     * "X-Amz-" so that "Signature" matches in "X-Amz-Signature=". */
    word_start = !isalnum((unsigned char)*in) || isupper((unsigned char)in[1]);
    st = berth_buf_append_byte(out, *in++);
  }
  return st;
}

static berth_status_t append_escaped(berth_buf_t *out, const char *s, bool json)
{
  berth_status_t st = BERTH_OK;

  for (; *s != '\0' && st == BERTH_OK; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      st = berth_buf_appendf(out, "\\%c", c);
    else if (c == '\n')
      st = berth_buf_append_str(out, "\\n");
    else if (c == '\r')
      st = berth_buf_append_str(out, "\\r");
    else if (c == '\t')
      st = berth_buf_append_str(out, "\\t");
    else if (c < 0x20 || c == 0x7f)
      st = berth_buf_appendf(out, json ? "\\u%04x" : "\\x%02x", c);
    else
      st = berth_buf_append_byte(out, (char)c);
  }
  return st;
}

static bool logfmt_needs_quotes(const char *s)
{
  if (*s == '\0')
    return true;
  for (; *s != '\0'; s++)
    if ((unsigned char)*s <= ' ' || *s == '=' || *s == '"' || *s == 0x7f)
      return true;
  return false;
}

/* Append one field; the value is redacted first, then escaped. */
static berth_status_t append_field(berth_buf_t *out, berth_log_format_t fmt,
                                   const char *key, const char *value,
                                   bool first)
{
  berth_buf_t clean;
  berth_status_t st;

  berth_buf_init(&clean);
  if (value == NULL)
    value = "";
  if (berth_log_key_is_secret(key) && *value != '\0')
    st = berth_buf_append_str(&clean, REDACTED);
  else
    st = berth_redact(value, &clean);
  if (st != BERTH_OK)
    goto done;
  if (fmt == BERTH_LOG_FORMAT_JSON) {
    st = berth_buf_appendf(out, "%s\"", first ? "{" : ",");
    if (st == BERTH_OK)
      st = append_escaped(out, key, true);
    if (st == BERTH_OK)
      st = berth_buf_append_str(out, "\":\"");
    if (st == BERTH_OK)
      st = append_escaped(out, berth_buf_str(&clean), true);
    if (st == BERTH_OK)
      st = berth_buf_append_byte(out, '"');
  } else {
    bool q = logfmt_needs_quotes(berth_buf_str(&clean));
    st =
        berth_buf_appendf(out, "%s%s=%s", first ? "" : " ", key, q ? "\"" : "");
    if (st == BERTH_OK)
      st = append_escaped(out, berth_buf_str(&clean), false);
    if (st == BERTH_OK && q)
      st = berth_buf_append_byte(out, '"');
  }
done:
  berth_buf_cleanup(&clean);
  return st;
}

berth_status_t berth_log_format_line(berth_buf_t *out,
                                     berth_log_format_t format, int64_t time_ms,
                                     berth_log_level_t level, const char *msg,
                                     va_list ap)
{
  char ts[32];
  const char *key;
  const char *value;
  berth_status_t st;

  berth_time_format_rfc3339(time_ms, ts, sizeof(ts));
  st = append_field(out, format, "time", ts, true);
  if (st == BERTH_OK)
    st = append_field(out, format, "level", berth_log_level_name(level), false);
  if (st == BERTH_OK)
    st = append_field(out, format, "msg", msg, false);
  while (st == BERTH_OK && (key = va_arg(ap, const char *)) != NULL) {
    value = va_arg(ap, const char *);
    st = append_field(out, format, key, value, false);
  }
  if (st == BERTH_OK && format == BERTH_LOG_FORMAT_JSON)
    st = berth_buf_append_byte(out, '}');
  return st;
}

void berth_logv(berth_log_level_t level, const char *msg, va_list ap)
{
  berth_buf_t line;
  berth_log_format_t format;
  berth_log_sink_fn sink;
  void *sink_ctx;
  const berth_clock_t *clock;

  pthread_mutex_lock(&log_lock);
  if (level > log_level) {
    pthread_mutex_unlock(&log_lock);
    return;
  }
  format = log_format;
  sink = log_sink;
  sink_ctx = log_sink_ctx;
  clock = log_clock;
  pthread_mutex_unlock(&log_lock);

  berth_buf_init(&line);
  if (berth_log_format_line(&line, format, berth_clock_realtime_ms(clock),
                            level, msg, ap) == BERTH_OK) {
    if (sink != NULL) {
      sink(sink_ctx, level, berth_buf_str(&line));
    } else {
      /* One write per line so that threads never interleave within it. */
      berth_buf_append_byte(&line, '\n');
      flockfile(stderr);
      fwrite(line.data, 1, line.len, stderr);
      fflush(stderr);
      funlockfile(stderr);
    }
  }
  berth_buf_cleanup(&line);
}

void berth_log(berth_log_level_t level, const char *msg, ...)
{
  va_list ap;

  va_start(ap, msg);
  berth_logv(level, msg, ap);
  va_end(ap);
}
