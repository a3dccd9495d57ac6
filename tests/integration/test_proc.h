/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper shared by integration tests that pause a server with
 * SIGSTOP: wait until every thread of it has really stopped. Include after
 * cmocka.h. */
#ifndef BERTH_TEST_PROC_H
#define BERTH_TEST_PROC_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "berth/clock.h"

/* true when the task whose status file is path is stopped ("State: T"). */
static inline int task_stopped(const char *path)
{
  char *line = NULL;
  size_t cap = 0;
  int stopped = 1; /* a task that is gone does not answer either */
  FILE *f = fopen(path, "r");

  while (f != NULL && getline(&line, &cap, f) > 0) {
    if (strncmp(line, "State:", 6) == 0)
      stopped = strpbrk(line + 6, "Tt") != NULL;
  }
  free(line);
  if (f != NULL)
    fclose(f);
  return stopped;
}

/* kill(SIGSTOP) returns before every thread of a busy ganesha has
 * stopped: wait, with a deadline, until /proc says they all have. */
static inline void wait_stopped(pid_t pid)
{
  int64_t deadline = berth_clock_monotonic_ms(NULL) + 5000;
  char path[300];
  int all = 0;

  while (!all && berth_clock_monotonic_ms(NULL) < deadline) {
    struct dirent *e;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    d = opendir(path);
    assert_non_null(d);
    all = 1;
    while (all && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid,
               e->d_name);
      all = task_stopped(path);
    }
    closedir(d);
  }
  assert_true(all);
}

#endif /* BERTH_TEST_PROC_H */
