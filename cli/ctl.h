/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: what the command files share.
 *
 * Layout (one file per command group, as CONTRIBUTING.md asks):
 *
 *   main.c        the command table, dispatch, help
 *   options.c     the command line: one flag table, kubectl's rules
 *   output.c      aligned tables, JSON, YAML, names; sizes and ages
 *   kube.c        the Kubernetes client, berth's classes and provisioners,
 *                 Events, error messages that say what to do
 *   backend.c     berth's provisioners and their backends (the
 *                 provisioner's registry, ctl_backend.h), and the
 *                 StorageClasses and PVs every command reads first
 *   claims.c      claims, volumes
 *   describe.c    describe claim|volume
 *   orphans.c     orphans [--delete]
 *   provision.c   provision, delete
 *   attach.c      attach, detach (backends whose disks attach: EBS)
 *   peers.c       peers
 *   doctor.c      doctor
 *   rollback.c    rollback: lift berth's marks before switching back
 *   completion.c  completion bash|zsh
 *
 * Cross-file names start with ctl_ (berth-peers uses peers_, the
 * provisioner prov_); everything else is static. */
#ifndef BERTH_CTL_H
#define BERTH_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "berth/buf.h"
#include "berth/k8s.h"
#include "berth/status.h"

/* Exit codes, as kubectl: 0 success, 1 an error, 2 a usage error. */
#define CTL_EXIT_OK 0
#define CTL_EXIT_ERROR 1
#define CTL_EXIT_USAGE 2

/* ---- options.c ----------------------------------------------------------- */

typedef enum ctl_output {
  CTL_OUT_TABLE = 0,
  CTL_OUT_WIDE,
  CTL_OUT_JSON,
  CTL_OUT_YAML,
  CTL_OUT_NAME,
  CTL_OUT_JSONPATH,      /* -o jsonpath=TEMPLATE (output_arg) */
  CTL_OUT_CUSTOM_COLUMNS /* -o custom-columns=SPEC (output_arg) */
} ctl_output_t;

/* Command-specific flags, as bits: a command lists the ones it takes. */
enum {
  CTL_F_ALL_NS = 1u << 0,    /* -A, --all-namespaces */
  CTL_F_SELECTOR = 1u << 1,  /* -l, --selector */
  CTL_F_OUTPUT = 1u << 2,    /* -o, --output, --no-headers */
  CTL_F_USAGE = 1u << 3,     /* --no-usage */
  CTL_F_DELETE = 1u << 4,    /* --delete, --archive, --min-age */
  CTL_F_YES = 1u << 5,       /* -y, --yes, --dry-run */
  CTL_F_PROVISION = 1u << 6, /* --class, --size, --name, --claim,
                                --access-mode */
  CTL_F_FORCE = 1u << 7,     /* --force */
  CTL_F_PURGE = 1u << 8,     /* --purge */
  CTL_F_NODE = 1u << 9,      /* --node */
  CTL_F_PEERS = 1u << 10,    /* --dns-server, --domain, --port-name, --as,
                                --render */
  CTL_F_ARCHIVED = 1u << 11, /* --archived */
  CTL_F_SORT = 1u << 12,     /* --sort-by */
  CTL_F_TO = 1u << 13        /* --to */
};

typedef struct ctl_options {
  /* Global (kubectl's names). */
  const char *kubeconfig;
  const char *context;
  const char *namespace_name; /* NULL: the context's */
  const char **provisioners;  /* --provisioner NAME=BACKEND, repeatable */
  size_t nprovisioners;
  const char *nfs_url;     /* --nfs-url: the nfs backend's default export */
  long request_timeout_ms; /* 0: the client's default */
  int verbosity;           /* -v N */
  bool help;
  bool version;
  /* Command-specific. */
  bool all_namespaces;
  const char *selector;
  ctl_output_t output;
  const char *output_arg; /* the template of jsonpath= or custom-columns= */
  const char *sort_by;    /* --sort-by PATH, or NULL */
  bool no_headers;
  bool no_usage;
  bool do_delete;
  bool archive;
  bool archived;
  int64_t min_age_ms;
  bool yes;
  bool dry_run;
  bool force;
  bool purge;
  const char *class_name;
  const char *size;
  const char *name;
  const char *claim;
  const char *access_mode;
  const char *node;
  const char *dns_server;
  const char *domain;
  const char *port_name;
  const char *as_host;
  const char *render;
  const char *to; /* rollback --to: the provisioner berth's PVs go back to */
  /* The command and its arguments. */
  const char *command;
  char **args;
  size_t nargs;
  unsigned given;              /* CTL_F_* bits of the flags that were given */
  const char *given_names[16]; /* per bit: the long name of one of them */
} ctl_options_t;

/* Default of --min-age: directories younger than this may be a volume
 * the provisioner is making right now (it makes the directory before the
 * PV), so orphans --delete leaves them alone. */
#define CTL_DEFAULT_MIN_AGE_MS (5 * 60 * 1000)

/* Parse argv into *opt (strings borrowed from argv; opt->provisioners and
 * opt->args are owned: ctl_options_cleanup). Usage errors are printed to
 * err with a hint; returns false then. */
bool ctl_options_parse(int argc, char **argv, ctl_options_t *opt, FILE *err);
void ctl_options_cleanup(ctl_options_t *opt);

/* Print the global options (for `berthctl options` and help footers). */
void ctl_options_print_global(FILE *out);

/* Print the help lines of the command-specific flags in `flags`. */
void ctl_options_print_flags(FILE *out, unsigned flags);

/* The long names of every flag (for completion), NULL-terminated. */
const char *const *ctl_options_flag_names(unsigned flags, bool global);

/* Every flag that takes a value, as typed ("--output", "-o"),
 * NULL-terminated (for completion). */
const char *const *ctl_options_value_flags(void);

/* The longest duration a flag takes (berth_duration_parse): a year. */
#define CTL_DURATION_MAX_MS ((int64_t)365 * 24 * 3600 * 1000)

/* ---- the context -----------------------------------------------------------
 */

typedef struct ctl_registry ctl_registry_t;

typedef struct ctl_ctx {
  ctl_options_t *opt;
  FILE *out;
  FILE *err;
  berth_k8s_config_t cfg; /* loaded by ctl_kube_connect */
  bool cfg_loaded;
  berth_k8s_client_t *k8s; /* NULL until ctl_kube_connect */
  const char *ns;          /* -n, else the context's namespace */
  ctl_registry_t *reg;     /* NULL until ctl_registry_load */
  int64_t now_s;           /* wall clock at start, for AGE */
  bool stderr_tty;         /* progress lines only on a terminal */
} ctl_ctx_t;

/* A command. */
typedef int (*ctl_run_fn)(ctl_ctx_t *ctx);

typedef struct ctl_command {
  const char *name;
  const char *aliases; /* comma-separated, or NULL */
  ctl_run_fn run;
  unsigned flags; /* CTL_F_* it accepts */
  const char *summary;
  const char *usage; /* the synopsis after "berthctl " */
  const char *help;  /* description and examples */
} ctl_command_t;

/* The table of commands (main.c), ended by a zeroed entry. */
extern const ctl_command_t ctl_commands[];
/* The command called name or one of its aliases, or NULL. */
const ctl_command_t *ctl_command_find(const char *name);
/* Print cmd's help: synopsis, description and examples, its options. */
void ctl_command_help(FILE *out, const ctl_command_t *cmd);

/* Messages: "error: ..." on stderr. Returns CTL_EXIT_ERROR. */
int ctl_fail(ctl_ctx_t *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A usage error of cmd: the message, then "See 'berthctl CMD --help'".
 * Returns CTL_EXIT_USAGE. */
int ctl_usage_error(ctl_ctx_t *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Ask "prompt [y/N] " on stderr and read the answer from stdin; --yes
 * answers yes. An end of input is no, with a hint to pass --yes. */
bool ctl_confirm(ctl_ctx_t *ctx, const char *prompt);

/* One progress line on stderr (a terminal only), rewritten in place and
 * at most ten times a second; NULL clears it. */
void ctl_progress(ctl_ctx_t *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The commands, one file each (see the top of this file). */
int ctl_run_claims(ctl_ctx_t *ctx);
int ctl_run_volumes(ctl_ctx_t *ctx);
int ctl_run_describe(ctl_ctx_t *ctx);
int ctl_run_orphans(ctl_ctx_t *ctx);
int ctl_run_provision(ctl_ctx_t *ctx);
int ctl_run_delete(ctl_ctx_t *ctx);
int ctl_run_attach(ctl_ctx_t *ctx);
int ctl_run_detach(ctl_ctx_t *ctx);
int ctl_run_peers(ctl_ctx_t *ctx);
int ctl_run_doctor(ctl_ctx_t *ctx);
int ctl_run_rollback(ctl_ctx_t *ctx);
int ctl_run_completion(ctl_ctx_t *ctx);

/* Delete the PersistentVolume name and then lift the provisioner's
 * finalizer from it (orphans.c): for volumes whose backend object is gone
 * or was just deleted by berthctl. A PV already gone is BERTH_OK. */
berth_status_t ctl_pv_delete(ctl_ctx_t *ctx, const char *name,
                             berth_error_t *err);

/* s, or "" for NULL. */
static inline const char *ctl_nz(const char *s)
{
  return s != NULL ? s : "";
}

/* The string o[a] (b NULL) or o[a][b], or NULL when it is missing or not a
 * string. Borrowed. */
static inline const char *ctl_str_at(const json_t *o, const char *a,
                                     const char *b)
{
  const json_t *v = json_object_get(o, a);

  if (b != NULL)
    v = json_object_get(v, b);
  return json_string_value(v);
}

/* ---- output.c
 * ---------------------------------------------------------------- */

/* An aligned table, as kubectl prints: upper-case headers, columns three
 * spaces apart, the last one not padded. */
typedef struct ctl_table ctl_table_t;

ctl_table_t *ctl_table_create(void);
void ctl_table_destroy(ctl_table_t *t);
/* Spaces between columns (default 3). */
void ctl_table_gap(ctl_table_t *t, int gap);
/* Add a column; hidden columns are added but not printed (so that rows
 * can be filled the same way for table and wide output). */
void ctl_table_column(ctl_table_t *t, const char *header, bool shown);
/* Start a row, then one ctl_table_cell per column, in order. A NULL
 * cell prints as "<none>". */
void ctl_table_row(ctl_table_t *t);
void ctl_table_cell(ctl_table_t *t, const char *text);
void ctl_table_cellf(ctl_table_t *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
size_t ctl_table_rows(const ctl_table_t *t);
void ctl_table_print(const ctl_table_t *t, FILE *out, bool headers);

/* Print a JSON document as kubectl does: JSON indented by 4, or YAML. */
void ctl_print_json(FILE *out, const json_t *doc);
berth_status_t ctl_print_yaml(FILE *out, const json_t *doc);
/* Print doc as opt->output says (json, yaml, or jsonpath= and
 * custom-columns= over it). */
int ctl_print_doc(ctl_ctx_t *ctx, const json_t *doc);

/* true when -o asks for a document (json, yaml, jsonpath=,
 * custom-columns=): what ctl_print_doc prints. */
bool ctl_output_is_doc(const ctl_ctx_t *ctx);

/* ---- listing.c: kubectl's output of lists ---------------------------------
 */

/* Sort items (an array of objects) in place by --sort-by, as kubectl:
 * numbers and quantities by value, the rest as strings; objects without
 * the field first. Prints a usage error and returns false when the path
 * is not one. */
bool ctl_list_sort(ctl_ctx_t *ctx, json_t *items);

/* Check -o jsonpath=, -o custom-columns= and --sort-by; false with a
 * message on err when one is not valid. */
bool ctl_list_check_output(const ctl_options_t *opt, FILE *err);

/* true when -o asks for a structured form (json, yaml, name, jsonpath,
 * custom-columns) that ctl_list_print prints; table and wide are the
 * command's. */
bool ctl_list_structured(const ctl_ctx_t *ctx);

/* -o jsonpath= over doc, or -o custom-columns= over its "items" (or doc
 * itself as the one row). */
int ctl_list_print_doc(ctl_ctx_t *ctx, const json_t *doc);

/* Print items (Kubernetes objects with apiVersion, kind and metadata) as
 * a v1 List in the form -o asks for. The exit status. */
int ctl_list_print(ctl_ctx_t *ctx, const json_t *items);

/* true when args (the command's NAME arguments) name nothing, or name
 * the object's metadata.name. */
bool ctl_list_named(const ctl_ctx_t *ctx, const json_t *obj);

/* kubectl's AGE: "45s", "3m20s", "5h", "12d". ts is RFC 3339; NULL or
 * unparsable gives "<unknown>". */
void ctl_age(const ctl_ctx_t *ctx, const char *ts, char *out, size_t size);
/* The same for a number of seconds. */
void ctl_duration_human(int64_t seconds, char *out, size_t size);
/* RFC 3339 to seconds since the epoch; -1 when unparsable. */
int64_t ctl_time_parse(const char *ts);

/* Bytes in IEC units, one decimal when < 10: "0", "512B", "1.5Ki",
 * "20Mi". */
void ctl_bytes_human(uint64_t bytes, char *out, size_t size);

/* kubectl's access mode abbreviations: "RWO,RWX". */
void ctl_access_modes(const json_t *modes, char *out, size_t size);

/* ---- kube.c
 * ------------------------------------------------------------------- */

/* Load the configuration and create the client (idempotent). On failure
 * prints what went wrong and how to fix it; returns false. */
bool ctl_kube_connect(ctl_ctx_t *ctx);

/* Print an API error for `what` ("list claims") with a fix. Returns
 * CTL_EXIT_ERROR. */
int ctl_kube_error(ctl_ctx_t *ctx, const char *what, berth_status_t st,
                   const berth_error_t *err);

/* A hint for a failed API call, or NULL. */
const char *ctl_kube_hint(const ctl_ctx_t *ctx, berth_status_t st);

/* The Events about an object (kind, namespace or NULL, name, uid or NULL),
 * sorted by time: a new array reference in *out. */
berth_status_t ctl_kube_events(ctl_ctx_t *ctx, const char *kind, const char *ns,
                               const char *name, const char *uid, json_t **out,
                               berth_error_t *err);

/* ---- backend.c
 * ------------------------------------------------------------------- */

struct berth_backend_ops;

/* Everything berthctl knows about berth's classes and volumes, listed
 * once per run. */
struct ctl_registry;

/* List StorageClasses and PersistentVolumes and work out berth's
 * provisioners (see backend.c). Prints the error; false on failure. */
bool ctl_registry_load(ctl_ctx_t *ctx);
void ctl_registry_destroy(ctl_registry_t *reg);

/* Every StorageClass (borrowed array) and every PV (borrowed array). */
const json_t *ctl_registry_classes(const ctl_registry_t *reg);
const json_t *ctl_registry_pvs(const ctl_registry_t *reg);
/* The class called name, or NULL. Borrowed. */
const json_t *ctl_registry_class(const ctl_registry_t *reg, const char *name);
/* The PV called name, or NULL. Borrowed. */
const json_t *ctl_registry_pv(const ctl_registry_t *reg, const char *name);

/* The backend of a provisioner name, or NULL when it is not berth's. */
const struct berth_backend_ops *
ctl_registry_provisioner(const ctl_registry_t *reg, const char *provisioner);
/* The backend of a class, or NULL when it is not berth's. */
const struct berth_backend_ops *
ctl_registry_class_backend(const ctl_registry_t *reg, const json_t *sclass);
/* The backend of a PV (its provisioned-by, its class, or the backend's
 * own annotations), or NULL when it is not berth's. */
const struct berth_backend_ops *
ctl_registry_pv_backend(const ctl_registry_t *reg, const json_t *pv);

/* Berth's provisioners: name, backend and how berthctl found it. */
size_t ctl_registry_nprovisioners(const ctl_registry_t *reg);
void ctl_registry_provisioner_at(const ctl_registry_t *reg, size_t i,
                                 const char **name, const char **backend,
                                 const char **source);

#endif /* BERTH_CTL_H */
