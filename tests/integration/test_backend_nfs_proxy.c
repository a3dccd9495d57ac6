/* SPDX-License-Identifier: Apache-2.0 */
/* A TCP proxy on 127.0.0.1 for tests/integration/test_backend_nfs.c: it
 * forwards connections to a port of the bed's ganesha and can cut every
 * connection at once (with a reset), which is what a client sees when the
 * server restarts. It counts the connections it accepted, so a test can
 * tell a reused connection from a new one.
 *
 * Not a test of its own: test_backend_nfs.c #includes it (static
 * functions only). One thread per proxy runs a poll loop; the test
 * thread talks to it through a pipe and waits on a condition variable,
 * never by sleeping. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROXY_MAX_PAIRS 16

typedef struct proxy {
  int listen_fd;
  int target_port;
  int port;                      /* where the proxy listens */
  int wake[2];                   /* test -> loop: 'c' cut, 'q' quit */
  int pairs[PROXY_MAX_PAIRS][2]; /* client, server; -1 when free */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  unsigned accepts;   /* guarded by lock */
  unsigned cuts_done; /* guarded by lock */
} proxy_t;

static int proxy_connect(int port)
{
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  if (fd < 0)
    return -1;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons((uint16_t)port);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Close both ends with a reset (SO_LINGER 0), as a crashed server would. */
static void proxy_close_pair(proxy_t *p, int i)
{
  struct linger lg = {1, 0};
  int k;

  for (k = 0; k < 2; k++) {
    if (p->pairs[i][k] >= 0) {
      setsockopt(p->pairs[i][k], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      close(p->pairs[i][k]);
      p->pairs[i][k] = -1;
    }
  }
}

static void proxy_accept(proxy_t *p)
{
  int c = accept(p->listen_fd, NULL, NULL);
  int s;
  int i;

  if (c < 0)
    return;
  s = proxy_connect(p->target_port);
  for (i = 0; s >= 0 && i < PROXY_MAX_PAIRS; i++) {
    if (p->pairs[i][0] < 0) {
      p->pairs[i][0] = c;
      p->pairs[i][1] = s;
      pthread_mutex_lock(&p->lock);
      p->accepts++;
      pthread_mutex_unlock(&p->lock);
      return;
    }
  }
  close(c);
  if (s >= 0)
    close(s);
}

/* Copy what is readable on pair i's side k to the other side. */
static void proxy_forward(proxy_t *p, int i, int k)
{
  char buf[65536];
  ssize_t n = read(p->pairs[i][k], buf, sizeof(buf));
  ssize_t off = 0;

  if (n <= 0) {
    proxy_close_pair(p, i);
    return;
  }
  while (off < n) {
    ssize_t w = write(p->pairs[i][1 - k], buf + off, (size_t)(n - off));

    if (w <= 0) {
      proxy_close_pair(p, i);
      return;
    }
    off += w;
  }
}

/* Handle a command from the test; false to quit. */
static int proxy_command(proxy_t *p)
{
  char cmd = 'q';
  int i;

  if (read(p->wake[0], &cmd, 1) != 1 || cmd == 'q')
    return 0;
  for (i = 0; i < PROXY_MAX_PAIRS; i++)
    proxy_close_pair(p, i);
  pthread_mutex_lock(&p->lock);
  p->cuts_done++;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
  return 1;
}

static void *proxy_loop(void *arg)
{
  proxy_t *p = arg;
  struct pollfd pfd[2 + 2 * PROXY_MAX_PAIRS];
  int where[2 + 2 * PROXY_MAX_PAIRS];

  for (;;) {
    nfds_t n = 2;
    nfds_t j;
    int i;
    int k;

    pfd[0].fd = p->wake[0];
    pfd[1].fd = p->listen_fd;
    pfd[0].events = pfd[1].events = POLLIN;
    for (i = 0; i < PROXY_MAX_PAIRS; i++) {
      for (k = 0; k < 2 && p->pairs[i][0] >= 0; k++) {
        pfd[n].fd = p->pairs[i][k];
        pfd[n].events = POLLIN;
        where[n++] = i * 2 + k;
      }
    }
    if (poll(pfd, n, -1) < 0 && errno != EINTR)
      break;
    if ((pfd[0].revents & POLLIN) && !proxy_command(p))
      break;
    if (pfd[1].revents & POLLIN)
      proxy_accept(p);
    for (j = 2; j < n; j++) {
      i = where[j] / 2;
      if ((pfd[j].revents & (POLLIN | POLLHUP | POLLERR)) &&
          p->pairs[i][0] >= 0)
        proxy_forward(p, i, where[j] % 2);
    }
  }
  return NULL;
}

/* Start a proxy to 127.0.0.1:target_port; 0 on success. */
static int proxy_start(proxy_t *p, int target_port)
{
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int i;

  memset(p, 0, sizeof(*p));
  for (i = 0; i < PROXY_MAX_PAIRS; i++)
    p->pairs[i][0] = p->pairs[i][1] = -1;
  p->target_port = target_port;
  p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (p->listen_fd < 0 ||
      bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
      listen(p->listen_fd, 16) != 0 ||
      getsockname(p->listen_fd, (struct sockaddr *)&sa, &len) != 0 ||
      pipe(p->wake) != 0)
    return -1;
  p->port = ntohs(sa.sin_port);
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->cond, NULL);
  return pthread_create(&p->thread, NULL, proxy_loop, p) == 0 ? 0 : -1;
}

/* Reset every connection through the proxy and wait until it is done. */
static void proxy_cut(proxy_t *p)
{
  unsigned before;

  pthread_mutex_lock(&p->lock);
  before = p->cuts_done;
  pthread_mutex_unlock(&p->lock);
  if (write(p->wake[1], "c", 1) != 1)
    abort();
  pthread_mutex_lock(&p->lock);
  while (p->cuts_done == before)
    pthread_cond_wait(&p->cond, &p->lock);
  pthread_mutex_unlock(&p->lock);
}

static unsigned proxy_accepts(proxy_t *p)
{
  unsigned n;

  pthread_mutex_lock(&p->lock);
  n = p->accepts;
  pthread_mutex_unlock(&p->lock);
  return n;
}

static void proxy_stop(proxy_t *p)
{
  int i;

  if (write(p->wake[1], "q", 1) == 1)
    pthread_join(p->thread, NULL);
  for (i = 0; i < PROXY_MAX_PAIRS; i++)
    proxy_close_pair(p, i);
  close(p->listen_fd);
  close(p->wake[0]);
  close(p->wake[1]);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->cond);
}
