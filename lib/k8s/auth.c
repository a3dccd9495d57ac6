/* SPDX-License-Identifier: Apache-2.0 */
/* The credentials a client sends, kept fresh. See lib/k8s/k8s_int.h.
 *
 * Three sources, as client-go's transport uses them:
 *  - a static token from the configuration;
 *  - a token file (tokenFile, or the in-cluster service-account token),
 *    re-read whenever the file changes: the kubelet rotates projected
 *    service-account tokens by swapping a symlink, which changes the
 *    inode, size or modification time that stat(2) reports (client-go
 *    re-reads once a minute; a stat per request is cheaper than a stale
 *    token);
 *  - an exec plugin, whose credential is cached until its
 *    expirationTimestamp, or until the server rejects it with 401.
 * A static token, token file or client certificate in the configuration
 * wins over an exec plugin, as in client-go's exec.Authenticator. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "berth/clock.h"
#include "k8s_int.h"

/* How long an exec plugin may run. */
#define EXEC_TIMEOUT_MS 60000L

struct berth__k8s_auth {
  pthread_mutex_t lock;
  const berth_k8s_config_t *cfg; /* borrowed from the client */
  const berth_clock_t *clock;
  char *token; /* the current bearer token; secret */
  /* The token file's identity when last read. */
  bool file_read;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  /* The exec plugin's cached credential. */
  bool use_exec;
  bool have_exec;
  berth__k8s_exec_result_t exec;
  uint64_t generation;
};

berth_status_t berth__k8s_auth_create(const berth_k8s_config_t *cfg,
                                      const berth_clock_t *clock,
                                      berth__k8s_auth_t **out,
                                      berth_error_t *err)
{
  berth__k8s_auth_t *a = calloc(1, sizeof(*a));

  if (a == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  pthread_mutex_init(&a->lock, NULL);
  a->cfg = cfg;
  a->clock = clock;
  if (!berth__k8s_dup(cfg->token, &a->token)) {
    berth__k8s_auth_destroy(a);
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  a->use_exec = cfg->exec != NULL && cfg->token == NULL &&
                cfg->token_file == NULL && cfg->client_cert_file == NULL &&
                cfg->client_cert_data == NULL;
  *out = a;
  return BERTH_OK;
}

void berth__k8s_auth_destroy(berth__k8s_auth_t *a)
{
  if (a == NULL)
    return;
  berth__k8s_free_secret(a->token);
  berth__k8s_exec_result_cleanup(&a->exec);
  pthread_mutex_destroy(&a->lock);
  free(a);
}

void berth__k8s_cred_cleanup(berth__k8s_cred_t *cred)
{
  if (cred == NULL)
    return;
  berth__k8s_free_secret(cred->token);
  free(cred->cert_data);
  berth__k8s_free_secret(cred->key_data);
  memset(cred, 0, sizeof(*cred));
}

/* Re-read the token file if it changed; the caller holds the lock. A read
 * that fails keeps the token we have, if any (the file may be between
 * rotations). */
static berth_status_t refresh_file(berth__k8s_auth_t *a, berth_error_t *err)
{
  struct stat sb;
  char *text = NULL;
  berth_status_t st;

  if (stat(a->cfg->token_file, &sb) == 0 && a->file_read &&
      sb.st_dev == a->dev && sb.st_ino == a->ino && sb.st_size == a->size &&
      sb.st_mtim.tv_sec == a->mtime.tv_sec &&
      sb.st_mtim.tv_nsec == a->mtime.tv_nsec)
    return BERTH_OK;
  st = berth__k8s_read_file(a->cfg->token_file, BERTH__K8S_MAX_FILE_BYTES,
                            "token file", &text, NULL, err);
  if (st != BERTH_OK)
    return a->token != NULL ? (berth_error_clear(err), BERTH_OK) : st;
  berth_str_trim(text);
  berth__k8s_free_secret(a->token);
  a->token = text;
  a->file_read = true;
  a->dev = sb.st_dev;
  a->ino = sb.st_ino;
  a->size = sb.st_size;
  a->mtime = sb.st_mtim;
  return BERTH_OK;
}

static berth_status_t refresh_exec(berth__k8s_auth_t *a, berth_error_t *err)
{
  berth__k8s_exec_result_t r;
  bool cert_changed;
  berth_status_t st;

  if (a->have_exec && (a->exec.expires_ms == 0 ||
                       berth_clock_realtime_ms(a->clock) < a->exec.expires_ms))
    return BERTH_OK;
  memset(&r, 0, sizeof(r));
  st = berth__k8s_exec_run(a->cfg, EXEC_TIMEOUT_MS, &r, err);
  if (st != BERTH_OK)
    return st;
  cert_changed =
      (r.cert_data == NULL) != (a->exec.cert_data == NULL) ||
      (r.cert_data != NULL && (strcmp(r.cert_data, a->exec.cert_data) != 0 ||
                               strcmp(r.key_data, a->exec.key_data) != 0));
  if (cert_changed)
    a->generation++;
  berth__k8s_exec_result_cleanup(&a->exec);
  a->exec = r;
  a->have_exec = true;
  return BERTH_OK;
}

berth_status_t berth__k8s_auth_get(berth__k8s_auth_t *a,
                                   berth__k8s_cred_t *cred, berth_error_t *err)
{
  const char *token = NULL;
  berth_status_t st = BERTH_OK;

  memset(cred, 0, sizeof(*cred));
  pthread_mutex_lock(&a->lock);
  if (a->cfg->token_file != NULL) {
    st = refresh_file(a, err);
    token = a->token;
  } else if (a->use_exec) {
    st = refresh_exec(a, err);
    if (st == BERTH_OK) {
      token = a->exec.token;
      if (!berth__k8s_dup(a->exec.cert_data, &cred->cert_data) ||
          !berth__k8s_dup(a->exec.key_data, &cred->key_data))
        st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    }
  } else {
    token = a->token;
  }
  if (st == BERTH_OK && !berth__k8s_dup(token, &cred->token))
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
  cred->generation = a->generation;
  pthread_mutex_unlock(&a->lock);
  if (st != BERTH_OK)
    berth__k8s_cred_cleanup(cred);
  return st;
}

bool berth__k8s_auth_invalidate(berth__k8s_auth_t *a,
                                const berth__k8s_cred_t *cred)
{
  bool retry = false;

  pthread_mutex_lock(&a->lock);
  if (a->cfg->token_file != NULL) {
    /* Read the file again even if stat sees no change. */
    a->file_read = false;
    retry = true;
  } else if (a->use_exec) {
    /* Only the credential that failed is dropped: another thread may
     * already have fetched a new one. */
    if (a->have_exec && cred->generation == a->generation &&
        ((cred->token == NULL && a->exec.token == NULL) ||
         (cred->token != NULL && a->exec.token != NULL &&
          strcmp(cred->token, a->exec.token) == 0))) {
      a->have_exec = false;
    }
    retry = true;
  }
  pthread_mutex_unlock(&a->lock);
  return retry;
}
