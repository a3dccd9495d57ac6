/* SPDX-License-Identifier: Apache-2.0 */
/* berth_prog: what the daemons' command lines share (berth-provisioner's
 * provisioner/options.c, berth-peers' peer-discovery/options.c).
 *
 * Every message names the program first ("berth-peers: --interval: ..."),
 * goes to the stream the caller chose, and the helpers that check a value
 * return false after printing, so that an option parser can end a case
 * with `return berth_prog_duration(...)`. The parsing itself is libberth's
 * (berth/duration.h, berth/log.h, berth/buf.h); this module only gives the
 * two daemons one way to report and combine it. No library module uses it.
 *
 * Thread safety: none needed; option parsing runs once, on the main
 * thread, before any other starts. */
#ifndef BERTH_PROG_H
#define BERTH_PROG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "berth/log.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The program a parser speaks for. Borrowed pointers, all non-NULL. */
typedef struct berth_prog {
  const char *name; /* "berth-peers": the first word of every message */
  FILE *out;        /* --help and --version */
  FILE *err;        /* usage errors */
} berth_prog_t;

/* Print "NAME: <message>\n" to p->err. Always returns false. */
bool berth_prog_fail(const berth_prog_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print "NAME VERSION (commit COMMIT)\n" to p->out, for --version. */
void berth_prog_version(const berth_prog_t *p);

/* The environment variable name, or NULL when it is unset or empty: an
 * empty value is no value for every environment fallback the daemons
 * read (HOSTNAME, POD_NAMESPACE, NFS_SERVER, ENABLE_LEADER_ELECTION, ...).
 * The string is borrowed from the environment. */
const char *berth_prog_env(const char *name);

/* Go's strconv.ParseBool, which both peer-finder's and the sig-storage
 * provisioner's flags use: "1", "t", "T", "TRUE", "true", "True" are true,
 * "0", "f", "F", "FALSE", "false", "False" false. Returns BERTH_EPARSE for
 * anything else (NULL included); *out is set only on success. */
berth_status_t berth_prog_bool_parse(const char *s, bool *out);

/* A duration flag's value (berth/duration.h) into *out_ms, at most max_ms
 * (<= 0: Go's maximum). On failure prints "NAME: <the parser's message,
 * which names flag and value>" and returns false; *out_ms is unchanged. */
bool berth_prog_duration(const berth_prog_t *p, const char *flag,
                         const char *value, int64_t max_ms, int64_t *out_ms);

/* A number flag's value (strtod's syntax, the whole string) in
 * [min, max] into *out. On failure prints
 * "NAME: FLAG: 'VALUE' is not a number in [MIN, MAX]" and returns false. */
bool berth_prog_number(const berth_prog_t *p, const char *flag,
                       const char *value, double min, double max, double *out);

/* klog's -v verbosity as a log level: 0-2 info, 3-4 debug, 5 and more
 * trace (both daemons take -v as Kubernetes components do). */
berth_log_level_t berth_prog_klog_level(long long v);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_PROG_H */
