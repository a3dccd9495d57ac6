/* SPDX-License-Identifier: Apache-2.0 */
/* Integration test: examples/watch-claims prints every claim change once,
 * in order, across dropped watches and 410s, and exits 0 on SIGINT. Run
 * under `tests/bed/bed.py run k8s -- test_k8s_watch_claims PATH`, PATH
 * being the watch-claims program. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_k8s_common.h"

extern char **environ;

static const char *program;
static berth_k8s_client_t *client;
static pid_t child = -1;
static int out_fd = -1;
static berth_buf_t output; /* everything the program printed */

static void read_available(int64_t wait_ms)
{
  struct pollfd p = {out_fd, POLLIN, 0};
  char buf[4096];
  ssize_t n;

  if (poll(&p, 1, (int)wait_ms) <= 0)
    return;
  n = read(out_fd, buf, sizeof(buf));
  if (n > 0)
    berth_buf_append(&output, buf, (size_t)n);
}

static bool printed(const char *line)
{
  return strstr(berth_buf_str(&output), line) != NULL;
}

/* Wait until the program printed line. */
static void expect(const char *line)
{
  int64_t deadline = tk_now() + 20000;

  while (!printed(line) && tk_now() < deadline)
    read_available(50);
  if (!printed(line))
    fail_msg("watch-claims did not print \"%s\"; it printed:\n%s", line,
             berth_buf_str(&output));
}

static void claim(const char *name, const char *sc)
{
  berth_error_t err;
  json_t *pvc = json_pack("{s:s, s:s, s:{s:s}, s:{s:[s], s:{s:{s:s}}, s:s}}",
                          "apiVersion", "v1", "kind", "PersistentVolumeClaim",
                          "metadata", "name", name, "spec", "accessModes",
                          "ReadWriteOnce", "resources", "requests", "storage",
                          "1Gi", "storageClassName", sc);

  if (berth_k8s_create(client, &berth_k8s_res_persistentvolumeclaims, "default",
                       pvc, NULL, &err) != BERTH_OK)
    fail_msg("create %s: %s", name, err.message);
  json_decref(pvc);
}

static void set_phase(const char *name, const char *phase)
{
  berth_error_t err;
  json_t *patch = json_pack("{s:{s:s}}", "status", "phase", phase);

  if (berth_k8s_patch(client, &berth_k8s_res_persistentvolumeclaims, "default",
                      name, "status", BERTH_K8S_PATCH_MERGE, patch, NULL,
                      &err) != BERTH_OK)
    fail_msg("patch %s: %s", name, err.message);
  json_decref(patch);
}

/* The claim is marked for deletion (an update), then goes when the real
 * PVC protection controller removes its finalizer: no pod uses it. */
static void unclaim(const char *name)
{
  berth_error_t err;

  if (berth_k8s_delete(client, &berth_k8s_res_persistentvolumeclaims, "default",
                       name, NULL, NULL, &err) != BERTH_OK)
    fail_msg("delete %s: %s", name, err.message);
}

/* How often line occurs in the output. */
static int occurrences(const char *line)
{
  const char *p = berth_buf_str(&output);
  int n = 0;

  while ((p = strstr(p, line)) != NULL) {
    n++;
    p += strlen(line);
  }
  return n;
}

/* Wait until the program printed line n times. */
static void expect_n(const char *line, int n)
{
  int64_t deadline = tk_now() + 20000;

  while (occurrences(line) < n && tk_now() < deadline)
    read_available(50);
  if (occurrences(line) < n)
    fail_msg("watch-claims printed \"%s\" %d times, not %d; it printed:\n%s",
             line, occurrences(line), n, berth_buf_str(&output));
}

/* line occurs between lo and hi times; on failure, say what was printed. */
static void expect_count(const char *line, int lo, int hi)
{
  int n = occurrences(line);

  if (n < lo || n > hi)
    fail_msg("\"%s\" printed %d times (expected %d to %d); output:\n%s", line,
             n, lo, hi, berth_buf_str(&output));
}

static void close_watches(void)
{
  json_decref(tk_admin("POST", "/watches/close", "{}"));
}

/* The claim lists the API server has answered so far. */
static long lists(void)
{
  long n = tk_requests("list", "persistentvolumeclaims");

  if (n < 0)
    fail_msg("the bed's request log did not answer");
  return n;
}

/* The program relisted: a list since `before`. */
static void expect_relist(long before, const char *why)
{
  int64_t deadline = tk_now() + 20000;

  while (lists() <= before && tk_now() < deadline)
    read_available(50);
  if (lists() <= before)
    fail_msg("watch-claims did not list again after %s", why);
}

static void test_watch_claims(void **state)
{
  char *argv[] = {(char *)program, NULL};
  posix_spawn_file_actions_t fa;
  int pipefd[2];
  int status = 0;
  int64_t deadline;
  pid_t waited = 0;
  long before;

  (void)state;
  berth_buf_init(&output);
  client = tk_client(NULL);
  claim("before-start", "nfs");

  assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  assert_int_equal(posix_spawn(&child, program, &fa, NULL, argv, environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  out_fd = pipefd[0];

  expect("ADDED    default/before-start phase=");
  claim("c1", "fast");
  expect("ADDED    default/c1 phase=Pending class=fast");

  /* The stream ends after one event: the next change still shows. */
  tk_fault("{\"kind\":\"watch-drop\",\"resource\":\"persistentvolumeclaims\","
           "\"after\":1,\"count\":1}");
  close_watches();
  claim("c2", "fast");
  set_phase("c1", "Bound");
  expect("ADDED    default/c2 phase=Pending");
  expect("UPDATED  default/c1 phase=Bound");
  /* The real PVC protection controller then adds its Unused condition
   * to the Bound claim: a second change, awaited so that every change of
   * c1 is counted at the end. */
  expect_n("UPDATED  default/c1 phase=Bound", 2);

  /* 410 on the next watch, and changes made meanwhile: the relist
   * reports what differs, including a claim created and one deleted. */
  before = lists();
  tk_fault("{\"kind\":\"watch-gone\",\"resource\":\"persistentvolumeclaims\","
           "\"count\":1}");
  json_decref(tk_admin("POST", "/compact", "{\"keep\":0}"));
  close_watches();
  expect_relist(before, "a 410 ERROR event");
  claim("c3", "slow");
  unclaim("c2");
  set_phase("c3", "Lost");
  expect("ADDED    default/c3");
  /* An update, or the add itself when the relist came after both. */
  expect("default/c3 phase=Lost class=slow");
  expect("DELETED  default/c2");

  /* HTTP 410 and an aborted connection. */
  before = lists();
  tk_fault("{\"kind\":\"watch-gone\",\"http\":true,\"resource\":"
           "\"persistentvolumeclaims\",\"count\":1}");
  close_watches();
  expect_relist(before, "an HTTP 410");
  unclaim("c1");
  expect("DELETED  default/c1 phase=Bound class=fast");
  tk_fault("{\"kind\":\"watch-drop\",\"resource\":\"persistentvolumeclaims\","
           "\"after\":1,\"abort\":true,\"count\":1}");
  close_watches();
  claim("c4", "nfs");
  claim("c5", "nfs");
  expect("ADDED    default/c4");
  expect("ADDED    default/c5");
  tk_clear_faults();

  /* Each add and delete exactly once. */
  expect_count("ADDED    default/before-start ", 1, 1);
  expect_count("ADDED    default/c1 ", 1, 1);
  expect_count("ADDED    default/c2 ", 1, 1);
  expect_count("DELETED  default/c1 ", 1, 1);
  expect_count("DELETED  default/c2 ", 1, 1);
  expect_count("ADDED    default/c4 ", 1, 1);
  /* c1 changed three times while Bound, each seen through a watch: its
   * status, the Unused condition and its deletion mark. The relists in
   * between found it unchanged and printed nothing. */
  expect_count("UPDATED  default/c1 phase=Bound", 3, 3);

  /* SIGINT: it stops and exits 0. */
  kill(child, SIGINT);
  deadline = tk_now() + 10000;
  while ((waited = waitpid(child, &status, WNOHANG)) == 0 &&
         tk_now() < deadline)
    read_available(20);
  if (waited != child) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
    fail_msg("watch-claims did not exit within 10 s of SIGINT (waitpid: %d)",
             (int)waited);
  }
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  child = -1;
  close(out_fd);
  berth_buf_cleanup(&output);
  berth_k8s_client_destroy(client);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_watch_claims),
  };
  int rc;

  if (argc != 2) {
    fprintf(stderr, "usage: test_k8s_watch_claims PATH-TO-watch-claims\n");
    return 2;
  }
  program = argv[1];
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
  }
  return rc;
}
