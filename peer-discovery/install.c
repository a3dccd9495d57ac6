/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the install subcommand, see install.h. */
#include "install.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/buf.h"

#define STATIC_NAME "berth-peers-static"

/* Write all of buf[0..n) to fd; false with errno set on failure. */
static bool write_all(int fd, const char *buf, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    buf += w;
    n -= (size_t)w;
  }
  return true;
}

/* Copy in to out; *size gets the bytes. */
static berth_status_t copy_fd(int in, int out, const char *src, long long *size,
                              berth_error_t *err)
{
  char buf[65536];
  long long total = 0;

  for (;;) {
    ssize_t r = read(in, buf, sizeof(buf));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return berth_error_set(err, BERTH_EIO, "read %s: %s", src,
                             strerror(errno));
    if (r == 0)
      break;
    if (!write_all(out, buf, (size_t)r))
      return berth_error_set(err, BERTH_EIO, "write: %s", strerror(errno));
    total += r;
  }
  *size = total;
  return BERTH_OK;
}

berth_status_t peers_install_copy(const char *src, const char *dir,
                                  long long *size, berth_error_t *err)
{
  berth_buf_t tmp, dst;
  struct stat st;
  int in = -1, out = -1;
  long long n = 0;
  berth_status_t rc;

  berth_buf_init(&tmp);
  berth_buf_init(&dst);
  if (stat(dir, &st) != 0) {
    rc = berth_error_set(err, BERTH_EINVAL, "%s: %s", dir, strerror(errno));
    goto done;
  }
  if (!S_ISDIR(st.st_mode)) {
    rc = berth_error_set(err, BERTH_EINVAL, "%s is not a directory", dir);
    goto done;
  }
  if ((rc = berth_buf_appendf(&tmp, "%s/.%s.%ld", dir, PEERS_INSTALL_NAME,
                              (long)getpid())) != BERTH_OK ||
      (rc = berth_buf_appendf(&dst, "%s/%s", dir, PEERS_INSTALL_NAME)) !=
          BERTH_OK)
    goto done;
  in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    rc = berth_error_set(err, BERTH_ENOTFOUND, "open %s: %s", src,
                         strerror(errno));
    goto done;
  }
  /* A leftover from an earlier, killed run of this pid is replaced. */
  (void)unlink(berth_buf_str(&tmp));
  out =
      open(berth_buf_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (out < 0) {
    rc = berth_error_set(err, BERTH_EIO, "create %s: %s", berth_buf_str(&tmp),
                         strerror(errno));
    goto done;
  }
  if ((rc = copy_fd(in, out, src, &n, err)) != BERTH_OK)
    goto done;
  /* The umask must not take the execute bits away. */
  if (fchmod(out, 0755) != 0 || fsync(out) != 0 || close(out) != 0) {
    out = -1;
    rc = berth_error_set(err, BERTH_EIO, "write %s: %s", berth_buf_str(&tmp),
                         strerror(errno));
    goto done;
  }
  out = -1;
  if (rename(berth_buf_str(&tmp), berth_buf_str(&dst)) != 0) {
    rc = berth_error_set(err, BERTH_EIO, "rename to %s: %s",
                         berth_buf_str(&dst), strerror(errno));
    goto done;
  }
  *size = n;
  rc = BERTH_OK;
done:
  if (out >= 0)
    close(out);
  if (in >= 0)
    close(in);
  if (rc != BERTH_OK && tmp.len > 0)
    (void)unlink(berth_buf_str(&tmp));
  berth_buf_cleanup(&tmp);
  berth_buf_cleanup(&dst);
  return rc;
}

/* The file to copy: this program when it is static, else the
 * berth-peers-static beside it. NULL after printing why. */
static char *install_source(const char *argv0, FILE *errout)
{
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

  if (n > 0) {
    self[n] = '\0';
  } else if (strchr(argv0, '/') != NULL && strlen(argv0) < sizeof(self)) {
    /* No /proc (a bare chroot): the path we were started by. */
    strcpy(self, argv0);
  } else {
    fprintf(errout, "berth-peers: install: cannot find this program "
                    "(no /proc/self/exe, started without a path)\n");
    return NULL;
  }
#ifdef BERTH_PEERS_STATIC
  return strdup(self);
#else
  const char *slash = strrchr(self, '/');
  char *path = NULL;

  if (asprintf(&path, "%.*s/%s", (int)(slash - self), self, STATIC_NAME) < 0)
    return NULL;
  if (access(path, X_OK) != 0) {
    fprintf(errout,
            "berth-peers: install: this berth-peers is linked dynamically "
            "and would not start in another image, and %s is missing; "
            "build it (CMake option BERTH_PEERS_STATIC) or use berth's "
            "image\n",
            path);
    free(path);
    return NULL;
  }
  return path;
#endif
}

static void install_usage(FILE *f)
{
  fputs("Usage: berth-peers install DIR\n"
        "Copy the static berth-peers to DIR/" PEERS_INSTALL_NAME
        " (mode 0755), for an init\n"
        "container that shares DIR (an emptyDir) with the containers that "
        "run it.\n",
        f);
}

int peers_install_main(int argc, char **argv, FILE *out, FILE *errout)
{
  berth_error_t err;
  long long size = 0;
  char *src = NULL;
  int rc;

  if (argc == 3 &&
      (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0 ||
       strcmp(argv[2], "-help") == 0)) {
    install_usage(out);
    rc = 0;
    goto done;
  }
  if (argc != 3 || argv[2][0] == '\0') {
    install_usage(errout);
    rc = 2;
    goto done;
  }
  src = install_source(argv[0], errout);
  if (src == NULL) {
    rc = 1;
    goto done;
  }
  berth_error_clear(&err);
  if (peers_install_copy(src, argv[2], &size, &err) != BERTH_OK) {
    fprintf(errout, "berth-peers: install: %s\n", err.message);
    rc = 1;
    goto done;
  }
  fprintf(out, "berth-peers: installed %s/%s (%lld bytes, static)\n", argv[2],
          PEERS_INSTALL_NAME, size);
  rc = 0;
done:
  free(src);
  return rc;
}
