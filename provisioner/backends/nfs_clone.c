/* SPDX-License-Identifier: Apache-2.0 */
/* Copying a volume's tree into a new one on the same export, for a claim
 * cloned from another claim (berth__nfsb_copy_tree).
 *
 * One thread walks the source depth-first, as the other walks of
 * nfs_tree.c do: it descends only into entries that the listing and a
 * fresh lstat both call directories, makes directories, symbolic links
 * (their content read and written as it is, never resolved, so a link
 * that points out of the source is copied as a link and never followed)
 * and empty regular files, and hands the contents of regular files to a
 * few worker threads, each with its own libnfs context, through a
 * bounded queue. Memory is bounded by the depth of the tree (one listing
 * per open level, which libnfs reads whole), the queue and one buffer per
 * worker; nothing holds the whole tree.
 *
 * What is copied: regular files (contents, mode, owner, times),
 * directories (mode, owner, times, set after their entries so that making
 * the entries does not change them), symbolic links (content, owner,
 * times). Not copied: hard links are copied as separate files (keeping
 * them linked needs a map of every linked inode, which is not bounded);
 * FIFOs, sockets and devices are skipped and counted (the progress
 * callback and the Events say how many). The copy runs as the
 * provisioner's AUTH_SYS identity, root, so the export must not squash
 * root (chown needs that already).
 *
 * Times: the times of files and links are set once their contents are
 * written; a directory's after its entries exist. NFSv3 through libnfs
 * keeps microseconds, NFSv4 nanoseconds. */
#include "backends/nfs_int.h"

#include "berth/buf.h"
#include "berth/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFSB_COPY_BUF (256u * 1024u) /* bytes per READ/WRITE */
#define NFSB_COPY_QUEUE 16           /* files waiting for a worker */
#define NFSB_COPY_PROGRESS_MS 1000   /* between progress reports */
#define NFSB_QUOTED 96

typedef struct nfsb_job {
  char *src; /* owned */
  char *dst; /* owned */
  berth_nfs_stat_t sb;
} nfsb_job_t;

typedef struct nfsb_copier {
  berth__nfsb_copy_t *cp;
  berth_nfs_t *nfs; /* the walker's connection */
  unsigned depth;
  int64_t last_report_ms;

  pthread_mutex_t lock;
  pthread_cond_t changed; /* a job queued or done, stop set */
  nfsb_job_t queue[NFSB_COPY_QUEUE];
  size_t head;
  size_t count;
  unsigned busy; /* jobs taken by workers, not yet done */
  bool closed;   /* no more jobs will come */
  bool stop;     /* a failure or a cancel: everyone stops */
  berth_status_t status;
  berth_error_t err; /* the first failure */
  uint64_t files;
  uint64_t bytes;
  uint64_t skipped;
} nfsb_copier_t;

/* Record the first failure and stop everyone. */
static berth_status_t nfsb_fail(nfsb_copier_t *k, berth_status_t st,
                                const berth_error_t *err)
{
  pthread_mutex_lock(&k->lock);
  if (!k->stop) {
    k->stop = true;
    k->status = st;
    if (err != NULL)
      k->err = *err;
    else
      berth_error_set(&k->err, st, "clone: %s", berth_strerror(st));
  }
  pthread_cond_broadcast(&k->changed);
  pthread_mutex_unlock(&k->lock);
  return st;
}

static bool nfsb_stopped(nfsb_copier_t *k)
{
  bool stop;

  pthread_mutex_lock(&k->lock);
  stop = k->stop;
  pthread_mutex_unlock(&k->lock);
  return stop;
}

static void nfsb_count(nfsb_copier_t *k, uint64_t files, uint64_t bytes,
                       uint64_t skipped)
{
  pthread_mutex_lock(&k->lock);
  k->files += files;
  k->bytes += bytes;
  k->skipped += skipped;
  pthread_mutex_unlock(&k->lock);
}

/* Ask the controller whether to go on, and report progress now and then
 * (and at the end, done). Walker thread only. */
static berth_status_t nfsb_checkpoint(nfsb_copier_t *k, bool done)
{
  const berth_clone_source_t *h = k->cp->hooks;
  int64_t now = berth_clock_monotonic_ms(NULL);
  uint64_t files, bytes, skipped;

  if (h != NULL && h->cancelled != NULL && !done && h->cancelled(h->ctx)) {
    berth_error_t e;

    berth_error_set(&e, BERTH_ECANCELED,
                    "clone cancelled (the claim was deleted or the lease "
                    "lost)");
    return nfsb_fail(k, BERTH_ECANCELED, &e);
  }
  if (h == NULL || h->progress == NULL ||
      (!done && now - k->last_report_ms < NFSB_COPY_PROGRESS_MS))
    return nfsb_stopped(k) ? BERTH_ECANCELED : BERTH_OK;
  k->last_report_ms = now;
  pthread_mutex_lock(&k->lock);
  files = k->files;
  bytes = k->bytes;
  skipped = k->skipped;
  pthread_mutex_unlock(&k->lock);
  h->progress(h->ctx, files, bytes, skipped, done);
  return nfsb_stopped(k) ? BERTH_ECANCELED : BERTH_OK;
}

/* Owner, then mode (a server may clear set-id bits on chown), then times
 * (chown and chmod change only ctime). Links have no mode of their own. */
static berth_status_t nfsb_set_attrs(berth_nfs_t *nfs, const char *path,
                                     const berth_nfs_stat_t *sb,
                                     berth_error_t *err)
{
  berth_status_t st;

  st = berth_nfs_chown(nfs, path, sb->uid, sb->gid, err);
  if (st == BERTH_OK && sb->type != BERTH_NFS_TYPE_SYMLINK)
    st = berth_nfs_chmod(nfs, path, sb->mode, err);
  if (st == BERTH_OK)
    st = berth_nfs_utimes(nfs, path, sb->atime_sec, sb->atime_nsec,
                          sb->mtime_sec, sb->mtime_nsec, err);
  return st;
}

/* ---- workers: file contents ------------------------------------------ */

static berth_status_t nfsb_copy_contents(nfsb_copier_t *k, berth_nfs_t *nfs,
                                         const nfsb_job_t *job, char *buf,
                                         berth_error_t *err)
{
  berth_nfs_file_t *in = NULL;
  berth_nfs_file_t *out = NULL;
  berth_status_t st, cst;
  uint64_t off = 0;
  size_t got = 0;

  st = berth_nfs_open(nfs, job->src, BERTH_NFS_OPEN_READ, 0, &in, err);
  if (st == BERTH_OK)
    st = berth_nfs_open(nfs, job->dst, BERTH_NFS_OPEN_WRITE, 0, &out, err);
  while (st == BERTH_OK) {
    if (nfsb_stopped(k)) {
      st = BERTH_ECANCELED;
      break;
    }
    st = berth_nfs_pread(in, off, buf, NFSB_COPY_BUF, &got, err);
    if (st != BERTH_OK || got == 0)
      break;
    st = berth_nfs_pwrite(out, off, buf, got, err);
    if (st == BERTH_OK) {
      off += got;
      nfsb_count(k, 0, got, 0);
    }
  }
  cst = berth_nfs_close(out, st == BERTH_OK ? err : NULL);
  if (st == BERTH_OK)
    st = cst;
  berth_nfs_close(in, NULL);
  if (st == BERTH_OK)
    st = nfsb_set_attrs(nfs, job->dst, &job->sb, err);
  if (st == BERTH_OK)
    nfsb_count(k, 1, 0, 0);
  return st;
}

/* Take the next job, or false when there are none and none will come. */
static bool nfsb_take(nfsb_copier_t *k, nfsb_job_t *job)
{
  bool got = false;

  pthread_mutex_lock(&k->lock);
  while (k->count == 0 && !k->closed)
    pthread_cond_wait(&k->changed, &k->lock);
  if (k->count > 0) {
    *job = k->queue[k->head];
    k->head = (k->head + 1) % NFSB_COPY_QUEUE;
    k->count--;
    k->busy++;
    got = true;
    pthread_cond_broadcast(&k->changed);
  }
  pthread_mutex_unlock(&k->lock);
  return got;
}

static void nfsb_done(nfsb_copier_t *k, nfsb_job_t *job)
{
  free(job->src);
  free(job->dst);
  pthread_mutex_lock(&k->lock);
  k->busy--;
  pthread_cond_broadcast(&k->changed);
  pthread_mutex_unlock(&k->lock);
}

static void *nfsb_worker(void *arg)
{
  nfsb_copier_t *k = arg;
  berth_nfs_t *nfs = NULL;
  berth_error_t err;
  berth_status_t st;
  nfsb_job_t job;
  char *buf;

  berth_error_clear(&err);
  buf = malloc(NFSB_COPY_BUF);
  st =
      buf != NULL
          ? berth_nfs_connect_timeout(k->cp->url, k->cp->timeout_ms, &nfs, &err)
          : berth_error_set(&err, BERTH_ENOMEM, "clone: out of memory");
  if (st != BERTH_OK)
    nfsb_fail(k, st, &err);
  while (nfsb_take(k, &job)) {
    if (st == BERTH_OK && !nfsb_stopped(k)) {
      st = nfsb_copy_contents(k, nfs, &job, buf, &err);
      if (st != BERTH_OK)
        nfsb_fail(k, st, &err);
    }
    nfsb_done(k, &job);
  }
  berth_nfs_destroy(nfs);
  free(buf);
  return NULL;
}

/* ---- the walker ------------------------------------------------------ */

/* Queue a file's contents for a worker; waits while the queue is full.
 * Takes src and dst. */
static berth_status_t nfsb_enqueue(nfsb_copier_t *k, char *src, char *dst,
                                   const berth_nfs_stat_t *sb)
{
  berth_status_t st = BERTH_OK;
  nfsb_job_t *job;

  pthread_mutex_lock(&k->lock);
  while (k->count == NFSB_COPY_QUEUE && !k->stop)
    pthread_cond_wait(&k->changed, &k->lock);
  if (k->stop) {
    st = BERTH_ECANCELED;
  } else {
    job = &k->queue[(k->head + k->count) % NFSB_COPY_QUEUE];
    job->src = src;
    job->dst = dst;
    job->sb = *sb;
    k->count++;
    src = dst = NULL;
    pthread_cond_broadcast(&k->changed);
  }
  pthread_mutex_unlock(&k->lock);
  free(src);
  free(dst);
  return st;
}

static berth_status_t nfsb_copy_dir(nfsb_copier_t *k, const char *src,
                                    const char *dst);

typedef struct nfsb_walk {
  nfsb_copier_t *k;
  const char *src;
  const char *dst;
} nfsb_walk_t;

/* A listed name must be a plain name (see nfs_tree.c). */
static berth_status_t nfsb_plain_name(const char *dir, const char *name,
                                      berth_error_t *err)
{
  char quoted[NFSB_QUOTED];
  char qdir[NFSB_QUOTED];

  if (name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
      strcmp(name, "..") != 0)
    return BERTH_OK;
  berth_backend_quote(name, strlen(name), quoted, sizeof(quoted));
  berth_backend_quote(dir, strlen(dir), qdir, sizeof(qdir));
  return berth_error_set(err, BERTH_EIO, "the server listed the name %s in %s",
                         quoted, qdir);
}

static berth_status_t nfsb_copy_entry(nfsb_copier_t *k, char *src, char *dst,
                                      const berth_nfs_stat_t *sb,
                                      berth_error_t *err)
{
  berth_nfs_file_t *f = NULL;
  berth_status_t st = BERTH_OK;
  char *target = NULL;

  switch (sb->type) {
  case BERTH_NFS_TYPE_DIR:
    k->depth++;
    st = nfsb_copy_dir(k, src, dst);
    k->depth--;
    if (st == BERTH_OK)
      nfsb_count(k, 1, 0, 0);
    break;
  case BERTH_NFS_TYPE_SYMLINK:
    st = berth_nfs_readlink(k->nfs, src, &target, err);
    if (st == BERTH_OK)
      st = berth_nfs_symlink(k->nfs, target, dst, err);
    if (st == BERTH_OK)
      st = nfsb_set_attrs(k->nfs, dst, sb, err);
    if (st == BERTH_OK)
      nfsb_count(k, 1, 0, 0);
    break;
  case BERTH_NFS_TYPE_FILE:
    /* Made here, so that the directory's entries all exist before its
     * times are set; a worker writes the contents. */
    st = berth_nfs_open(k->nfs, dst, BERTH_NFS_OPEN_CREATE_NEW, 0600, &f, err);
    if (st == BERTH_OK)
      st = berth_nfs_close(f, err);
    if (st == BERTH_OK && sb->size == 0) {
      st = nfsb_set_attrs(k->nfs, dst, sb, err);
      if (st == BERTH_OK)
        nfsb_count(k, 1, 0, 0);
    } else if (st == BERTH_OK) {
      st = nfsb_enqueue(k, src, dst, sb);
      src = dst = NULL;
    }
    break;
  default:
    /* FIFOs, sockets, devices: not copied, counted. */
    nfsb_count(k, 0, 0, 1);
    break;
  }
  free(target);
  free(src);
  free(dst);
  return st;
}

static berth_status_t nfsb_copy_cb(void *ctx, const char *name,
                                   const berth_nfs_stat_t *sb)
{
  nfsb_walk_t *w = ctx;
  nfsb_copier_t *k = w->k;
  berth_error_t err;
  berth_status_t st;
  char *src, *dst;

  berth_error_clear(&err);
  st = nfsb_checkpoint(k, false);
  if (st != BERTH_OK)
    return st;
  st = nfsb_plain_name(w->src, name, &err);
  if (st != BERTH_OK)
    return nfsb_fail(k, st, &err);
  src = berth_strdup_printf("%s/%s", w->src, name);
  dst = berth_strdup_printf("%s/%s", w->dst, name);
  if (src == NULL || dst == NULL) {
    free(src);
    free(dst);
    berth_error_set(&err, BERTH_ENOMEM, "clone: out of memory");
    return nfsb_fail(k, BERTH_ENOMEM, &err);
  }
  st = nfsb_copy_entry(k, src, dst, sb, &err);
  if (st != BERTH_OK && st != BERTH_ECANCELED)
    nfsb_fail(k, st, &err);
  return st;
}

/* Copy what is in the directory src (a real directory right now) into
 * dst, which is made here (except for the root), then dst's attributes. */
static berth_status_t nfsb_copy_dir(nfsb_copier_t *k, const char *src,
                                    const char *dst)
{
  berth_nfs_stat_t sb;
  berth_error_t err;
  berth_status_t st;
  nfsb_walk_t w = {k, src, dst};
  bool root = k->depth == 0;

  berth_error_clear(&err);
  if (k->depth >= k->cp->max_depth) {
    char quoted[NFSB_QUOTED];

    berth_backend_quote(src, strlen(src), quoted, sizeof(quoted));
    berth_error_set(&err, BERTH_EINVAL, "clone: %s is more than %u levels deep",
                    quoted, k->cp->max_depth);
    return nfsb_fail(k, BERTH_EINVAL, &err);
  }
  /* Fresh lstat just before listing: a directory swapped for a link since
   * its parent was listed is not followed. */
  st = berth_nfs_stat(k->nfs, src, &sb, &err);
  if (st == BERTH_OK && sb.type != BERTH_NFS_TYPE_DIR)
    st = berth_error_set(&err, BERTH_EINVAL,
                         "clone: %s is no longer a directory", src);
  if (st == BERTH_OK && !root)
    st = berth_nfs_mkdir(k->nfs, dst, 0700, &err);
  if (st != BERTH_OK)
    return nfsb_fail(k, st, &err);
  st = berth_nfs_readdir(k->nfs, src, nfsb_copy_cb, &w, &err);
  if (st != BERTH_OK) {
    /* A callback's failure is recorded already; the listing's own is
     * not. */
    return nfsb_stopped(k) ? BERTH_ECANCELED : nfsb_fail(k, st, &err);
  }
  /* The root keeps the class's mode and owner: the clone is a new volume
   * of its class; only what is in it is copied. */
  if (!root) {
    st = nfsb_set_attrs(k->nfs, dst, &sb, &err);
    if (st != BERTH_OK)
      return nfsb_fail(k, st, &err);
  }
  return BERTH_OK;
}

/* Wait for the workers to drain the queue, checking for a cancel. */
static void nfsb_drain(nfsb_copier_t *k)
{
  struct timespec until;
  bool idle = false;

  while (!idle) {
    if (nfsb_checkpoint(k, false) != BERTH_OK)
      break;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 200 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&k->lock);
    if (k->count > 0 || k->busy > 0)
      pthread_cond_timedwait(&k->changed, &k->lock, &until);
    idle = k->stop || (k->count == 0 && k->busy == 0);
    pthread_mutex_unlock(&k->lock);
  }
}

berth_status_t berth__nfsb_copy_tree(berth__nfsb_copy_t *cp, berth_error_t *err)
{
  pthread_t threads[BERTH__NFSB_COPY_MAX_WORKERS];
  unsigned n = 0, i;
  nfsb_copier_t k;
  berth_status_t st;

  memset(&k, 0, sizeof(k));
  k.cp = cp;
  k.last_report_ms = berth_clock_monotonic_ms(NULL);
  berth_error_clear(&k.err);
  pthread_mutex_init(&k.lock, NULL);
  pthread_cond_init(&k.changed, NULL);
  st = berth_nfs_connect_timeout(cp->url, cp->timeout_ms, &k.nfs, err);
  if (st != BERTH_OK)
    goto done;
  for (i = 0; i < cp->workers && i < BERTH__NFSB_COPY_MAX_WORKERS; i++) {
    if (pthread_create(&threads[n], NULL, nfsb_worker, &k) != 0)
      break;
    n++;
  }
  if (n == 0) {
    st = berth_error_set(err, BERTH_ENOMEM, "clone: no worker thread");
    goto done;
  }
  nfsb_copy_dir(&k, cp->src, cp->dst);
  nfsb_drain(&k);
  pthread_mutex_lock(&k.lock);
  k.closed = true;
  pthread_cond_broadcast(&k.changed);
  pthread_mutex_unlock(&k.lock);
  for (i = 0; i < n; i++)
    pthread_join(threads[i], NULL);
  /* Jobs that no worker took (after a stop) still own their paths. */
  while (k.count > 0) {
    free(k.queue[k.head].src);
    free(k.queue[k.head].dst);
    k.head = (k.head + 1) % NFSB_COPY_QUEUE;
    k.count--;
  }
  st = k.stop ? k.status : BERTH_OK;
  if (st != BERTH_OK && err != NULL)
    *err = k.err;
  cp->files = k.files;
  cp->bytes = k.bytes;
  cp->skipped = k.skipped;
  if (st == BERTH_OK)
    nfsb_checkpoint(&k, true);

done:
  berth_nfs_destroy(k.nfs);
  pthread_cond_destroy(&k.changed);
  pthread_mutex_destroy(&k.lock);
  return st;
}
