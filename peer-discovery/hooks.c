/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: running a hook process, see hooks.h. */
#include "hooks.h"

#include "berth/buf.h"
#include "berth/clock.h"
#include "berth/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* How often a running hook is checked for having exited (its output may
 * stay open in a process it left behind). */
#define HOOK_TICK_MS 20
/* The grace between SIGTERM and SIGKILL on shutdown. */
#define HOOK_CANCEL_GRACE_MS 300

/* One output stream of the hook, read into whole lines. */
typedef struct hook_stream {
  int fd;
  const char *name; /* "stdout" or "stderr" */
  berth_buf_t line;
} hook_stream_t;

typedef struct hook_proc {
  const peers_hook_req_t *req;
  pid_t pid;
  int in_fd;
  size_t in_off;
  hook_stream_t out[2];
  int status;
  bool reaped;
} hook_proc_t;

static void log_line(hook_proc_t *h, hook_stream_t *s, const char *text,
                     size_t len)
{
  char *copy = strndup(text, len);

  if (copy != NULL)
    berth_log(BERTH_LOG_INFO, "hook output", "hook", h->req->label, "stream",
              s->name, "line", copy, NULL);
  free(copy);
}

/* Log every complete line in s; with flush, the rest too. Lines longer
 * than PEERS_HOOK_LINE_MAX are logged in pieces. */
static void emit_lines(hook_proc_t *h, hook_stream_t *s, bool flush)
{
  const char *data;
  const char *nl;
  size_t len;
  size_t skip;

  while (s->line.len > 0) {
    data = s->line.data;
    nl = memchr(data, '\n', s->line.len);
    if (nl == NULL && s->line.len < PEERS_HOOK_LINE_MAX && !flush)
      break;
    if (nl != NULL && (size_t)(nl - data) <= PEERS_HOOK_LINE_MAX) {
      len = (size_t)(nl - data);
      skip = len + 1;
    } else {
      len =
          s->line.len < PEERS_HOOK_LINE_MAX ? s->line.len : PEERS_HOOK_LINE_MAX;
      skip = len;
    }
    log_line(h, s, data, len > 0 && data[len - 1] == '\r' ? len - 1 : len);
    berth_buf_consume(&s->line, skip);
  }
}

/* Read what is available on s; close it at end of file. */
static void read_stream(hook_proc_t *h, hook_stream_t *s)
{
  char chunk[4096];
  ssize_t n;

  for (;;) {
    n = read(s->fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n > 0) {
      if (berth_buf_append(&s->line, chunk, (size_t)n) != BERTH_OK)
        berth_buf_reset(&s->line);
      emit_lines(h, s, false);
      continue;
    }
    if (n == 0 || errno != EAGAIN) {
      emit_lines(h, s, true);
      close(s->fd);
      s->fd = -1;
    }
    return;
  }
}

/* Write more of the input; close the pipe when done or the hook left. */
static void write_input(hook_proc_t *h)
{
  const peers_hook_req_t *req = h->req;
  ssize_t n;

  while (h->in_off < req->input_len) {
    n = write(h->in_fd, req->input + h->in_off, req->input_len - h->in_off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0)
      break;
    h->in_off += (size_t)n;
  }
  close(h->in_fd);
  h->in_fd = -1;
}

static berth_status_t spawn_error(int rc, const char *prog, berth_error_t *err)
{
  berth_status_t st = BERTH_EIO;

  if (rc == ENOENT || rc == ENOTDIR)
    st = BERTH_ENOTFOUND;
  else if (rc == EACCES || rc == EPERM)
    st = BERTH_EPERM;
  return berth_error_set(err, st, "cannot run %s: %s", prog, strerror(rc));
}

/* Set up the child's standard streams, signals and process group. */
static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
                       const int in[2], const int out[2], const int errp[2])
{
  sigset_t none;
  sigset_t defaults;
  int rc;

  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGHUP);
  sigaddset(&defaults, SIGCHLD);
  rc = posix_spawn_file_actions_adddup2(fa, in[0], 0);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(fa, out[1], 1);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(fa, errp[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
  /* Leave the hook none of berth's sockets or files. */
  if (rc == 0)
    rc = posix_spawn_file_actions_addclosefrom_np(fa, 3);
#endif
  if (rc == 0)
    rc = posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP |
                                          POSIX_SPAWN_SETSIGMASK |
                                          POSIX_SPAWN_SETSIGDEF);
  if (rc == 0)
    rc = posix_spawnattr_setpgroup(at, 0);
  if (rc == 0)
    rc = posix_spawnattr_setsigmask(at, &none);
  if (rc == 0)
    rc = posix_spawnattr_setsigdefault(at, &defaults);
  return rc;
}

static void close_pair(int p[2])
{
  if (p[0] >= 0)
    close(p[0]);
  if (p[1] >= 0)
    close(p[1]);
  p[0] = p[1] = -1;
}

/* Start the hook with pipes for its standard streams. */
static berth_status_t hook_start(hook_proc_t *h, berth_error_t *err)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int errp[2] = {-1, -1};
  int rc;

  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
      pipe2(errp, O_CLOEXEC) != 0) {
    rc = errno;
    close_pair(in);
    close_pair(out);
    close_pair(errp);
    return berth_error_set(err, BERTH_EIO, "pipe: %s", strerror(rc));
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  rc = spawn_setup(&fa, &at, in, out, errp);
  if (rc == 0)
    rc = posix_spawnp(&h->pid, h->req->argv[0], &fa, &at, h->req->argv,
                      h->req->envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(in[0]);
  close(out[1]);
  close(errp[1]);
  h->in_fd = in[1];
  h->out[0].fd = out[0];
  h->out[1].fd = errp[0];
  if (rc != 0)
    return spawn_error(rc, h->req->argv[0], err);
  fcntl(h->in_fd, F_SETFL, O_NONBLOCK);
  fcntl(h->out[0].fd, F_SETFL, O_NONBLOCK);
  fcntl(h->out[1].fd, F_SETFL, O_NONBLOCK);
  return BERTH_OK;
}

static bool try_reap(hook_proc_t *h)
{
  if (!h->reaped && waitpid(h->pid, &h->status, WNOHANG) == h->pid)
    h->reaped = true;
  return h->reaped;
}

/* Stop the hook's process group: SIGTERM, then SIGKILL after grace_ms. */
static void hook_kill(hook_proc_t *h, int64_t grace_ms)
{
  int64_t end = berth_clock_monotonic_ms(NULL) + grace_ms;
  struct pollfd stop = {.fd = h->req->cancel_fd, .events = POLLIN};

  kill(-h->pid, SIGTERM);
  /* Wait for the grace, but no longer once shutdown is asked for. */
  while (!try_reap(h) && berth_clock_monotonic_ms(NULL) < end &&
         !(stop.fd >= 0 && poll(&stop, 1, 10) > 0 && (stop.revents & POLLIN)))
    if (stop.fd < 0)
      berth_clock_sleep_ms(NULL, 10);
  /* Also whatever the hook started, even when the hook itself is gone. */
  kill(-h->pid, SIGKILL);
  if (!h->reaped && waitpid(h->pid, &h->status, 0) == h->pid)
    h->reaped = true;
}

/* Wait for one round of events: output, room for input, cancellation. */
static bool hook_poll(hook_proc_t *h, int timeout_ms)
{
  struct pollfd pfd[4];
  nfds_t n = 0;
  int i;

  for (i = 0; i < 2; i++)
    if (h->out[i].fd >= 0)
      pfd[n++] = (struct pollfd){.fd = h->out[i].fd, .events = POLLIN};
  if (h->in_fd >= 0)
    pfd[n++] = (struct pollfd){.fd = h->in_fd, .events = POLLOUT};
  if (h->req->cancel_fd >= 0)
    pfd[n++] = (struct pollfd){.fd = h->req->cancel_fd, .events = POLLIN};
  if (poll(pfd, n, timeout_ms) <= 0)
    return false;
  return h->req->cancel_fd >= 0 && (pfd[n - 1].revents & POLLIN) != 0;
}

/* Drive the hook until it exits, times out or is cancelled. */
static berth_status_t hook_wait(hook_proc_t *h)
{
  const peers_hook_req_t *req = h->req;
  int64_t start = berth_clock_monotonic_ms(NULL);
  int64_t left;
  int i;

  for (;;) {
    if (h->in_fd >= 0)
      write_input(h);
    for (i = 0; i < 2; i++)
      if (h->out[i].fd >= 0)
        read_stream(h, &h->out[i]);
    if (try_reap(h))
      return BERTH_OK;
    left = HOOK_TICK_MS;
    if (req->timeout_ms > 0) {
      left = start + req->timeout_ms - berth_clock_monotonic_ms(NULL);
      if (left <= 0) {
        hook_kill(h, req->grace_ms);
        return BERTH_ETIMEOUT;
      }
      left = left < HOOK_TICK_MS ? left : HOOK_TICK_MS;
    }
    if (hook_poll(h, (int)left)) {
      hook_kill(h, HOOK_CANCEL_GRACE_MS);
      return BERTH_ECANCELED;
    }
  }
}

berth_status_t peers_hook_run(const peers_hook_req_t *req,
                              peers_hook_result_t *res, berth_error_t *err)
{
  hook_proc_t h;
  berth_status_t st;
  int64_t start = berth_clock_monotonic_ms(NULL);
  int i;

  memset(&h, 0, sizeof(h));
  h.req = req;
  h.in_fd = -1;
  h.out[0] = (hook_stream_t){.fd = -1, .name = "stdout"};
  h.out[1] = (hook_stream_t){.fd = -1, .name = "stderr"};
  berth_buf_init(&h.out[0].line);
  berth_buf_init(&h.out[1].line);
  st = hook_start(&h, err);
  if (st == BERTH_OK)
    st = hook_wait(&h);
  if (st == BERTH_ETIMEOUT)
    berth_error_set(err, st,
                    "%s ran over its timeout of %lld ms and was "
                    "killed",
                    req->label, (long long)req->timeout_ms);
  else if (st == BERTH_ECANCELED)
    berth_error_set(err, st, "%s stopped for shutdown", req->label);
  if (h.pid > 0 && res != NULL) {
    res->exit_code = WIFEXITED(h.status) ? WEXITSTATUS(h.status) : -1;
    res->signal = WIFSIGNALED(h.status) ? WTERMSIG(h.status) : 0;
    res->duration_ms = berth_clock_monotonic_ms(NULL) - start;
  }
  if (h.in_fd >= 0)
    close(h.in_fd);
  for (i = 0; i < 2; i++) {
    /* Whatever is left in the pipe after the hook exited. */
    if (h.out[i].fd >= 0)
      read_stream(&h, &h.out[i]);
    emit_lines(&h, &h.out[i], true);
    if (h.out[i].fd >= 0)
      close(h.out[i].fd);
    berth_buf_cleanup(&h.out[i].line);
  }
  return st;
}
