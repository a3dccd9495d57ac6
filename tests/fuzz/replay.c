/* SPDX-License-Identifier: Apache-2.0 */
/* A plain main for the fuzz targets when they are not built with
 * libFuzzer (gcc, or any build without BERTH_FUZZ): it feeds every file
 * named on the command line, or found in a directory named there, to
 * LLVMFuzzerTestOneInput once. This is how each target's corpus runs as
 * an ordinary test in every build, so that every past finding stays a
 * regression test. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* The largest input replayed, as libFuzzer's default -max_len is small
 * and corpus files are smaller still. */
#define REPLAY_MAX (16 * 1024 * 1024)

static int run_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t len = 0;
  size_t cap = 0;
  int rc = 1;

  if (f == NULL) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return 1;
  }
  for (;;) {
    size_t n;

    if (len == cap) {
      uint8_t *nb;

      cap = cap == 0 ? 4096 : cap * 2;
      if (cap > REPLAY_MAX + 1 || (nb = realloc(buf, cap)) == NULL) {
        fprintf(stderr, "replay: %s: too large\n", path);
        goto done;
      }
      buf = nb;
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0)
      break;
  }
  if (ferror(f)) {
    fprintf(stderr, "replay: %s: read error\n", path);
    goto done;
  }
  /* A copy of exactly len bytes, so that ASan sees any read past the
   * input as libFuzzer would. */
  {
    uint8_t *exact = malloc(len > 0 ? len : 1);

    if (exact == NULL)
      goto done;
    if (len > 0)
      memcpy(exact, buf, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
  }
  rc = 0;

done:
  free(buf);
  fclose(f);
  return rc;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir, in name order; *count gets how many. */
static int run_dir(const char *dir, size_t *count)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0;
  size_t i;
  int rc = 0;

  if (d == NULL) {
    fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
    return 1;
  }
  while ((e = readdir(d)) != NULL) {
    char **nn;

    if (e->d_name[0] == '.')
      continue;
    nn = realloc(names, (n + 1) * sizeof(*names));
    if (nn == NULL) {
      rc = 1;
      break;
    }
    names = nn;
    if ((names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)) == NULL) {
      rc = 1;
      break;
    }
    sprintf(names[n++], "%s/%s", dir, e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof(*names), by_name);
  for (i = 0; i < n; i++) {
    struct stat st;

    if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      rc = run_file(names[i]);
      (*count)++;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv)
{
  size_t count = 0;
  int i;

  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  for (i = 1; i < argc; i++) {
    struct stat st;

    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
      return 1;
    }
    if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) != 0
                            : (count++, run_file(argv[i]) != 0))
      return 1;
  }
  /* An empty corpus would make the test pass without testing anything. */
  if (count == 0) {
    fprintf(stderr, "replay: no input files\n");
    return 1;
  }
  printf("replay: %zu inputs, no finding\n", count);
  return 0;
}
