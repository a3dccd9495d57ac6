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

#include "berth/json.h"
#include "berth/quantity.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PV_FINALIZER "external-provisioner.volume.kubernetes.io/finalizer"
#define ANN_PROVISIONED_BY "pv.kubernetes.io/provisioned-by"
/* Says that a person made this volume with berthctl, not the provisioner. */
#define ANN_MADE_BY "berth.io/provisioned-by"

static const char *str_at(const json_t *o, const char *a, const char *b)
{
  const json_t *v = json_object_get(o, a);

  if (b != NULL)
    v = json_object_get(v, b);
  return json_string_value(v);
}

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
 * from a range. New array in *out (may be NULL when none). */
static size_t used_gids(const ctl_ctx_t *ctx, const char *cls, uint32_t **out)
{
  const json_t *pv;
  size_t n = 0;
  size_t i;

  *out = calloc(json_array_size(ctl_registry_pvs(ctx->reg)) + 1, sizeof(**out));
  if (*out == NULL)
    return 0;
  json_array_foreach(ctl_registry_pvs(ctx->reg), i, pv)
  {
    const char *gid = berth_k8s_obj_annotation(pv, BERTH_ANN_PV_GID);
    long long v;

    if (gid != NULL &&
        strcmp(ctl_nz(str_at(json_object_get(pv, "spec"), "storageClassName",
                             NULL)),
               cls) == 0 &&
        berth_str_to_ll(gid, 0, UINT32_MAX, &v) == BERTH_OK)
      (*out)[n++] = (uint32_t)v;
  }
  return n;
}

/* Merge src's members into dst (the backend's source into the spec). */
static void merge(json_t *dst, const json_t *src)
{
  const char *k;
  json_t *v;

  json_object_foreach((json_t *)src, k, v) json_object_set(dst, k, v);
}

/* The PV, as berth-provisioner builds it (provisioner/pv.h). New. */
static json_t *build_pv(const ctl_ctx_t *ctx, const char *pv_name,
                        const json_t *sclass, const json_t *claim,
                        const char *claim_name, const json_t *modes,
                        uint64_t bytes, const berth_provision_result_t *res)
{
  const char *policy = str_at(sclass, "reclaimPolicy", NULL);
  json_t *ann = json_object();
  json_t *spec = json_object();
  json_t *meta;
  json_t *pv;
  char cap[32];

  berth_quantity_format(bytes, cap, sizeof(cap));
  if (policy == NULL)
    policy = "Delete";
  if (res->annotations != NULL)
    merge(ann, res->annotations);
  json_object_set_new(ann, ANN_PROVISIONED_BY,
                      json_string(ctl_nz(str_at(sclass, "provisioner", NULL))));
  json_object_set_new(ann, ANN_MADE_BY, json_string("berthctl"));
  meta = json_pack("{s:s,s:o}", "name", pv_name, "annotations", ann);
  if (meta != NULL && strcmp(policy, "Delete") == 0)
    json_object_set_new(meta, "finalizers", json_pack("[s]", PV_FINALIZER));
  if (res->source != NULL)
    merge(spec, res->source);
  json_object_set_new(spec, "capacity", json_pack("{s:s}", "storage", cap));
  json_object_set(spec, "accessModes", (json_t *)modes);
  json_object_set_new(spec, "persistentVolumeReclaimPolicy",
                      json_string(policy));
  json_object_set_new(spec, "storageClassName",
                      json_string(berth_k8s_obj_name(sclass)));
  json_object_set_new(spec, "volumeMode", json_string("Filesystem"));
  if (json_is_array(json_object_get(sclass, "mountOptions")))
    json_object_set(spec, "mountOptions",
                    json_object_get(sclass, "mountOptions"));
  if (res->node_affinity != NULL)
    json_object_set(spec, "nodeAffinity", res->node_affinity);
  if (claim_name != NULL) {
    json_t *ref =
        json_pack("{s:s,s:s,s:s,s:s}", "kind", "PersistentVolumeClaim",
                  "apiVersion", "v1", "namespace", ctx->ns, "name", claim_name);

    if (ref != NULL && claim != NULL && berth_k8s_obj_uid(claim) != NULL)
      json_object_set_new(ref, "uid", json_string(berth_k8s_obj_uid(claim)));
    json_object_set_new(spec, "claimRef", ref);
  }
  pv = json_pack("{s:s,s:s,s:o,s:o}", "apiVersion", "v1", "kind",
                 "PersistentVolume", "metadata", meta, "spec", spec);
  return pv;
}

int ctl_run_provision(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  const json_t *sclass;
  const ctl_backend_ops_t *ops;
  ctl_backend_t *be = NULL;
  berth_provision_request_t req;
  berth_provision_result_t res;
  json_t *claim = NULL;
  json_t *fake_claim = NULL;
  json_t *modes = NULL;
  json_t *pv = NULL;
  json_t *created = NULL;
  uint32_t *gids = NULL;
  berth_error_t err;
  berth_status_t st;
  uint64_t bytes = 0;
  unsigned mode_bits = 0;
  char uid[37];
  char pv_name[300];
  char size[32];
  char prompt[768];
  ctl_volume_info_t info;
  int rc = CTL_EXIT_ERROR;

  berth_provision_result_init(&res);
  ctl_volume_info_init(&info);
  berth_error_clear(&err);
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
      (berth_quantity_parse(opt->size, &bytes, NULL) != BERTH_OK || bytes == 0))
    return ctl_usage_error(ctx,
                           "--size: '%s' is not a size (e.g. 1Gi, "
                           "500Mi)",
                           opt->size);
  if (opt->access_mode != NULL &&
      (mode_bits = berth_access_mode_parse(opt->access_mode)) == 0)
    return ctl_usage_error(ctx,
                           "--access-mode: '%s' is not one of "
                           "ReadWriteOnce, ReadOnlyMany, ReadWriteMany, "
                           "ReadWriteOncePod",
                           opt->access_mode);
  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  sclass = ctl_registry_class(ctx->reg, opt->class_name);
  if (sclass == NULL)
    return ctl_fail(ctx,
                    "StorageClass \"%s\" not found ('kubectl get "
                    "storageclass' lists them)",
                    opt->class_name);
  ops = ctl_registry_class_backend(ctx->reg, sclass);
  if (ops == NULL)
    return ctl_fail(ctx,
                    "StorageClass \"%s\" is not one of berth's (its "
                    "provisioner is %s); if it is, say so with "
                    "--provisioner %s=BACKEND",
                    opt->class_name,
                    ctl_nz(str_at(sclass, "provisioner", NULL)),
                    ctl_nz(str_at(sclass, "provisioner", NULL)));
  if (ops->not_built != NULL)
    return ctl_fail(ctx, "StorageClass \"%s\": %s", opt->class_name,
                    ops->not_built);

  /* The claim to pre-bind to, when it exists: its size, modes, labels
   * and annotations (the pathPattern may use them). */
  if (opt->claim != NULL) {
    st = berth_k8s_get(ctx->k8s, &berth_k8s_res_persistentvolumeclaims, ctx->ns,
                       opt->claim, &claim, &err);
    if (st != BERTH_OK && st != BERTH_ENOTFOUND)
      return ctl_kube_error(ctx, "get persistentvolumeclaims", st, &err);
    if (claim != NULL && str_at(claim, "spec", "volumeName") != NULL) {
      rc = ctl_fail(ctx, "claim %s/%s is bound to %s already", ctx->ns,
                    opt->claim, str_at(claim, "spec", "volumeName"));
      goto done;
    }
  }
  if (bytes == 0 && claim != NULL) {
    const char *want = NULL;

    berth_json_opt_string(claim, "spec.resources.requests.storage", NULL, &want,
                          NULL);
    if (want != NULL && berth_quantity_parse(want, &bytes, NULL) != BERTH_OK)
      bytes = 0;
  }
  if (bytes == 0) {
    rc = ctl_usage_error(ctx, "provision needs --size SIZE (e.g. 1Gi)");
    goto done;
  }
  if (mode_bits != 0)
    modes = json_pack("[s]", opt->access_mode);
  else if (claim != NULL &&
           json_array_size(json_object_get(json_object_get(claim, "spec"),
                                           "accessModes")) > 0)
    modes = json_deep_copy(
        json_object_get(json_object_get(claim, "spec"), "accessModes"));
  else
    modes = json_pack("[s]", "ReadWriteOnce");
  {
    size_t i;
    json_t *m;

    mode_bits = 0;
    json_array_foreach(modes, i, m) mode_bits |=
        berth_access_mode_parse(json_string_value(m));
  }

  if (!uuid4(uid)) {
    rc = ctl_fail(ctx, "cannot read /dev/urandom for a volume name");
    goto done;
  }
  snprintf(pv_name, sizeof(pv_name), "%s", opt->name != NULL ? opt->name : "");
  if (opt->name == NULL)
    snprintf(pv_name, sizeof(pv_name), "pvc-%s", uid);
  if (ctl_registry_pv(ctx->reg, pv_name) != NULL) {
    rc = ctl_fail(ctx,
                  "PersistentVolume \"%s\" exists already: pick "
                  "another --name",
                  pv_name);
    goto done;
  }
  berth_quantity_format(bytes, size, sizeof(size));
  snprintf(prompt, sizeof(prompt),
           "Provision a %s volume %s of StorageClass %s (backend %s)%s%s%s%s?",
           size, pv_name, opt->class_name, ops->name,
           opt->claim ? " for claim " : "", opt->claim ? ctx->ns : "",
           opt->claim ? "/" : "", opt->claim ? opt->claim : "");
  if (opt->dry_run) {
    fprintf(ctx->out, "%s (dry run: nothing done)\n", prompt);
    rc = CTL_EXIT_OK;
    goto done;
  }
  if (!ctl_confirm(ctx, prompt))
    goto done;

  st = ctl_registry_backend(ctx, ops, &be, &err);
  if (st != BERTH_OK) {
    rc = ctl_fail(ctx, "%s", err.message);
    goto done;
  }
  if (claim == NULL) {
    fake_claim =
        json_pack("{s:{s:s,s:s}}", "metadata", "name",
                  opt->claim ? opt->claim : pv_name, "namespace", ctx->ns);
  }
  memset(&req, 0, sizeof(req));
  req.claim_namespace = ctx->ns;
  req.claim_name = opt->claim ? opt->claim : pv_name;
  req.claim_uid = claim ? berth_k8s_obj_uid(claim) : uid;
  req.pv_name = pv_name;
  req.claim = claim ? claim : fake_claim;
  req.requested_bytes = bytes;
  req.access_modes = mode_bits;
  req.parameters = ctl_class_parameters(sclass);
  req.n_used_gids = used_gids(ctx, opt->class_name, &gids);
  req.used_gids = gids;
  st = berth_backend_provision(be->core, &req, &res, &err);
  if (st != BERTH_OK) {
    rc = ctl_fail(ctx, "the %s backend could not provision: %s%s", ops->name,
                  err.message[0] ? err.message : berth_strerror(st),
                  st == BERTH_EINVAL ? " (fix the class or the claim; "
                                       "'berthctl doctor' checks classes)"
                                     : " (is the backend reachable? "
                                       "'berthctl doctor' checks)");
    goto done;
  }
  pv = build_pv(ctx, pv_name, sclass, claim, opt->claim, modes, bytes, &res);
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
            pv_name);
    goto done;
  }
  ctl_inspect_pv(ctx, ops, created, false, &info);
  fprintf(ctx->out, "persistentvolume/%s created (%s: %s on %s)\n", pv_name,
          ops->name, ctl_nz(info.location), ctl_nz(info.source));
  rc = CTL_EXIT_OK;

done:
  ctl_volume_info_cleanup(&info);
  berth_provision_result_cleanup(&res);
  json_decref(claim);
  json_decref(fake_claim);
  json_decref(modes);
  json_decref(pv);
  json_decref(created);
  free(gids);
  return rc;
}

static const char *outcome_text(berth_delete_outcome_t o)
{
  switch (o) {
  case BERTH_DELETE_DELETED:
    return "deleted";
  case BERTH_DELETE_ARCHIVED:
    return "archived";
  case BERTH_DELETE_RETAINED:
    return "kept (the class retains data)";
  case BERTH_DELETE_ABSENT:
  default:
    return "already gone";
  }
}

int ctl_run_delete(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  const ctl_backend_ops_t *ops;
  const json_t *ref;
  ctl_backend_t *be = NULL;
  berth_delete_request_t req;
  berth_delete_outcome_t outcome = BERTH_DELETE_ABSENT;
  ctl_volume_info_t info;
  json_t *pv = NULL;
  json_t *ann;
  berth_error_t err;
  berth_status_t st;
  const char *name;
  const char *phase;
  const char *how;
  char prompt[1024];
  int rc = CTL_EXIT_ERROR;

  ctl_volume_info_init(&info);
  berth_error_clear(&err);
  if (opt->nargs != 1)
    return ctl_usage_error(ctx, "delete needs one VOLUME (a "
                                "PersistentVolume's name)");
  name = opt->args[0];
  if (strncmp(name, "persistentvolume/", 17) == 0)
    name += 17;
  else if (strncmp(name, "pv/", 3) == 0)
    name += 3;
  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  st = berth_k8s_get(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL, name,
                     &pv, &err);
  if (st == BERTH_ENOTFOUND)
    return ctl_fail(ctx,
                    "PersistentVolume \"%s\" not found ('berthctl "
                    "volumes' lists berth's)",
                    name);
  if (st != BERTH_OK)
    return ctl_kube_error(ctx, "get persistentvolume", st, &err);
  ops = ctl_registry_pv_backend(ctx->reg, pv);
  if (ops == NULL) {
    rc = ctl_fail(ctx,
                  "PersistentVolume \"%s\" is not one of berth's (its "
                  "provisioner is %s): use kubectl delete pv",
                  name,
                  ctl_nz(berth_k8s_obj_annotation(pv, ANN_PROVISIONED_BY)));
    goto done;
  }
  if (ops->not_built != NULL) {
    rc = ctl_fail(ctx, "%s", ops->not_built);
    goto done;
  }
  phase = str_at(pv, "status", "phase");
  ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
  if (phase != NULL && strcmp(phase, "Bound") == 0 && !opt->force) {
    rc = ctl_fail(ctx,
                  "PersistentVolume \"%s\" is bound to claim %s/%s: "
                  "delete the claim instead (kubectl delete pvc -n %s "
                  "%s) and berth-provisioner deletes the volume as "
                  "its class says; --force deletes it under the claim",
                  name, ctl_nz(str_at(ref, "namespace", NULL)),
                  ctl_nz(str_at(ref, "name", NULL)),
                  ctl_nz(str_at(ref, "namespace", NULL)),
                  ctl_nz(str_at(ref, "name", NULL)));
    goto done;
  }
  /* --purge: delete the data whatever the class said on provision. */
  if (opt->purge && ops->on_delete_annotation != NULL) {
    ann = json_object_get(json_object_get(pv, "metadata"), "annotations");
    if (json_is_object(ann))
      json_object_set_new(ann, ops->on_delete_annotation,
                          json_string("delete"));
  }
  ctl_inspect_pv(ctx, ops, pv, false, &info);
  how = ops->on_delete_annotation != NULL
            ? berth_k8s_obj_annotation(pv, ops->on_delete_annotation)
            : NULL;
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
    req.parameters = ctl_class_parameters(
        ctl_registry_class(ctx->reg, str_at(json_object_get(pv, "spec"),
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
          outcome_text(outcome));
  st = ctl_pv_delete(ctx, name, &err);
  if (st != BERTH_OK) {
    rc = ctl_kube_error(ctx, "delete persistentvolume", st, &err);
    goto done;
  }
  fprintf(ctx->out, "persistentvolume \"%s\" deleted\n", name);
  rc = CTL_EXIT_OK;

done:
  ctl_volume_info_cleanup(&info);
  json_decref(pv);
  return rc;
}
