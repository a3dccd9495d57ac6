/* berthctl: inspect berth's claims and volumes against the real backends.
 *
 * Entry point and command dispatch. Command groups (claims, volumes,
 * describe, orphans, attach, detach, peers, doctor) are built by the
 * berthctl issue, one file each. */
#include <stdio.h>
#include <string.h>

#include "berth/version.h"

static void usage(FILE *out)
{
  fprintf(out,
    "Usage: berthctl COMMAND [OPTION]...\n"
    "Inspect and repair the claims and volumes berth provisions.\n"
    "\n"
    "Commands:\n"
    "  version     show the version\n"
    "  help        show this help\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help and exit\n"
    "  -V, --version  show the version and exit\n");
}

int main(int argc, char **argv)
{
  const char *cmd = argc > 1 ? argv[1] : NULL;

  if (cmd == NULL) {
    usage(stderr);
    return 2;
  }
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 ||
      strcmp(cmd, "version") == 0) {
    printf("berthctl %s\n", BERTH_VERSION);
    return 0;
  }
  fprintf(stderr, "berthctl: unknown command '%s' (see 'berthctl --help')\n",
          cmd);
  return 2;
}
