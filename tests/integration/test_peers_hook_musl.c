/* SPDX-License-Identifier: Apache-2.0 */
/* A hook for test_peers_static.py, built with musl-gcc (Debian musl-tools)
 * and linked dynamically against musl, so that it runs only in a root
 * filesystem with musl's loader (/lib/ld-musl-x86_64.so.1), as Alpine has.
 * It records the peers from standard input into DIR/stdin and its BERTH_*
 * variables into DIR/env, then prints "musl hook ran".
 *
 *   test_peers_hook_musl DIR */
#include <stdio.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv)
{
  char path[4096];
  char buf[4096];
  size_t n;
  FILE *f;
  char **e;

  if (argc != 2)
    return 2;
  snprintf(path, sizeof(path), "%s/stdin", argv[1]);
  f = fopen(path, "w");
  if (f == NULL)
    return 1;
  while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
    fwrite(buf, 1, n, f);
  if (fclose(f) != 0)
    return 1;
  snprintf(path, sizeof(path), "%s/env", argv[1]);
  f = fopen(path, "w");
  if (f == NULL)
    return 1;
  for (e = environ; *e != NULL; e++)
    if (strncmp(*e, "BERTH_", 6) == 0)
      fprintf(f, "%s\n", *e);
  if (fclose(f) != 0)
    return 1;
  puts("musl hook ran");
  return 0;
}
