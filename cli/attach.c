/* berthctl attach, berthctl detach: manual attach and detach of EBS disks
 * through the attacher's code. The EBS backend and the attacher are being
 * built (the AWS work); until they land these commands check their
 * arguments and say so, without touching anything. */
#include "ctl.h"

static int not_yet(ctl_ctx_t *ctx, const char *what)
{
  if (ctx->opt->nargs != 1)
    return ctl_usage_error(ctx, "%s needs one VOLUME", what);
  if (ctx->opt->node == NULL)
    return ctl_usage_error(ctx, "%s needs --node NODE", what);
  return ctl_fail(ctx,
                  "%s needs the EBS backend, which is not built into "
                  "this berthctl yet (the AWS backends and the "
                  "attacher are in progress); nothing was done. NFS "
                  "volumes need no attach: kubelet mounts them",
                  what);
}

int ctl_run_attach(ctl_ctx_t *ctx)
{
  return not_yet(ctx, "attach");
}

int ctl_run_detach(ctl_ctx_t *ctx)
{
  return not_yet(ctx, "detach");
}
