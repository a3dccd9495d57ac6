/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: atomic, change-only file updates, see files.h. */
#include "files.h"

#include "berth/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *peers_path_dirname(const char *path)
{
  const char *slash = strrchr(path, '/');

  if (slash == NULL)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

/* true when the file at path holds exactly data. */
static bool same_content(const char *path, const char *data, size_t len)
{
  char chunk[8192];
  size_t off = 0;
  ssize_t n;
  bool same = true;
  struct stat sb;
  int fd = open(path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return false;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size != len)
    same = false;
  while (same && (n = read(fd, chunk, sizeof(chunk))) != 0) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      same = false;
    } else if ((size_t)n > len - off ||
               memcmp(chunk, data + off, (size_t)n) != 0) {
      same = false;
    } else {
      off += (size_t)n;
    }
  }
  close(fd);
  return same && off == len;
}

static bool write_all(int fd, const char *data, size_t len)
{
  ssize_t n;

  while (len > 0) {
    n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    len -= (size_t)n;
  }
  return true;
}

/* Flush the directory so that the rename itself is durable. */
static void sync_dir(const char *path)
{
  char *dir = peers_path_dirname(path);
  int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(dir);
}

berth_status_t peers_file_update(const char *path, const char *data, size_t len,
                                 bool *changed, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  char *tmp = NULL;
  int fd = -1;
  int rc;
  bool wrote = false;

  if (same_content(path, data, len))
    goto done;
  tmp = berth_strdup_printf("%s.tmp.%ld", path, (long)getpid());
  if (tmp == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 || !write_all(fd, data, len) || fsync(fd) != 0) {
    st = berth_error_set(err, BERTH_EIO, "write %s: %s", tmp, strerror(errno));
    goto done;
  }
  rc = close(fd);
  fd = -1;
  if (rc != 0 || rename(tmp, path) != 0) {
    st = berth_error_set(err, BERTH_EIO, "rename %s to %s: %s", tmp, path,
                         strerror(errno));
    goto done;
  }
  sync_dir(path);
  wrote = true;
done:
  if (fd >= 0)
    close(fd);
  if (st != BERTH_OK && tmp != NULL)
    unlink(tmp);
  free(tmp);
  if (changed != NULL && st == BERTH_OK)
    *changed = wrote;
  return st;
}
