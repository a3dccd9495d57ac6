/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: command-line options, see options.h. */
#include "options.h"

#include "berth/buf.h"
#include "berth/log.h"
#include "berth/prog.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_ON_START = 256,
  OPT_ON_CHANGE,
  OPT_SERVICE,
  OPT_NS,
  OPT_DOMAIN,
  OPT_ADDRESSES,
  OPT_HOSTNAME,
  OPT_PORT_NAME,
  OPT_ONCE,
  OPT_TIMEOUT,
  OPT_MIN_PEERS,
  OPT_WAIT_SELF,
  OPT_WAIT_LOWER,
  OPT_INTERVAL,
  OPT_DEBOUNCE,
  OPT_HOOK_TIMEOUT,
  OPT_HOOK_BACKOFF,
  OPT_DNS_SERVER,
  OPT_RENDER,
  OPT_HTTP,
  OPT_LOG_LEVEL,
  OPT_LOG_FORMAT,
  OPT_ADDRESS_TYPE,
  OPT_KLOG_V,
  OPT_SOURCE,
  OPT_READY_ONLY,
  OPT_KUBECONFIG,
  OPT_IGNORED_ARG, /* accepted, takes a value, ignored (logged) */
  OPT_IGNORED_BOOL /* accepted, a Go boolean, ignored (logged) */
};

static const struct option long_opts[] = {
    {"on-start", required_argument, NULL, OPT_ON_START},
    {"on-change", required_argument, NULL, OPT_ON_CHANGE},
    {"service", required_argument, NULL, OPT_SERVICE},
    {"ns", required_argument, NULL, OPT_NS},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"addresses", optional_argument, NULL, OPT_ADDRESSES},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"port-name", required_argument, NULL, OPT_PORT_NAME},
    {"once", optional_argument, NULL, OPT_ONCE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"min-peers", required_argument, NULL, OPT_MIN_PEERS},
    {"wait-for-self", optional_argument, NULL, OPT_WAIT_SELF},
    {"wait-for-lower-ordinals", optional_argument, NULL, OPT_WAIT_LOWER},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"debounce", required_argument, NULL, OPT_DEBOUNCE},
    {"hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT},
    {"hook-backoff", required_argument, NULL, OPT_HOOK_BACKOFF},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"render", required_argument, NULL, OPT_RENDER},
    {"http-endpoint", required_argument, NULL, OPT_HTTP},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    /* kmodules/peer-finder's own flags. */
    {"address-type", required_argument, NULL, OPT_ADDRESS_TYPE},
    {"selector", required_argument, NULL, OPT_IGNORED_ARG},
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"ready-only", optional_argument, NULL, OPT_READY_ONLY},
    {"master", required_argument, NULL, OPT_IGNORED_ARG},
    {"hosts-file", required_argument, NULL, OPT_IGNORED_ARG},
    /* klog's (kmodules) and glog's (contrib) flags, which both
     * peer-finders take. -v is the verbosity, never the version. */
    {"v", required_argument, NULL, OPT_KLOG_V},
    {"vmodule", required_argument, NULL, OPT_IGNORED_ARG},
    {"log_dir", required_argument, NULL, OPT_IGNORED_ARG},
    {"log_file", required_argument, NULL, OPT_IGNORED_ARG},
    {"log_file_max_size", required_argument, NULL, OPT_IGNORED_ARG},
    {"stderrthreshold", required_argument, NULL, OPT_IGNORED_ARG},
    {"log_backtrace_at", required_argument, NULL, OPT_IGNORED_ARG},
    {"logtostderr", optional_argument, NULL, OPT_IGNORED_BOOL},
    {"alsologtostderr", optional_argument, NULL, OPT_IGNORED_BOOL},
    {"skip_headers", optional_argument, NULL, OPT_IGNORED_BOOL},
    {"skip_log_headers", optional_argument, NULL, OPT_IGNORED_BOOL},
    {"add_dir_header", optional_argument, NULL, OPT_IGNORED_BOOL},
    {"one_output", optional_argument, NULL, OPT_IGNORED_BOOL},
    {"legacy_stderr_threshold_behavior", optional_argument, NULL,
     OPT_IGNORED_BOOL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Why a peer-finder flag that berth-peers accepts changes nothing. */
static const struct {
  const char *flag;
  const char *why;
} ignored_why[] = {
    {"selector", "berth-peers finds peers in the Service's DNS records, not "
                 "through the API; -address-type IP gives their addresses"},
    {"kubeconfig", "berth-peers reads it only with --source endpoints; "
                   "the DNS source does not talk to the API server"},
    {"master", "berth-peers does not talk to the API server (DNS only)"},
    {"hosts-file", "berth-peers writes no hosts file: peer names resolve "
                   "through cluster DNS (kmodules writes it only with "
                   "-selector)"},
    {"logtostderr", "berth-peers always logs to stderr"},
    {"alsologtostderr", "berth-peers always logs to stderr"},
    {"log_dir", "berth-peers logs to stderr only"},
    {"log_file", "berth-peers logs to stderr only"},
    {"log_file_max_size", "berth-peers logs to stderr only"},
    {"stderrthreshold", "berth-peers logs to stderr only (--log-level)"},
    {"vmodule", "berth-peers has one verbosity (-v or --log-level)"},
    {NULL, "a klog/glog formatting flag; berth-peers logs logfmt or JSON "
           "(--log-format)"},
};

/* Log, once parsing is done (so in the chosen format), each accepted flag
 * that berth-peers does not act on, with the reason. */
static void log_ignored(const char *flag, const char *value)
{
  size_t i;

  for (i = 0; ignored_why[i].flag != NULL; i++) {
    if (strcmp(ignored_why[i].flag, flag) == 0)
      break;
  }
  berth_log(BERTH_LOG_INFO, "peer-finder flag accepted and ignored", "flag",
            flag, "value", value != NULL ? value : "true", "reason",
            ignored_why[i].why, NULL);
}

static void usage(FILE *out)
{
  fputs(
      "Usage: berth-peers -service SVC [OPTION]...\n"
      "Find the members of a StatefulSet through its headless Service's DNS\n"
      "records, give this member its ordinal identity, and run hooks and\n"
      "render files when the membership changes. Options may be spelled\n"
      "-flag or --flag; durations are like 250ms, 2s, 1m.\n"
      "\n"
      "peer-finder compatible:\n"
      "  -on-start CMD          run CMD once this member is seen (peers on "
      "stdin)\n"
      "  -on-change CMD         run CMD on every membership change after that\n"
      "  -service SVC           the StatefulSet's governing headless Service\n"
      "  -ns NS                 namespace (default $POD_NAMESPACE, then the\n"
      "                         service-account namespace file)\n"
      "  -domain ZONE           cluster zone (default from resolv.conf, then\n"
      "                         cluster.local)\n"
      "  -addresses             give peers as addresses instead of names\n"
      "  -address-type TYPE     DNS (default): names; IP, IPv4, IPv6: "
      "addresses;\n"
      "                         sets HOST_ADDRESS(_TYPE), POD_IP(_TYPE) for "
      "hooks\n"
      "  -v N                   klog verbosity: 0-2 info, 3-4 debug, 5+ "
      "trace\n"
      "  -kubeconfig FILE       credentials for --source endpoints (default\n"
      "                         $KUBECONFIG, then the pod's service account)\n"
      "  -selector, -master, -hosts-file, -log_dir, -alsologtostderr,\n"
      "  and klog's other flags are accepted and ignored (logged, with why)\n"
      "Source:\n"
      "  --source SOURCE        dns (default): the Service's SRV records;\n"
      "                         endpoints: watch its EndpointSlices (needs "
      "the\n"
      "                         Role of deploy/overlays/peers)\n"
      "  --ready-only[=BOOL]    endpoints: only ready endpoints are members\n"
      "Identity and DNS:\n"
      "  --hostname NAME        own host name (default $HOSTNAME, "
      "gethostname)\n"
      "  --port-name NAME       ask the SRV records of _NAME._tcp.SVC...\n"
      "  --dns-server HOST:PORT DNS server (default $BERTH_DNS_SERVER, then\n"
      "                         resolv.conf)\n"
      "  --interval DUR         re-query period (default 250ms)\n"
      "Modes:\n"
      "  --once                 init container: wait, run on-start, exit\n"
      "  --timeout DUR          with --once, give up after DUR (exit 1)\n"
      "  --min-peers N          wait for N members before the first run\n"
      "  --wait-for-self[=BOOL] wait until this member is in DNS (default "
      "true)\n"
      "  --wait-for-lower-ordinals\n"
      "                         member N waits until 0..N-1 are in DNS\n"
      "Hooks (run without a shell; BERTH_* in peer-discovery/README.md):\n"
      "  --debounce DUR         wait until a change holds this long (default "
      "0)\n"
      "  --hook-timeout DUR     kill a hook after DUR (default 60s, 0: never)\n"
      "  --hook-backoff DUR     first delay before retrying a failed hook\n"
      "                         (default 1s, doubling up to 32 times that)\n"
      "Outputs:\n"
      "  --render KIND[,KEY=VAL...]:PATH\n"
      "                         write PATH on change; KIND is zookeeper, "
      "etcd,\n"
      "                         mongo, cassandra, elasticsearch, json or "
      "lines;\n"
      "                         KEYs: port, count, name (repeatable)\n"
      "  --http-endpoint ADDR   serve /peers /healthz /readyz /metrics on "
      "ADDR\n"
      "                         ([HOST]:PORT)\n"
      "  --log-level LEVEL      error, warn, info (default), debug or trace\n"
      "  --log-format FORMAT    logfmt (default) or json\n"
      "  -h, --help             show this help and exit\n"
      "  -V, --version          show the version and exit\n"
      "Subcommand:\n"
      "  berth-peers install DIR\n"
      "                         copy the static berth-peers to "
      "DIR/berth-peers\n"
      "                         (the init container of the peer-finder "
      "pattern)\n",
      out);
}

berth_status_t peers_bool_parse(const char *s, bool *out)
{
  /* "-once" alone, as Go's flag package reads a boolean flag. */
  if (s == NULL) {
    *out = true;
    return BERTH_OK;
  }
  return berth_prog_bool_parse(s, out);
}

static void set_defaults(peers_options_t *opt)
{
  memset(opt, 0, sizeof(*opt));
  opt->id.env_hostname = getenv("HOSTNAME");
  opt->id.env_namespace = getenv("POD_NAMESPACE");
  opt->dns_server = berth_prog_env("BERTH_DNS_SERVER");
  opt->wait_self = true;
  opt->address_type = "DNS";
  opt->interval_ms = PEERS_DEFAULT_INTERVAL_MS;
  opt->hook_timeout_ms = PEERS_DEFAULT_HOOK_TIMEOUT_MS;
  opt->hook_backoff_ms = PEERS_DEFAULT_HOOK_BACKOFF_MS;
}

static bool add_render(peers_options_t *opt, const char *arg,
                       const berth_prog_t *p)
{
  peers_render_spec_t *specs;
  berth_error_t err;

  specs = realloc(opt->renders, (opt->nrenders + 1) * sizeof(*specs));
  if (specs == NULL)
    return false;
  opt->renders = specs;
  berth_error_clear(&err);
  if (peers_render_spec_parse(arg, &specs[opt->nrenders], &err) != BERTH_OK)
    return berth_prog_fail(p, "--render: %s", err.message);
  opt->nrenders++;
  return true;
}

/* Parse a duration option's value; false after printing an error. */
static bool duration_opt(const char *name, const char *arg, int64_t *out,
                         const berth_prog_t *p)
{
  char flag[32];

  snprintf(flag, sizeof(flag), "--%s", name);
  return berth_prog_duration(p, flag, arg, PEERS_DURATION_MAX_MS, out);
}

static bool bool_opt(const char *name, const char *arg, bool *out,
                     const berth_prog_t *p)
{
  if (peers_bool_parse(arg, out) == BERTH_OK)
    return true;
  return berth_prog_fail(p, "--%s: '%s' is not true or false", name, arg);
}

/* klog's -v N: 0-2 info, 3-4 debug, 5 and more trace (as
 * berth-provisioner reads it). */
static bool klog_v(const char *arg, const berth_prog_t *p)
{
  long long n;

  if (berth_str_to_ll(arg, 0, 100, &n) != BERTH_OK)
    return berth_prog_fail(p, "-v: '%s' is not a verbosity (0-100)", arg);
  berth_log_set_level(berth_prog_klog_level(n));
  return true;
}

/* --source dns|endpoints. */
static bool source_opt(peers_options_t *opt, const char *arg,
                       const berth_prog_t *p)
{
  if (strcmp(arg, "dns") == 0) {
    opt->source_endpoints = false;
    return true;
  }
  if (strcmp(arg, "endpoints") != 0)
    return berth_prog_fail(p, "--source: '%s': dns or endpoints", arg);
#ifdef BERTH_PEERS_STATIC
  /* lib/k8s (libcurl, OpenSSL) is not linked into the static build. */
  return berth_prog_fail(p, "--source endpoints is not available in the "
                            "static build (berth-peers-static); run the "
                            "image's dynamic berth-peers as a sidecar to "
                            "watch EndpointSlices");
#else
  opt->source_endpoints = true;
  return true;
#endif
}

/* Apply one option; false after printing an error. */
static bool apply(int c, const char *arg, peers_options_t *opt,
                  const berth_prog_t *p)
{
  berth_log_level_t level;
  berth_log_format_t format;
  long long n;

  switch (c) {
  case OPT_ON_START:
    opt->on_start = arg;
    return true;
  case OPT_ON_CHANGE:
    opt->on_change = arg;
    return true;
  case OPT_SERVICE:
    opt->id.service = arg;
    return true;
  case OPT_NS:
    opt->id.ns = arg;
    return true;
  case OPT_DOMAIN:
    opt->id.domain = arg;
    return true;
  case OPT_HOSTNAME:
    opt->id.hostname = arg;
    return true;
  case OPT_PORT_NAME:
    opt->port_name = arg;
    return true;
  case OPT_DNS_SERVER:
    opt->dns_server = arg;
    return true;
  case OPT_HTTP:
#ifdef BERTH_PEERS_STATIC
    /* libmicrohttpd is not linked into the static build (install.h). */
    return berth_prog_fail(p, "--http-endpoint is not available in the "
                              "static build (berth-peers-static, the copy "
                              "that `berth-peers install` makes); run the "
                              "image's dynamic berth-peers as a sidecar for "
                              "/peers, /readyz and /metrics");
#else
    opt->http_endpoint = arg;
    return true;
#endif
  case OPT_RENDER:
    return add_render(opt, arg, p);
  case OPT_SOURCE:
    return source_opt(opt, arg, p);
  case OPT_READY_ONLY:
    return bool_opt("ready-only", arg, &opt->ready_only, p);
  case OPT_KUBECONFIG:
    opt->kubeconfig = arg;
    return true;
  case OPT_ADDRESSES:
    return bool_opt("addresses", arg, &opt->addresses, p);
  case OPT_ADDRESS_TYPE:
    /* kmodules/peer-finder's values, compared exactly as it does. */
    if (strcmp(arg, "DNS") != 0 && strcmp(arg, "IP") != 0 &&
        strcmp(arg, "IPv4") != 0 && strcmp(arg, "IPv6") != 0) {
      return berth_prog_fail(p, "-address-type: '%s': DNS, IP, IPv4 or IPv6",
                             arg);
    }
    opt->address_type = arg;
    if (strcmp(arg, "DNS") != 0)
      opt->addresses = true;
    return true;
  case OPT_KLOG_V:
    return klog_v(arg, p);
  case OPT_ONCE:
    return bool_opt("once", arg, &opt->once, p);
  case OPT_WAIT_SELF:
    return bool_opt("wait-for-self", arg, &opt->wait_self, p);
  case OPT_WAIT_LOWER:
    return bool_opt("wait-for-lower-ordinals", arg, &opt->wait_lower, p);
  case OPT_TIMEOUT:
    return duration_opt("timeout", arg, &opt->timeout_ms, p);
  case OPT_INTERVAL:
    return duration_opt("interval", arg, &opt->interval_ms, p);
  case OPT_DEBOUNCE:
    return duration_opt("debounce", arg, &opt->debounce_ms, p);
  case OPT_HOOK_TIMEOUT:
    return duration_opt("hook-timeout", arg, &opt->hook_timeout_ms, p);
  case OPT_HOOK_BACKOFF:
    return duration_opt("hook-backoff", arg, &opt->hook_backoff_ms, p);
  case OPT_MIN_PEERS:
    if (berth_str_to_ll(arg, 0, 100000, &n) == BERTH_OK) {
      opt->min_peers = (long)n;
      return true;
    }
    return berth_prog_fail(p, "--min-peers: '%s' is not a count", arg);
  case OPT_LOG_LEVEL:
    if (berth_log_level_parse(arg, &level) == BERTH_OK) {
      berth_log_set_level(level);
      return true;
    }
    return berth_prog_fail(p, "invalid --log-level '%s'", arg);
  case OPT_LOG_FORMAT:
    if (berth_log_format_parse(arg, &format) == BERTH_OK) {
      berth_log_set_format(format);
      return true;
    }
    return berth_prog_fail(p, "invalid --log-format '%s'", arg);
  default:
    return false;
  }
}

/* Check the combination; false after printing an error. */
static bool check(const peers_options_t *opt, const berth_prog_t *p)
{
  if (opt->id.service == NULL || *opt->id.service == '\0')
    return berth_prog_fail(p, "-service is required");
  if (!opt->once && opt->on_start == NULL && opt->on_change == NULL &&
      opt->nrenders == 0 && opt->http_endpoint == NULL)
    return berth_prog_fail(p, "nothing to do: give -on-start, -on-change, "
                              "--render or --http-endpoint (or --once)");
  if (opt->interval_ms < 10)
    return berth_prog_fail(p, "--interval must be at least 10ms");
  if (opt->ready_only && !opt->source_endpoints)
    return berth_prog_fail(p, "--ready-only needs --source endpoints "
                              "(DNS names only ready endpoints anyway)");
  if (opt->hook_backoff_ms < 1)
    return berth_prog_fail(p, "--hook-backoff must be at least 1ms");
  return true;
}

peers_parse_result_t peers_options_parse(int argc, char **argv,
                                         peers_options_t *opt, FILE *out,
                                         FILE *errout)
{
  const berth_prog_t p = {"berth-peers", out, errout};
  const char *ign_flag[32];
  const char *ign_value[32];
  size_t nign = 0;
  size_t i;
  bool b;
  int li = -1;
  int c;

  set_defaults(opt);
  /* 0, not 1: glibc then forgets where it was inside the last argv (a
   * parse that stopped in "-h-A" would resume there, in memory that may be
   * gone); found by tests/fuzz options. */
  optind = 0;
  opterr = 1;
  while ((c = getopt_long_only(argc, argv, "hV", long_opts, &li)) != -1) {
    if (c == OPT_IGNORED_ARG || c == OPT_IGNORED_BOOL) {
      if (c == OPT_IGNORED_BOOL &&
          !bool_opt(long_opts[li].name, optarg, &b, &p))
        return PEERS_PARSE_EXIT_USAGE;
      if (nign < 32) {
        ign_flag[nign] = long_opts[li].name;
        ign_value[nign++] = optarg;
      }
      continue;
    }
    if (c == 'h') {
      usage(out);
      return PEERS_PARSE_EXIT_OK;
    }
    if (c == 'V') {
      berth_prog_version(&p);
      return PEERS_PARSE_EXIT_OK;
    }
    if (!apply(c, optarg, opt, &p)) {
      if (c == '?' || c == ':')
        fputs("Try 'berth-peers --help' for the options.\n", errout);
      return PEERS_PARSE_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    berth_prog_fail(&p, "unexpected argument '%s'", argv[optind]);
    return PEERS_PARSE_EXIT_USAGE;
  }
  if (!check(opt, &p))
    return PEERS_PARSE_EXIT_USAGE;
  for (i = 0; i < nign; i++)
    log_ignored(ign_flag[i], ign_value[i]);
  if (opt->kubeconfig != NULL && !opt->source_endpoints)
    log_ignored("kubeconfig", opt->kubeconfig);
  return PEERS_PARSE_RUN;
}

void peers_options_cleanup(peers_options_t *opt)
{
  size_t i;

  if (opt == NULL)
    return;
  for (i = 0; i < opt->nrenders; i++)
    peers_render_spec_cleanup(&opt->renders[i]);
  free(opt->renders);
  opt->renders = NULL;
  opt->nrenders = 0;
}
