/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: command-line flags and environment.
 *
 * Flags follow the sig-storage external-provisioner where the meaning is
 * the same (--kubeconfig, --kube-api-qps, --worker-threads, --leader-elect,
 * --leader-election-namespace, --http-endpoint, ...). With no
 * --provisioner flag, nfs-subdir-external-provisioner's environment works
 * unchanged: PROVISIONER_NAME names the one provisioner (NFS backend),
 * NFS_SERVER and NFS_PATH its default export, ENABLE_LEADER_ELECTION
 * switches leader election. NFS_URL (berth's) gives the default export as
 * a libnfs URL instead. */
#ifndef BERTH_PROV_OPTIONS_H
#define BERTH_PROV_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "berth/log.h"
#include "berth/prog_http.h"

/* One --provisioner NAME=BACKEND. */
typedef struct prov_binding {
  char *name;    /* the provisioner name StorageClasses use */
  char *backend; /* "nfs" */
} prov_binding_t;

typedef struct prov_options {
  prov_binding_t *bindings;
  size_t nbindings;
  char **adopt; /* --adopt-provisioner: another tool's provisioner names */
  size_t nadopt;
  json_t *nfs_defaults; /* {"server":..,"share":..} or {"url":..}, or NULL */
  char *kubeconfig;
  char *context;
  double qps; /* 0: the client's default */
  int burst;
  int workers;
  bool leader_elect;
  char *le_namespace; /* NULL: the client's namespace */
  char *le_name;      /* the Lease; NULL: from the first provisioner name */
  char *le_identity;  /* NULL: <hostname>_<pid> */
  int64_t lease_ms;
  int64_t renew_ms;
  int64_t retry_ms;
  char *http_endpoint;       /* NULL or "": off */
  int64_t usage_interval_ms; /* 0: never measure usage */
  int64_t sweep_interval_ms; /* 0: no sweep (sweep.c) */
  int64_t sweep_grace_ms;    /* a record younger than this is kept */
  int64_t drain_ms;          /* longest SIGTERM drain */
  berth_log_level_t log_level;
  berth_log_format_t log_format;
  bool check_config; /* --check-config: validate, print, exit */
  char *extra_tags;  /* --extra-tags "k=v,k2=v2" for EBS disks, or NULL */
  /* Where the HTTP endpoint's libmicrohttpd comes from: not a flag, main.c
   * sets berth_prog_mhd_linked; NULL loads it (berth_prog_mhd_dlopen), so
   * that the core library links without libmicrohttpd. */
  berth_prog_mhd_load_fn mhd_load;
} prov_options_t;

typedef enum prov_parse_result {
  PROV_PARSE_RUN = 0,
  PROV_PARSE_EXIT_OK,   /* --help, --version */
  PROV_PARSE_EXIT_USAGE /* a usage error, already reported */
} prov_parse_result_t;

#define PROV_DEFAULT_WORKERS 16
/* The API budget: kube-controller-manager's (--kube-api-qps 20,
 * --kube-api-burst 30). A claim costs three requests (two under
 * pressure), so about 7 to 10 claims per second; see the README. */
#define PROV_DEFAULT_QPS 20.0
#define PROV_DEFAULT_BURST 30
#define PROV_DEFAULT_LEASE_MS 15000
#define PROV_DEFAULT_RENEW_MS 10000
#define PROV_DEFAULT_RETRY_MS 2000
#define PROV_DEFAULT_HTTP_ENDPOINT ":8080"
#define PROV_DEFAULT_USAGE_INTERVAL_MS (5 * 60 * 1000)
#define PROV_DEFAULT_SWEEP_INTERVAL_MS (10 * 60 * 1000)
#define PROV_DEFAULT_SWEEP_GRACE_MS (10 * 60 * 1000)
#define PROV_DEFAULT_DRAIN_MS 30000

/* Parse argv and the environment (getenv) into *opt, which is always
 * initialised (clean it up whatever the result). Help and version go to
 * out, errors to errout. */
prov_parse_result_t prov_options_parse(int argc, char **argv,
                                       prov_options_t *opt, FILE *out,
                                       FILE *errout);

void prov_options_cleanup(prov_options_t *opt);

/* The Lease name for a provisioner name: '/' becomes '-', as the
 * sig-storage library does ("example.com/nfs" -> "example.com-nfs"). */
void prov_lease_name(const char *provisioner, char *out, size_t outsize);

#endif /* BERTH_PROV_OPTIONS_H */
