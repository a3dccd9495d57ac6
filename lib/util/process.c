/* SPDX-License-Identifier: Apache-2.0 */
/* berth: process_* and build_info metrics, see process.h.
 *
 * The names, types and units are those of the Prometheus client
 * libraries' process collector, so that the dashboards and alerts written
 * for any Kubernetes controller work unchanged. Linux only: proc(5). */
#include "berth/process.h"

#include "berth/version.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct proc_stat {
  double cpu_s;
  double start_s; /* since the boot */
  unsigned long long vsize;
  long long rss_pages;
} proc_stat_t;

/* /proc/self/stat's fields after the command name (which may hold
 * spaces and parentheses, so the parse starts after the last ')'). */
static berth_status_t read_stat(proc_stat_t *ps)
{
  char buf[1024];
  unsigned long long utime, stime, start;
  long ticks = sysconf(_SC_CLK_TCK);
  size_t n;
  char *p;
  FILE *f = fopen("/proc/self/stat", "r");
  berth_status_t st = BERTH_EIO;

  if (f == NULL)
    return BERTH_EIO;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  p = strrchr(buf, ')');
  /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
   * utime stime cutime cstime priority nice threads itrealvalue starttime
   * vsize rss */
  if (p != NULL && ticks > 0 &&
      sscanf(p + 1,
             " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
             "%*d %*d %*d %*d %llu %llu %lld",
             &utime, &stime, &start, &ps->vsize, &ps->rss_pages) == 5) {
    ps->cpu_s = (double)(utime + stime) / (double)ticks;
    ps->start_s = (double)start / (double)ticks;
    st = BERTH_OK;
  }
  fclose(f);
  return st;
}

/* The boot time, in seconds since the epoch (/proc/stat's btime). */
static long long boot_time(void)
{
  char line[256];
  long long btime = 0;
  FILE *f = fopen("/proc/stat", "r");

  if (f == NULL)
    return 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, "btime %lld", &btime) == 1)
      break;
  }
  fclose(f);
  return btime;
}

static long open_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  long n = 0;

  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.')
      n++;
  }
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

static void family(berth_buf_t *out, const char *name, const char *type,
                   const char *help)
{
  berth_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                    type);
}

berth_status_t berth_process_metrics_format(berth_buf_t *out)
{
  proc_stat_t ps;
  struct rlimit rl;
  long fds = open_fds();
  long page = sysconf(_SC_PAGESIZE);

  memset(&ps, 0, sizeof(ps));
  if (read_stat(&ps) != BERTH_OK || fds < 0)
    return BERTH_EIO;
  family(out, "process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds.");
  berth_buf_appendf(out, "process_cpu_seconds_total %.2f\n", ps.cpu_s);
  family(out, "process_resident_memory_bytes", "gauge",
         "Resident memory size in bytes.");
  berth_buf_appendf(out, "process_resident_memory_bytes %lld\n",
                    ps.rss_pages * (long long)(page > 0 ? page : 4096));
  family(out, "process_virtual_memory_bytes", "gauge",
         "Virtual memory size in bytes.");
  berth_buf_appendf(out, "process_virtual_memory_bytes %llu\n", ps.vsize);
  family(out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.");
  berth_buf_appendf(out, "process_start_time_seconds %.2f\n",
                    (double)boot_time() + ps.start_s);
  family(out, "process_open_fds", "gauge", "Number of open file descriptors.");
  berth_buf_appendf(out, "process_open_fds %ld\n", fds);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    family(out, "process_max_fds", "gauge",
           "Maximum number of open file descriptors.");
    berth_buf_appendf(out, "process_max_fds %llu\n",
                      (unsigned long long)rl.rlim_cur);
  }
  return BERTH_OK;
}

void berth_build_info_format(berth_buf_t *out, const char *name,
                             const char *program)
{
  family(out, name, "gauge",
         "A metric with a constant '1' value labeled by the program, its "
         "version and the git revision it was built from.");
  berth_buf_appendf(out,
                    "%s{program=\"%s\",version=\"%s\",revision=\"%s\"} 1\n",
                    name, program, BERTH_VERSION, berth_build_commit());
}
