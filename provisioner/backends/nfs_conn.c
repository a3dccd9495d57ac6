/* SPDX-License-Identifier: Apache-2.0 */
/* One NFS connection per export, made on first use and reused.
 *
 * A berth_nfs_t is not thread-safe, so each export's connection has its
 * own lock, held for a whole backend operation: operations on one export
 * run one at a time, operations on distinct exports in parallel. The list
 * of exports only grows (a provisioner serves a handful of them, named by
 * its StorageClasses) and is freed with the pool.
 *
 * lib/nfs does not reconnect by itself: when a call fails because the
 * connection is gone (BERTH_ETRANSPORT, or an EIO after which the server
 * does not answer on this connection; for example it restarted) the
 * handle is dropped, a new one is made and the operation runs once more;
 * after BERTH_ETIMEOUT the handle is dropped and the error returned, so
 * that a hung server costs one timeout per call, not two. */
#include "backends/nfs_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct nfsb_conn {
  struct nfsb_conn *next;
  char *url; /* owned, the key */
  pthread_mutex_t lock;
  berth_nfs_t *nfs; /* owned; NULL until connected, or after a failure */
} nfsb_conn_t;

struct berth__nfsb_pool {
  pthread_mutex_t lock; /* guards the list, not the connections */
  nfsb_conn_t *conns;
  int timeout_ms;
};

berth_status_t berth__nfsb_pool_create(int timeout_ms, berth__nfsb_pool_t **out,
                                       berth_error_t *err)
{
  berth__nfsb_pool_t *pool = calloc(1, sizeof(*pool));

  if (pool == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "nfs backend: out of memory");
  pthread_mutex_init(&pool->lock, NULL);
  pool->timeout_ms = timeout_ms > 0 ? timeout_ms : BERTH_NFS_DEFAULT_TIMEOUT_MS;
  *out = pool;
  return BERTH_OK;
}

void berth__nfsb_pool_destroy(berth__nfsb_pool_t *pool)
{
  nfsb_conn_t *c;
  nfsb_conn_t *next;

  if (pool == NULL)
    return;
  for (c = pool->conns; c != NULL; c = next) {
    next = c->next;
    berth_nfs_destroy(c->nfs);
    pthread_mutex_destroy(&c->lock);
    free(c->url);
    free(c);
  }
  pthread_mutex_destroy(&pool->lock);
  free(pool);
}

/* The entry for url, added when missing. NULL when out of memory. */
static nfsb_conn_t *nfsb_pool_entry(berth__nfsb_pool_t *pool, const char *url)
{
  nfsb_conn_t *c;

  pthread_mutex_lock(&pool->lock);
  for (c = pool->conns; c != NULL; c = c->next) {
    if (strcmp(c->url, url) == 0)
      goto done;
  }
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    goto done;
  c->url = strdup(url);
  if (c->url == NULL) {
    free(c);
    c = NULL;
    goto done;
  }
  pthread_mutex_init(&c->lock, NULL);
  c->next = pool->conns;
  pool->conns = c;

done:
  pthread_mutex_unlock(&pool->lock);
  return c;
}

/* Connect c if it has no handle. c->lock held. */
static berth_status_t nfsb_conn_ensure(berth__nfsb_pool_t *pool, nfsb_conn_t *c,
                                       berth_error_t *err)
{
  if (c->nfs != NULL)
    return BERTH_OK;
  return berth_nfs_connect_timeout(c->url, pool->timeout_ms, &c->nfs, err);
}

static void nfsb_conn_drop(nfsb_conn_t *c)
{
  berth_nfs_destroy(c->nfs);
  c->nfs = NULL;
}

/* Did the call fail because the connection is gone? libnfs reports a
 * connection that the server reset during a call as a plain EIO ("nfs_service
 * failed"), which a server's own I/O error also gives; a GETATTR of the
 * export's root tells them apart. c->lock held. */
static bool nfsb_conn_lost(nfsb_conn_t *c, berth_status_t st)
{
  berth_nfs_stat_t sb;

  if (st == BERTH_ETRANSPORT || st == BERTH_ETIMEOUT)
    return true;
  return st == BERTH_EIO && berth_nfs_stat(c->nfs, "", &sb, NULL) != BERTH_OK;
}

berth_status_t berth__nfsb_pool_run(berth__nfsb_pool_t *pool, const char *url,
                                    berth__nfsb_op_fn fn, void *ctx,
                                    berth_error_t *err)
{
  berth_status_t st;
  nfsb_conn_t *c;
  int attempt;

  c = nfsb_pool_entry(pool, url);
  if (c == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "nfs backend: out of memory");
  pthread_mutex_lock(&c->lock);
  for (attempt = 0;; attempt++) {
    bool fresh = c->nfs == NULL;
    bool lost;

    st = nfsb_conn_ensure(pool, c, err);
    if (st != BERTH_OK)
      break;
    st = fn(c->nfs, ctx, err);
    lost = st != BERTH_OK && nfsb_conn_lost(c, st);
    if (lost) {
      nfsb_conn_drop(c);
      if (st == BERTH_EIO) {
        st = BERTH_ETRANSPORT;
        if (err != NULL) {
          err->status = st;
          berth_error_prefix(err, "connection to the NFS server lost");
        }
      }
    }
    /* Once more on a new connection, unless this one was new already or
     * the server is not answering at all. */
    if (!lost || st == BERTH_ETIMEOUT || fresh || attempt > 0)
      break;
  }
  pthread_mutex_unlock(&c->lock);
  return st;
}
