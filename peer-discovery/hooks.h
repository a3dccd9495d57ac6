/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: running a hook.
 *
 * A hook is a program run without a shell (posix_spawnp, argv as given:
 * nothing from DNS is ever spliced into a command line), in a process
 * group of its own so that a timeout or shutdown can stop it and whatever
 * it started. It gets the peers on standard input, as peer-finder gives
 * them, and berth's environment plus the BERTH_* variables; each line it
 * writes to standard output or standard error becomes one log event
 * ("hook output"), as it arrives. */
#ifndef BERTH_PEERS_HOOKS_H
#define BERTH_PEERS_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/status.h"

/* The longest output line logged as one event; longer ones are split. */
#define PEERS_HOOK_LINE_MAX 4096

typedef struct peers_hook_req {
  const char *label; /* "on-start" or "on-change", for the log */
  char *const *argv; /* program and arguments, NULL-terminated */
  char *const *envp; /* the whole environment, NULL-terminated */
  const char *input; /* standard input, may be NULL */
  size_t input_len;
  int64_t timeout_ms; /* 0: no limit */
  int64_t grace_ms;   /* SIGTERM to SIGKILL after a timeout */
  int cancel_fd;      /* readable means stop now (shutdown); -1: none */
} peers_hook_req_t;

typedef struct peers_hook_result {
  int exit_code; /* exit status, or -1 when a signal ended it */
  int signal;    /* the signal that ended it, or 0 */
  int64_t duration_ms;
} peers_hook_result_t;

/* Run req to its end. Returns BERTH_OK when the program ran and ended by
 * itself (res says how: a non-zero exit_code or a signal is a failure for
 * the caller to judge); BERTH_ETIMEOUT when it ran past timeout_ms and was
 * killed (SIGTERM to its group, SIGKILL after grace_ms); BERTH_ECANCELED
 * when cancel_fd became readable and it was killed the same way with a
 * short grace; BERTH_ENOTFOUND, BERTH_EPERM or BERTH_EIO when it could not
 * be started. res (may be NULL) is filled whenever the program started. */
berth_status_t peers_hook_run(const peers_hook_req_t *req,
                              peers_hook_result_t *res, berth_error_t *err);

/* Split a hook command line into words as a POSIX shell would, without
 * any expansion: blanks separate words; '...' keeps everything literally;
 * "..." keeps everything but \" \\ \$ \` ; a backslash outside quotes
 * keeps the next character. This is how peer-finder's -on-start
 * "/script.sh arg" values keep working without a shell. *out is a new
 * NULL-terminated vector (free with peers_argv_free). An unterminated
 * quote or no word at all is BERTH_EINVAL. */
berth_status_t peers_argv_split(const char *cmd, char ***out,
                                berth_error_t *err);

/* Free a vector from peers_argv_split or peers_envp_build. Accepts NULL. */
void peers_argv_free(char **argv);

#endif /* BERTH_PEERS_HOOKS_H */
