/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-peers hooks (peer-discovery/hooks.c, argv.c, event.c):
 * word splitting, the environment, and real child processes for standard
 * input, streamed output, exit codes, timeouts and cancellation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/clock.h"
#include "berth/log.h"

#include "event.h"
#include "hooks.h"
#include "../integration/test_timing.h"

/* Log lines captured from the hook runner. */
typedef struct captured {
  char lines[64][512];
  int n;
} captured_t;

static captured_t cap;

static void sink(void *ctx, berth_log_level_t level, const char *line)
{
  (void)ctx;
  (void)level;
  if (cap.n < 64)
    snprintf(cap.lines[cap.n++], sizeof(cap.lines[0]), "%s", line);
}

static int capture(void **state)
{
  (void)state;
  memset(&cap, 0, sizeof(cap));
  berth_log_set_sink(sink, NULL);
  return 0;
}

static int release(void **state)
{
  (void)state;
  berth_log_set_sink(NULL, NULL);
  return 0;
}

/* The number of captured hook output lines that contain text. */
static int count_lines(const char *text)
{
  int i;
  int n = 0;

  for (i = 0; i < cap.n; i++)
    if (strstr(cap.lines[i], "msg=\"hook output\"") &&
        strstr(cap.lines[i], text))
      n++;
  return n;
}

static void test_argv_split(void **state)
{
  char **v = NULL;
  berth_error_t err;

  (void)state;
  assert_int_equal(peers_argv_split("  /bin/on-start.sh  ", &v, NULL),
                   BERTH_OK);
  assert_string_equal(v[0], "/bin/on-start.sh");
  assert_null(v[1]);
  peers_argv_free(v);
  assert_int_equal(
      peers_argv_split("sh -c 'echo \"$1\"; x' -- a\\ b \"c \\\"d\\\" $e\" ''",
                       &v, NULL),
      BERTH_OK);
  assert_string_equal(v[0], "sh");
  assert_string_equal(v[1], "-c");
  assert_string_equal(v[2], "echo \"$1\"; x");
  assert_string_equal(v[3], "--");
  assert_string_equal(v[4], "a b");
  assert_string_equal(v[5], "c \"d\" $e");
  assert_string_equal(v[6], "");
  assert_null(v[7]);
  peers_argv_free(v);
  berth_error_clear(&err);
  assert_int_equal(peers_argv_split("sh -c 'oops", &v, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "unterminated"));
  assert_int_equal(peers_argv_split("  \t ", &v, NULL), BERTH_EINVAL);
  peers_argv_free(NULL);
}

static void test_event_env(void **state)
{
  peers_identity_opts_t o;
  peers_identity_t id;
  peers_set_t now;
  peers_set_t before;
  peers_event_t ev;
  char *base[] = {"PATH=/usr/bin",     "BERTH_PEERS=stale", "HOME=/root",
                  "BERTH_ADDEDX=kept", "POD_IP=stale",      NULL};
  char **env = NULL;
  size_t i;
  const char *want[] = {
      "PATH=/usr/bin",
      "HOME=/root",
      "BERTH_ADDEDX=kept",
      "BERTH_EVENT=on-change",
      "BERTH_SELF=db-1.db.ns1.svc.cluster.local",
      "BERTH_ORDINAL=1",
      "BERTH_PEERS=db-0.db.ns1.svc.cluster.local,db-1.db.ns1.svc.cluster.local,"
      "db-10.db.ns1.svc.cluster.local",
      "BERTH_PEER_COUNT=3",
      "BERTH_PRIMARY=db-0.db.ns1.svc.cluster.local",
      "BERTH_ADDED=db-10.db.ns1.svc.cluster.local",
      "BERTH_REMOVED=db-2.db.ns1.svc.cluster.local",
      "BERTH_SERVICE=db",
      "BERTH_NAMESPACE=ns1",
      "BERTH_DOMAIN=cluster.local",
      /* db-10's endpoint is terminating: not ready. */
      "BERTH_READY_PEERS=db-0.db.ns1.svc.cluster.local,"
      "db-1.db.ns1.svc.cluster.local",
      "HOST_ADDRESS=db-1.db.ns1.svc.cluster.local",
      "HOST_ADDRESS_TYPE=DNS",
      "POD_IP=10.1.2.3",
      "POD_IP_TYPE=IPv4",
  };
  peers_member_t *self = NULL;
  peers_member_t *m = NULL;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.hostname = "db-1";
  o.service = "db";
  o.ns = "ns1";
  o.domain = "cluster.local";
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_OK);
  peers_set_init(&now);
  peers_set_init(&before);
  peers_set_add(&now, "db-10.db.ns1.svc.cluster.local", 0, &m, NULL);
  m->conds = PEERS_COND_KNOWN | PEERS_COND_READY | PEERS_COND_SERVING |
             PEERS_COND_TERMINATING;
  peers_set_add(&now, "db-1.db.ns1.svc.cluster.local", 0, &self, NULL);
  self->conds = PEERS_COND_KNOWN | PEERS_COND_READY;
  assert_int_equal(peers_member_add_addr(self, "fd00::1"), BERTH_OK);
  assert_int_equal(peers_member_add_addr(self, "10.0.0.1"), BERTH_OK);
  peers_set_add(&now, "db-0.db.ns1.svc.cluster.local", 0, NULL, NULL);
  peers_set_sort(&now);
  peers_set_add(&before, "db-0.db.ns1.svc.cluster.local", 0, NULL, NULL);
  peers_set_add(&before, "db-1.db.ns1.svc.cluster.local", 0, NULL, NULL);
  peers_set_add(&before, "db-2.db.ns1.svc.cluster.local", 0, NULL, NULL);
  /* kmodules' DNS address type: POD_IP from the downward API. */
  ev = (peers_event_t){"on-change", &id, &now, &before, "DNS", "10.1.2.3"};
  assert_int_equal(peers_event_env(&ev, base, &env), BERTH_OK);
  for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    assert_non_null(env[i]);
    assert_string_equal(env[i], want[i]);
  }
  assert_null(env[i]);
  peers_argv_free(env);
  /* IP: the first address (IPv4 first); IPv6: the first of that family. */
  ev.address_type = "IP";
  assert_int_equal(peers_event_env(&ev, base, &env), BERTH_OK);
  assert_string_equal(env[i - 4], "HOST_ADDRESS=10.0.0.1");
  assert_string_equal(env[i - 3], "HOST_ADDRESS_TYPE=IPv4");
  assert_string_equal(env[i - 2], "POD_IP=10.0.0.1");
  peers_argv_free(env);
  ev.address_type = "IPv6";
  assert_int_equal(peers_event_env(&ev, base, &env), BERTH_OK);
  assert_string_equal(env[i - 4], "HOST_ADDRESS=fd00::1");
  assert_string_equal(env[i - 3], "HOST_ADDRESS_TYPE=IPv6");
  assert_string_equal(env[i - 2], "POD_IP=fd00::1");
  assert_string_equal(env[i - 1], "POD_IP_TYPE=IPv6");
  peers_argv_free(env);
  peers_set_cleanup(&now);
  peers_set_cleanup(&before);
  peers_identity_cleanup(&id);
}

static peers_hook_req_t req_for(char **argv, const char *input)
{
  static char *envp[] = {"PATH=/usr/bin:/bin", "BERTH_SELF=me", NULL};
  peers_hook_req_t r;

  memset(&r, 0, sizeof(r));
  r.label = "on-change";
  r.argv = argv;
  r.envp = envp;
  r.input = input;
  r.input_len = input ? strlen(input) : 0;
  r.timeout_ms = 10000;
  r.grace_ms = 1000;
  r.cancel_fd = -1;
  return r;
}

static void test_run_stdin_env_output(void **state)
{
  char *argv[] = {"sh", "-c",
                  "while read p; do echo \"got $p\"; done; "
                  "echo \"self=$BERTH_SELF\" >&2; printf 'no newline'",
                  NULL};
  peers_hook_req_t r = req_for(argv, "a.web\nb.web\n");
  peers_hook_result_t res;

  (void)state;
  assert_int_equal(peers_hook_run(&r, &res, NULL), BERTH_OK);
  assert_int_equal(res.exit_code, 0);
  assert_int_equal(res.signal, 0);
  assert_int_equal(count_lines("stream=stdout line=\"got a.web\""), 1);
  assert_int_equal(count_lines("stream=stdout line=\"got b.web\""), 1);
  assert_int_equal(count_lines("stream=stderr line=\"self=me\""), 1);
  assert_int_equal(count_lines("line=\"no newline\""), 1);
  assert_int_equal(count_lines("hook=on-change"), 4);
}

static void test_run_big_input_and_long_line(void **state)
{
  char *argv[] = {"sh", "-c",
                  "wc -l; head -c 10000 /dev/zero | tr '\\0' x; echo", NULL};
  char *input = malloc(300001);
  peers_hook_req_t r;
  peers_hook_result_t res;
  size_t i;

  (void)state;
  /* More than a pipe holds: written as the hook reads it. */
  for (i = 0; i < 300000; i++)
    input[i] = (i % 100 == 99) ? '\n' : 'p';
  input[300000] = '\0';
  r = req_for(argv, input);
  assert_int_equal(peers_hook_run(&r, &res, NULL), BERTH_OK);
  assert_int_equal(res.exit_code, 0);
  assert_int_equal(count_lines("line=3000"), 1);
  /* 10000 bytes without a newline: logged in pieces of at most 4096. */
  assert_int_equal(count_lines("line=xxxx"), 3);
  free(input);
}

static void test_run_exit_code_and_ignored_input(void **state)
{
  char *argv[] = {"sh", "-c", "exit 3", NULL};
  char *big = calloc(1, 200001);
  peers_hook_req_t r;
  peers_hook_result_t res;

  (void)state;
  memset(big, 'x', 200000);
  /* The hook never reads its input: no SIGPIPE death, no hang. */
  signal(SIGPIPE, SIG_IGN);
  r = req_for(argv, big);
  assert_int_equal(peers_hook_run(&r, &res, NULL), BERTH_OK);
  assert_int_equal(res.exit_code, 3);
  free(big);
}

static void test_run_not_found(void **state)
{
  char *argv[] = {"/nonexistent/hook.sh", NULL};
  char *argv2[] = {"no-such-hook-program-anywhere", NULL};
  peers_hook_req_t r = req_for(argv, NULL);
  berth_error_t err;

  (void)state;
  berth_error_clear(&err);
  assert_int_equal(peers_hook_run(&r, NULL, &err), BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, "/nonexistent/hook.sh"));
  r = req_for(argv2, NULL);
  assert_int_equal(peers_hook_run(&r, NULL, NULL), BERTH_ENOTFOUND);
}

/* True once pid is gone (or a zombie, which its new parent reaps). */
static bool process_gone(pid_t pid)
{
  char path[64], buf[256];
  const char *st;
  FILE *f;
  size_t n;

  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (f == NULL)
    return true;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  st = strrchr(buf, ')');
  return st != NULL && (st[2] == 'Z' || st[2] == 'X');
}

static void test_run_timeout_kills_group(void **state)
{
  /* The hook and its child both ignore nothing: SIGTERM ends them. A
   * second process that ignores SIGTERM (it writes its pid to $0) is
   * ended by SIGKILL to the whole group. */
  char pidfile[] = "/tmp/berth-hook-pid-XXXXXX";
  char *argv[] = {"sh", "-c",
                  "echo started; sh -c 'trap \"\" TERM; echo $$ >\"$0\"; "
                  "exec sleep 30' \"$0\" & sleep 30",
                  pidfile, NULL};
  peers_hook_req_t r = req_for(argv, NULL);
  peers_hook_result_t res;
  berth_error_t err;
  int64_t t0, took, deadline;
  long pid = 0;
  FILE *f;
  int fd;

  (void)state;
  fd = mkstemp(pidfile);
  assert_true(fd >= 0);
  close(fd);
  r.timeout_ms = 1000;
  r.grace_ms = 200;
  berth_error_clear(&err);
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(peers_hook_run(&r, &res, &err), BERTH_ETIMEOUT);
  took = berth_clock_monotonic_ms(NULL) - t0;
  assert_true(took >= 1000);
  assert_true(took < test_bound_ms(4000));
  assert_int_equal(res.exit_code, -1);
  assert_int_equal(res.signal, SIGTERM);
  assert_non_null(strstr(err.message, "timeout"));
  assert_int_equal(count_lines("line=started"), 1);
  /* The process that ignored SIGTERM is gone too. */
  f = fopen(pidfile, "r");
  assert_non_null(f);
  if (fscanf(f, "%ld", &pid) != 1)
    pid = 0;
  fclose(f);
  unlink(pidfile);
  if (pid <= 0)
    fail_msg("the SIGTERM-ignoring child did not start within the timeout");
  deadline = berth_clock_monotonic_ms(NULL) + test_bound_ms(2000);
  while (!process_gone((pid_t)pid) && berth_clock_monotonic_ms(NULL) < deadline)
    berth_clock_sleep_ms(NULL, 10);
  if (!process_gone((pid_t)pid)) {
    kill((pid_t)pid, SIGKILL);
    fail_msg("pid %ld, started by the hook and ignoring SIGTERM, outlived "
             "the hook's timeout",
             pid);
  }
}

static void test_run_cancel(void **state)
{
  char *argv[] = {"sleep", "30", NULL};
  peers_hook_req_t r = req_for(argv, NULL);
  int p[2];
  int64_t t0 = berth_clock_monotonic_ms(NULL);

  (void)state;
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], "x", 1), 1);
  r.cancel_fd = p[0];
  assert_int_equal(peers_hook_run(&r, NULL, NULL), BERTH_ECANCELED);
  assert_true(berth_clock_monotonic_ms(NULL) - t0 < test_bound_ms(1000));
  close(p[0]);
  close(p[1]);
}

static void test_run_leftover_child(void **state)
{
  /* The hook exits at once but leaves a process holding its output: the
   * run ends with the hook, not with the leftover. */
  char *argv[] = {"sh", "-c", "sleep 5 & echo bye", NULL};
  peers_hook_req_t r = req_for(argv, NULL);
  peers_hook_result_t res;
  int64_t t0 = berth_clock_monotonic_ms(NULL);

  (void)state;
  assert_int_equal(peers_hook_run(&r, &res, NULL), BERTH_OK);
  assert_int_equal(res.exit_code, 0);
  assert_true(berth_clock_monotonic_ms(NULL) - t0 < test_bound_ms(2000));
  assert_int_equal(count_lines("line=bye"), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_argv_split),
      cmocka_unit_test(test_event_env),
      cmocka_unit_test_setup_teardown(test_run_stdin_env_output, capture,
                                      release),
      cmocka_unit_test_setup_teardown(test_run_big_input_and_long_line, capture,
                                      release),
      cmocka_unit_test_setup_teardown(test_run_exit_code_and_ignored_input,
                                      capture, release),
      cmocka_unit_test_setup_teardown(test_run_not_found, capture, release),
      cmocka_unit_test_setup_teardown(test_run_timeout_kills_group, capture,
                                      release),
      cmocka_unit_test_setup_teardown(test_run_cancel, capture, release),
      cmocka_unit_test_setup_teardown(test_run_leftover_child, capture,
                                      release),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
