/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: inspect and repair the claims and volumes berth provisions.
 *
 * Entry point: the command table, help, dispatch, and the few helpers
 * every command uses (errors, confirmations, progress). The commands live
 * one group per file (see ctl.h). kubectl's conventions throughout: its
 * kubeconfig resolution and flags, aligned tables, exit status 0 (done),
 * 1 (an error) or 2 (a usage error). */
#include "ctl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "berth/log.h"
#include "berth/version.h"

#include "ctl_backend.h"

static int run_version(ctl_ctx_t *ctx);
static int run_options(ctl_ctx_t *ctx);
static int run_help(ctl_ctx_t *ctx);

#define LIST_FLAGS (CTL_F_SELECTOR | CTL_F_OUTPUT | CTL_F_USAGE | CTL_F_SORT)

const ctl_command_t ctl_commands[] = {
    {"claims", "claim,pvc,pvcs", ctl_run_claims, LIST_FLAGS | CTL_F_ALL_NS,
     "list the claims of berth's classes, with their backend state",
     "claims [NAME...] [-n NS | -A] [-l SELECTOR] [-o FORMAT] [--sort-by PATH]",
     "Lists the PersistentVolumeClaims of berth's StorageClasses (only those\n"
     "named, when NAMEs are given) with what the backend says, not only what\n"
     "the API says: whether the volume's storage exists (STATE: exists,\n"
     "missing, error) and what it holds (USED). -o wide adds the access\n"
     "modes, the backend, where the storage is (for NFS, the directory on\n"
     "the export), FILES, the export and the provisioner. -o json and -o yaml\n"
     "print a v1 List of the claims as the API gives them, each with what\n"
     "the backend says under \"berth\"; -o jsonpath= and -o custom-columns=\n"
     "read that List as kubectl's do. Exits 1 when a NAME is not found or a\n"
     "backend could not be asked (the rest is printed first).\n"
     "\n"
     "Examples:\n"
     "  berthctl claims\n"
     "  berthctl claims -n shop data-mongo-0\n"
     "  berthctl claims -A -l app=mongo -o wide --sort-by .metadata.name\n"
     "  berthctl claims -o jsonpath='{.items[*].berth.location}'\n"
     "  berthctl claims -o "
     "custom-columns=NAME:.metadata.name,USED:.berth.usage.bytes\n"
     "  berthctl claims -n team -o json --no-usage\n"},
    {"volumes", "volume,pv,pvs", ctl_run_volumes, LIST_FLAGS | CTL_F_ALL_NS,
     "list the volumes of berth's classes, with their backend state",
     "volumes [NAME...] [-l SELECTOR] [-o FORMAT] [--sort-by PATH]",
     "Lists the PersistentVolumes of berth's StorageClasses (and those berth\n"
     "made under a provisioner name it was not told about) with their\n"
     "backend state, as 'berthctl claims' does for claims. PersistentVolumes\n"
     "belong to no namespace: -n and -A change nothing here.\n"
     "\n"
     "Exits 1 when a NAME is not found or a backend could not be asked.\n"
     "\n"
     "Examples:\n"
     "  berthctl volumes\n"
     "  berthctl volumes -o wide --sort-by .spec.capacity.storage\n"
     "  berthctl volumes -o=name\n"},
    {"describe", NULL, ctl_run_describe, CTL_F_USAGE,
     "show everything about one claim or volume, with Events",
     "describe claim|volume NAME... [-n NS]",
     "Shows a claim or a volume as 'kubectl describe' does, plus the\n"
     "backend object's details (for NFS: export, directory, mode, owner,\n"
     "modification time, what delete does, usage) and its Events.\n"
     "\n"
     "Examples:\n"
     "  berthctl describe claim data-mongo-0\n"
     "  berthctl describe volume pvc-0a1b2c3d-...\n"
     "  berthctl describe pvc/data-mongo-0 -n team\n"},
    {"orphans", NULL, ctl_run_orphans,
     CTL_F_OUTPUT | CTL_F_USAGE | CTL_F_DELETE | CTL_F_YES | CTL_F_ARCHIVED,
     "find (and delete) drift between the API and the backends",
     "orphans [--delete [--archive] [--min-age D] [--yes | --dry-run]]",
     "Finds drift both ways: backend objects that no PersistentVolume uses\n"
     "(directories on the exports of berth's classes, EBS disks and EFS\n"
     "access points berth made), and PVs of berth's\n"
     "classes whose backend object is gone. With --delete, asks, then looks\n"
     "again and deletes only what is still an orphan: directories (with the\n"
     "provisioner's own safe delete: never outside the export, never\n"
     "through a symbolic link) and PVs that no claim holds. Directories\n"
     "younger than --min-age (5m) are left alone: the provisioner makes a\n"
     "directory just before its PV.\n"
     "\n"
     "Examples:\n"
     "  berthctl orphans\n"
     "  berthctl orphans --archived -o wide\n"
     "  berthctl orphans --delete --dry-run\n"
     "  berthctl orphans --delete --archive --min-age 1h --yes\n"},
    {"provision", NULL, ctl_run_provision, CTL_F_PROVISION | CTL_F_YES,
     "make a volume by hand (recovery)",
     "provision --class CLASS --size SIZE [--name PV] [--claim NAME]",
     "Makes the storage of a berth StorageClass with the provisioner's own\n"
     "backend code and creates its PersistentVolume, as berth-provisioner\n"
     "would; with --claim, pre-bound to that claim in the namespace (whose\n"
     "size, access modes, labels and annotations are used when it exists).\n"
     "Asks first. Running it again with the same --name finds and reuses\n"
     "the storage.\n"
     "\n"
     "Examples:\n"
     "  berthctl provision --class berth-nfs --size 1Gi\n"
     "  berthctl provision --class berth-nfs --claim data-mongo-0 -n db --yes\n"
     "  berthctl provision --class berth-nfs --size 5Gi --name restore-1 "
     "--dry-run\n"},
    {"delete", NULL, ctl_run_delete, CTL_F_YES | CTL_F_FORCE | CTL_F_PURGE,
     "delete a volume and its storage by hand (recovery)",
     "delete VOLUME [--purge] [--force] [--yes | --dry-run]",
     "Deletes a berth PersistentVolume's storage as its class says (delete,\n"
     "archive or keep; --purge deletes the data whatever it says), then the\n"
     "PV. A volume bound to a claim is refused: delete the claim instead,\n"
     "or pass --force. Asks first.\n"
     "\n"
     "Examples:\n"
     "  berthctl delete pvc-0a1b2c3d-...\n"
     "  berthctl delete restore-1 --purge --yes\n"},
    {"attach", NULL, ctl_run_attach, CTL_F_NODE | CTL_F_YES,
     "attach an EBS volume to a node",
     "attach VOLUME --node NODE [--yes | --dry-run]",
     "Attaches a PersistentVolume's EBS disk to a node's EC2 instance (its\n"
     "spec.providerID) as berth-provisioner's attacher does: the first free\n"
     "device of /dev/xvdba../dev/xvdcz, then waits until it is attached.\n"
     "Asks first (or takes --yes).\n"
     "\n"
     "Example:\n"
     "  berthctl attach pvc-0a1b... --node ip-10-0-1-23\n"},
    {"detach", NULL, ctl_run_detach, CTL_F_NODE | CTL_F_FORCE | CTL_F_YES,
     "detach an EBS volume from a node",
     "detach VOLUME --node NODE [--force] [--yes | --dry-run]",
     "Detaches a PersistentVolume's EBS disk from a node's EC2 instance as\n"
     "berth-provisioner's attacher does, and waits until it is detached.\n"
     "--force forces the detach (the node may lose unwritten data). Asks\n"
     "first (or takes --yes).\n"
     "\n"
     "Example:\n"
     "  berthctl detach pvc-0a1b... --node ip-10-0-1-23\n"},
    {"peers", NULL, ctl_run_peers, CTL_F_OUTPUT | CTL_F_PEERS,
     "show a StatefulSet's peers as berth-peers sees them",
     "peers SERVICE [-n NS] [--dns-server HOST:PORT] [--member HOST]",
     "Resolves the StatefulSet's governing headless Service as berth-peers\n"
     "does, with its code: the SRV records of SERVICE.NS.svc.ZONE, then\n"
     "each member's addresses; ordinals sorted numerically (web-2 before\n"
     "web-10); the primary is the lowest. --member shows one member's view\n"
     "(self, whether its lower ordinals are up); --render prints what\n"
     "berth-peers --render would write. Asks DNS only, no Kubernetes API.\n"
     "\n"
     "Examples:\n"
     "  berthctl peers mongo -n db\n"
     "  berthctl peers web --dns-server 10.96.0.10:53 -o json\n"
     "  berthctl peers zk --member zk-2 --render zookeeper\n"},
    {"doctor", NULL, ctl_run_doctor, CTL_F_OUTPUT,
     "check the kubeconfig, API access, RBAC and each class's backend",
     "doctor [-o json|yaml]",
     "Checks, one line each, what berth and berthctl need: the kubeconfig,\n"
     "the API server and the credentials, RBAC, berth's provisioners and\n"
     "their leader Lease (named as berth-provisioner names it: after the\n"
     "first --provisioner of the Deployment that serves it, or its\n"
     "--leader-election-name; a Lease without a live holder is a failure),\n"
     "and for each berth StorageClass that its parameters are valid and its\n"
     "backend answers. Says how to fix each failure; exit status 1 when a\n"
     "check failed. -o json and -o yaml give the checks as a document.\n"
     "\n"
     "Examples:\n"
     "  berthctl doctor\n"
     "  berthctl doctor --context prod --nfs-url nfs://filer/export\n"
     "  berthctl doctor -o json\n"},
    {"rollback", NULL, ctl_run_rollback, CTL_F_TO | CTL_F_YES,
     "lift berth's finalizers and annotations before switching back",
     "rollback [--to OLD-PROVISIONER] [--yes | --dry-run]",
     "Before a class goes back to the tool berth replaced, stop\n"
     "berth-provisioner, then run this, so that no volume or claim is left\n"
     "with a finalizer nobody removes. On berth's PersistentVolumes (and on\n"
     "PVs of OLD-PROVISIONER that berth adopted) it removes the finalizer\n"
     "external-provisioner.volume.kubernetes.io/finalizer (kept on csi PVs\n"
     "of --to's own driver, whose external-provisioner handles it) and the\n"
     "*.berth.io/* annotations; with --to it sets\n"
     "pv.kubernetes.io/provisioned-by to OLD-PROVISIONER, so that the old\n"
     "tool reclaims them, and re-points Pending claims'\n"
     "volume.kubernetes.io/storage-provisioner. On every claim it removes\n"
     "berth's provisioner.berth.io/provisioning finalizer. Each change is\n"
     "a patch conditional on the object's resourceVersion.\n"
     "\n"
     "Examples:\n"
     "  berthctl rollback --dry-run\n"
     "  berthctl rollback --to k8s-sigs.io/nfs-subdir-external-provisioner "
     "--yes\n"
     "  berthctl rollback --to ebs.csi.aws.com --provisioner "
     "berth.io/ebs=ebs\n"},
    {"version", NULL, run_version, CTL_F_OUTPUT,
     "show the version and the backends built in", "version [-o json|yaml]",
     "Shows berthctl's version and which backends it was built with.\n"
     "\n"
     "Example:\n"
     "  berthctl version\n"},
    {"completion", NULL, ctl_run_completion, 0,
     "print a shell completion script (bash or zsh)", "completion bash|zsh",
     "Prints a completion script for bash or zsh: commands, flags, and\n"
     "claim, volume, class, namespace and context names.\n"
     "\n"
     "Examples:\n"
     "  source <(berthctl completion bash)     # in ~/.bashrc\n"
     "  source <(berthctl completion zsh)      # in ~/.zshrc, after "
     "compinit\n"},
    {"options", NULL, run_options, 0, "list the global options", "options",
     "Lists the options every command takes.\n"},
    {"help", NULL, run_help, 0, "show help for a command", "help [COMMAND]",
     "Shows help for berthctl or for one command.\n"},
    {NULL, NULL, NULL, 0, NULL, NULL, NULL},
};

const ctl_command_t *ctl_command_find(const char *name)
{
  const ctl_command_t *c;

  for (c = ctl_commands; c->name != NULL; c++) {
    const char *a = c->aliases;

    if (strcmp(c->name, name) == 0)
      return c;
    while (a != NULL && *a != '\0') {
      size_t n = strcspn(a, ",");

      if (strlen(name) == n && strncmp(a, name, n) == 0)
        return c;
      a += n + (a[n] == ',');
    }
  }
  return NULL;
}

static void usage(FILE *out)
{
  const ctl_command_t *c;

  fprintf(out, "Usage: berthctl COMMAND [ARGS] [OPTIONS]\n"
               "Inspect and repair the claims and volumes berth provisions, "
               "against the real\nbackends; show StatefulSet peers as "
               "berth-peers sees them.\n\nCommands:\n");
  for (c = ctl_commands; c->name != NULL; c++)
    fprintf(out, "  %-11s %s\n", c->name, c->summary);
  fprintf(out, "\nGlobal options:\n");
  ctl_options_print_global(out);
  fprintf(out, "\nExit status: 0 done, 1 an error, 2 a usage error.\n"
               "Use 'berthctl COMMAND --help' for more about a command.\n");
}

void ctl_command_help(FILE *out, const ctl_command_t *cmd)
{
  fprintf(out, "Usage: berthctl %s\n", cmd->usage);
  if (cmd->aliases != NULL)
    fprintf(out, "Aliases: %s\n", cmd->aliases);
  fprintf(out, "\n%s", cmd->help);
  if (cmd->flags != 0) {
    fprintf(out, "\nOptions:\n");
    ctl_options_print_flags(out, cmd->flags);
  }
  fprintf(out, "\nUse 'berthctl options' for the global options "
               "(--kubeconfig, --context, -n, --provisioner, ...).\n");
}

/* Levenshtein distance, small strings only: for "did you mean". */
static size_t distance(const char *a, const char *b)
{
  size_t la = strlen(a);
  size_t lb = strlen(b);
  size_t row[32];
  size_t i;
  size_t j;

  if (la >= 31 || lb >= 31)
    return 99;
  for (j = 0; j <= lb; j++)
    row[j] = j;
  for (i = 1; i <= la; i++) {
    size_t prev = row[0];

    row[0] = i;
    for (j = 1; j <= lb; j++) {
      size_t cur = row[j];
      size_t sub = prev + (a[i - 1] != b[j - 1]);
      size_t del = row[j] + 1;
      size_t ins = row[j - 1] + 1;

      row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
      prev = cur;
    }
  }
  return row[lb];
}

int ctl_fail(ctl_ctx_t *ctx, const char *fmt, ...)
{
  va_list ap;

  fputs("error: ", ctx->err);
  va_start(ap, fmt);
  vfprintf(ctx->err, fmt, ap);
  va_end(ap);
  fputc('\n', ctx->err);
  return CTL_EXIT_ERROR;
}

int ctl_usage_error(ctl_ctx_t *ctx, const char *fmt, ...)
{
  va_list ap;

  fputs("error: ", ctx->err);
  va_start(ap, fmt);
  vfprintf(ctx->err, fmt, ap);
  va_end(ap);
  fputc('\n', ctx->err);
  if (ctx->opt->command != NULL)
    fprintf(ctx->err, "See 'berthctl %s --help' for usage.\n",
            ctx->opt->command);
  else
    fprintf(ctx->err, "See 'berthctl --help' for usage.\n");
  return CTL_EXIT_USAGE;
}

bool ctl_confirm(ctl_ctx_t *ctx, const char *prompt)
{
  char line[64];

  if (ctx->opt->yes)
    return true;
  /* What the question is about is on stdout: show it first. */
  fflush(ctx->out);
  fprintf(ctx->err, "%s [y/N] ", prompt);
  fflush(ctx->err);
  if (fgets(line, sizeof(line), stdin) == NULL) {
    fprintf(ctx->err, "\nno answer (standard input is closed): nothing "
                      "done; pass --yes to go ahead without asking\n");
    return false;
  }
  berth_str_trim(line);
  if (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0)
    return true;
  fprintf(ctx->err, "nothing done\n");
  return false;
}

void ctl_progress(ctl_ctx_t *ctx, const char *fmt, ...)
{
  static int64_t last;
  static bool shown;
  struct timespec ts;
  int64_t now;
  va_list ap;

  if (!ctx->stderr_tty)
    return;
  if (fmt == NULL) {
    if (shown)
      fputs("\r\033[K", ctx->err);
    shown = false;
    return;
  }
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  if (shown && now - last < 100)
    return;
  last = now;
  shown = true;
  fputs("\r\033[K", ctx->err);
  va_start(ap, fmt);
  vfprintf(ctx->err, fmt, ap);
  va_end(ap);
  fflush(ctx->err);
}

static int run_version(ctl_ctx_t *ctx)
{
  berth_buf_t built;
  berth_buf_t not_built;
  json_t *doc;
  size_t i;
  int rc = CTL_EXIT_OK;

  if (ctx->opt->nargs > 0)
    return ctl_usage_error(ctx, "version takes no arguments");
  berth_buf_init(&built);
  berth_buf_init(&not_built);
  /* "Not built": in the registry, but without berthctl's operations. */
  for (i = 0; berth_backends[i] != NULL; i++) {
    bool served = berth_backend_can_inspect(berth_backends[i]);

    berth_buf_appendf(served ? &built : &not_built, "%s%s",
                      (served ? built.len : not_built.len) ? ", " : "",
                      berth_backends[i]->name);
  }
  if (ctl_output_is_doc(ctx)) {
    doc = json_pack("{s:s,s:s,s:s,s:s}", "berthctl", BERTH_VERSION, "commit",
                    berth_build_commit(), "backends", berth_buf_str(&built),
                    "notBuilt", berth_buf_str(&not_built));
    rc = ctl_print_doc(ctx, doc);
    json_decref(doc);
  } else {
    fprintf(ctx->out, "berthctl %s (commit %s)\nbackends: %s", BERTH_VERSION,
            berth_build_commit(), berth_buf_str(&built));
    if (not_built.len > 0)
      fprintf(ctx->out, " (%s: no berthctl operations)",
              berth_buf_str(&not_built));
    fputc('\n', ctx->out);
  }
  berth_buf_cleanup(&built);
  berth_buf_cleanup(&not_built);
  return rc;
}

static int run_options(ctl_ctx_t *ctx)
{
  fprintf(ctx->out, "The following options can be passed to any "
                    "command:\n\n");
  ctl_options_print_global(ctx->out);
  return CTL_EXIT_OK;
}

static int run_help(ctl_ctx_t *ctx)
{
  const ctl_command_t *c;

  if (ctx->opt->nargs == 0) {
    usage(ctx->out);
    return CTL_EXIT_OK;
  }
  c = ctl_command_find(ctx->opt->args[0]);
  if (c == NULL)
    return ctl_usage_error(ctx, "unknown command \"%s\"", ctx->opt->args[0]);
  ctl_command_help(ctx->out, c);
  return CTL_EXIT_OK;
}

static void set_log_level(int verbosity)
{
  berth_log_set_level(verbosity >= 2   ? BERTH_LOG_DEBUG
                      : verbosity == 1 ? BERTH_LOG_INFO
                                       : BERTH_LOG_WARN);
}

int main(int argc, char **argv)
{
  ctl_options_t opt;
  ctl_ctx_t ctx;
  const ctl_command_t *cmd;
  unsigned extra;
  int rc;

  memset(&ctx, 0, sizeof(ctx));
  ctx.opt = &opt;
  ctx.out = stdout;
  ctx.err = stderr;
  ctx.now_s = (int64_t)time(NULL);
  ctx.stderr_tty = isatty(STDERR_FILENO) != 0;
  if (!ctl_options_parse(argc, argv, &opt, stderr)) {
    fprintf(stderr, "See 'berthctl --help' for usage.\n");
    ctl_options_cleanup(&opt);
    return CTL_EXIT_USAGE;
  }
  set_log_level(opt.verbosity);
  if (opt.version && opt.command == NULL) {
    printf("berthctl %s (commit %s)\n", BERTH_VERSION, berth_build_commit());
    rc = CTL_EXIT_OK;
    goto done;
  }
  if (opt.command == NULL) {
    usage(opt.help ? stdout : stderr);
    rc = opt.help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    goto done;
  }
  cmd = ctl_command_find(opt.command);
  if (cmd == NULL) {
    const ctl_command_t *c;

    fprintf(stderr, "error: unknown command \"%s\" for \"berthctl\"\n",
            opt.command);
    for (c = ctl_commands; c->name != NULL; c++) {
      if (distance(opt.command, c->name) <= 2 ||
          (strlen(opt.command) >= 3 &&
           strncmp(opt.command, c->name, strlen(opt.command)) == 0))
        fprintf(stderr, "\nDid you mean this?\n\t%s\n", c->name);
    }
    fprintf(stderr, "Run 'berthctl --help' for usage.\n");
    rc = CTL_EXIT_USAGE;
    goto done;
  }
  if (opt.help) {
    ctl_command_help(stdout, cmd);
    rc = CTL_EXIT_OK;
    goto done;
  }
  for (size_t i = 0; i < opt.nprovisioners; i++) {
    const char *backend = strchr(opt.provisioners[i], '=') + 1;

    if (ctl_backend_find(backend) == NULL) {
      char why[512];

      ctl_backend_unknown(backend, why, sizeof(why));
      rc = ctl_usage_error(&ctx, "--provisioner %s: %s", opt.provisioners[i],
                           why);
      goto done;
    }
  }
  extra = opt.given & ~cmd->flags;
  if (extra != 0) {
    rc = ctl_usage_error(&ctx, "flag --%s does not apply to '%s'",
                         opt.given_names[__builtin_ctz(extra)], cmd->name);
    goto done;
  }
  rc = cmd->run(&ctx);

done:
  ctl_registry_destroy(ctx.reg);
  berth_k8s_client_destroy(ctx.k8s);
  if (ctx.cfg_loaded)
    berth_k8s_config_cleanup(&ctx.cfg);
  ctl_options_cleanup(&opt);
  fflush(stdout);
  if (ferror(stdout) && rc == CTL_EXIT_OK) {
    fprintf(stderr, "error: could not write the output\n");
    rc = CTL_EXIT_ERROR;
  }
  return rc;
}
