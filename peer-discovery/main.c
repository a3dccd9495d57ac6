/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: StatefulSet peer discovery over headless-service DNS.
 *
 * Entry point: options (options.h), signals, then the loop (app.h). Both
 * -flag and --flag spellings are accepted because peer-finder, which
 * berth-peers replaces, uses Go's -flag style. SIGTERM and SIGINT make the
 * loop stop at once (a running hook is stopped too) and exit 0.
 * `berth-peers install DIR` is the init container's copy (install.h).
 * `--source endpoints` is served by berth-peers-endpoints, the same
 * program linked with lib/k8s, which berth-peers execs from its own
 * directory (the DNS source then carries none of libcurl's libraries). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "install.h"
#include "options.h"

static int stop_pipe[2] = {-1, -1};

static void on_stop(int sig)
{
  int saved = errno;
  char c = (char)sig;

  /* The pipe is non-blocking: a full pipe already says "stop". */
  if (write(stop_pipe[1], &c, 1) < 0) {
    /* Nothing to do. */
  }
  errno = saved;
}

static int setup_signals(void)
{
  struct sigaction sa;

  if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
    return -1;
  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_stop;
  if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
    return -1;
  /* A hook that exits without reading its input must not kill us. */
  sa.sa_handler = SIG_IGN;
  return sigaction(SIGPIPE, &sa, NULL);
}

#if !defined(BERTH_PEERS_WATCH) && !defined(BERTH_PEERS_STATIC)
/* Replace this process (same pid, same arguments) with the
 * berth-peers-endpoints beside this executable; returns only on failure,
 * after saying why. */
static int exec_endpoints(char **argv)
{
  char self[PATH_MAX];
  char path[PATH_MAX + 32];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  char *slash;

  if (n > 0) {
    self[n] = '\0';
  } else if (strchr(argv[0], '/') != NULL && strlen(argv[0]) < sizeof(self)) {
    /* No /proc (a chroot, a sandbox): the path we were started by. */
    strcpy(self, argv[0]);
  } else {
    /* Started through PATH with no /proc: the one on PATH. */
    execvp("berth-peers-endpoints", argv);
    fprintf(stderr,
            "berth-peers: --source endpoints needs berth-peers-endpoints "
            "beside berth-peers or on PATH (no /proc/self/exe): %s\n",
            strerror(errno));
    return 1;
  }
  slash = strrchr(self, '/');
  if (slash != NULL)
    *slash = '\0';
  snprintf(path, sizeof(path), "%s/berth-peers-endpoints", self);
  execv(path, argv);
  fprintf(stderr,
          "berth-peers: --source endpoints needs %s (installed beside "
          "berth-peers, in berth's image): %s\n",
          path, strerror(errno));
  return 1;
}
#endif

int main(int argc, char **argv)
{
  peers_options_t opt;
  int rc;

  if (argc >= 2 && strcmp(argv[1], "install") == 0)
    return peers_install_main(argc, argv, stdout, stderr);
  switch (peers_options_parse(argc, argv, &opt, stdout, stderr)) {
  case PEERS_PARSE_EXIT_OK:
    rc = 0;
    goto done;
  case PEERS_PARSE_EXIT_USAGE:
    rc = 2;
    goto done;
  case PEERS_PARSE_RUN:
    break;
  }
#if !defined(BERTH_PEERS_WATCH) && !defined(BERTH_PEERS_STATIC)
  if (opt.source_endpoints) {
    peers_options_cleanup(&opt);
    return exec_endpoints(argv);
  }
#endif
  if (setup_signals() != 0) {
    perror("berth-peers: signals");
    rc = 1;
    goto done;
  }
  rc = peers_app_run(&opt, stop_pipe[0]);
  close(stop_pipe[0]);
  close(stop_pipe[1]);
done:
  peers_options_cleanup(&opt);
  return rc;
}
