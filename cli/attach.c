/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl attach, berthctl detach: manual attach and detach of the disks
 * of a backend that attaches them to nodes (BERTH_BACKEND_CAP_ATTACH: the
 * EBS backend), through its inspect operations, which take the steps
 * berth-provisioner's attacher takes (EBS: the node's instance from its
 * spec.providerID, the first free device name, AttachVolume, then wait,
 * bounded, for "attached"; DetachVolume, --force: forced, then wait for
 * the disk to leave the instance). A disk already attached to the node
 * keeps its device; a disk already detached is done. Both ask first (or
 * take --yes). */
#include "ctl.h"
#include "ctl_backend.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define ATT_ID_MAX 64
#define ATT_DEVICE_MAX 64

static bool attaches(const berth_backend_ops_t *ops)
{
  return (berth_backend_ops_caps(ops) & BERTH_BACKEND_CAP_ATTACH) != 0 &&
         berth_backend_can_inspect(ops) && ops->inspect->attach != NULL;
}

/* The names, in capitals, of the backends whose volumes attach (attaching)
 * or do not, as "NFS, EFS and X" into buf, for the message that refuses
 * a volume that does not attach. */
static void attach_kinds(bool attaching, berth_buf_t *buf)
{
  size_t n = 0;
  size_t k = 0;
  size_t i;
  const char *c;

  for (i = 0; berth_backends[i] != NULL; i++)
    n += attaches(berth_backends[i]) == attaching;
  for (i = 0; berth_backends[i] != NULL; i++) {
    if (attaches(berth_backends[i]) != attaching)
      continue;
    if (k > 0)
      berth_buf_append_str(buf, k + 1 == n ? " and " : ", ");
    for (c = berth_backends[i]->name; *c != '\0'; c++)
      berth_buf_append_byte(buf, (char)toupper((unsigned char)*c));
    k++;
  }
}

static int run(ctl_ctx_t *ctx, bool attach)
{
  const char *what = attach ? "attach" : "detach";
  ctl_options_t *opt = ctx->opt;
  const berth_backend_ops_t *ops;
  const berth_inspect_ops_t *in;
  const char *name, *volume = NULL;
  char instance[ATT_ID_MAX], device[ATT_DEVICE_MAX] = "";
  json_t *pv = NULL, *node = NULL;
  berth_inspector_t *be = NULL;
  berth_error_t err;
  berth_status_t st;
  char *prompt = NULL;
  bool was = false;
  int rc = CTL_EXIT_ERROR;

  if (opt->nargs != 1)
    return ctl_usage_error(ctx, "%s needs one VOLUME", what);
  if (opt->node == NULL || opt->node[0] == '\0')
    return ctl_usage_error(ctx, "%s needs --node NODE (a node's name)", what);
  rc = ctl_get_pv(ctx, opt->args[0], &name, &pv);
  if (rc != CTL_EXIT_OK)
    return rc;
  rc = CTL_EXIT_ERROR;
  berth_error_clear(&err);
  ops = ctl_registry_pv_backend(ctx->reg, pv);
  in = ops != NULL ? ops->inspect : NULL;
  if (ops != NULL && attaches(ops))
    volume = in->attach_volume(pv);
  if (volume == NULL) {
    berth_buf_t kinds;
    berth_buf_t others;

    berth_buf_init(&kinds);
    berth_buf_init(&others);
    attach_kinds(true, &kinds);
    attach_kinds(false, &others);
    rc = ctl_fail(ctx,
                  "PersistentVolume \"%s\" is not an %s volume of berth's "
                  "(backend %s): only %s disks are attached; %s "
                  "volumes need no attach, kubelet mounts them",
                  name, berth_buf_str(&kinds), ops != NULL ? ops->name : "none",
                  berth_buf_str(&kinds), berth_buf_str(&others));
    berth_buf_cleanup(&kinds);
    berth_buf_cleanup(&others);
    goto done;
  }
  st = berth_k8s_get(ctx->k8s, &berth_k8s_res_nodes, NULL, opt->node, &node,
                     &err);
  if (st == BERTH_ENOTFOUND) {
    rc = ctl_fail(ctx, "Node \"%s\" not found (kubectl get nodes)", opt->node);
    goto done;
  }
  if (st != BERTH_OK) {
    rc = ctl_kube_error(ctx, "get node", st, &err);
    goto done;
  }
  if (!in->attach_node(node, instance, sizeof(instance))) {
    rc = ctl_fail(ctx, "Node \"%s\" has no %s", opt->node,
                  ctl_nz(in->node_hint));
    goto done;
  }
  prompt = berth_strdup_printf(
      "%s %s %s (PersistentVolume %s) %s node %s (instance %s)%s?",
      attach ? "Attach" : "Detach", ctl_nz(in->attach_noun), volume, name,
      attach ? "to" : "from", opt->node, instance,
      !attach && opt->force ? ", forced (the node may lose data it has not "
                              "written)"
                            : "");
  if (opt->dry_run) {
    fprintf(ctx->out, "%s (dry run: nothing done)\n", prompt);
    rc = CTL_EXIT_OK;
    goto done;
  }
  if (!ctl_confirm(ctx, prompt))
    goto done;
  st = ctl_registry_backend(ctx, ops, &be, &err);
  if (st == BERTH_OK)
    st = in->attach(be, volume, instance, !attach, opt->force, device,
                    sizeof(device), &was, &err);
  if (st != BERTH_OK) {
    rc = ctl_fail(ctx, "%s %s: %s", what, volume,
                  err.message[0] ? err.message : berth_strerror(st));
    goto done;
  }
  if (attach)
    fprintf(ctx->out, "volume %s attached to %s (%s) at %s\n", name, opt->node,
            instance, device);
  else
    fprintf(ctx->out, "volume %s %s %s (%s)\n", name,
            was ? "detached from" : "was not attached to", opt->node, instance);
  rc = CTL_EXIT_OK;
done:
  free(prompt);
  json_decref(node);
  json_decref(pv);
  return rc;
}

int ctl_run_attach(ctl_ctx_t *ctx)
{
  return run(ctx, true);
}

int ctl_run_detach(ctl_ctx_t *ctx)
{
  return run(ctx, false);
}
