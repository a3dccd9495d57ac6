/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: flags and environment, see options.h. */
#include "options.h"

#include "backends/backend.h"
#include "berth/buf.h"
#include "berth/prog.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_PROVISIONER = 256,
  OPT_KUBECONFIG,
  OPT_CONTEXT,
  OPT_QPS,
  OPT_BURST,
  OPT_WORKERS,
  OPT_LEADER_ELECT,
  OPT_LE_NAMESPACE,
  OPT_LE_NAME,
  OPT_LE_IDENTITY,
  OPT_LEASE,
  OPT_RENEW,
  OPT_RETRY,
  OPT_HTTP,
  OPT_USAGE,
  OPT_SWEEP,
  OPT_SWEEP_GRACE,
  OPT_DRAIN,
  OPT_LOG_LEVEL,
  OPT_LOG_FORMAT,
  OPT_CHECK_CONFIG,
  OPT_ADOPT,
  OPT_EXTRA_TAGS
};

static const struct option longopts[] = {
    {"provisioner", required_argument, NULL, OPT_PROVISIONER},
    {"adopt-provisioner", required_argument, NULL, OPT_ADOPT},
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"context", required_argument, NULL, OPT_CONTEXT},
    {"kube-api-qps", required_argument, NULL, OPT_QPS},
    {"kube-api-burst", required_argument, NULL, OPT_BURST},
    {"worker-threads", required_argument, NULL, OPT_WORKERS},
    {"leader-elect", optional_argument, NULL, OPT_LEADER_ELECT},
    {"enable-leader-election", optional_argument, NULL, OPT_LEADER_ELECT},
    {"leader-election-namespace", required_argument, NULL, OPT_LE_NAMESPACE},
    {"leader-election-name", required_argument, NULL, OPT_LE_NAME},
    {"leader-election-identity", required_argument, NULL, OPT_LE_IDENTITY},
    {"lease-duration", required_argument, NULL, OPT_LEASE},
    {"leader-election-lease-duration", required_argument, NULL, OPT_LEASE},
    {"renew-deadline", required_argument, NULL, OPT_RENEW},
    {"leader-election-renew-deadline", required_argument, NULL, OPT_RENEW},
    {"retry-period", required_argument, NULL, OPT_RETRY},
    {"leader-election-retry-period", required_argument, NULL, OPT_RETRY},
    {"http-endpoint", required_argument, NULL, OPT_HTTP},
    {"usage-interval", required_argument, NULL, OPT_USAGE},
    {"sweep-interval", required_argument, NULL, OPT_SWEEP},
    {"sweep-grace", required_argument, NULL, OPT_SWEEP_GRACE},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
    {"extra-tags", required_argument, NULL, OPT_EXTRA_TAGS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* The backends of this build (berth_backends), one a line. */
static void usage_backends(FILE *out)
{
  size_t i;

  fprintf(out, "\nBackends:\n");
  for (i = 0; berth_backends[i] != NULL; i++)
    fprintf(out, "  %-6s %s\n", berth_backends[i]->name,
            berth_backends[i]->summary);
}

static void usage(FILE *out)
{
  fprintf(
      out,
      "Usage: berth-provisioner [OPTION]...\n"
      "Provision PersistentVolumes for the claims whose StorageClass names "
      "one\n"
      "of our provisioners: NFS sub-directories through libnfs (no mount, no\n"
      "privileges), EBS disks (with their attacher and resizer), EFS access\n"
      "points or directories; exactly once, crash-safe, leader-elected.\n"
      "\n"
      "Options:\n"
      "  --provisioner NAME=BACKEND  serve StorageClasses whose provisioner "
      "is\n"
      "                       NAME with BACKEND (see Backends); repeatable.\n"
      "                       Without "
      "it:\n"
      "                       PROVISIONER_NAME=NAME with the nfs backend\n"
      "  --adopt-provisioner OLD  treat PVs provisioned by OLD (another\n"
      "                       tool) whose class now names one of ours as\n"
      "                       ours: reclaimed by our rules; repeatable\n"
      "  --kubeconfig FILE    kubeconfig (default: $KUBECONFIG, in-cluster,\n"
      "                       ~/.kube/config)\n"
      "  --context NAME       kubeconfig context\n"
      "  --kube-api-qps N     API requests per second (default 20)\n"
      "  --kube-api-burst N   API burst (default 30)\n"
      "  --worker-threads N   claims and volumes worked on at once (default "
      "%d)\n"
      "  --leader-elect[=BOOL]  elect a leader on a Lease (default true;\n"
      "                       ENABLE_LEADER_ELECTION)\n"
      "  --leader-election-namespace NS  the Lease's namespace\n"
      "  --leader-election-name NAME     the Lease (default: provisioner "
      "name)\n"
      "  --leader-election-identity ID   this replica (default: host_pid)\n"
      "  --lease-duration D   (default 15s)\n"
      "  --renew-deadline D   (default 10s)\n"
      "  --retry-period D     (default 2s)\n"
      "  --http-endpoint ADDR /healthz, /readyz, /metrics (default %s;\n"
      "                       \"\" turns it off)\n"
      "  --usage-interval D   measure volumes' usage this often (default 5m;\n"
      "                       0 never)\n"
      "  --sweep-interval D   look this often for storage whose claim and\n"
      "                       PV are both gone, and remove it (default\n"
      "                       10m; 0 never)\n"
      "  --sweep-grace D      leave such storage alone until it is this\n"
      "                       old (default 10m)\n"
      "  --drain-timeout D    longest wait for work in flight on SIGTERM\n"
      "                       (default 30s)\n"
      "  --log-level LEVEL, -v LEVEL  error, warn, info (default), debug,\n"
      "                       trace, or klog's numbers (0-2 info, 3-4 debug)\n"
      "  --log-format FORMAT  logfmt (default) or json\n"
      "  --extra-tags K=V,K2=V2  tags on every EBS disk (aws-ebs-csi-driver's\n"
      "                       flag)\n"
      "  --check-config       check the flags and environment, print what\n"
      "                       would be served and exit (0: good, 2: not)\n"
      "  -h, --help           show this help and exit\n"
      "  -V, --version        show the version and exit\n"
      "\n"
      "Environment (nfs-subdir-external-provisioner): PROVISIONER_NAME,\n"
      "NFS_SERVER, NFS_PATH, ENABLE_LEADER_ELECTION; NFS_URL (libnfs URL) as\n"
      "the nfs backend's default export instead of NFS_SERVER/NFS_PATH.\n"
      "Durations: 500ms, 15s, 1m30s, or plain seconds (no sign).\n",
      PROV_DEFAULT_WORKERS, PROV_DEFAULT_HTTP_ENDPOINT);
  usage_backends(out);
}

void prov_lease_name(const char *provisioner, char *out, size_t outsize)
{
  char *p;

  berth_strlcpy(out, provisioner, outsize);
  for (p = out; *p != '\0'; p++) {
    if (*p == '/')
      *p = '-';
  }
}

/* A provisioner name: a qualified name as StorageClass.provisioner takes
 * (letters, digits, '.', '-', '_', '/'), 1 to 253 bytes. */
static bool valid_provisioner_name(const char *s, size_t n)
{
  size_t i;

  if (n == 0 || n > 253)
    return false;
  for (i = 0; i < n; i++) {
    if (!isalnum((unsigned char)s[i]) && strchr("._-/", s[i]) == NULL)
      return false;
  }
  return true;
}

static bool add_binding(prov_options_t *opt, const char *name, size_t nlen,
                        const char *backend)
{
  prov_binding_t *b = realloc(opt->bindings, (opt->nbindings + 1) * sizeof(*b));

  if (b == NULL)
    return false;
  opt->bindings = b;
  b = &opt->bindings[opt->nbindings];
  b->name = strndup(name, nlen);
  b->backend = strdup(backend);
  if (b->name == NULL || b->backend == NULL) {
    free(b->name);
    free(b->backend);
    return false;
  }
  opt->nbindings++;
  return true;
}

static bool parse_binding(prov_options_t *opt, const char *arg,
                          const berth_prog_t *p)
{
  const char *eq = strchr(arg, '=');
  size_t i;

  if (eq == NULL || !valid_provisioner_name(arg, (size_t)(eq - arg)) ||
      eq[1] == '\0')
    return berth_prog_fail(p, "--provisioner wants NAME=BACKEND, got '%s'",
                           arg);
  for (i = 0; i < opt->nbindings; i++) {
    if (strlen(opt->bindings[i].name) == (size_t)(eq - arg) &&
        strncmp(opt->bindings[i].name, arg, (size_t)(eq - arg)) == 0)
      return berth_prog_fail(p, "provisioner '%.*s' given twice",
                             (int)(eq - arg), arg);
  }
  return add_binding(opt, arg, (size_t)(eq - arg), eq + 1);
}

/* --adopt-provisioner OLD: a name another tool wrote in
 * pv.kubernetes.io/provisioned-by. */
static bool add_adopt(prov_options_t *opt, const char *arg,
                      const berth_prog_t *p)
{
  char **a;

  if (!valid_provisioner_name(arg, strlen(arg)))
    return berth_prog_fail(p,
                           "--adopt-provisioner: '%s' is not a valid "
                           "provisioner name",
                           arg);
  a = realloc(opt->adopt, (opt->nadopt + 1) * sizeof(*a));
  if (a == NULL)
    return false;
  opt->adopt = a;
  a[opt->nadopt] = strdup(arg);
  if (a[opt->nadopt] == NULL)
    return false;
  opt->nadopt++;
  return true;
}

static bool set_str(char **dst, const char *v)
{
  free(*dst);
  *dst = strdup(v);
  return *dst != NULL;
}

/* A duration flag: any length Go takes. */
static bool parse_dur(const char *flag, const char *v, int64_t *out,
                      const berth_prog_t *p)
{
  return berth_prog_duration(p, flag, v, 0, out);
}

/* A level name, or klog's -v numbers. */
static bool parse_level(const char *v, prov_options_t *opt,
                        const berth_prog_t *p)
{
  long long n;

  if (berth_str_to_ll(v, 0, 100, &n) == BERTH_OK) {
    opt->log_level = berth_prog_klog_level(n);
    return true;
  }
  if (berth_log_level_parse(v, &opt->log_level) != BERTH_OK)
    return berth_prog_fail(p, "invalid log level '%s'", v);
  return true;
}

static void defaults(prov_options_t *opt)
{
  memset(opt, 0, sizeof(*opt));
  opt->workers = PROV_DEFAULT_WORKERS;
  opt->qps = PROV_DEFAULT_QPS;
  opt->burst = PROV_DEFAULT_BURST;
  opt->leader_elect = true;
  opt->lease_ms = PROV_DEFAULT_LEASE_MS;
  opt->renew_ms = PROV_DEFAULT_RENEW_MS;
  opt->retry_ms = PROV_DEFAULT_RETRY_MS;
  opt->usage_interval_ms = PROV_DEFAULT_USAGE_INTERVAL_MS;
  opt->sweep_interval_ms = PROV_DEFAULT_SWEEP_INTERVAL_MS;
  opt->sweep_grace_ms = PROV_DEFAULT_SWEEP_GRACE_MS;
  opt->drain_ms = PROV_DEFAULT_DRAIN_MS;
  opt->log_level = BERTH_LOG_INFO;
  opt->http_endpoint = strdup(PROV_DEFAULT_HTTP_ENDPOINT);
}

/* The environment of nfs-subdir-external-provisioner (and NFS_URL). */
static bool from_env(prov_options_t *opt, const berth_prog_t *p)
{
  const char *le = berth_prog_env("ENABLE_LEADER_ELECTION");
  const char *server = berth_prog_env("NFS_SERVER");
  const char *path = berth_prog_env("NFS_PATH");
  const char *url = berth_prog_env("NFS_URL");

  if (le != NULL && berth_prog_bool_parse(le, &opt->leader_elect) != BERTH_OK)
    return berth_prog_fail(p, "ENABLE_LEADER_ELECTION: '%s' is not a boolean",
                           le);
  if (url != NULL) {
    opt->nfs_defaults = json_pack("{s:s}", "url", url);
  } else if (server != NULL || path != NULL) {
    opt->nfs_defaults = json_object();
    if (opt->nfs_defaults != NULL && server != NULL)
      json_object_set_new(opt->nfs_defaults, "server", json_string(server));
    if (opt->nfs_defaults != NULL && path != NULL)
      json_object_set_new(opt->nfs_defaults, "share", json_string(path));
  }
  return true;
}

/* One option; false on a usage error. */
static bool apply(prov_options_t *opt, int c, const char *arg,
                  const berth_prog_t *p)
{
  double d;

  switch (c) {
  case OPT_PROVISIONER:
    return parse_binding(opt, arg, p);
  case OPT_ADOPT:
    return add_adopt(opt, arg, p);
  case OPT_KUBECONFIG:
    return set_str(&opt->kubeconfig, arg);
  case OPT_CONTEXT:
    return set_str(&opt->context, arg);
  case OPT_QPS:
    if (!berth_prog_number(p, "--kube-api-qps", arg, 0.01, 1e6, &d))
      return false;
    opt->qps = d;
    return true;
  case OPT_BURST:
    if (!berth_prog_number(p, "--kube-api-burst", arg, 1, 1e6, &d))
      return false;
    opt->burst = (int)d;
    return true;
  case OPT_WORKERS:
    if (!berth_prog_number(p, "--worker-threads", arg, 1, 1024, &d))
      return false;
    opt->workers = (int)d;
    return true;
  case OPT_LEADER_ELECT:
    if (arg == NULL) {
      opt->leader_elect = true;
      return true;
    }
    if (berth_prog_bool_parse(arg, &opt->leader_elect) != BERTH_OK)
      return berth_prog_fail(p, "--leader-elect: '%s' is not a boolean", arg);
    return true;
  case OPT_LE_NAMESPACE:
    return set_str(&opt->le_namespace, arg);
  case OPT_LE_NAME:
    return set_str(&opt->le_name, arg);
  case OPT_LE_IDENTITY:
    return set_str(&opt->le_identity, arg);
  case OPT_LEASE:
    return parse_dur("--lease-duration", arg, &opt->lease_ms, p);
  case OPT_RENEW:
    return parse_dur("--renew-deadline", arg, &opt->renew_ms, p);
  case OPT_RETRY:
    return parse_dur("--retry-period", arg, &opt->retry_ms, p);
  case OPT_HTTP:
    return set_str(&opt->http_endpoint, arg);
  case OPT_USAGE:
    return parse_dur("--usage-interval", arg, &opt->usage_interval_ms, p);
  case OPT_SWEEP:
    return parse_dur("--sweep-interval", arg, &opt->sweep_interval_ms, p);
  case OPT_SWEEP_GRACE:
    return parse_dur("--sweep-grace", arg, &opt->sweep_grace_ms, p);
  case OPT_DRAIN:
    return parse_dur("--drain-timeout", arg, &opt->drain_ms, p);
  case OPT_LOG_LEVEL:
  case 'v':
    return parse_level(arg, opt, p);
  case OPT_CHECK_CONFIG:
    opt->check_config = true;
    return true;
  case OPT_EXTRA_TAGS:
    return set_str(&opt->extra_tags, arg);
  case OPT_LOG_FORMAT:
    if (berth_log_format_parse(arg, &opt->log_format) != BERTH_OK)
      return berth_prog_fail(p, "--log-format: logfmt or json");
    return true;
  default:
    return false;
  }
}

/* What the flags must agree on, after parsing. */
static bool check(prov_options_t *opt, const berth_prog_t *p)
{
  const char *name = berth_prog_env("PROVISIONER_NAME");

  if (opt->nbindings == 0 && name != NULL) {
    if (!valid_provisioner_name(name, strlen(name)))
      return berth_prog_fail(p,
                             "PROVISIONER_NAME '%s' is not a valid "
                             "provisioner name",
                             name);
    if (!add_binding(opt, name, strlen(name), "nfs"))
      return false;
  }
  if (opt->nbindings == 0)
    return berth_prog_fail(p, "no provisioner: give --provisioner "
                              "NAME=BACKEND or set PROVISIONER_NAME");
  if (opt->lease_ms < 1000 || opt->renew_ms <= 0 || opt->retry_ms <= 0 ||
      opt->renew_ms >= opt->lease_ms || opt->retry_ms >= opt->renew_ms)
    return berth_prog_fail(p, "leader election wants retry-period < "
                              "renew-deadline < lease-duration, "
                              "lease-duration >= 1s");
  return true;
}

prov_parse_result_t prov_options_parse(int argc, char **argv,
                                       prov_options_t *opt, FILE *out,
                                       FILE *errout)
{
  const berth_prog_t p = {"berth-provisioner", out, errout};
  int c;

  defaults(opt);
  if (!from_env(opt, &p))
    return PROV_PARSE_EXIT_USAGE;
  /* 0, not 1: glibc then forgets where it was inside the last argv (a
   * parse that stopped in "-hvx" would resume at "vx" in memory that may
   * be gone); found by tests/fuzz options. */
  optind = 0;
  while ((c = getopt_long(argc, argv, "hVv:", longopts, NULL)) != -1) {
    if (c == 'h') {
      usage(out);
      return PROV_PARSE_EXIT_OK;
    }
    if (c == 'V') {
      berth_prog_version(&p);
      return PROV_PARSE_EXIT_OK;
    }
    if (c == '?' || !apply(opt, c, optarg, &p)) {
      if (c == '?')
        usage(errout);
      return PROV_PARSE_EXIT_USAGE;
    }
  }
  if (optind != argc) {
    berth_prog_fail(&p, "unexpected argument '%s'", argv[optind]);
    return PROV_PARSE_EXIT_USAGE;
  }
  return check(opt, &p) ? PROV_PARSE_RUN : PROV_PARSE_EXIT_USAGE;
}

void prov_options_cleanup(prov_options_t *opt)
{
  size_t i;

  if (opt == NULL)
    return;
  for (i = 0; i < opt->nbindings; i++) {
    free(opt->bindings[i].name);
    free(opt->bindings[i].backend);
  }
  free(opt->bindings);
  for (i = 0; i < opt->nadopt; i++)
    free(opt->adopt[i]);
  free(opt->adopt);
  json_decref(opt->nfs_defaults);
  free(opt->extra_tags);
  free(opt->kubeconfig);
  free(opt->context);
  free(opt->le_namespace);
  free(opt->le_name);
  free(opt->le_identity);
  free(opt->http_endpoint);
  memset(opt, 0, sizeof(*opt));
}
