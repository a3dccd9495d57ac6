/* berth-provisioner: the external provisioner, attacher and resizer.
 *
 * This is the program's entry point. The controller itself (queue,
 * reconcile, leader election, backends) is built by the provisioner issue;
 * for now the program parses its common flags and says so honestly. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "berth/log.h"
#include "berth/version.h"

static void usage(FILE *out)
{
  fprintf(out,
    "Usage: berth-provisioner [OPTION]...\n"
    "Provision PersistentVolumes for claims whose StorageClass names berth:\n"
    "NFS sub-directories (libnfs), EFS access points and directories, EBS disks.\n"
    "\n"
    "Options:\n"
    "  --log-level LEVEL    error, warn, info (default), debug or trace\n"
    "  --log-format FORMAT  logfmt (default) or json\n"
    "  -h, --help           show this help and exit\n"
    "  -V, --version        show the version and exit\n"
    "\n"
    "The controller is not part of this build yet: see README.md.\n");
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    { "log-level", required_argument, NULL, 'l' },
    { "log-format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  berth_log_level_t level;
  berth_log_format_t format;
  int c;

  while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
    switch (c) {
    case 'l':
      if (berth_log_level_parse(optarg, &level) != BERTH_OK) {
        fprintf(stderr, "berth-provisioner: invalid --log-level '%s'\n", optarg);
        return 2;
      }
      berth_log_set_level(level);
      break;
    case 'f':
      if (berth_log_format_parse(optarg, &format) != BERTH_OK) {
        fprintf(stderr, "berth-provisioner: invalid --log-format '%s'\n", optarg);
        return 2;
      }
      berth_log_set_format(format);
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("berth-provisioner %s\n", BERTH_VERSION);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  berth_log(BERTH_LOG_ERROR, "the provisioner controller is not built yet",
            "version", BERTH_VERSION, NULL);
  return 1;
}
