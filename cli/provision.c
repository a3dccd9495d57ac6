/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl provision, berthctl delete: manual operations for recovery.
 *
 * provision makes the storage of a class with the provisioner's own
 * backend code and creates a PersistentVolume for it, as berth-provisioner
 * would (pv.kubernetes.io/provisioned-by, the backend's annotations, the
 * class's reclaim policy, mount options and the provisioner's finalizer),
 * optionally pre-bound to a claim (spec.claimRef), so that a claim whose
 * provisioning keeps failing, or a volume to restore data into, can be
 * made by hand. delete removes (or archives, as the class says) a volume's
 * storage and then its PV. Both ask first. */
#include "ctl_backend.h"

#include "pv.h"

#include "berth/json.h"
#include "berth/quantity.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A random (version 4) UUID, as the API server gives claims. */
static bool uuid4(char out[37])
{
  unsigned char r[16];
  ssize_t n = -1;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

  if (fd >= 0) {
    n = read(fd, r, sizeof(r));
    close(fd);
  }
  if (n != (ssize_t)sizeof(r))
    return false;
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
           "%02x",
           r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
           r[11], r[12], r[13], r[14], r[15]);
  return true;
}

/* A PersistentVolume name: an RFC 1123 subdomain (lower-case letters,
 * digits, '-' and '.', starting and ending with a letter or digit, at most
 * 253 characters). Checked before any storage is made for it. */
static bool valid_pv_name(const char *s)
{
  size_t n = strlen(s);
  size_t i;

  if (n == 0 || n > 253)
    return false;
  for (i = 0; i < n; i++) {
    bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');

    if (!alnum && ((s[i] != '-' && s[i] != '.') || i == 0 || i == n - 1))
      return false;
  }
  return true;
}

/* The gids recorded on the class's PVs, for backends that hand out gids
 * from a range, as the provisioner finds them (prov_pv_used_gids). New
 * array in *out (may be NULL when out of memory). */
static void used_gids(const ctl_ctx_t *ctx, const char *cls, uint32_t **out,
                      size_t *n)
{
  json_t *keys = json_array();
  const json_t *pv;
  size_t i;
  char key[512];

  json_array_foreach(ctl_registry_pvs(ctx->reg), i, pv)
  {
    if (keys != NULL && prov_pv_class_gid_key(pv, key, sizeof(key)))
      json_array_append_new(keys, json_string(key));
  }
  prov_pv_used_gids(keys, cls, out, n);
  json_decref(keys);
}

/* What `berthctl provision` was asked for, checked and filled in from the
 * claim to pre-bind to. */
typedef struct prov_job {
  const json_t *sclass;
  const berth_backend_ops_t *ops;
  json_t *claim;    /* the claim to pre-bind to, or NULL (none, or it
                       does not exist yet) */
  json_t *as_claim; /* the claim the PV is built for: claim, or one made
                       of the flags (no uid: nothing to bind to yet) */
  uint64_t bytes;
  const char *size_text; /* the size as written, or NULL */
  unsigned mode_bits;
  char uid[37];
  char pv_name[300];
} prov_job_t;

static void job_cleanup(prov_job_t *job)
{
  json_decref(job->claim);
  json_decref(job->as_claim);
}

/* The flags alone, before anything is read from the cluster. */
static int job_flags(ctl_ctx_t *ctx, prov_job_t *job)
{
  const ctl_options_t *opt = ctx->opt;

  if (opt->nargs > 0)
    return ctl_usage_error(ctx, "provision takes no arguments (use --class, "
                                "--size, --name)");
  if (opt->class_name == NULL)
    return ctl_usage_error(ctx, "provision needs --class CLASS");
  if (opt->name != NULL && !valid_pv_name(opt->name))
    return ctl_usage_error(ctx,
                           "--name: '%s' is not a valid PersistentVolume "
                           "name (lower-case letters, digits, '-' and '.')",
                           opt->name);
  if (opt->size != NULL &&
      (berth_quantity_parse(opt->size, &job->bytes, NULL) != BERTH_OK ||
       job->bytes == 0))
    return ctl_usage_error(ctx,
                           "--size: '%s' is not a size (e.g. 1Gi, "
                           "500Mi)",
                           opt->size);
  job->size_text = opt->size;
  if (opt->access_mode != NULL &&
      berth_access_mode_parse(opt->access_mode) == 0)
    return ctl_usage_error(ctx,
                           "--access-mode: '%s' is not one of "
                           "ReadWriteOnce, ReadOnlyMany, ReadWriteMany, "
                           "ReadWriteOncePod",
                           opt->access_mode);
  return CTL_EXIT_OK;
}

/* The class and its backend. */
static int job_class(ctl_ctx_t *ctx, prov_job_t *job)
{
  const ctl_options_t *opt = ctx->opt;
  const char *by;

  job->sclass = ctl_registry_class(ctx->reg, opt->class_name);
  if (job->sclass == NULL)
    return ctl_fail(ctx,
                    "StorageClass \"%s\" not found ('kubectl get "
                    "storageclass' lists them)",
                    opt->class_name);
  job->ops = ctl_registry_class_backend(ctx->reg, job->sclass);
  by = ctl_nz(prov_class_provisioner(job->sclass));
  if (job->ops == NULL)
    return ctl_fail(ctx,
                    "StorageClass \"%s\" is not one of berth's (its "
                    "provisioner is %s); if it is, say so with "
                    "--provisioner %s=BACKEND",
                    opt->class_name, by, by);
  return CTL_EXIT_OK;
}

/* The claim to pre-bind to, when it exists: its size, modes, volume mode,
 * labels and annotations (the pathPattern may use them). */
static int job_claim(ctl_ctx_t *ctx, prov_job_t *job)
{
  const ctl_options_t *opt = ctx->opt;
  berth_error_t err;
  berth_status_t st;
  const char *bound;

  berth_error_clear(&err);
  if (opt->claim == NULL)
    return CTL_EXIT_OK;
  st = berth_k8s_get(ctx->k8s, &berth_k8s_res_persistentvolumeclaims, ctx->ns,
                     opt->claim, &job->claim, &err);
  if (st != BERTH_OK && st != BERTH_ENOTFOUND)
    return ctl_kube_error(ctx, "get persistentvolumeclaims", st, &err);
  bound = prov_claim_volume_name(job->claim);
  if (bound != NULL)
    return ctl_fail(ctx, "claim %s/%s is bound to %s already", ctx->ns,
                    opt->claim, bound);
  if (job->bytes == 0 && job->claim != NULL &&
      prov_claim_request(job->claim, &job->bytes, &job->size_text, NULL) !=
          BERTH_OK)
    job->bytes = 0;
  return CTL_EXIT_OK;
}

/* The claim the PV is built for (job->as_claim), with the access modes
 * the flags or the claim give (ReadWriteOnce when neither does). */
static int job_as_claim(ctl_ctx_t *ctx, prov_job_t *job)
{
  const ctl_options_t *opt = ctx->opt;
  const char *name = opt->claim != NULL ? opt->claim : job->pv_name;
  json_t *spec;

  job->as_claim = job->claim != NULL
                      ? json_deep_copy(job->claim)
                      : json_pack("{s:{s:s,s:s},s:{}}", "metadata", "name",
                                  name, "namespace", ctx->ns, "spec");
  spec = json_object_get(job->as_claim, "spec");
  if (!json_is_object(spec))
    return ctl_fail(ctx, "out of memory");
  if (opt->access_mode != NULL)
    json_object_set_new(spec, "accessModes",
                        json_pack("[s]", opt->access_mode));
  else if (json_array_size(json_object_get(spec, "accessModes")) == 0)
    json_object_set_new(spec, "accessModes", json_pack("[s]", "ReadWriteOnce"));
  if (prov_claim_access_modes(job->as_claim, &job->mode_bits, NULL) != BERTH_OK)
    return ctl_fail(ctx, "claim %s/%s: an access mode berth does not know",
                    ctx->ns, name);
  return CTL_EXIT_OK;
}

/* The volume's name: --name, else pvc-<a new uid>, which must be free. */
static int job_name(ctl_ctx_t *ctx, prov_job_t *job)
{
  const ctl_options_t *opt = ctx->opt;

  if (!uuid4(job->uid))
    return ctl_fail(ctx, "cannot read /dev/urandom for a volume name");
  if (opt->name != NULL)
    snprintf(job->pv_name, sizeof(job->pv_name), "%s", opt->name);
  else
    snprintf(job->pv_name, sizeof(job->pv_name), "pvc-%s", job->uid);
  if (ctl_registry_pv(ctx->reg, job->pv_name) != NULL)
    return ctl_fail(ctx,
                    "PersistentVolume \"%s\" exists already: pick "
                    "another --name",
                    job->pv_name);
  return CTL_EXIT_OK;
}

/* Everything but the backend and the API server's create. */
static int job_prepare(ctl_ctx_t *ctx, prov_job_t *job)
{
  int rc = job_flags(ctx, job);

  if (rc == CTL_EXIT_OK && !ctl_registry_load(ctx))
    rc = CTL_EXIT_ERROR;
  if (rc == CTL_EXIT_OK)
    rc = job_class(ctx, job);
  if (rc == CTL_EXIT_OK)
    rc = job_claim(ctx, job);
  if (rc == CTL_EXIT_OK && job->bytes == 0)
    rc = ctl_usage_error(ctx, "provision needs --size SIZE (e.g. 1Gi)");
  if (rc == CTL_EXIT_OK)
    rc = job_name(ctx, job);
  if (rc == CTL_EXIT_OK)
    rc = job_as_claim(ctx, job);
  return rc;
}

/* The backend's storage for the job, as the provisioner asks for it. */
static berth_status_t job_provision(ctl_ctx_t *ctx, const prov_job_t *job,
                                    berth_inspector_t *be,
                                    berth_provision_result_t *res,
                                    berth_error_t *err)
{
  const char *mode =
      ctl_str_at(json_object_get(job->as_claim, "spec"), "volumeMode", NULL);
  berth_provision_request_t req;
  uint32_t *gids = NULL;
  berth_status_t st;

  memset(&req, 0, sizeof(req));
  req.claim_namespace = ctx->ns;
  req.claim_name = berth_k8s_obj_name(job->as_claim);
  req.claim_uid = job->claim != NULL ? berth_k8s_obj_uid(job->claim) : job->uid;
  req.pv_name = job->pv_name;
  req.claim = job->as_claim;
  req.requested_bytes = job->bytes;
  req.access_modes = job->mode_bits;
  req.block = mode != NULL && strcmp(mode, "Block") == 0;
  req.parameters = berth_inspect_class_parameters(job->sclass);
  req.mount_options = json_object_get(job->sclass, "mountOptions");
  used_gids(ctx, berth_k8s_obj_name(job->sclass), &gids, &req.n_used_gids);
  req.used_gids = gids;
  st = berth_backend_check_claim(be->core, &req, err);
  if (st == BERTH_OK)
    st = berth_backend_provision(be->core, &req, res, err);
  free(gids);
  return st;
}

/* The PV, as berth-provisioner builds it (prov_pv_build), marked as made
 * by berthctl; pre-bound to --claim when there is one. New. */
static json_t *job_pv(ctl_ctx_t *ctx, const prov_job_t *job,
                      const berth_provision_result_t *res)
{
  prov_pv_input_t in;
  json_t *pv = NULL;

  memset(&in, 0, sizeof(in));
  in.pv_name = job->pv_name;
  in.provisioner = ctl_nz(prov_class_provisioner(job->sclass));
  in.claim = job->as_claim;
  in.sclass = job->sclass;
  in.result = res;
  in.requested_bytes = job->bytes;
  in.requested = job->size_text;
  if (prov_pv_build(&in, &pv, NULL) != BERTH_OK)
    return NULL;
  if (ctx->opt->claim == NULL)
    json_object_del(json_object_get(pv, "spec"), "claimRef");
  json_object_set_new(
      json_object_get(json_object_get(pv, "metadata"), "annotations"),
      BERTH_ANN_MADE_BY, json_string("berthctl"));
  return pv;
}

int ctl_run_provision(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  prov_job_t job;
  berth_inspector_t *be = NULL;
  berth_provision_result_t res;
  json_t *pv = NULL;
  json_t *created = NULL;
  berth_error_t err;
  berth_status_t st;
  char size[32];
  char prompt[768];
  berth_volume_info_t info;
  int rc;

  memset(&job, 0, sizeof(job));
  berth_provision_result_init(&res);
  berth_volume_info_init(&info);
  berth_error_clear(&err);
  rc = job_prepare(ctx, &job);
  if (rc != CTL_EXIT_OK)
    goto done;
  rc = CTL_EXIT_ERROR;
  berth_quantity_format(job.bytes, size, sizeof(size));
  snprintf(prompt, sizeof(prompt),
           "Provision a %s volume %s of StorageClass %s (backend %s)%s%s%s%s?",
           size, job.pv_name, opt->class_name, job.ops->name,
           opt->claim ? " for claim " : "", opt->claim ? ctx->ns : "",
           opt->claim ? "/" : "", opt->claim ? opt->claim : "");
  if (opt->dry_run) {
    fprintf(ctx->out, "%s (dry run: nothing done)\n", prompt);
    rc = CTL_EXIT_OK;
    goto done;
  }
  if (!ctl_confirm(ctx, prompt))
    goto done;

  st = ctl_registry_backend(ctx, job.ops, &be, &err);
  if (st == BERTH_OK)
    st = job_provision(ctx, &job, be, &res, &err);
  if (st != BERTH_OK) {
    rc =
        ctl_fail(ctx, "the %s backend could not provision: %s%s", job.ops->name,
                 err.message[0] ? err.message : berth_strerror(st),
                 st == BERTH_EINVAL ? " (fix the class or the claim; "
                                      "'berthctl doctor' checks classes)"
                                    : " (is the backend reachable? "
                                      "'berthctl doctor' checks)");
    goto done;
  }
  pv = job_pv(ctx, &job, &res);
  if (pv == NULL) {
    rc = ctl_fail(ctx, "out of memory");
    goto done;
  }
  st = berth_k8s_create(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL, pv,
                        &created, &err);
  if (st != BERTH_OK) {
    ctl_kube_error(ctx, "create persistentvolume", st, &err);
    fprintf(ctx->err,
            "  the storage was made but has no PV: run the same "
            "command with --name %s to try again (it finds and "
            "reuses it), or remove it with 'berthctl orphans "
            "--delete'\n",
            job.pv_name);
    goto done;
  }
  ctl_inspect_pv(ctx, job.ops, created, false, &info);
  fprintf(ctx->out, "persistentvolume/%s created (%s: %s on %s)\n", job.pv_name,
          job.ops->name, ctl_nz(info.location), ctl_nz(info.source));
  rc = CTL_EXIT_OK;

done:
  berth_volume_info_cleanup(&info);
  berth_provision_result_cleanup(&res);
  job_cleanup(&job);
  json_decref(pv);
  json_decref(created);
  return rc;
}

int ctl_run_delete(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  const berth_backend_ops_t *ops;
  const json_t *ref;
  berth_inspector_t *be = NULL;
  berth_delete_request_t req;
  berth_delete_outcome_t outcome = BERTH_DELETE_ABSENT;
  berth_volume_info_t info;
  json_t *pv = NULL;
  json_t *ann;
  berth_error_t err;
  berth_status_t st;
  const char *name;
  const char *phase;
  const char *how;
  const char *on_delete;
  char prompt[1024];
  int rc = CTL_EXIT_ERROR;

  berth_volume_info_init(&info);
  berth_error_clear(&err);
  if (opt->nargs != 1)
    return ctl_usage_error(ctx, "delete needs one VOLUME (a "
                                "PersistentVolume's name)");
  rc = ctl_get_pv(ctx, opt->args[0], &name, &pv);
  if (rc != CTL_EXIT_OK)
    return rc;
  rc = CTL_EXIT_ERROR;
  ops = ctl_registry_pv_backend(ctx->reg, pv);
  if (ops == NULL) {
    rc = ctl_fail(
        ctx,
        "PersistentVolume \"%s\" is not one of berth's (its "
        "provisioner is %s): use kubectl delete pv",
        name, ctl_nz(berth_k8s_obj_annotation(pv, BERTH_ANN_PROVISIONED_BY)));
    goto done;
  }
  phase = ctl_str_at(pv, "status", "phase");
  ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
  if (phase != NULL && strcmp(phase, "Bound") == 0 && !opt->force) {
    rc = ctl_fail(ctx,
                  "PersistentVolume \"%s\" is bound to claim %s/%s: "
                  "delete the claim instead (kubectl delete pvc -n %s "
                  "%s) and berth-provisioner deletes the volume as "
                  "its class says; --force deletes it under the claim",
                  name, ctl_nz(ctl_str_at(ref, "namespace", NULL)),
                  ctl_nz(ctl_str_at(ref, "name", NULL)),
                  ctl_nz(ctl_str_at(ref, "namespace", NULL)),
                  ctl_nz(ctl_str_at(ref, "name", NULL)));
    goto done;
  }
  /* --purge: delete the data whatever the class said on provision. */
  on_delete = ops->inspect->on_delete_annotation;
  if (opt->purge && on_delete != NULL) {
    ann = json_object_get(json_object_get(pv, "metadata"), "annotations");
    if (json_is_object(ann))
      json_object_set_new(ann, on_delete, json_string("delete"));
  }
  ctl_inspect_pv(ctx, ops, pv, false, &info);
  how = on_delete != NULL ? berth_k8s_obj_annotation(pv, on_delete) : NULL;
  snprintf(prompt, sizeof(prompt),
           "Delete PersistentVolume %s%s%s%s and its storage (%s %s on %s, "
           "which will be %s)?",
           name, phase ? " (" : "", ctl_nz(phase), phase ? ")" : "", ops->name,
           ctl_nz(info.location), ctl_nz(info.source),
           how == NULL                   ? "handled as its class says"
           : strcmp(how, "archive") == 0 ? "archived"
           : strcmp(how, "retain") == 0  ? "kept"
                                         : "deleted with all its data");
  if (opt->dry_run) {
    fprintf(ctx->out, "%s (dry run: nothing done)\n", prompt);
    rc = CTL_EXIT_OK;
    goto done;
  }
  if (!ctl_confirm(ctx, prompt))
    goto done;
  st = ctl_registry_backend(ctx, ops, &be, &err);
  if (st == BERTH_OK) {
    memset(&req, 0, sizeof(req));
    req.pv = pv;
    req.parameters = berth_inspect_class_parameters(
        ctl_registry_class(ctx->reg, ctl_str_at(json_object_get(pv, "spec"),
                                                "storageClassName", NULL)));
    st = berth_backend_delete(be->core, &req, &outcome, &err);
  }
  if (st != BERTH_OK) {
    rc = ctl_fail(ctx,
                  "the %s backend could not delete %s: %s (the PV is "
                  "kept; fix the cause and run this again)",
                  ops->name, ctl_nz(info.location),
                  err.message[0] ? err.message : berth_strerror(st));
    goto done;
  }
  fprintf(ctx->out, "%s %s: %s\n", ops->name, ctl_nz(info.location),
          berth_delete_outcome_name(outcome));
  st = ctl_pv_delete(ctx, name, &err);
  if (st != BERTH_OK) {
    rc = ctl_kube_error(ctx, "delete persistentvolume", st, &err);
    goto done;
  }
  fprintf(ctx->out, "persistentvolume \"%s\" deleted\n", name);
  rc = CTL_EXIT_OK;

done:
  berth_volume_info_cleanup(&info);
  json_decref(pv);
  return rc;
}
