/* SPDX-License-Identifier: Apache-2.0 */
/* Integration test of lib/nfs against nfs-ganesha in the test bed
 * (tests/bed/bed_nfs.py), over NFSv3 (BERTH_NFS_URL) and NFSv4
 * (BERTH_NFS4_URL). What lands on the server is checked on disk under
 * BERTH_NFS_EXPORT_DIR. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/buf.h"
#include "berth/clock.h"
#include "berth/nfs.h"
#include "berth/status.h"

#include "test_proc.h"
#include "test_timing.h"

/* A version's URL and a name that keeps the two runs apart on disk. */
typedef struct nfs_case {
  const char *env; /* the variable holding the URL */
  int version;
  const char *tag;
} nfs_case_t;

static const nfs_case_t case_v3 = {"BERTH_NFS_URL", 3, "v3"};
static const nfs_case_t case_v4 = {"BERTH_NFS4_URL", 4, "v4"};

static const char *need_env(const char *name)
{
  const char *v = getenv(name);

  if (v == NULL || v[0] == '\0')
    fail_msg("%s is not set: run this test under tests/bed/bed.py run nfs",
             name);
  return v;
}

static void assert_ok(berth_status_t st, const berth_error_t *err)
{
  if (st != BERTH_OK)
    fail_msg("%s: %s", berth_status_name(st), err->message);
}

static berth_nfs_t *connect_case(const nfs_case_t *c)
{
  berth_nfs_t *nfs = NULL;
  berth_error_t err;
  berth_status_t st;

  berth_error_clear(&err);
  st = berth_nfs_connect(need_env(c->env), &nfs, &err);
  assert_ok(st, &err);
  assert_non_null(nfs);
  assert_int_equal(berth_nfs_version(nfs), c->version);
  return nfs;
}

/* lstat(2) <export dir>/<rel>: 0, or the negative errno. */
static int disk_stat(const char *rel, struct stat *sb)
{
  char *p = berth_strdup_printf("%s/%s", need_env("BERTH_NFS_EXPORT_DIR"), rel);
  int rc;

  assert_non_null(p);
  rc = lstat(p, sb) == 0 ? 0 : -errno;
  free(p);
  return rc;
}

typedef struct listing {
  const char *want; /* the name to look for */
  int seen;         /* how often it was listed */
  int dots;         /* how often "." or ".." was listed (must stay 0) */
  berth_nfs_stat_t st;
} listing_t;

static berth_status_t collect(void *ctx, const char *name,
                              const berth_nfs_stat_t *st)
{
  listing_t *l = ctx;

  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    l->dots++;
  if (strcmp(name, l->want) == 0) {
    l->seen++;
    l->st = *st;
  }
  return BERTH_OK;
}

static berth_status_t stop_at_first(void *ctx, const char *name,
                                    const berth_nfs_stat_t *st)
{
  int *calls = ctx;

  (void)name;
  (void)st;
  (*calls)++;
  return BERTH_ECANCELED;
}

/* mkdir, stat, readdir, disk, EEXIST, ENOTFOUND, rmdir, gone. */
static void test_directory_lifecycle(void **state)
{
  const nfs_case_t *c = *state;
  berth_nfs_t *nfs = connect_case(c);
  berth_error_t err;
  berth_nfs_stat_t st;
  berth_status_t st_code;
  struct stat disk;
  listing_t l;
  char name[64];
  char path[80];
  int calls = 0;

  snprintf(name, sizeof(name), "lifecycle-%s-%ld", c->tag, (long)getpid());
  snprintf(path, sizeof(path), "/%s", name);
  berth_error_clear(&err);

  /* mkdir, and the mode is exactly what we asked for: no umask (neither
   * libnfs's 022 nor one on the server). */
  assert_ok(berth_nfs_mkdir(nfs, path, 0777, &err), &err);
  assert_ok(berth_nfs_stat(nfs, path, &st, &err), &err);
  assert_int_equal(st.type, BERTH_NFS_TYPE_DIR);
  assert_int_equal(st.mode, 0777);
  assert_int_equal(st.uid, 0); /* no root squash */
  assert_true(st.mtime_sec > 0);

  /* The export root is a directory too ("" and "/"). */
  assert_ok(berth_nfs_stat(nfs, "", &st, &err), &err);
  assert_int_equal(st.type, BERTH_NFS_TYPE_DIR);

  /* readdir lists it, with its attributes, and never "." or "..". */
  memset(&l, 0, sizeof(l));
  l.want = name;
  assert_ok(berth_nfs_readdir(nfs, "/", collect, &l, &err), &err);
  assert_int_equal(l.seen, 1);
  assert_int_equal(l.dots, 0);
  assert_int_equal(l.st.type, BERTH_NFS_TYPE_DIR);
  assert_int_equal(l.st.mode, 0777);

  /* A callback's status stops the listing and comes back. */
  assert_int_equal(berth_nfs_readdir(nfs, "", stop_at_first, &calls, &err),
                   BERTH_ECANCELED);
  assert_int_equal(calls, 1);

  /* It is on disk, as a directory with that mode. */
  assert_int_equal(disk_stat(name, &disk), 0);
  assert_true(S_ISDIR(disk.st_mode));
  assert_int_equal(disk.st_mode & 07777, 0777);

  /* chmod and chown reach the disk. */
  assert_ok(berth_nfs_chmod(nfs, path, 02770, &err), &err);
  assert_ok(berth_nfs_chown(nfs, path, 1234, 5678, &err), &err);
  assert_ok(berth_nfs_stat(nfs, path, &st, &err), &err);
  assert_int_equal(st.mode, 02770);
  assert_int_equal(st.uid, 1234);
  assert_int_equal(st.gid, 5678);
  assert_int_equal(disk_stat(name, &disk), 0);
  assert_int_equal(disk.st_mode & 07777, 02770);
  assert_int_equal(disk.st_uid, 1234);
  assert_int_equal(disk.st_gid, 5678);
  /* (uint32_t)-1 leaves an id alone. */
  assert_ok(berth_nfs_chown(nfs, path, UINT32_MAX, 42, &err), &err);
  assert_ok(berth_nfs_stat(nfs, path, &st, &err), &err);
  assert_int_equal(st.uid, 1234);
  assert_int_equal(st.gid, 42);

  /* mkdir again: it exists. */
  berth_error_clear(&err);
  st_code = berth_nfs_mkdir(nfs, path, 0755, &err);
  assert_int_equal(st_code, BERTH_EEXIST);
  assert_int_equal(err.status, BERTH_EEXIST);
  assert_non_null(strstr(err.message, "mkdir"));
  assert_non_null(strstr(err.message, name));

  /* rmdir of a non-empty directory: its entries exist. */
  {
    char child[120];

    snprintf(child, sizeof(child), "%s/child", path);
    assert_ok(berth_nfs_mkdir(nfs, child, 0700, &err), &err);
    assert_int_equal(berth_nfs_rmdir(nfs, path, &err), BERTH_EEXIST);
    assert_ok(berth_nfs_rmdir(nfs, child, &err), &err);
  }

  /* rmdir, and it is gone, here and on disk. */
  assert_ok(berth_nfs_rmdir(nfs, path, &err), &err);
  assert_int_equal(berth_nfs_stat(nfs, path, &st, &err), BERTH_ENOTFOUND);
  assert_int_equal(disk_stat(name, &disk), -ENOENT);
  assert_int_equal(berth_nfs_rmdir(nfs, path, &err), BERTH_ENOTFOUND);

  berth_nfs_destroy(nfs);
}

/* Missing paths, files, symlinks (not followed) and refused paths. */
static void test_stat_types_and_errors(void **state)
{
  const nfs_case_t *c = *state;
  berth_nfs_t *nfs = connect_case(c);
  berth_error_t err;
  berth_nfs_stat_t st;
  berth_status_t st_code;
  listing_t l;
  char dir[64];
  char rel[128];
  char path[160];
  char *disk_dir;
  FILE *f;

  berth_error_clear(&err);

  /* A missing path: ENOTFOUND, with the operation and path in the text. */
  assert_int_equal(berth_nfs_stat(nfs, "/no/such/thing", &st, &err),
                   BERTH_ENOTFOUND);
  assert_int_equal(err.status, BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, "stat /no/such/thing"));
  assert_int_equal(berth_nfs_mkdir(nfs, "/no/such/parent", 0755, &err),
                   BERTH_ENOTFOUND);

  /* "..": refused before anything is sent. */
  assert_int_equal(berth_nfs_stat(nfs, "/a/../../etc", &st, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_nfs_mkdir(nfs, "..", 0755, &err), BERTH_EINVAL);
  assert_int_equal(berth_nfs_stat(nfs, NULL, &st, &err), BERTH_EINVAL);

  /* A file and a dangling symlink made on disk: stat does not follow the
   * link, readdir reports both, unlink removes both. */
  snprintf(dir, sizeof(dir), "types-%s-%ld", c->tag, (long)getpid());
  assert_ok(berth_nfs_mkdir(nfs, dir, 0755, &err), &err);
  disk_dir =
      berth_strdup_printf("%s/%s", need_env("BERTH_NFS_EXPORT_DIR"), dir);
  assert_non_null(disk_dir);
  snprintf(path, sizeof(path), "%s/file", disk_dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("hello\n", f);
  fclose(f);
  snprintf(path, sizeof(path), "%s/link", disk_dir);
  assert_int_equal(symlink("/nowhere", path), 0);

  snprintf(rel, sizeof(rel), "%s/file", dir);
  assert_ok(berth_nfs_stat(nfs, rel, &st, &err), &err);
  assert_int_equal(st.type, BERTH_NFS_TYPE_FILE);
  assert_int_equal(st.size, 6);
  snprintf(rel, sizeof(rel), "%s/link", dir);
  assert_ok(berth_nfs_stat(nfs, rel, &st, &err), &err);
  assert_int_equal(st.type, BERTH_NFS_TYPE_SYMLINK);

  memset(&l, 0, sizeof(l));
  l.want = "link";
  assert_ok(berth_nfs_readdir(nfs, dir, collect, &l, &err), &err);
  assert_int_equal(l.seen, 1);
  assert_int_equal(l.st.type, BERTH_NFS_TYPE_SYMLINK);
  memset(&l, 0, sizeof(l));
  l.want = "file";
  assert_ok(berth_nfs_readdir(nfs, dir, collect, &l, &err), &err);
  assert_int_equal(l.seen, 1);
  assert_int_equal(l.st.type, BERTH_NFS_TYPE_FILE);
  assert_int_equal(l.st.size, 6);

  /* readdir of a file, of a missing directory. */
  snprintf(rel, sizeof(rel), "%s/file", dir);
  assert_int_equal(berth_nfs_readdir(nfs, rel, collect, &l, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_nfs_readdir(nfs, "/no/such/dir", collect, &l, &err),
                   BERTH_ENOTFOUND);

  /* chmod and chown of missing objects, and through a symlink in the
   * middle of a path (never followed by NFSv4's LOOKUP; NFSv3 resolves it
   * in libnfs and meets the missing target). */
  assert_int_equal(berth_nfs_chmod(nfs, "/no/such/thing", 0700, &err),
                   BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, "chmod /no/such/thing"));
  assert_int_equal(berth_nfs_chown(nfs, "/no/such/thing", 1, 1, &err),
                   BERTH_ENOTFOUND);
  snprintf(path, sizeof(path), "%s/link/x", dir);
  st_code = berth_nfs_chmod(nfs, path, 0700, &err);
  if (st_code != BERTH_ENOTFOUND && st_code != BERTH_EINVAL)
    fail_msg("chmod through a link gave %s: %s", berth_status_name(st_code),
             err.message);
  print_message("chmod through a link: %s: %s\n", berth_status_name(st_code),
                err.message);
  /* The file itself: chmod and chown work on files too. */
  assert_ok(berth_nfs_chmod(nfs, rel, 0640, &err), &err);
  assert_ok(berth_nfs_chown(nfs, rel, 7, 8, &err), &err);
  assert_ok(berth_nfs_stat(nfs, rel, &st, &err), &err);
  assert_int_equal(st.mode, 0640);
  assert_int_equal(st.uid, 7);
  assert_int_equal(st.gid, 8);

  assert_ok(berth_nfs_unlink(nfs, rel, &err), &err);
  snprintf(rel, sizeof(rel), "%s/link", dir);
  assert_ok(berth_nfs_unlink(nfs, rel, &err), &err);
  assert_int_equal(berth_nfs_unlink(nfs, rel, &err), BERTH_ENOTFOUND);
  assert_ok(berth_nfs_rmdir(nfs, dir, &err), &err);

  free(disk_dir);
  berth_nfs_destroy(nfs);
}

/* A port with nothing behind it: a clear transport error, quickly. */
static void test_connect_closed_port(void **state)
{
  const nfs_case_t *c = *state;
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  berth_nfs_t *nfs = NULL;
  berth_error_t err;
  berth_status_t st;
  int64_t t0;
  int64_t elapsed;
  char url[160];
  int fd;

  /* Find a free port by binding to port 0, then close it. */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  close(fd);
  if (c->version == 4)
    snprintf(url, sizeof(url), "nfs://127.0.0.1/export?version=4&nfsport=%u",
             ntohs(sa.sin_port));
  else
    snprintf(url, sizeof(url), "nfs://127.0.0.1/export?nfsport=%u&mountport=%u",
             ntohs(sa.sin_port), ntohs(sa.sin_port));

  berth_error_clear(&err);
  t0 = berth_clock_monotonic_ms(NULL);
  st = berth_nfs_connect_timeout(url, 3000, &nfs, &err);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  assert_null(nfs);
  if (st != BERTH_ETRANSPORT && st != BERTH_ETIMEOUT)
    fail_msg("closed port gave %s: %s", berth_status_name(st), err.message);
  assert_int_equal(err.status, st);
  assert_non_null(strstr(err.message, "mount"));
  print_message("closed port: %s after %lld ms: %s\n", berth_status_name(st),
                (long long)elapsed, err.message);
  assert_true(elapsed < test_bound_ms(5000));
}

/* A server that accepts the connection and never answers: the timeout, not
 * a hang. */
static void test_connect_silent_server(void **state)
{
  const nfs_case_t *c = *state;
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  berth_nfs_t *nfs = NULL;
  berth_error_t err;
  berth_status_t st;
  int64_t t0;
  int64_t elapsed;
  char url[160];
  int fd;

  /* Listen and never accept: the kernel completes the handshake from the
   * backlog, so the client's RPC is sent and never answered. */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(fd, 8), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  if (c->version == 4)
    snprintf(url, sizeof(url), "nfs://127.0.0.1/export?version=4&nfsport=%u",
             ntohs(sa.sin_port));
  else
    snprintf(url, sizeof(url), "nfs://127.0.0.1/export?nfsport=%u&mountport=%u",
             ntohs(sa.sin_port), ntohs(sa.sin_port));

  berth_error_clear(&err);
  t0 = berth_clock_monotonic_ms(NULL);
  st = berth_nfs_connect_timeout(url, 1000, &nfs, &err);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  close(fd);
  assert_null(nfs);
  if (st != BERTH_ETIMEOUT && st != BERTH_ETRANSPORT)
    fail_msg("silent server gave %s: %s", berth_status_name(st), err.message);
  print_message("silent server: %s after %lld ms: %s\n", berth_status_name(st),
                (long long)elapsed, err.message);
  /* The 1 s timeout, not an immediate failure, and not a hang. */
  assert_true(elapsed >= 900);
  assert_true(elapsed < test_bound_ms(5000));
}

/* ganesha stops answering (SIGSTOP) after the mount: calls end with
 * BERTH_ETIMEOUT at the handle's timeout instead of hanging. */
static pid_t stopped_server;

static int resume_server(void **state)
{
  (void)state;
  if (stopped_server > 0)
    kill(stopped_server, SIGCONT);
  stopped_server = 0;
  return 0;
}

static void test_server_stops_answering(void **state)
{
  const nfs_case_t *c = *state;
  long long pid = 0;
  berth_nfs_t *nfs = NULL;
  berth_error_t err;
  berth_nfs_stat_t st;
  berth_status_t code;
  int64_t t0;
  int64_t elapsed;
  char dir[64];

  assert_int_equal(
      berth_str_to_ll(need_env("BERTH_NFS_PID"), 1, INT32_MAX, &pid), BERTH_OK);
  berth_error_clear(&err);
  assert_ok(berth_nfs_connect_timeout(need_env(c->env), 1000, &nfs, &err),
            &err);
  snprintf(dir, sizeof(dir), "stopped-%s-%ld", c->tag, (long)getpid());
  assert_ok(berth_nfs_mkdir(nfs, dir, 0755, &err), &err);

  stopped_server = (pid_t)pid;
  assert_int_equal(kill(stopped_server, SIGSTOP), 0);
  wait_stopped(stopped_server);

  t0 = berth_clock_monotonic_ms(NULL);
  code = berth_nfs_stat(nfs, dir, &st, &err);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  print_message("stopped server, stat: %s after %lld ms: %s\n",
                berth_status_name(code), (long long)elapsed, err.message);
  assert_int_equal(code, BERTH_ETIMEOUT);
  assert_true(elapsed >= 900 && elapsed < test_bound_ms(5000));

  /* chmod takes its own path on NFSv4 (a hand-built COMPOUND). */
  t0 = berth_clock_monotonic_ms(NULL);
  code = berth_nfs_chmod(nfs, dir, 0755, &err);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  print_message("stopped server, chmod: %s after %lld ms: %s\n",
                berth_status_name(code), (long long)elapsed, err.message);
  assert_int_equal(code, BERTH_ETIMEOUT);
  assert_true(elapsed >= 900 && elapsed < test_bound_ms(5000));

  resume_server(NULL);
  berth_nfs_destroy(nfs);

  /* The server is back: a new handle cleans up. */
  assert_ok(berth_nfs_connect(need_env(c->env), &nfs, &err), &err);
  assert_ok(berth_nfs_rmdir(nfs, dir, &err), &err);
  berth_nfs_destroy(nfs);
}

static void test_bad_urls(void **state)
{
  static const char *const bad[] = {
      "", "http://127.0.0.1/export", "nfs://", "nfs:///export", "not a url",
  };
  berth_nfs_t *nfs = NULL;
  berth_error_t err;
  berth_status_t st;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    berth_error_clear(&err);
    st = berth_nfs_connect(bad[i], &nfs, &err);
    if (st != BERTH_EPARSE && st != BERTH_EINVAL)
      fail_msg("URL \"%s\" gave %s: %s", bad[i], berth_status_name(st),
               err.message);
    print_message("bad URL \"%s\": %s: %s\n", bad[i], berth_status_name(st),
                  err.message);
    assert_null(nfs);
    assert_true(err.message[0] != '\0');
  }
  assert_int_equal(berth_nfs_connect(NULL, &nfs, &err), BERTH_EINVAL);
  assert_int_equal(
      berth_nfs_connect_timeout(need_env("BERTH_NFS_URL"), 0, &nfs, &err),
      BERTH_EINVAL);
  assert_null(nfs);
  berth_nfs_destroy(NULL);
}

/* A path that is not exported. */
static void test_unknown_export(void **state)
{
  const nfs_case_t *c = *state;
  const char *good = need_env(c->env);
  const char *q = strchr(good, '?');
  berth_nfs_t *nfs = NULL;
  berth_error_t err;
  berth_status_t st;
  char *url;

  assert_non_null(q);
  url = berth_strdup_printf("nfs://127.0.0.1/not-exported%s", q);
  assert_non_null(url);
  berth_error_clear(&err);
  st = berth_nfs_connect(url, &nfs, &err);
  assert_null(nfs);
  if (st != BERTH_ENOTFOUND && st != BERTH_EPERM)
    fail_msg("unknown export gave %s: %s", berth_status_name(st), err.message);
  print_message("unknown export: %s: %s\n", berth_status_name(st), err.message);
  free(url);
}

/* One test per version, named after it: "test_x/v3", "test_x/v4". */
#define BOTH(fn)                                                               \
  {#fn "/v3", fn, NULL, NULL, (void *)&case_v3},                               \
  {                                                                            \
#fn "/v4", fn, NULL, NULL, (void *)&case_v4                                \
  }

int main(void)
{
  const struct CMUnitTest tests[] = {
      BOTH(test_directory_lifecycle),
      BOTH(test_stat_types_and_errors),
      BOTH(test_connect_closed_port),
      BOTH(test_connect_silent_server),
      BOTH(test_unknown_export),
      {"test_server_stops_answering/v3", test_server_stops_answering, NULL,
       resume_server, (void *)&case_v3},
      {"test_server_stops_answering/v4", test_server_stops_answering, NULL,
       resume_server, (void *)&case_v4},
      cmocka_unit_test(test_bad_urls),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
