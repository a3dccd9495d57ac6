/* SPDX-License-Identifier: Apache-2.0 */
/* berth: status codes and error detail shared by every libberth module.
 *
 * Every fallible libberth function returns a berth_status_t and, when the
 * caller passes one, fills a berth_error_t with the detail: the HTTP code,
 * the Kubernetes Status reason or AWS error code, and a human message.
 * Foreign codes (CURLcode, ares_status_t, libnfs errno) are converted once,
 * at the edge of the module that calls the foreign library. */
#ifndef BERTH_STATUS_H
#define BERTH_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Keep in step with the table in lib/util/status.c. */
typedef enum berth_status {
  BERTH_OK = 0,
  BERTH_ENOMEM,        /* out of memory */
  BERTH_EINVAL,        /* invalid argument or configuration */
  BERTH_ENOTFOUND,     /* object, name or file does not exist */
  BERTH_EEXIST,        /* object already exists */
  BERTH_ECONFLICT,     /* concurrent modification (HTTP 409): re-read, retry */
  BERTH_ETRANSPORT,    /* could not connect, connection reset, send/recv */
  BERTH_ETIMEOUT,      /* an operation ran out of time */
  BERTH_ETLS,          /* TLS handshake or certificate verification */
  BERTH_EPARSE,        /* malformed input: JSON, YAML, XML, URL, number */
  BERTH_EHTTP,         /* an HTTP status the caller did not expect */
  BERTH_ETOOBIG,       /* a body or value exceeds its configured limit */
  BERTH_EUNAUTHORIZED, /* HTTP 401 or missing/invalid credentials */
  BERTH_EFORBIDDEN,    /* HTTP 403, permission denied */
  BERTH_ETHROTTLED,    /* HTTP 429 or an AWS throttling error */
  BERTH_EUNAVAILABLE,  /* HTTP 5xx or a server that is not ready */
  BERTH_EGONE,         /* HTTP 410: a watch resourceVersion is too old */
  BERTH_EIO,           /* I/O error from a file system or NFS server */
  BERTH_EPERM,         /* operation not permitted on a backend */
  BERTH_ECANCELED,     /* stopped on purpose (shutdown, callback abort) */
  BERTH_EDNS,          /* DNS failure other than "no such name" */
  BERTH_EINTERNAL,     /* a bug: an invariant did not hold */
  BERTH_STATUS_MAX_    /* not a status; the number of them */
} berth_status_t;

/* Detail about a failure. Embed it on the stack, pass its address, read it
 * after a call failed. All fields are plain data; no cleanup is needed. */
typedef struct berth_error {
  berth_status_t status; /* the same code the function returned */
  long http_code;        /* HTTP status, or 0 when none was received */
  char reason[64];       /* Kubernetes Status reason or AWS error code */
  char message[512];     /* one line for a human, never a secret */
} berth_error_t;

/* Return a static, lower-case description of a status ("out of memory").
 * Unknown values give "unknown status". Never NULL. */
const char *berth_strerror(berth_status_t status);

/* Return the symbolic name of a status ("BERTH_ENOMEM"). Never NULL. */
const char *berth_status_name(berth_status_t status);

/* Reset an error to "no error". Accepts NULL. */
void berth_error_clear(berth_error_t *err);

/* Set status and a printf-style message on err (which may be NULL) and
 * return status, so that a function can say `return berth_error_set(...)`
 * or `st = berth_error_set(...); goto done;`. http_code and reason are left
 * as they are. */
berth_status_t berth_error_set(berth_error_t *err, berth_status_t status,
                               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Like berth_error_set, with a va_list. */
berth_status_t berth_error_vset(berth_error_t *err, berth_status_t status,
                                const char *fmt, va_list ap);

/* Set the reason field (truncated to fit). Accepts NULL err or reason. */
void berth_error_set_reason(berth_error_t *err, const char *reason);

/* Prefix err->message with "<prefix>: " so that a caller can add context
 * to an error returned from below. Accepts NULL. */
void berth_error_prefix(berth_error_t *err, const char *prefix);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_STATUS_H */
