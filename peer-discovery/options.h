/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the command line.
 *
 * Every option may be spelled -flag or --flag (getopt_long_only), with its
 * value as the next argument or after '=', so that peer-finder's
 * "-on-start=/on-start.sh -service=mongo" keeps working. Every flag of the
 * Kubernetes contrib peer-finder and of kmodules/peer-finder is accepted
 * (with klog's and glog's: -v N is the verbosity); those that cannot mean
 * anything here (-selector, -kubeconfig, -master, -hosts-file, log files)
 * are logged as ignored, with the reason. Durations are a
 * number with a unit ("250ms", "1.5s", "2m", "1h"), or bare seconds. */
#ifndef BERTH_PEERS_OPTIONS_H
#define BERTH_PEERS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "berth/status.h"

#include "identity.h"
#include "render.h"

typedef struct peers_options {
  peers_identity_opts_t id;
  const char *on_start; /* borrowed from argv */
  const char *on_change;
  bool addresses;
  const char *address_type; /* -address-type: DNS (default), IP, IPv4, IPv6 */
  const char *port_name;
  bool once;
  int64_t timeout_ms; /* --once: 0 waits for ever */
  long min_peers;
  bool wait_self;
  bool wait_lower;
  int64_t interval_ms;
  int64_t debounce_ms;
  int64_t hook_timeout_ms; /* 0: none */
  int64_t hook_backoff_ms;
  const char *dns_server; /* NULL: resolv.conf */
  peers_render_spec_t *renders;
  size_t nrenders;
  const char *http_endpoint;
  bool source_endpoints;  /* --source endpoints (default: dns) */
  bool ready_only;        /* --ready-only: only ready endpoints */
  const char *kubeconfig; /* -kubeconfig, for --source endpoints */
} peers_options_t;

/* Defaults. */
#define PEERS_DEFAULT_INTERVAL_MS 250
#define PEERS_DEFAULT_HOOK_TIMEOUT_MS 60000
#define PEERS_DEFAULT_HOOK_BACKOFF_MS 1000

/* What peers_options_parse tells main to do. */
typedef enum peers_parse_result {
  PEERS_PARSE_RUN = 0,
  PEERS_PARSE_EXIT_OK,   /* --help or --version was printed */
  PEERS_PARSE_EXIT_USAGE /* a usage error was printed: exit 2 */
} peers_parse_result_t;

/* Parse argv into *opt (log level and format are applied at once).
 * Environment defaults (HOSTNAME, POD_NAMESPACE, BERTH_DNS_SERVER) are
 * read through getenv. Messages go to out (help) or errout. */
peers_parse_result_t peers_options_parse(int argc, char **argv,
                                         peers_options_t *opt, FILE *out,
                                         FILE *errout);

/* Free what opt owns (the render specs). Accepts NULL. */
void peers_options_cleanup(peers_options_t *opt);

/* The longest duration any option takes: a day. */
#define PEERS_DURATION_MAX_MS ((int64_t)24 * 3600 * 1000)

/* Parse a Go-style boolean ("true", "false", "1", "0", "t", "f"); NULL
 * (no value given) is true. */
berth_status_t peers_bool_parse(const char *s, bool *out);

#endif /* BERTH_PEERS_OPTIONS_H */
