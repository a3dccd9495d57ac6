/* SPDX-License-Identifier: Apache-2.0 */
/* A small synchronous NFS client over libnfs, see include/berth/nfs.h.
 *
 * libnfs owns the nfs_ prefix: everything here is berth_nfs_ (public) or
 * bnfs_ (static). libnfs reports failures as negative errno values plus a
 * text kept in the context (nfs_get_error); bnfs_status is the one place
 * that turns those values into berth_status_t. */
#include "berth/nfs.h"

#include "berth/buf.h"
#include "berth/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs4.h>

struct berth_nfs {
  struct nfs_context *ctx; /* owned */
  int version;             /* 3 or 4 */
  char *export_path;       /* owned: the export's path on the server */
};

/* Convert a negative errno from libnfs to a status. connecting says that
 * the failure happened while reaching the server and mounting: there,
 * libnfs reports an unreachable server with assorted codes (EIO, EFAULT,
 * ...), so anything not more specific is a transport failure. */
static berth_status_t bnfs_status(int rc, bool connecting)
{
  berth_status_t st;

  switch (-rc) {
  case 0:
    st = BERTH_OK;
    break;
  case ENOENT:
    st = BERTH_ENOTFOUND;
    break;
  case EEXIST:
  case ENOTEMPTY:
    /* rmdir of a non-empty directory: entries exist in it. */
    st = BERTH_EEXIST;
    break;
  case EACCES:
  case EPERM:
  case EROFS:
    st = BERTH_EPERM;
    break;
  case ENOTDIR:
  case EISDIR:
  case EINVAL:
  case ENAMETOOLONG:
  case ELOOP:
    st = BERTH_EINVAL;
    break;
  case ETIMEDOUT:
  case EINTR:
    /* libnfs reports an RPC that ran out of time as EINTR ("Command timed
     * out"); it also uses EINTR for a cancelled RPC, which only happens
     * here when the context is torn down. */
    st = BERTH_ETIMEOUT;
    break;
  case ECONNREFUSED:
  case ECONNRESET:
  case ECONNABORTED:
  case ENOTCONN:
  case EPIPE:
  case ESHUTDOWN:
  case EHOSTUNREACH:
  case ENETUNREACH:
  case EHOSTDOWN:
  case ENETDOWN:
  case EFAULT:
    /* EFAULT is how libnfs reports an RPC that failed below the NFS
     * layer (RPC_STATUS_ERROR: the socket failed or closed). */
    st = BERTH_ETRANSPORT;
    break;
  case ENOMEM:
    st = BERTH_ENOMEM;
    break;
  default:
    st = connecting ? BERTH_ETRANSPORT : BERTH_EIO;
    break;
  }
  return st;
}

/* Fill err from a failed libnfs call: "<op> <path>: <text>", where text
 * is libnfs's own (nfs_get_error) unless the caller has a better one. */
static berth_status_t bnfs_fail(struct nfs_context *ctx, int rc,
                                bool connecting, const char *op,
                                const char *path, const char *text,
                                berth_error_t *err)
{
  berth_status_t st = bnfs_status(rc, connecting);

  if (st == BERTH_OK) /* a failure without an errno: should not happen */
    st = BERTH_EIO;
  if (text == NULL && ctx != NULL)
    text = nfs_get_error(ctx);
  if (text == NULL || text[0] == '\0')
    text = strerror(rc < 0 ? -rc : EIO);
  /* libnfs's text for an unreachable server can be as terse as "nfs_service
   * failed": say what it means. */
  berth_error_set(
      err, st, "%s %s: %s%s", op, path,
      connecting && st == BERTH_ETRANSPORT ? "cannot reach the server: " : "",
      text);
  return st;
}

/* Check the arguments every path operation shares. Refuse paths that could
 * leave the export: a ".." component. A NULL handle or path is refused
 * too; "" and "/" name the export's root. */
static berth_status_t bnfs_check_path(const berth_nfs_t *nfs, const char *op,
                                      const char *path, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const char *p;
  size_t n;

  if (nfs == NULL || path == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "%s: no %s", op,
                         nfs == NULL ? "handle" : "path");
    goto done;
  }
  for (p = path; *p != '\0'; p += n) {
    while (*p == '/')
      p++;
    n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      st =
          berth_error_set(err, BERTH_EINVAL,
                          "%s %s: a \"..\" component is not allowed", op, path);
      goto done;
    }
  }

done:
  return st;
}

/* libnfs resolves a relative path against its current directory, which we
 * never change from "/"; pass it an absolute path all the same so that
 * messages and behaviour do not depend on that. Returns a new string. */
static char *bnfs_abs(const char *path)
{
  return berth_strdup_printf("%s%s", path[0] == '/' ? "" : "/", path);
}

static berth_nfs_type_t bnfs_type_from_mode(uint64_t mode)
{
  berth_nfs_type_t type = BERTH_NFS_TYPE_OTHER;

  if (S_ISDIR(mode))
    type = BERTH_NFS_TYPE_DIR;
  else if (S_ISREG(mode))
    type = BERTH_NFS_TYPE_FILE;
  else if (S_ISLNK(mode))
    type = BERTH_NFS_TYPE_SYMLINK;
  return type;
}

/* The URL's "version=" argument: 3, 4, or 0 when it has none. libnfs has
 * parsed it already and set its context; it has no getter, so look
 * ourselves. */
static int bnfs_url_version(const char *url)
{
  const char *q = strchr(url, '?');

  while (q != NULL) {
    q++;
    if (strncmp(q, "version=", 8) == 0)
      return q[8] == '4' && (q[9] == '\0' || q[9] == '&') ? 4 : 3;
    q = strchr(q, '&');
  }
  return 0;
}

static berth_status_t bnfs_connect_once(const char *url, int timeout_ms,
                                        berth_nfs_t **out, berth_error_t *err);

/* A URL that names no version is negotiated, as mount.nfs does when no
 * nfsvers is given: it tries the versions in turn and keeps the first the
 * server accepts. mount.nfs starts at v4; berth starts at v3, whose
 * support in libnfs is the fuller (libnfs speaks NFSv4.0 only, and its
 * v4 chmod and chown need a workaround, below), and so that servers that
 * serve both keep the version berth always used. A server that does not
 * serve v3 (an NFSv4-only export: no MOUNT service) is then reached over
 * v4. A timeout is not retried: an unreachable server would cost twice. */
berth_status_t berth_nfs_connect_timeout(const char *url, int timeout_ms,
                                         berth_nfs_t **out, berth_error_t *err)
{
  berth_error_t err3;
  berth_status_t st;
  char *url4 = NULL;

  if (url == NULL || bnfs_url_version(url) != 0)
    return bnfs_connect_once(url, timeout_ms, out, err);
  berth_error_clear(&err3);
  st = bnfs_connect_once(url, timeout_ms, out, &err3);
  if (st == BERTH_OK || st == BERTH_ETIMEOUT || st == BERTH_EINVAL ||
      st == BERTH_EPARSE || st == BERTH_ENOMEM) {
    if (st != BERTH_OK && err != NULL)
      *err = err3;
    return st;
  }
  url4 = berth_strdup_printf("%s%sversion=4", url,
                             strchr(url, '?') != NULL ? "&" : "?");
  if (url4 == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "nfs connect: out of memory");
  st = bnfs_connect_once(url4, timeout_ms, out, err);
  if (st != BERTH_OK && err != NULL) {
    char prefix[sizeof(err3.message) + 16];

    snprintf(prefix, sizeof(prefix), "NFSv3: %s; NFSv4", err3.message);
    berth_error_prefix(err, prefix);
  }
  free(url4);
  return st;
}

/* Every NFSv4 context gets a client name and verifier of its own (RFC
 * 7530 section 16.33: SETCLIENTID's id and verifier identify one client).
 * libnfs 4.0 names every context "Libnfs pid:<pid> <seconds>", so two
 * contexts made in the same second are one client to the server, and the
 * second's SETCLIENTID expires the first's state (clones copy on several
 * contexts at once: NFS4ERR_STALE_CLIENTID, NFS4ERR_EXPIRED). libnfs 4.0's
 * nfs4_set_client_name does not free the default name it replaces (28
 * bytes per NFSv4 connection; tests/lsan.supp). */
static void bnfs_v4_identity(struct nfs_context *ctx)
{
  static atomic_uint counter;
  unsigned n = atomic_fetch_add(&counter, 1u);
  int64_t now = berth_clock_realtime_ms(NULL);
  char name[96];
  char verifier[8];
  size_t i;

  snprintf(name, sizeof(name), "berth-%ld-%lld-%u", (long)getpid(),
           (long long)now, n);
  for (i = 0; i < sizeof(verifier); i++)
    verifier[i] = (char)(((uint64_t)now >> (8 * (i % 4))) ^ (n >> (i / 2)) ^
                         (unsigned)getpid() ^ i);
  nfs4_set_client_name(ctx, name);
  nfs4_set_verifier(ctx, verifier);
}

static berth_status_t bnfs_connect_once(const char *url, int timeout_ms,
                                        berth_nfs_t **out, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  berth_nfs_t *nfs = NULL;
  struct nfs_url *parsed = NULL;
  int seconds;
  int rc;

  if (url == NULL || out == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "nfs connect: no URL or out");
    goto done;
  }
  if (timeout_ms <= 0) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "nfs connect: timeout must be positive, not %d",
                         timeout_ms);
    goto done;
  }
  nfs = calloc(1, sizeof(*nfs));
  if (nfs == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "nfs connect: out of memory");
    goto done;
  }
  nfs->ctx = nfs_init_context();
  if (nfs->ctx == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM,
                         "nfs connect: cannot create a libnfs context");
    goto done;
  }
  if (bnfs_url_version(url) == 4)
    bnfs_v4_identity(nfs->ctx);
  /* Defaults first, so that URL arguments (autoreconnect=N, dircache=1)
   * override them. libnfs would reconnect forever by default: a handle on
   * a dead server must fail instead, and the caller decides whether to
   * connect again. Its directory cache would hide what other clients (a
   * second provisioner replica, a person) changed: a provisioner wants
   * the server's truth. Its timeout counts in whole seconds (see
   * nfs_set_timeout). */
  nfs_set_autoreconnect(nfs->ctx, 0);
  nfs_set_dircache(nfs->ctx, 0);
  seconds = timeout_ms / 1000 + (timeout_ms % 1000 != 0);
  nfs_set_timeout(nfs->ctx, seconds * 1000);
  parsed = nfs_parse_url_dir(nfs->ctx, url);
  if (parsed == NULL || parsed->server == NULL || parsed->path == NULL) {
    const char *text = nfs_get_error(nfs->ctx);

    st = berth_error_set(err, BERTH_EPARSE, "nfs URL %s: %s", url,
                         text != NULL && text[0] != '\0'
                             ? text
                             : "expected nfs://server/path[?arg=value...]");
    goto done;
  }
  nfs->version = bnfs_url_version(url) == 4 ? 4 : 3;
  nfs->export_path = strdup(parsed->path);
  if (nfs->export_path == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "nfs connect: out of memory");
    goto done;
  }
  /* Modes are applied as given: the caller says what it wants. (libnfs
   * applies its umask, 022 by default, to files it creates; its mkdir2
   * ignores it, and ganesha applies none of its own.) */
  nfs_umask(nfs->ctx, 0);
  rc = nfs_mount(nfs->ctx, parsed->server, parsed->path);
  if (rc < 0) {
    st = bnfs_fail(nfs->ctx, rc, true, "mount", url, NULL, err);
    goto done;
  }
  *out = nfs;
  nfs = NULL;

done:
  nfs_destroy_url(parsed);
  if (nfs != NULL) {
    /* Not mounted: destroying the context is all the cleanup there is. */
    if (nfs->ctx != NULL)
      nfs_destroy_context(nfs->ctx);
    free(nfs->export_path);
    free(nfs);
  }
  return st;
}

berth_status_t berth_nfs_connect(const char *url, berth_nfs_t **out,
                                 berth_error_t *err)
{
  return berth_nfs_connect_timeout(url, BERTH_NFS_DEFAULT_TIMEOUT_MS, out, err);
}

void berth_nfs_destroy(berth_nfs_t *nfs)
{
  if (nfs == NULL)
    return;
  /* NFSv3: tell the MOUNT service we are gone (best effort; NFSv4 has no
   * such call and libnfs makes it a no-op). */
  if (nfs->version == 3)
    (void)nfs_umount(nfs->ctx);
  nfs_destroy_context(nfs->ctx);
  free(nfs->export_path);
  free(nfs);
}

int berth_nfs_version(const berth_nfs_t *nfs)
{
  return nfs->version;
}

/* NFSv4 SETATTR by path, for chmod and chown.
 *
 * libnfs 4.0's NFSv4 chmod and chown OPEN the object to get a stateid,
 * which fails on a directory (NFS4ERR_ISDIR), and directories are what a
 * provisioner changes. So build the COMPOUND ourselves (RFC 7530, section
 * 16.2): PUTROOTFH, one LOOKUP per component of the export path and of
 * path, SETATTR with the anonymous stateid (all zeros, allowed when the
 * size is not changed, RFC 7530 section 9.1.4.3). LOOKUP never follows a
 * symbolic link: a link in the middle of the path fails, one at the end is
 * changed itself, which is the lstat-like behaviour the API promises. */

/* What the COMPOUND's callback saw; lives on bnfs_v4_setattr's stack,
 * which waits for the callback before returning. */
typedef struct bnfs_v4_wait {
  bool done;
  int rpc_status; /* RPC_STATUS_* */
  int nfs_status; /* nfsstat4 of the COMPOUND */
  char text[160]; /* RPC_STATUS_ERROR's text */
  bool want_link; /* the last op is a READLINK: copy its text to link */
  char *link;     /* new string, or NULL */
} bnfs_v4_wait_t;

static void bnfs_v4_cb(struct rpc_context *rpc, int status, void *data,
                       void *private_data)
{
  bnfs_v4_wait_t *w = private_data;

  (void)rpc;
  w->done = true;
  w->rpc_status = status;
  if (status == RPC_STATUS_SUCCESS && data != NULL) {
    COMPOUND4res *res = data;
    u_int n = res->resarray.resarray_len;

    w->nfs_status = (int)res->status;
    /* The reply is freed after this callback: copy the link's text, which
     * is counted, not NUL-terminated (RFC 7530 section 16.25). */
    if (w->want_link && res->status == NFS4_OK && n > 0 &&
        res->resarray.resarray_val[n - 1].resop == OP_READLINK) {
      const utf8str_cs *t =
          &res->resarray.resarray_val[n - 1]
               .nfs_resop4_u.opreadlink.READLINK4res_u.resok4.link;
      w->link = strndup(t->utf8string_val, t->utf8string_len);
    }
  } else if (status == RPC_STATUS_ERROR && data != NULL)
    snprintf(w->text, sizeof(w->text), "%s", (const char *)data);
}

/* Append the components of path (split on '/', empty ones skipped) to
 * ops from index *n. With ops NULL, only count them. */
static void bnfs_v4_lookups(char *path, nfs_argop4 *ops, unsigned *n)
{
  char *p = path;
  size_t len;

  while (*p != '\0') {
    while (*p == '/')
      p++;
    len = strcspn(p, "/");
    if (len == 0)
      break;
    if (ops != NULL) {
      ops[*n].argop = OP_LOOKUP;
      ops[*n].nfs_argop4_u.oplookup.objname.utf8string_len = (u_int)len;
      ops[*n].nfs_argop4_u.oplookup.objname.utf8string_val = p;
    }
    (*n)++;
    p += len;
  }
}

/* Append an XDR string (length, bytes, zero padding to 4) to out. */
static berth_status_t bnfs_xdr_string(berth_buf_t *out, const char *s)
{
  static const char zeros[4] = {0, 0, 0, 0};
  uint32_t len = (uint32_t)strlen(s);
  uint32_t be = htonl(len);
  berth_status_t st;

  st = berth_buf_append(out, &be, sizeof(be));
  if (st == BERTH_OK)
    st = berth_buf_append(out, s, len);
  if (st == BERTH_OK && (len & 3) != 0)
    st = berth_buf_append(out, zeros, 4 - (len & 3));
  return st;
}

/* Set the attributes in mask (word 1 of the FATTR4 bitmap: MODE, OWNER,
 * OWNER_GROUP) to the XDR-encoded vals on the object at abs. Returns 0 or
 * a negative errno, as libnfs does, with a message in text. */
static int bnfs_v4_compound(berth_nfs_t *nfs, const char *abs,
                            const nfs_argop4 *last, bnfs_v4_wait_t *wp,
                            char *text, size_t textsize);

static int bnfs_v4_setattr(berth_nfs_t *nfs, const char *abs, uint32_t mask,
                           const berth_buf_t *vals, char *text, size_t textsize)
{
  uint32_t bitmap[2] = {0, mask};
  nfs_argop4 op;
  bnfs_v4_wait_t w;

  memset(&w, 0, sizeof(w));
  memset(&op, 0, sizeof(op));
  op.argop = OP_SETATTR;
  /* stateid stays all zeros: the anonymous stateid. */
  op.nfs_argop4_u.opsetattr.obj_attributes.attrmask.bitmap4_len = 2;
  op.nfs_argop4_u.opsetattr.obj_attributes.attrmask.bitmap4_val = bitmap;
  op.nfs_argop4_u.opsetattr.obj_attributes.attr_vals.attrlist4_len =
      (u_int)vals->len;
  op.nfs_argop4_u.opsetattr.obj_attributes.attr_vals.attrlist4_val = vals->data;
  return bnfs_v4_compound(nfs, abs, &op, &w, text, textsize);
}

/* NFSv4 READLINK by path (libnfs 4.0's passes the counted text on as if it
 * were NUL-terminated): PUTROOTFH, LOOKUPs, READLINK. New string in
 * *out. */
static int bnfs_v4_readlink(berth_nfs_t *nfs, const char *abs, char **out,
                            char *text, size_t textsize)
{
  nfs_argop4 op;
  bnfs_v4_wait_t w;
  int rc;

  memset(&w, 0, sizeof(w));
  memset(&op, 0, sizeof(op));
  op.argop = OP_READLINK;
  w.want_link = true;
  rc = bnfs_v4_compound(nfs, abs, &op, &w, text, textsize);
  if (rc == 0 && w.link == NULL)
    rc = -ENOMEM;
  if (rc == 0)
    *out = w.link;
  else
    free(w.link);
  return rc;
}

/* Run PUTROOTFH, one LOOKUP per component of the export path and of abs,
 * then *last, and wait for the reply in *wp. Returns 0 or a negative
 * errno, with a message in text. */
static int bnfs_v4_compound(berth_nfs_t *nfs, const char *abs,
                            const nfs_argop4 *last, bnfs_v4_wait_t *wp,
                            char *text, size_t textsize)
{
  struct rpc_context *rpc = nfs_get_rpc_context(nfs->ctx);
  char *export_copy = NULL;
  char *path_copy = NULL;
  nfs_argop4 *ops = NULL;
  COMPOUND4args args;
  bnfs_v4_wait_t w = *wp;
  struct pollfd pfd;
  int64_t deadline;
  unsigned n = 0;
  int rc = 0;

  export_copy = strdup(nfs->export_path);
  path_copy = strdup(abs);
  if (export_copy == NULL || path_copy == NULL) {
    rc = -ENOMEM;
    goto done;
  }
  /* Count, allocate, fill: PUTROOTFH, LOOKUPs, the last op. */
  n = 1;
  bnfs_v4_lookups(export_copy, NULL, &n);
  bnfs_v4_lookups(path_copy, NULL, &n);
  ops = calloc(n + 1, sizeof(*ops));
  if (ops == NULL) {
    rc = -ENOMEM;
    goto done;
  }
  n = 0;
  ops[n++].argop = OP_PUTROOTFH;
  bnfs_v4_lookups(export_copy, ops, &n);
  bnfs_v4_lookups(path_copy, ops, &n);
  ops[n++] = *last;
  memset(&args, 0, sizeof(args));
  args.argarray.argarray_len = n;
  args.argarray.argarray_val = ops;
  if (rpc_nfs4_compound_async(rpc, bnfs_v4_cb, &args, &w) != 0) {
    snprintf(text, textsize, "cannot queue the COMPOUND: %s",
             rpc_get_error(rpc));
    rc = -EFAULT;
    goto done;
  }
  /* Wait as libnfs's own sync calls do. Poll in 100 ms steps so that
   * rpc_service runs often enough to expire the RPC at its timeout, which
   * ends the wait through the callback with RPC_STATUS_TIMEOUT. Our own
   * deadline, a little later, is only a safety net. */
  deadline = berth_clock_monotonic_ms(NULL) + nfs_get_timeout(nfs->ctx) + 2000;
  while (!w.done) {
    int ready;

    if (berth_clock_monotonic_ms(NULL) > deadline) {
      snprintf(text, textsize, "Command timed out");
      rc = -ETIMEDOUT;
      break;
    }
    pfd.fd = rpc_get_fd(rpc);
    pfd.events = (short)rpc_which_events(rpc);
    pfd.revents = 0;
    ready = poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) {
      snprintf(text, textsize, "poll: %s", strerror(errno));
      rc = -EIO;
      break;
    }
    if (rpc_service(rpc, ready > 0 ? pfd.revents : 0) < 0) {
      snprintf(text, textsize, "%s", rpc_get_error(rpc));
      rc = -EFAULT;
      break;
    }
  }
  if (!w.done) {
    /* We stop waiting before the reply, but the RPC is still queued and
     * its callback would later write to this stack frame. Disconnecting
     * fails every queued RPC now, running the callbacks before we return;
     * the handle is unusable after such a failure anyway. */
    rpc_disconnect(rpc, "berth: abandoning an unfinished COMPOUND");
    if (rc == 0)
      rc = -EFAULT;
  }
  if (rc != 0)
    goto done;
  switch (w.rpc_status) {
  case RPC_STATUS_SUCCESS:
    if (w.nfs_status != NFS4_OK) {
      snprintf(text, textsize, "NFS4: %s (path %s) failed with %s",
               last->argop == OP_READLINK ? "READLINK" : "SETATTR", abs,
               nfsstat4_to_str(w.nfs_status));
      /* libnfs turns NFS4ERR_SYMLINK (a link met in the middle of the
       * path) into EIO; it is a path we refuse to follow. */
      if (w.nfs_status == NFS4ERR_SYMLINK)
        rc = -ELOOP;
      else
        rc = nfsstat4_to_errno(w.nfs_status);
      if (rc >= 0) /* not a failure libnfs knows: say so */
        rc = -EIO;
    }
    break;
  case RPC_STATUS_TIMEOUT:
    snprintf(text, textsize, "Command timed out");
    rc = -EINTR;
    break;
  case RPC_STATUS_CANCEL:
    snprintf(text, textsize, "Command was cancelled");
    rc = -EINTR;
    break;
  default:
    snprintf(text, textsize, "%s", w.text[0] != '\0' ? w.text : "RPC failed");
    rc = -EFAULT;
    break;
  }

done:
  *wp = w;
  free(ops);
  free(path_copy);
  free(export_copy);
  return rc;
}

/* NFSv4 chmod: SETATTR of FATTR4_MODE (a mode4, RFC 7530 section 5.8.2). */
static int bnfs_v4_chmod(berth_nfs_t *nfs, const char *abs, uint32_t mode,
                         char *text, size_t textsize)
{
  uint32_t be = htonl(mode & 07777);
  berth_buf_t vals;
  int rc;

  berth_buf_init(&vals);
  if (berth_buf_append(&vals, &be, sizeof(be)) != BERTH_OK)
    rc = -ENOMEM;
  else
    rc = bnfs_v4_setattr(nfs, abs, 1u << (FATTR4_MODE - 32), &vals, text,
                         textsize);
  berth_buf_cleanup(&vals);
  return rc;
}

/* NFSv4 chown: SETATTR of FATTR4_OWNER and FATTR4_OWNER_GROUP, as numeric
 * strings ("1000"), which servers accept from AUTH_SYS clients (RFC 7530
 * section 5.9). Values go in attribute-number order. */
static int bnfs_v4_chown(berth_nfs_t *nfs, const char *abs, uint32_t uid,
                         uint32_t gid, char *text, size_t textsize)
{
  berth_status_t st = BERTH_OK;
  berth_buf_t vals;
  uint32_t mask = 0;
  char num[16];
  int rc;

  berth_buf_init(&vals);
  if (uid != UINT32_MAX) {
    snprintf(num, sizeof(num), "%u", uid);
    st = bnfs_xdr_string(&vals, num);
    mask |= 1u << (FATTR4_OWNER - 32);
  }
  if (st == BERTH_OK && gid != UINT32_MAX) {
    snprintf(num, sizeof(num), "%u", gid);
    st = bnfs_xdr_string(&vals, num);
    mask |= 1u << (FATTR4_OWNER_GROUP - 32);
  }
  if (st != BERTH_OK)
    rc = -ENOMEM;
  else if (mask == 0)
    rc = 0; /* nothing to change */
  else
    rc = bnfs_v4_setattr(nfs, abs, mask, &vals, text, textsize);
  berth_buf_cleanup(&vals);
  return rc;
}

/* Append an XDR settime4 with SET_TO_CLIENT_TIME4 (RFC 7530 section
 * 3.3.7): set_it, then nfstime4 (int64 seconds, uint32 nanoseconds). */
static berth_status_t bnfs_xdr_settime(berth_buf_t *out, int64_t sec,
                                       uint32_t nsec)
{
  uint32_t words[4];

  words[0] = htonl(1); /* SET_TO_CLIENT_TIME4 */
  words[1] = htonl((uint32_t)((uint64_t)sec >> 32));
  words[2] = htonl((uint32_t)((uint64_t)sec & 0xffffffffu));
  words[3] = htonl(nsec);
  return berth_buf_append(out, words, sizeof(words));
}

/* NFSv4 utimes: SETATTR of FATTR4_TIME_ACCESS_SET and
 * FATTR4_TIME_MODIFY_SET, in attribute-number order. times[0] is atime,
 * times[1] mtime; nsec beside them. */
static int bnfs_v4_utimes(berth_nfs_t *nfs, const char *abs, const int64_t *sec,
                          const uint32_t *nsec, char *text, size_t textsize)
{
  berth_status_t st;
  berth_buf_t vals;
  int rc;

  berth_buf_init(&vals);
  st = bnfs_xdr_settime(&vals, sec[0], nsec[0]);
  if (st == BERTH_OK)
    st = bnfs_xdr_settime(&vals, sec[1], nsec[1]);
  if (st != BERTH_OK)
    rc = -ENOMEM;
  else
    rc = bnfs_v4_setattr(nfs, abs,
                         (1u << (FATTR4_TIME_ACCESS_SET - 32)) |
                             (1u << (FATTR4_TIME_MODIFY_SET - 32)),
                         &vals, text, textsize);
  berth_buf_cleanup(&vals);
  return rc;
}

/* The shape shared by the path operations below: check the path, make it
 * absolute, run one libnfs call. */
typedef enum bnfs_op {
  BNFS_MKDIR,
  BNFS_RMDIR,
  BNFS_UNLINK,
  BNFS_CHMOD,
  BNFS_CHOWN
} bnfs_op_t;

static berth_status_t bnfs_path_op(berth_nfs_t *nfs, bnfs_op_t op,
                                   const char *path, uint32_t mode,
                                   uint32_t uid, uint32_t gid,
                                   berth_error_t *err)
{
  static const char *const names[] = {"mkdir", "rmdir", "unlink", "chmod",
                                      "chown"};
  berth_status_t st;
  char text[256] = "";
  char *abs = NULL;
  int rc = 0;

  st = bnfs_check_path(nfs, names[op], path, err);
  if (st != BERTH_OK)
    goto done;
  abs = bnfs_abs(path);
  if (abs == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "%s: out of memory", names[op]);
    goto done;
  }
  switch (op) {
  case BNFS_MKDIR:
    rc = nfs_mkdir2(nfs->ctx, abs, (int)(mode & 07777));
    break;
  case BNFS_RMDIR:
    rc = nfs_rmdir(nfs->ctx, abs);
    break;
  case BNFS_UNLINK:
    rc = nfs_unlink(nfs->ctx, abs);
    break;
  case BNFS_CHMOD:
    if (nfs->version == 4)
      rc = bnfs_v4_chmod(nfs, abs, mode, text, sizeof(text));
    else
      rc = nfs_lchmod(nfs->ctx, abs, (int)(mode & 07777));
    break;
  case BNFS_CHOWN:
    /* (uint32_t)-1 becomes -1: "leave unchanged" to libnfs. */
    if (nfs->version == 4)
      rc = bnfs_v4_chown(nfs, abs, uid, gid, text, sizeof(text));
    else
      rc = nfs_lchown(nfs->ctx, abs, (int)uid, (int)gid);
    break;
  }
  if (rc < 0)
    st = bnfs_fail(nfs->ctx, rc, false, names[op], abs,
                   text[0] != '\0' ? text : NULL, err);

done:
  free(abs);
  return st;
}

berth_status_t berth_nfs_mkdir(berth_nfs_t *nfs, const char *path,
                               uint32_t mode, berth_error_t *err)
{
  return bnfs_path_op(nfs, BNFS_MKDIR, path, mode, 0, 0, err);
}

berth_status_t berth_nfs_rmdir(berth_nfs_t *nfs, const char *path,
                               berth_error_t *err)
{
  return bnfs_path_op(nfs, BNFS_RMDIR, path, 0, 0, 0, err);
}

berth_status_t berth_nfs_unlink(berth_nfs_t *nfs, const char *path,
                                berth_error_t *err)
{
  return bnfs_path_op(nfs, BNFS_UNLINK, path, 0, 0, 0, err);
}

berth_status_t berth_nfs_chmod(berth_nfs_t *nfs, const char *path,
                               uint32_t mode, berth_error_t *err)
{
  return bnfs_path_op(nfs, BNFS_CHMOD, path, mode, 0, 0, err);
}

berth_status_t berth_nfs_chown(berth_nfs_t *nfs, const char *path, uint32_t uid,
                               uint32_t gid, berth_error_t *err)
{
  return bnfs_path_op(nfs, BNFS_CHOWN, path, 0, uid, gid, err);
}

berth_status_t berth_nfs_rename(berth_nfs_t *nfs, const char *from,
                                const char *to, berth_error_t *err)
{
  berth_status_t st;
  char *abs_from = NULL;
  char *abs_to = NULL;
  int rc;

  st = bnfs_check_path(nfs, "rename", from, err);
  if (st == BERTH_OK)
    st = bnfs_check_path(nfs, "rename", to, err);
  if (st != BERTH_OK)
    goto done;
  abs_from = bnfs_abs(from);
  abs_to = bnfs_abs(to);
  if (abs_from == NULL || abs_to == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "rename: out of memory");
    goto done;
  }
  rc = nfs_rename(nfs->ctx, abs_from, abs_to);
  if (rc < 0) {
    /* The message names both ends: "rename /a -> /b: ...". */
    char *both = berth_strdup_printf("%s -> %s", abs_from, abs_to);

    st = bnfs_fail(nfs->ctx, rc, false, "rename",
                   both != NULL ? both : abs_from, NULL, err);
    free(both);
  }

done:
  free(abs_to);
  free(abs_from);
  return st;
}

berth_status_t berth_nfs_stat(berth_nfs_t *nfs, const char *path,
                              berth_nfs_stat_t *out, berth_error_t *err)
{
  berth_status_t st;
  struct nfs_stat_64 sb;
  char *abs = NULL;
  int rc;

  st = bnfs_check_path(nfs, "stat", path, err);
  if (st != BERTH_OK)
    goto done;
  if (out == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "stat %s: no out", path);
    goto done;
  }
  abs = bnfs_abs(path);
  if (abs == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "stat: out of memory");
    goto done;
  }
  memset(&sb, 0, sizeof(sb));
  rc = nfs_lstat64(nfs->ctx, abs, &sb);
  if (rc < 0) {
    st = bnfs_fail(nfs->ctx, rc, false, "stat", abs, NULL, err);
    goto done;
  }
  memset(out, 0, sizeof(*out));
  out->type = bnfs_type_from_mode(sb.nfs_mode);
  out->mode = (uint32_t)(sb.nfs_mode & 07777);
  out->uid = (uint32_t)sb.nfs_uid;
  out->gid = (uint32_t)sb.nfs_gid;
  out->size = sb.nfs_size;
  out->mtime_sec = (int64_t)sb.nfs_mtime;
  out->mtime_nsec = (uint32_t)sb.nfs_mtime_nsec;
  out->atime_sec = (int64_t)sb.nfs_atime;
  out->atime_nsec = (uint32_t)sb.nfs_atime_nsec;
  out->nlink = (uint32_t)sb.nfs_nlink;

done:
  free(abs);
  return st;
}

/* A READDIRPLUS entry's type is an NFSv3 ftype3 (libnfs maps NFSv4's
 * nfs_ftype4 onto the same values). */
static berth_nfs_type_t bnfs_type_from_ftype(uint32_t ftype)
{
  berth_nfs_type_t type = BERTH_NFS_TYPE_OTHER;

  if (ftype == 1) /* NF3REG, NF4REG */
    type = BERTH_NFS_TYPE_FILE;
  else if (ftype == 2) /* NF3DIR, NF4DIR */
    type = BERTH_NFS_TYPE_DIR;
  else if (ftype == 5) /* NF3LNK, NF4LNK */
    type = BERTH_NFS_TYPE_SYMLINK;
  return type;
}

berth_status_t berth_nfs_readdir(berth_nfs_t *nfs, const char *path,
                                 berth_nfs_readdir_fn fn, void *ctx,
                                 berth_error_t *err)
{
  berth_status_t st;
  struct nfsdir *dir = NULL;
  struct nfsdirent *ent;
  berth_nfs_stat_t sb;
  char *abs = NULL;
  int rc;

  st = bnfs_check_path(nfs, "readdir", path, err);
  if (st != BERTH_OK)
    goto done;
  if (fn == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "readdir %s: no callback", path);
    goto done;
  }
  abs = bnfs_abs(path);
  if (abs == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "readdir: out of memory");
    goto done;
  }
  /* nfs_opendir reads the whole listing; nfs_readdir then never blocks. */
  rc = nfs_opendir(nfs->ctx, abs, &dir);
  if (rc < 0) {
    dir = NULL;
    st = bnfs_fail(nfs->ctx, rc, false, "readdir", abs, NULL, err);
    goto done;
  }
  while ((ent = nfs_readdir(nfs->ctx, dir)) != NULL) {
    if (strcmp(ent->name, ".") == 0 || strcmp(ent->name, "..") == 0)
      continue;
    memset(&sb, 0, sizeof(sb));
    sb.type = bnfs_type_from_ftype(ent->type);
    sb.mode = ent->mode & 07777;
    sb.uid = ent->uid;
    sb.gid = ent->gid;
    sb.size = ent->size;
    sb.mtime_sec = (int64_t)ent->mtime.tv_sec;
    sb.mtime_nsec = ent->mtime_nsec;
    sb.atime_sec = (int64_t)ent->atime.tv_sec;
    sb.atime_nsec = ent->atime_nsec;
    sb.nlink = ent->nlink;
    st = fn(ctx, ent->name, &sb);
    if (st != BERTH_OK) {
      berth_error_set(err, st, "readdir %s: stopped by the callback at %s", abs,
                      ent->name);
      goto done;
    }
  }

done:
  if (dir != NULL)
    nfs_closedir(nfs->ctx, dir);
  free(abs);
  return st;
}

berth_status_t berth_nfs_symlink(berth_nfs_t *nfs, const char *target,
                                 const char *path, berth_error_t *err)
{
  berth_status_t st;
  char *abs = NULL;
  int rc;

  st = bnfs_check_path(nfs, "symlink", path, err);
  if (st != BERTH_OK)
    goto done;
  if (target == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "symlink %s: no target", path);
    goto done;
  }
  abs = bnfs_abs(path);
  if (abs == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "symlink: out of memory");
    goto done;
  }
  /* The target is stored as it is: the server never resolves it, and
   * neither does berth. */
  rc = nfs_symlink(nfs->ctx, target, abs);
  if (rc < 0)
    st = bnfs_fail(nfs->ctx, rc, false, "symlink", abs, NULL, err);

done:
  free(abs);
  return st;
}

berth_status_t berth_nfs_readlink(berth_nfs_t *nfs, const char *path,
                                  char **out, berth_error_t *err)
{
  berth_status_t st;
  char text[256] = "";
  char *abs = NULL;
  char *target = NULL;
  int rc;

  st = bnfs_check_path(nfs, "readlink", path, err);
  if (st != BERTH_OK)
    goto done;
  abs = bnfs_abs(path);
  if (abs == NULL || out == NULL) {
    st = berth_error_set(err, abs == NULL ? BERTH_ENOMEM : BERTH_EINVAL,
                         "readlink %s: %s", path,
                         abs == NULL ? "out of memory" : "no out");
    goto done;
  }
  if (nfs->version == 4)
    rc = bnfs_v4_readlink(nfs, abs, &target, text, sizeof(text));
  else
    rc = nfs_readlink2(nfs->ctx, abs, &target);
  if (rc < 0) {
    st = bnfs_fail(nfs->ctx, rc, false, "readlink", abs,
                   text[0] != '\0' ? text : NULL, err);
    goto done;
  }
  *out = target;
  target = NULL;

done:
  free(target);
  free(abs);
  return st;
}

berth_status_t berth_nfs_utimes(berth_nfs_t *nfs, const char *path,
                                int64_t atime_sec, uint32_t atime_nsec,
                                int64_t mtime_sec, uint32_t mtime_nsec,
                                berth_error_t *err)
{
  int64_t sec[2] = {atime_sec, mtime_sec};
  uint32_t nsec[2] = {atime_nsec % 1000000000u, mtime_nsec % 1000000000u};
  struct timeval tv[2];
  berth_status_t st;
  char text[256] = "";
  char *abs = NULL;
  int rc;

  st = bnfs_check_path(nfs, "utimes", path, err);
  if (st != BERTH_OK)
    goto done;
  abs = bnfs_abs(path);
  if (abs == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "utimes: out of memory");
    goto done;
  }
  if (nfs->version == 4) {
    rc = bnfs_v4_utimes(nfs, abs, sec, nsec, text, sizeof(text));
  } else {
    tv[0].tv_sec = (time_t)sec[0];
    tv[0].tv_usec = (suseconds_t)(nsec[0] / 1000u);
    tv[1].tv_sec = (time_t)sec[1];
    tv[1].tv_usec = (suseconds_t)(nsec[1] / 1000u);
    rc = nfs_lutimes(nfs->ctx, abs, tv);
  }
  if (rc < 0)
    st = bnfs_fail(nfs->ctx, rc, false, "utimes", abs,
                   text[0] != '\0' ? text : NULL, err);

done:
  free(abs);
  return st;
}

struct berth_nfs_file {
  berth_nfs_t *nfs; /* borrowed: the handle the file was opened on */
  struct nfsfh *fh; /* owned */
  char *abs;        /* owned: for messages */
};

berth_status_t berth_nfs_open(berth_nfs_t *nfs, const char *path,
                              berth_nfs_open_mode_t how, uint32_t mode,
                              berth_nfs_file_t **out, berth_error_t *err)
{
  berth_nfs_file_t *f = NULL;
  berth_status_t st;
  int rc;

  st = bnfs_check_path(nfs, "open", path, err);
  if (st != BERTH_OK)
    goto done;
  f = calloc(1, sizeof(*f));
  if (f == NULL || (f->abs = bnfs_abs(path)) == NULL || out == NULL) {
    st = berth_error_set(err, out == NULL ? BERTH_EINVAL : BERTH_ENOMEM,
                         "open %s: %s", path,
                         out == NULL ? "no out" : "out of memory");
    goto done;
  }
  f->nfs = nfs;
  /* O_NOFOLLOW: a link at the end of the path is an error (ELOOP), never
   * opened through. O_EXCL: a new file is made by this call or not at
   * all. */
  if (how == BERTH_NFS_OPEN_CREATE_NEW)
    rc = nfs_create(nfs->ctx, f->abs, O_WRONLY | O_EXCL | O_NOFOLLOW,
                    (int)(mode & 07777), &f->fh);
  else
    rc = nfs_open(nfs->ctx, f->abs,
                  (how == BERTH_NFS_OPEN_WRITE ? O_WRONLY : O_RDONLY) |
                      O_NOFOLLOW,
                  &f->fh);
  if (rc < 0) {
    f->fh = NULL;
    st = bnfs_fail(nfs->ctx, rc, false, "open", f->abs, NULL, err);
    goto done;
  }
  *out = f;
  f = NULL;

done:
  if (f != NULL)
    free(f->abs);
  free(f);
  return st;
}

/* The most one READ or WRITE carries: the server's rsize or wsize. */
static size_t bnfs_io_max(berth_nfs_t *nfs, size_t len, bool write)
{
  uint64_t max = write ? nfs_get_writemax(nfs->ctx) : nfs_get_readmax(nfs->ctx);

  return max > 0 && len > max ? (size_t)max : len;
}

berth_status_t berth_nfs_pread(berth_nfs_file_t *f, uint64_t offset, void *buf,
                               size_t len, size_t *got, berth_error_t *err)
{
  int rc;

  if (f == NULL || buf == NULL || got == NULL)
    return berth_error_set(err, BERTH_EINVAL, "pread: no file or buffer");
  rc = nfs_pread(f->nfs->ctx, f->fh, offset, bnfs_io_max(f->nfs, len, false),
                 buf);
  if (rc < 0)
    return bnfs_fail(f->nfs->ctx, rc, false, "pread", f->abs, NULL, err);
  *got = (size_t)rc;
  return BERTH_OK;
}

berth_status_t berth_nfs_pwrite(berth_nfs_file_t *f, uint64_t offset,
                                const void *buf, size_t len, berth_error_t *err)
{
  const char *p = buf;
  int rc;

  if (f == NULL || (buf == NULL && len > 0))
    return berth_error_set(err, BERTH_EINVAL, "pwrite: no file or buffer");
  while (len > 0) {
    rc = nfs_pwrite(f->nfs->ctx, f->fh, offset, bnfs_io_max(f->nfs, len, true),
                    p);
    if (rc < 0)
      return bnfs_fail(f->nfs->ctx, rc, false, "pwrite", f->abs, NULL, err);
    if (rc == 0)
      return berth_error_set(err, BERTH_EIO,
                             "pwrite %s: the server wrote "
                             "nothing",
                             f->abs);
    p += rc;
    offset += (uint64_t)rc;
    len -= (size_t)rc;
  }
  return BERTH_OK;
}

berth_status_t berth_nfs_close(berth_nfs_file_t *f, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  int rc;

  if (f == NULL)
    return BERTH_OK;
  rc = nfs_close(f->nfs->ctx, f->fh);
  if (rc < 0)
    st = bnfs_fail(f->nfs->ctx, rc, false, "close", f->abs, NULL, err);
  free(f->abs);
  free(f);
  return st;
}
