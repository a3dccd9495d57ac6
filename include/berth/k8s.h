/* SPDX-License-Identifier: Apache-2.0 */
/* berth: a Kubernetes API client.
 *
 * Three layers, each usable on its own:
 *
 *  1. Configuration (berth_k8s_config_t): where the API server is and how
 *     to authenticate, resolved exactly as client-go (controller-runtime's
 *     GetConfig) resolves it: an explicit kubeconfig file, then
 *     $KUBECONFIG (a colon-separated list, merged: the first file that sets
 *     a key wins), then the in-cluster service account, then
 *     ~/.kube/config.
 *  2. A client (berth_k8s_client_t): verbs on any resource named by
 *     group/version/resource, a token-bucket rate limit, Retry-After and
 *     jittered back-off, a time-out on every request, credentials refreshed
 *     when a token file rotates or an exec credential expires. API errors
 *     are decoded from the server's Status object into berth_error_t.
 *  3. Watches (berth_k8s_watch, include/berth/k8s_watch.h) and informers
 *     (include/berth/k8s_informer.h), Events (k8s_events.h), Leases
 *     (k8s_lease.h).
 *
 * Threads: a berth_k8s_client_t may be used by any number of threads at
 * once (it keeps a pool of HTTP connections, one per concurrent request).
 * Configuration structs are plain data owned by one thread.
 *
 * JSON: objects are jansson values. Functions that return a json_t * give
 * a new reference (json_decref() it); objects passed in are borrowed and
 * never modified. */
#ifndef BERTH_K8S_H
#define BERTH_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "berth/clock.h"
#include "berth/k8s_watch.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Configuration ----------------------------------------------------- */

/* The in-cluster service-account directory (token, ca.crt, namespace). The
 * environment variable BERTH_K8S_SERVICEACCOUNT_DIR overrides it, for tests
 * and for unusual mounts. */
#define BERTH_K8S_SERVICEACCOUNT_DIR                                           \
  "/var/run/secrets/kubernetes.io/serviceaccount"

/* An exec credential plugin (kubeconfig users[].user.exec). */
typedef struct berth_k8s_exec_config {
  char *api_version;      /* client.authentication.k8s.io/v1 or v1beta1 */
  char *command;          /* run without a shell: a path or a $PATH name */
  char **args;            /* NULL-terminated; may be NULL */
  char **env;             /* extra "NAME=value" entries, NULL-terminated */
  char *interactive_mode; /* Never, IfAvailable or Always */
  char *install_hint;     /* shown when the command cannot be run */
  bool provide_cluster_info;
} berth_k8s_exec_config_t;

/* A resolved configuration. Every string is owned by the struct (NULL when
 * unset); secrets are wiped by berth_k8s_config_cleanup(). */
typedef struct berth_k8s_config {
  char *server;         /* "https://host:port[/prefix]", no trailing '/' */
  char *namespace_name; /* the default namespace, never NULL once loaded */
  char *ca_file;        /* trust anchors as a file ... */
  char *ca_data;        /* ... or PEM text (decoded from base64) */
  char *client_cert_file;
  char *client_cert_data; /* PEM */
  char *client_key_file;
  char *client_key_data; /* PEM; secret */
  bool insecure_skip_tls_verify;
  char *tls_server_name; /* parsed but not yet supported by the transport */
  char *token;           /* secret */
  char *token_file;      /* re-read when it changes (rotation) */
  berth_k8s_exec_config_t *exec; /* NULL when none */
  /* Where it came from, for messages: "in-cluster" or the kubeconfig
   * file(s), and the selected context, cluster and user names. */
  char *source;
  char *context_name;
  char *cluster_name;
  char *user_name;
  bool in_cluster;
} berth_k8s_config_t;

/* How to resolve a configuration. Zero-initialise; every field is
 * optional. Strings are borrowed for the duration of the call. */
typedef struct berth_k8s_config_options {
  /* --kubeconfig: use this file only (it must exist). */
  const char *kubeconfig;
  /* --context: use this context instead of current-context. */
  const char *context;
  /* --namespace: override the context's (or service account's) namespace. */
  const char *namespace_name;
  /* The in-cluster directory; NULL: $BERTH_K8S_SERVICEACCOUNT_DIR, else
   * BERTH_K8S_SERVICEACCOUNT_DIR. */
  const char *serviceaccount_dir;
} berth_k8s_config_options_t;

/* Zero a configuration. */
void berth_k8s_config_init(berth_k8s_config_t *cfg);

/* Free what a configuration owns (wiping secrets) and zero it. Accepts
 * NULL. */
void berth_k8s_config_cleanup(berth_k8s_config_t *cfg);

/* Resolve the configuration as client-go does (see the top of this file)
 * into *out (initialised with berth_k8s_config_init), which is replaced
 * only on success; clean it up with berth_k8s_config_cleanup.
 * In-cluster means both KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT
 * are set; it is tried only when no kubeconfig was named and $KUBECONFIG is
 * unset or empty. Errors name the file and the field at fault ("kubeconfig
 * /home/a/.kube/config: users[0].user.client-key-data (invalid base64)"). */
berth_status_t berth_k8s_config_load(const berth_k8s_config_options_t *opts,
                                     berth_k8s_config_t *out,
                                     berth_error_t *err);

/* Load and merge the given kubeconfig files in order (the first file that
 * sets a cluster, user or context name, or current-context, wins; missing
 * files are skipped unless `must_exist`), select `context` (NULL:
 * current-context) and fill *out (initialised; replaced only on success).
 * Relative file references are resolved against the directory of the file
 * that holds them. */
berth_status_t berth_k8s_config_from_kubeconfig(const char *const *paths,
                                                size_t npaths, bool must_exist,
                                                const char *context,
                                                berth_k8s_config_t *out,
                                                berth_error_t *err);

/* The in-cluster configuration: server from KUBERNETES_SERVICE_HOST and
 * KUBERNETES_SERVICE_PORT, token (re-read on rotation), ca.crt and
 * namespace (after $POD_NAMESPACE) from sa_dir (NULL: as in
 * berth_k8s_config_options_t). BERTH_ENOTFOUND when not in a cluster. */
berth_status_t berth_k8s_config_in_cluster(const char *sa_dir,
                                           berth_k8s_config_t *out,
                                           berth_error_t *err);

/* ---- Client ------------------------------------------------------------ */

typedef struct berth_k8s_client berth_k8s_client_t;

#define BERTH_K8S_DEFAULT_QPS 50.0
#define BERTH_K8S_DEFAULT_BURST 100
#define BERTH_K8S_DEFAULT_TIMEOUT_MS 30000L
#define BERTH_K8S_DEFAULT_MAX_RETRIES 5
#define BERTH_K8S_DEFAULT_BACKOFF_BASE_MS 100
#define BERTH_K8S_DEFAULT_BACKOFF_CAP_MS 5000
#define BERTH_K8S_DEFAULT_MAX_RETRY_AFTER_MS 60000

/* Zero-initialise (or berth_k8s_client_options_init) and set what you
 * need; 0 means the default. */
typedef struct berth_k8s_client_options {
  double qps;      /* --kube-api-qps; < 0 disables rate limiting */
  int burst;       /* --kube-api-burst */
  long timeout_ms; /* each request (not watches) */
  long connect_timeout_ms;
  /* Retries of one request after 429, 5xx or a transport failure; < 0 for
   * none. POST is retried only when the server said it did not act (429,
   * or a 5xx with Retry-After). */
  int max_retries;
  int64_t backoff_base_ms; /* full-jitter exponential back-off */
  int64_t backoff_cap_ms;
  int64_t max_retry_after_ms; /* longest Retry-After honoured as given */
  const berth_clock_t *clock; /* NULL: the system clock */
  const berth_rand_t *rand;   /* NULL: the system random source */
  const char *user_agent;     /* NULL: "berth/<version>" */
  /* Optional: called after every HTTP attempt of a request (retries
   * included, watches not), from the requesting thread, with the method
   * ("GET"), the HTTP status (0: no answer) and the seconds it took: what
   * client-go's rest_client_* metrics count. */
  void (*observe)(void *ctx, const char *method, long code, double seconds);
  void *observe_ctx;
} berth_k8s_client_options_t;

/* Zero an options struct. */
void berth_k8s_client_options_init(berth_k8s_client_options_t *opts);

/* Create a client for cfg (copied: the caller may clean it up afterwards)
 * into *out (set only on success). Checks that the files cfg names can be
 * read; makes no request. */
berth_status_t berth_k8s_client_create(const berth_k8s_config_t *cfg,
                                       const berth_k8s_client_options_t *opts,
                                       berth_k8s_client_t **out,
                                       berth_error_t *err);

/* Free the client. No request may be running. Accepts NULL. */
void berth_k8s_client_destroy(berth_k8s_client_t *c);

/* The configuration's default namespace. Borrowed, never NULL. */
const char *berth_k8s_client_namespace(const berth_k8s_client_t *c);

/* Counters since creation, for logs and benchmarks. */
typedef struct berth_k8s_client_stats {
  uint64_t requests;        /* HTTP requests sent, retries included */
  uint64_t retries;         /* of them, retries */
  uint64_t throttled;       /* 429 answers */
  uint64_t rate_limited_ms; /* total time spent waiting for the limiter */
} berth_k8s_client_stats_t;

/* Copy the client's counters into *out. Thread-safe. */
void berth_k8s_client_get_stats(berth_k8s_client_t *c,
                                berth_k8s_client_stats_t *out);

/* ---- Resources --------------------------------------------------------- */

/* A resource type: group ("" for the core group), version, plural resource
 * name, kind, and whether objects live in namespaces. */
typedef struct berth_k8s_resource {
  const char *group;
  const char *version;
  const char *resource;
  const char *kind;
  bool namespaced;
} berth_k8s_resource_t;

extern const berth_k8s_resource_t berth_k8s_res_namespaces;
extern const berth_k8s_resource_t berth_k8s_res_nodes;
extern const berth_k8s_resource_t berth_k8s_res_pods;
extern const berth_k8s_resource_t berth_k8s_res_services;
extern const berth_k8s_resource_t berth_k8s_res_endpoints;
extern const berth_k8s_resource_t berth_k8s_res_events;
extern const berth_k8s_resource_t berth_k8s_res_secrets;
extern const berth_k8s_resource_t berth_k8s_res_configmaps;
extern const berth_k8s_resource_t berth_k8s_res_persistentvolumes;
extern const berth_k8s_resource_t berth_k8s_res_persistentvolumeclaims;
extern const berth_k8s_resource_t berth_k8s_res_storageclasses;
extern const berth_k8s_resource_t berth_k8s_res_volumeattachments;
extern const berth_k8s_resource_t berth_k8s_res_csinodes;
extern const berth_k8s_resource_t berth_k8s_res_leases;

/* "group/version" or "version" for the core group, into out. */
void berth_k8s_resource_api_version(const berth_k8s_resource_t *res, char *out,
                                    size_t outsize);

/* ---- Verbs ------------------------------------------------------------- */
/* `ns` is ignored for cluster-scoped resources; for namespaced ones NULL
 * means "all namespaces" for list and watch, and the client's default
 * namespace for the other verbs (create and update first look at the
 * object's metadata.namespace). API errors: BERTH_ENOTFOUND (404),
 * BERTH_EEXIST (409 AlreadyExists), BERTH_ECONFLICT (409 Conflict),
 * BERTH_EGONE (410), BERTH_EINVAL (400, 422 Invalid), BERTH_EUNAUTHORIZED,
 * BERTH_EFORBIDDEN, BERTH_ETHROTTLED, BERTH_EUNAVAILABLE; err gets the HTTP
 * code and the Status reason and message. */

/* GET one object into *out (new reference). */
berth_status_t berth_k8s_get(berth_k8s_client_t *c,
                             const berth_k8s_resource_t *res, const char *ns,
                             const char *name, json_t **out,
                             berth_error_t *err);

typedef struct berth_k8s_list_options {
  const char *label_selector;
  const char *field_selector;
  long limit;                 /* page size; 0: no limit */
  const char *continue_token; /* from a previous page's metadata.continue */
  const char *resource_version;
  const char *resource_version_match; /* "Exact", "NotOlderThan" */
} berth_k8s_list_options_t;

/* One page of a list: the List object (items, metadata.resourceVersion,
 * metadata.continue) into *out. opts may be NULL. */
berth_status_t berth_k8s_list(berth_k8s_client_t *c,
                              const berth_k8s_resource_t *res, const char *ns,
                              const berth_k8s_list_options_t *opts,
                              json_t **out, berth_error_t *err);

/* Every page (opts->limit per page, 500 when 0) joined into one List whose
 * metadata.resourceVersion is the consistent snapshot's. When a continue
 * token expires (410) the list restarts once without paging, as client-go's
 * pager does. */
berth_status_t berth_k8s_list_all(berth_k8s_client_t *c,
                                  const berth_k8s_resource_t *res,
                                  const char *ns,
                                  const berth_k8s_list_options_t *opts,
                                  json_t **out, berth_error_t *err);

/* POST obj; the created object into *out (may be NULL). */
berth_status_t berth_k8s_create(berth_k8s_client_t *c,
                                const berth_k8s_resource_t *res, const char *ns,
                                const json_t *obj, json_t **out,
                                berth_error_t *err);

/* PUT obj (named by its metadata.name; its metadata.resourceVersion makes
 * the update conditional). */
berth_status_t berth_k8s_update(berth_k8s_client_t *c,
                                const berth_k8s_resource_t *res, const char *ns,
                                const json_t *obj, json_t **out,
                                berth_error_t *err);

/* PUT obj to the status subresource. */
berth_status_t berth_k8s_update_status(berth_k8s_client_t *c,
                                       const berth_k8s_resource_t *res,
                                       const char *ns, const json_t *obj,
                                       json_t **out, berth_error_t *err);

typedef enum berth_k8s_patch_type {
  BERTH_K8S_PATCH_MERGE = 0, /* application/merge-patch+json (RFC 7386) */
  BERTH_K8S_PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
  BERTH_K8S_PATCH_STRATEGIC  /* application/strategic-merge-patch+json */
} berth_k8s_patch_type_t;

/* PATCH the object (or its subresource, e.g. "status"; NULL for none). */
berth_status_t berth_k8s_patch(berth_k8s_client_t *c,
                               const berth_k8s_resource_t *res, const char *ns,
                               const char *name, const char *subresource,
                               berth_k8s_patch_type_t type, const json_t *patch,
                               json_t **out, berth_error_t *err);

typedef struct berth_k8s_delete_options {
  const char *precondition_uid;              /* delete only this uid */
  const char *precondition_resource_version; /* ... at this version */
  const char *propagation_policy; /* "Foreground", "Background", "Orphan" */
  long long grace_period_seconds; /* < 0 (or a zeroed struct with
                                   * has_grace_period false): server default */
  bool has_grace_period;
} berth_k8s_delete_options_t;

/* DELETE with optional preconditions (a failed precondition is
 * BERTH_ECONFLICT). *out (may be NULL) gets the server's answer: the object
 * (with deletionTimestamp when finalizers hold it) or a Status. */
berth_status_t berth_k8s_delete(berth_k8s_client_t *c,
                                const berth_k8s_resource_t *res, const char *ns,
                                const char *name,
                                const berth_k8s_delete_options_t *opts,
                                json_t **out, berth_error_t *err);

typedef struct berth_k8s_watch_options {
  const char *resource_version; /* start after this version; NULL: now */
  const char *label_selector;
  const char *field_selector;
  bool allow_bookmarks;  /* allowWatchBookmarks=true */
  long timeout_seconds;  /* server-side timeoutSeconds; 0: none */
  long idle_timeout_ms;  /* no byte for this long ends the watch with
                          * BERTH_ETIMEOUT; 0: 5 minutes; < 0: none */
  size_t max_line_bytes; /* 0: BERTH_K8S_WATCH_DEFAULT_MAX_LINE */
  /* Objects without metadata.managedFields, cut before parsing
   * (berth_k8s_watch_decoder_drop_managed_fields). */
  bool drop_managed_fields;
  /* Once another thread sets it non-zero, the watch ends with
   * BERTH_ECANCELED within BERTH_HTTP_CANCEL_POLL_MS, even on a silent
   * stream. May be NULL. */
  const volatile int *cancel;
  /* Decode each batch of received events in a decode arena (see
   * berth_k8s_informer_use_arenas; no effect without it). For libberth's
   * compact informers, which copy what they keep out of the arena: any
   * other fn must keep no jansson value after it returns. */
  bool decode_arena;
} berth_k8s_watch_options_t;

/* Watch a resource: call fn for each event as it is decoded, until the
 * server ends the stream (BERTH_OK), fn returns anything but BERTH_OK
 * (returned as is), the stream breaks (BERTH_ETRANSPORT, BERTH_ETIMEOUT),
 * or an ERROR event arrives (fn sees it first; then the Status is decoded
 * into err and its status returned: BERTH_EGONE for 410 Expired). An HTTP
 * error answer is decoded the same way. Lines that are not valid events
 * are logged and skipped. */
berth_status_t berth_k8s_watch(berth_k8s_client_t *c,
                               const berth_k8s_resource_t *res, const char *ns,
                               const berth_k8s_watch_options_t *opts,
                               berth_k8s_watch_event_fn fn, void *ctx,
                               berth_error_t *err);

/* ---- Status and conflicts ---------------------------------------------- */

/* Decode an API error answer: the Status object in body (len bytes; a body
 * that is not a Status is summarised instead) and the HTTP code. Fills err
 * (http_code, reason, message with the details' kind/name and causes) and
 * returns the matching status: NotFound BERTH_ENOTFOUND, AlreadyExists
 * BERTH_EEXIST, Conflict BERTH_ECONFLICT, Gone/Expired BERTH_EGONE,
 * Invalid/BadRequest BERTH_EINVAL, Unauthorized, Forbidden,
 * TooManyRequests BERTH_ETHROTTLED, ServerTimeout/Timeout/InternalError/
 * ServiceUnavailable BERTH_EUNAVAILABLE, else from the HTTP code. A 2xx
 * code with a Status whose status is not "Failure" gives BERTH_OK.
 * *retry_after_ms (may be NULL) gets details.retryAfterSeconds in ms, or
 * -1. */
berth_status_t berth_k8s_status_decode(long http_code, const char *body,
                                       size_t len, int64_t *retry_after_ms,
                                       berth_error_t *err);

/* The same for a parsed Status object (a watch ERROR event's object).
 * http_code 0 means "take Status.code". */
berth_status_t berth_k8s_status_decode_json(long http_code,
                                            const json_t *status,
                                            int64_t *retry_after_ms,
                                            berth_error_t *err);

/* Change obj (a private deep copy, owned by the loop) for the next update
 * attempt. Return BERTH_OK to write it, BERTH_ECANCELED to stop without
 * writing (berth_k8s_update_with_retry then returns BERTH_OK with *out
 * the unchanged object), anything else to fail. */
typedef berth_status_t (*berth_k8s_mutate_fn)(void *ctx, json_t *obj,
                                              berth_error_t *err);

/* The usual conflict loop: GET the object, let mutate change it, PUT it
 * (to the status subresource when `status`), and on 409 Conflict start
 * again, at most max_attempts times (0: 5) with a short jittered pause, as
 * client-go's retry.RetryOnConflict. *out (may be NULL) gets the written
 * object. */
berth_status_t berth_k8s_update_with_retry(
    berth_k8s_client_t *c, const berth_k8s_resource_t *res, const char *ns,
    const char *name, bool status, berth_k8s_mutate_fn mutate, void *ctx,
    unsigned max_attempts, json_t **out, berth_error_t *err);

/* One attempt of an operation for berth_k8s_retry_on_conflict. */
typedef berth_status_t (*berth_k8s_attempt_fn)(void *ctx, berth_error_t *err);

/* Call fn until it returns something other than BERTH_ECONFLICT, at most
 * max_attempts times (0: 5), pausing 10 ms +/- jitter between attempts
 * through the client's clock. Returns fn's last status. */
berth_status_t berth_k8s_retry_on_conflict(berth_k8s_client_t *c,
                                           unsigned max_attempts,
                                           berth_k8s_attempt_fn fn, void *ctx,
                                           berth_error_t *err);

/* ---- Small object helpers ---------------------------------------------- */

/* Borrowed metadata strings of obj, or NULL when missing. */
const char *berth_k8s_obj_namespace(const json_t *obj);
const char *berth_k8s_obj_name(const json_t *obj);
const char *berth_k8s_obj_uid(const json_t *obj);
const char *berth_k8s_obj_resource_version(const json_t *obj);
/* metadata.labels[key] or metadata.annotations[key], or NULL. */
const char *berth_k8s_obj_label(const json_t *obj, const char *key);
const char *berth_k8s_obj_annotation(const json_t *obj, const char *key);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_K8S_H */
