/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the files of lib/k8s; not part of the public API.
 *
 *   util.c        time stamps, base64, URL escaping, small file reads
 *   kubeconfig.c  YAML kubeconfig files: parse, merge, select a context
 *   config.c      where the configuration comes from (flags, $KUBECONFIG,
 *                 in-cluster, ~/.kube/config)
 *   exec.c        exec credential plugins (ExecCredential)
 *   auth.c        the credentials a client sends, refreshed on rotation
 *   status.c      Status objects to berth_error_t
 *   ratelimit.c   the token bucket
 *   client.c      the client: HTTP pool, retries, back-off, rate limit
 *   verbs.c       get, list, create, update, patch, delete, conflict loop
 *   watch.c       the incremental watch decoder and the watch verb
 *   informer.c    list+watch loop; informer_cache.c its indexed cache
 *   events.c      the Event recorder; lease.c Lease objects */
#ifndef BERTH_K8S_INT_H
#define BERTH_K8S_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "berth/buf.h"
#include "berth/http.h"
#include "berth/k8s.h"

/* Largest kubeconfig, token or credential file we read. */
#define BERTH__K8S_MAX_FILE_BYTES ((size_t)16 * 1024 * 1024)

/* Read a whole file into a new NUL-terminated string (free() it) of at
 * most max bytes. Errors name the path and say what was being read
 * (`what`, e.g. "token file"): BERTH_ENOTFOUND, BERTH_EIO, BERTH_ETOOBIG. */
berth_status_t berth__k8s_read_file(const char *path, size_t max,
                                    const char *what, char **out,
                                    size_t *out_len, berth_error_t *err);

/* Decode base64 text (white space ignored, padding required as in Go's
 * StdEncoding) into a new NUL-terminated buffer (free() it). */
berth_status_t berth__k8s_base64_decode(const char *in, char **out,
                                        size_t *out_len);

/* Encode len bytes as base64 into a new string (free() it). */
char *berth__k8s_base64_encode(const void *in, size_t len);

/* Parse an RFC 3339 time stamp ("2026-11-25T15:18:33Z",
 * "2026-11-25T15:18:33.123456+01:00") into ms since the epoch. */
berth_status_t berth__k8s_parse_time(const char *s, int64_t *out_ms);

/* Format ms since the epoch as metav1.Time ("2026-11-25T15:18:33Z"). */
void berth__k8s_format_time(int64_t ms, char *out, size_t outsize);

/* Format ms since the epoch as metav1.MicroTime
 * ("2026-11-25T15:18:33.123000Z"). */
void berth__k8s_format_microtime(int64_t ms, char *out, size_t outsize);

/* Append s to out percent-encoded for a URL path segment or query value
 * (everything but RFC 3986 unreserved characters is escaped). */
berth_status_t berth__k8s_append_escaped(berth_buf_t *out, const char *s);

/* Free a NUL-terminated secret after wiping it. Accepts NULL. */
void berth__k8s_free_secret(char *s);

/* Duplicate s (NULL gives NULL) into *dst; false when out of memory. */
bool berth__k8s_dup(const char *s, char **dst);

/* Deep-copy a configuration into *dst (uninitialised; set on success). */
berth_status_t berth__k8s_config_copy(const berth_k8s_config_t *src,
                                      berth_k8s_config_t *dst);

/* ---- Credentials (auth.c, exec.c) -------------------------------------- */

/* What the client sends to authenticate, and where it comes from. Shared by
 * every thread of a client, guarded by its own lock. */
typedef struct berth__k8s_auth berth__k8s_auth_t;

/* A snapshot of the credentials for one request. */
typedef struct berth__k8s_cred {
  char *token;         /* bearer token or NULL; secret */
  char *cert_data;     /* client certificate PEM from an exec plugin, or NULL */
  char *key_data;      /* its key; secret */
  uint64_t generation; /* changes whenever the TLS identity changes */
} berth__k8s_cred_t;

berth_status_t berth__k8s_auth_create(const berth_k8s_config_t *cfg,
                                      const berth_clock_t *clock,
                                      berth__k8s_auth_t **out,
                                      berth_error_t *err);
void berth__k8s_auth_destroy(berth__k8s_auth_t *auth);

/* Fill cred with the credentials to use now: the token file re-read when it
 * changed, the exec plugin run when its credential expired. */
berth_status_t berth__k8s_auth_get(berth__k8s_auth_t *auth,
                                   berth__k8s_cred_t *cred, berth_error_t *err);

/* The server answered 401 to a request made with cred: forget cached
 * credentials so that the next berth__k8s_auth_get fetches new ones.
 * Returns true when there is anything to refresh (a retry may help). */
bool berth__k8s_auth_invalidate(berth__k8s_auth_t *auth,
                                const berth__k8s_cred_t *cred);

void berth__k8s_cred_cleanup(berth__k8s_cred_t *cred);

/* The output of one exec plugin run. */
typedef struct berth__k8s_exec_result {
  char *token;
  char *cert_data;
  char *key_data;
  int64_t expires_ms; /* 0: no expiry */
} berth__k8s_exec_result_t;

/* Run the plugin of cfg->exec (no shell), with KUBERNETES_EXEC_INFO, and
 * parse its ExecCredential. */
berth_status_t berth__k8s_exec_run(const berth_k8s_config_t *cfg,
                                   long timeout_ms,
                                   berth__k8s_exec_result_t *out,
                                   berth_error_t *err);

/* Parse an ExecCredential document (the plugin's standard output) checked
 * against the configured api_version. */
berth_status_t berth__k8s_exec_parse(const char *api_version, const char *text,
                                     size_t len, berth__k8s_exec_result_t *out,
                                     berth_error_t *err);

void berth__k8s_exec_result_cleanup(berth__k8s_exec_result_t *r);

/* ---- Requests (client.c) ---------------------------------------------- */

/* One API request as the verbs describe it. */
typedef struct berth__k8s_req {
  const char *method;
  const char *path_and_query; /* "/api/v1/namespaces/x/pods?limit=5" */
  const char *content_type;   /* for a body */
  const char *body;
  size_t body_len;
  bool retry_unsafe; /* true: also retry 5xx and transport failures of a
                      * non-idempotent request (POST) */
} berth__k8s_req_t;

/* Send req with rate limiting, credentials, retries and back-off. On an
 * HTTP error status, the Status body is decoded into err and the matching
 * status returned; on success *out (may be NULL) gets the parsed body (a
 * new reference; NULL for an empty body). */
berth_status_t berth__k8s_request(berth_k8s_client_t *c,
                                  const berth__k8s_req_t *req, json_t **out,
                                  berth_error_t *err);

/* Open a stream (a watch) with the same credentials and rate limit, and
 * feed its bytes to on_data. Returns what berth_http_stream returns; an
 * HTTP error status (the body collected, at most 64 KiB) is decoded as a
 * Status into err; on_data sees only the bytes of a 2xx answer. A non-NULL
 * cancel stops the stream within BERTH_HTTP_CANCEL_POLL_MS of *cancel
 * becoming non-zero, even while no byte arrives (BERTH_ECANCELED). */
berth_status_t berth__k8s_stream(berth_k8s_client_t *c, const char *path,
                                 long idle_timeout_ms,
                                 const volatile int *cancel,
                                 berth_http_chunk_fn on_data, void *ctx,
                                 berth_error_t *err);

/* Build "/api/v1[/namespaces/<ns>]/<resource>[/<name>[/<sub>]]" (or the
 * /apis/<group>/<version> form) into out. */
berth_status_t berth__k8s_path(berth_buf_t *out,
                               const berth_k8s_resource_t *res, const char *ns,
                               const char *name, const char *subresource);

/* The client's clock and random source (never NULL). */
const berth_clock_t *berth__k8s_client_clock(const berth_k8s_client_t *c);
const berth_rand_t *berth__k8s_client_rand(const berth_k8s_client_t *c);

#endif /* BERTH_K8S_INT_H */
