/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: the command line.
 *
 * kubectl's rules: flags may come before or after the command and its
 * arguments ("berthctl -n team claims" and "berthctl claims -n team"),
 * long flags take their value after '=' or as the next word, "--" ends the
 * flags. One table holds every flag; each command says which of the
 * command-specific ones it takes (ctl_command_t.flags), so that a flag
 * given to the wrong command is a usage error, not silently ignored. */
#include "ctl.h"
#include "backends/backend.h"

#include "berth/duration.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_KUBECONFIG = 256,
  OPT_CONTEXT,
  OPT_PROVISIONER,
  OPT_NFS_URL,
  OPT_REQUEST_TIMEOUT,
  OPT_NO_HEADERS,
  OPT_SORT_BY,
  OPT_NO_USAGE,
  OPT_DELETE,
  OPT_ARCHIVE,
  OPT_ARCHIVED,
  OPT_TO,
  OPT_MIN_AGE,
  OPT_DRY_RUN,
  OPT_CLASS,
  OPT_SIZE,
  OPT_NAME,
  OPT_CLAIM,
  OPT_ACCESS_MODE,
  OPT_FORCE,
  OPT_PURGE,
  OPT_NODE,
  OPT_DNS_SERVER,
  OPT_DOMAIN,
  OPT_PORT_NAME,
  OPT_MEMBER,
  OPT_RENDER
};

/* Stands in a flag's help for the registry's backends (expand_help). */
#define CTL_HELP_BACKENDS "{backends}"

typedef struct flag {
  const char *name; /* long name */
  int short_name;   /* 0: none */
  int has_arg;
  int id;
  unsigned group;  /* CTL_F_* bit, 0 for a global flag */
  const char *arg; /* the value's name in help, or NULL */
  const char *help;
} flag_t;

static const flag_t flags[] = {
    /* global */
    {"kubeconfig", 0, required_argument, OPT_KUBECONFIG, 0, "FILE",
     "the kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)"},
    {"context", 0, required_argument, OPT_CONTEXT, 0, "NAME",
     "the kubeconfig context to use"},
    {"namespace", 'n', required_argument, 'n', 0, "NS",
     "the namespace (default: the context's)"},
    {"provisioner", 0, required_argument, OPT_PROVISIONER, 0, "NAME=BACKEND",
     "berth's provisioner NAME serves BACKEND (" CTL_HELP_BACKENDS ");\n"
     "repeatable; default:\n"
     "found from StorageClasses and PVs ($BERTHCTL_PROVISIONERS too)"},
    {"nfs-url", 0, required_argument, OPT_NFS_URL, 0, "URL",
     "the nfs backend's default export, as berth-provisioner's NFS_URL\n"
     "(default: $NFS_URL, or $NFS_SERVER and $NFS_PATH)"},
    {"request-timeout", 0, required_argument, OPT_REQUEST_TIMEOUT, 0, "D",
     "give up on one API or backend request after D (e.g. 10s)"},
    {"v", 'v', required_argument, 'v', 0, "N",
     "log verbosity: 0 errors and warnings (default), 1 info, 2 debug"},
    {"help", 'h', no_argument, 'h', 0, NULL, "show help"},
    {"version", 'V', no_argument, 'V', 0, NULL, "show the version and exit"},
    /* listing */
    {"all-namespaces", 'A', no_argument, 'A', CTL_F_ALL_NS, NULL,
     "list across all namespaces"},
    {"selector", 'l', required_argument, 'l', CTL_F_SELECTOR, "SELECTOR",
     "label selector (e.g. -l app=mongo,tier!=cache)"},
    {"output", 'o', required_argument, 'o', CTL_F_OUTPUT, "FORMAT",
     "table (default), wide, json, yaml, name, jsonpath=TEMPLATE or\n"
     "custom-columns=HEADER:PATH[,HEADER:PATH...]"},
    {"sort-by", 0, required_argument, OPT_SORT_BY, CTL_F_SORT, "PATH",
     "sort the list by a JSONPath into each object (e.g.\n"
     ".metadata.creationTimestamp, {.spec.resources.requests.storage})"},
    {"no-headers", 0, no_argument, OPT_NO_HEADERS, CTL_F_OUTPUT, NULL,
     "print tables without the header line"},
    {"no-usage", 0, no_argument, OPT_NO_USAGE, CTL_F_USAGE, NULL,
     "do not measure usage (faster on big volumes)"},
    /* orphans */
    {"delete", 0, no_argument, OPT_DELETE, CTL_F_DELETE, NULL,
     "delete what was found, after a confirmation"},
    {"archive", 0, no_argument, OPT_ARCHIVE, CTL_F_DELETE, NULL,
     "with --delete: rename directories to archived-NAME instead"},
    {"min-age", 0, required_argument, OPT_MIN_AGE, CTL_F_DELETE, "D",
     "with --delete: leave objects younger than D alone (default 5m:\n"
     "the provisioner makes a directory before its PV)"},
    {"archived", 0, no_argument, OPT_ARCHIVED, CTL_F_ARCHIVED, NULL,
     "list archived-* directories too (they are kept on purpose)"},
    /* rollback */
    {"to", 0, required_argument, OPT_TO, CTL_F_TO, "NAME",
     "the provisioner berth's volumes go back to (the old tool's name)"},
    /* confirmations */
    {"yes", 'y', no_argument, 'y', CTL_F_YES, NULL,
     "do not ask for confirmation"},
    {"dry-run", 0, no_argument, OPT_DRY_RUN, CTL_F_YES, NULL,
     "say what would be done, do nothing"},
    /* provision */
    {"class", 0, required_argument, OPT_CLASS, CTL_F_PROVISION, "CLASS",
     "the StorageClass (one of berth's)"},
    {"size", 0, required_argument, OPT_SIZE, CTL_F_PROVISION, "SIZE",
     "the capacity, a quantity (e.g. 1Gi; default: the claim's request)"},
    {"name", 0, required_argument, OPT_NAME, CTL_F_PROVISION, "PV",
     "the PersistentVolume's name (default: pvc-<random uuid>)"},
    {"claim", 0, required_argument, OPT_CLAIM, CTL_F_PROVISION, "NAME",
     "pre-bind the volume to claim NAME in the namespace"},
    {"access-mode", 0, required_argument, OPT_ACCESS_MODE, CTL_F_PROVISION,
     "MODE",
     "ReadWriteOnce, ReadOnlyMany, ReadWriteMany or\n"
     "ReadWriteOncePod (default: the claim's, else ReadWriteOnce)"},
    {"force", 0, no_argument, OPT_FORCE, CTL_F_FORCE, NULL,
     "delete: also when the volume is bound to a claim; detach:\n"
     "force the detach (the node may lose unwritten data)"},
    {"purge", 0, no_argument, OPT_PURGE, CTL_F_PURGE, NULL,
     "remove the data even if the class archives or retains it"},
    {"node", 0, required_argument, OPT_NODE, CTL_F_NODE, "NODE",
     "the node to attach to or detach from"},
    /* peers */
    {"dns-server", 0, required_argument, OPT_DNS_SERVER, CTL_F_PEERS,
     "HOST:PORT",
     "ask this DNS server (default: $BERTH_DNS_SERVER, else\n"
     "resolv.conf)"},
    {"domain", 0, required_argument, OPT_DOMAIN, CTL_F_PEERS, "ZONE",
     "the cluster's DNS zone (default: from resolv.conf, else\n"
     "cluster.local)"},
    {"port-name", 0, required_argument, OPT_PORT_NAME, CTL_F_PEERS, "PORT",
     "ask the SRV records _PORT._tcp.SERVICE..."},
    {"member", 0, required_argument, OPT_MEMBER, CTL_F_PEERS, "HOST",
     "show the view of member HOST (e.g. web-1): self, ordered start"},
    {"render", 0, required_argument, OPT_RENDER, CTL_F_PEERS, "KIND",
     "print what berth-peers --render KIND[,KEY=VALUE...] would write\n"
     "(zookeeper, etcd, mongo, cassandra, elasticsearch, json, lines)"},
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static const flag_t *flag_by_id(int id)
{
  size_t i;

  for (i = 0; i < NFLAGS; i++) {
    if (flags[i].id == id)
      return &flags[i];
  }
  return NULL;
}

static bool add_provisioner(ctl_options_t *opt, const char *arg)
{
  const char **grown;

  grown = realloc(opt->provisioners, (opt->nprovisioners + 1) * sizeof(*grown));
  if (grown == NULL)
    return false;
  opt->provisioners = grown;
  opt->provisioners[opt->nprovisioners++] = arg;
  return true;
}

static bool parse_output(ctl_options_t *opt, const char *v)
{
  static const struct {
    const char *name;
    ctl_output_t out;
  } formats[] = {
      {"table", CTL_OUT_TABLE}, {"wide", CTL_OUT_WIDE}, {"json", CTL_OUT_JSON},
      {"yaml", CTL_OUT_YAML},   {"name", CTL_OUT_NAME},
  };
  size_t i;

  /* "-o=name" reaches here as "=name": kubectl (pflag) takes it. */
  if (v[0] == '=')
    v++;
  if (strncmp(v, "jsonpath=", 9) == 0 ||
      strncmp(v, "custom-columns=", 15) == 0) {
    opt->output = v[0] == 'j' ? CTL_OUT_JSONPATH : CTL_OUT_CUSTOM_COLUMNS;
    opt->output_arg = strchr(v, '=') + 1;
    return opt->output_arg[0] != '\0';
  }
  for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
    if (strcmp(v, formats[i].name) == 0) {
      opt->output = formats[i].out;
      return true;
    }
  }
  return false;
}

/* One flag; false (with a message) on a bad value. */
static bool apply(ctl_options_t *opt, int id, const char *arg, FILE *err)
{
  berth_error_t derr;
  char *end;
  long v;

  switch (id) {
  case OPT_KUBECONFIG:
    opt->kubeconfig = arg;
    break;
  case OPT_CONTEXT:
    opt->context = arg;
    break;
  case 'n':
    opt->namespace_name = arg;
    break;
  case OPT_PROVISIONER:
    if (strchr(arg, '=') == NULL || arg[0] == '=' ||
        strchr(arg, '=')[1] == '\0') {
      fprintf(err,
              "error: --provisioner wants NAME=BACKEND (e.g. "
              "berth.io/nfs=nfs), got '%s'\n",
              arg);
      return false;
    }
    if (!add_provisioner(opt, arg)) {
      fprintf(err, "error: out of memory\n");
      return false;
    }
    break;
  case OPT_NFS_URL:
    opt->nfs_url = arg;
    break;
  case OPT_REQUEST_TIMEOUT: {
    int64_t ms;

    if (berth_duration_parse("--request-timeout", arg, CTL_DURATION_MAX_MS, &ms,
                             &derr) != BERTH_OK) {
      fprintf(err, "error: %s\n", derr.message);
      return false;
    }
    opt->request_timeout_ms = (long)ms;
    break;
  }
  case 'v':
    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 10) {
      fprintf(err, "error: -v wants a number from 0 to 10, got '%s'\n", arg);
      return false;
    }
    opt->verbosity = (int)v;
    break;
  case 'h':
    opt->help = true;
    break;
  case 'V':
    opt->version = true;
    break;
  case 'A':
    opt->all_namespaces = true;
    break;
  case 'l':
    opt->selector = arg;
    break;
  case 'o':
    if (!parse_output(opt, arg)) {
      fprintf(err,
              "error: unable to match a printer suitable for the "
              "output format \"%s\", allowed formats are: "
              "custom-columns,json,jsonpath,name,table,wide,yaml\n",
              arg);
      return false;
    }
    break;
  case OPT_NO_HEADERS:
    opt->no_headers = true;
    break;
  case OPT_SORT_BY:
    opt->sort_by = arg[0] == '=' ? arg + 1 : arg;
    break;
  case OPT_NO_USAGE:
    opt->no_usage = true;
    break;
  case OPT_DELETE:
    opt->do_delete = true;
    break;
  case OPT_ARCHIVE:
    opt->archive = true;
    break;
  case OPT_ARCHIVED:
    opt->archived = true;
    break;
  case OPT_TO:
    opt->to = arg;
    break;
  case OPT_MIN_AGE:
    if (berth_duration_parse("--min-age", arg, CTL_DURATION_MAX_MS,
                             &opt->min_age_ms, &derr) != BERTH_OK) {
      fprintf(err, "error: %s\n", derr.message);
      return false;
    }
    break;
  case 'y':
    opt->yes = true;
    break;
  case OPT_DRY_RUN:
    opt->dry_run = true;
    break;
  case OPT_CLASS:
    opt->class_name = arg;
    break;
  case OPT_SIZE:
    opt->size = arg;
    break;
  case OPT_NAME:
    opt->name = arg;
    break;
  case OPT_CLAIM:
    opt->claim = arg;
    break;
  case OPT_ACCESS_MODE:
    opt->access_mode = arg;
    break;
  case OPT_FORCE:
    opt->force = true;
    break;
  case OPT_PURGE:
    opt->purge = true;
    break;
  case OPT_NODE:
    opt->node = arg;
    break;
  case OPT_DNS_SERVER:
    opt->dns_server = arg;
    break;
  case OPT_DOMAIN:
    opt->domain = arg;
    break;
  case OPT_PORT_NAME:
    opt->port_name = arg;
    break;
  case OPT_MEMBER:
    opt->as_host = arg;
    break;
  case OPT_RENDER:
    opt->render = arg;
    break;
  default:
    return false;
  }
  return true;
}

bool ctl_options_parse(int argc, char **argv, ctl_options_t *opt, FILE *err)
{
  struct option longs[NFLAGS + 1];
  char shorts[3 * NFLAGS + 2];
  size_t ns = 0;
  bool ok = true;
  size_t i;
  int c;

  memset(opt, 0, sizeof(*opt));
  opt->min_age_ms = CTL_DEFAULT_MIN_AGE_MS;
  /* ':' first: a missing value is ':' rather than '?', for a better
   * message. */
  shorts[ns++] = ':';
  for (i = 0; i < NFLAGS; i++) {
    longs[i].name = flags[i].name;
    longs[i].has_arg = flags[i].has_arg;
    longs[i].flag = NULL;
    longs[i].val = flags[i].id;
    if (flags[i].short_name != 0) {
      shorts[ns++] = (char)flags[i].short_name;
      if (flags[i].has_arg == required_argument)
        shorts[ns++] = ':';
    }
  }
  shorts[ns] = '\0';
  memset(&longs[NFLAGS], 0, sizeof(longs[NFLAGS]));

  opterr = 0;
  /* 0, not 1: glibc then forgets where it was inside the last argv (see
   * provisioner/options.c); found by tests/fuzz options. */
  optind = 0;
  while (ok && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
    const flag_t *f;

    if (c == '?' || c == ':') {
      const char *word = argv[optind - 1];

      if (c == ':')
        fprintf(err, "error: flag needs an argument: %s\n", word);
      else if (optopt != 0)
        fprintf(err, "error: unknown shorthand flag: '%c' in %s\n", optopt,
                word);
      else
        fprintf(err, "error: unknown flag: %s\n", word);
      ok = false;
      break;
    }
    f = flag_by_id(c);
    if (f != NULL && f->group != 0) {
      opt->given |= f->group;
      opt->given_names[__builtin_ctz(f->group)] = f->name;
    }
    ok = apply(opt, c, optarg, err);
  }
  if (!ok)
    return false;
  /* As kubectl: a bad template is a usage error before any request. */
  if (!ctl_list_check_output(opt, err))
    return false;
  if (optind < argc) {
    opt->command = argv[optind++];
    opt->nargs = (size_t)(argc - optind);
    opt->args = argv + optind;
  }
  return true;
}

void ctl_options_cleanup(ctl_options_t *opt)
{
  if (opt == NULL)
    return;
  free(opt->provisioners);
  opt->provisioners = NULL;
}

/* The help column starts at HELP_COL; text is wrapped to fit 80
 * columns. */
#define HELP_COL 31
#define HELP_WIDTH (80 - HELP_COL)

/* The registry's backend names as "nfs, ebs or efs". */
static void backend_list(char *out, size_t size)
{
  size_t n = 0;
  size_t i;

  while (berth_backends[n] != NULL)
    n++;
  out[0] = '\0';
  for (i = 0; i < n; i++) {
    size_t used = strlen(out);

    snprintf(out + used, size - used, "%s%s",
             i == 0 ? "" : (i + 1 == n ? " or " : ", "),
             berth_backends[i]->name);
  }
}

/* f's help with CTL_HELP_BACKENDS replaced by the registry's backends,
 * into out. */
static const char *expand_help(const flag_t *f, char *out, size_t size)
{
  const char *at = strstr(f->help, CTL_HELP_BACKENDS);
  char names[256];

  if (at == NULL)
    return f->help;
  backend_list(names, sizeof(names));
  snprintf(out, size, "%.*s%s%s", (int)(at - f->help), f->help, names,
           at + strlen(CTL_HELP_BACKENDS));
  return out;
}

static void print_flag(FILE *out, const flag_t *f)
{
  char head[64];
  char text[1024];
  const char *p = expand_help(f, text, sizeof(text));
  size_t col = 0;

  if (f->short_name != 0)
    snprintf(head, sizeof(head), "-%c, --%s%s%s", f->short_name, f->name,
             f->arg ? " " : "", f->arg ? f->arg : "");
  else
    snprintf(head, sizeof(head), "    --%s%s%s", f->name, f->arg ? " " : "",
             f->arg ? f->arg : "");
  if (strlen(head) > HELP_COL - 3)
    fprintf(out, "  %s\n%*s", head, HELP_COL, "");
  else
    fprintf(out, "  %-*s", HELP_COL - 2, head);
  /* Word by word; the help's own line breaks are spaces here. */
  while (*p != '\0') {
    size_t n;

    p += strspn(p, " \n");
    n = strcspn(p, " \n");
    if (n == 0)
      break;
    if (col > 0 && col + 1 + n > HELP_WIDTH) {
      fprintf(out, "\n%*s", HELP_COL, "");
      col = 0;
    }
    fprintf(out, "%s%.*s", col > 0 ? " " : "", (int)n, p);
    col += (col > 0) + n;
    p += n;
  }
  fputc('\n', out);
}

void ctl_options_print_global(FILE *out)
{
  size_t i;

  for (i = 0; i < NFLAGS; i++) {
    if (flags[i].group == 0)
      print_flag(out, &flags[i]);
  }
}

void ctl_options_print_flags(FILE *out, unsigned which)
{
  size_t i;

  for (i = 0; i < NFLAGS; i++) {
    if (flags[i].group != 0 && (flags[i].group & which) != 0)
      print_flag(out, &flags[i]);
  }
}

const char *const *ctl_options_flag_names(unsigned which, bool global)
{
  static const char *names[NFLAGS + 1];
  size_t n = 0;
  size_t i;

  for (i = 0; i < NFLAGS; i++) {
    if ((global && flags[i].group == 0) ||
        (flags[i].group != 0 && (flags[i].group & which) != 0))
      names[n++] = flags[i].name;
  }
  names[n] = NULL;
  return names;
}

const char *const *ctl_options_value_flags(void)
{
  static char shorts[NFLAGS][3];
  static const char *names[2 * NFLAGS + 1];
  static char longs[NFLAGS][40];
  size_t n = 0;
  size_t i;

  for (i = 0; i < NFLAGS; i++) {
    if (flags[i].has_arg != required_argument)
      continue;
    snprintf(longs[i], sizeof(longs[i]), "--%s", flags[i].name);
    names[n++] = longs[i];
    if (flags[i].short_name != 0) {
      shorts[i][0] = '-';
      shorts[i][1] = (char)flags[i].short_name;
      shorts[i][2] = '\0';
      names[n++] = shorts[i];
    }
  }
  names[n] = NULL;
  return names;
}
