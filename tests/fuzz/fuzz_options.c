/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: every program's command line (provisioner/options.c,
 * peer-discovery/options.c, cli/options.c) and through them the one
 * duration parser. The first byte picks the program; the rest, split at
 * newlines, is argv. Invariants: a parse that succeeds leaves every
 * duration in range (never negative: issue 14's 1e300 and nanms), a usage
 * error is reported, not crashed on; parsing the same command line twice
 * in one process (as the tests do) gives the same result and reads
 * nothing of the first argv (getopt keeps a pointer into it unless
 * reset). */
#include <string.h>

#include "ctl.h"
#include "fuzz.h"
#include "options.h"

/* berth-peers' options.h is reached through its own directory. */
#include "../../peer-discovery/options.h"

#define MAX_ARGS 32

static FILE *sink(void)
{
  static FILE *f;

  if (f == NULL)
    f = fopen("/dev/null", "w");
  return f;
}

static int provisioner(int argc, char **argv)
{
  prov_options_t o;
  int r = (int)prov_options_parse(argc, argv, &o, sink(), sink());

  if (r == PROV_PARSE_RUN) {
    FUZZ_CHECK(o.lease_ms >= 0 && o.renew_ms >= 0 && o.retry_ms >= 0 &&
                   o.usage_interval_ms >= 0 && o.drain_ms >= 0,
               "a negative duration");
    FUZZ_CHECK(o.workers >= 1 && o.workers <= 1024, "workers %d", o.workers);
  }
  prov_options_cleanup(&o);
  return r;
}

static int peers(int argc, char **argv)
{
  peers_options_t o;
  int r = (int)peers_options_parse(argc, argv, &o, sink(), sink());

  if (r == PEERS_PARSE_RUN) {
    FUZZ_CHECK(o.interval_ms >= 0 && o.interval_ms <= PEERS_DURATION_MAX_MS &&
                   o.timeout_ms >= 0 && o.debounce_ms >= 0 &&
                   o.hook_timeout_ms >= 0 && o.hook_backoff_ms >= 0,
               "a duration out of range");
  }
  peers_options_cleanup(&o);
  return r;
}

static int berthctl(int argc, char **argv)
{
  ctl_options_t o;
  int r;

  memset(&o, 0, sizeof(o));
  r = ctl_options_parse(argc, argv, &o, sink());
  if (r) {
    FUZZ_CHECK(o.min_age_ms >= 0 && o.min_age_ms <= CTL_DURATION_MAX_MS,
               "--min-age %lld", (long long)o.min_age_ms);
    FUZZ_CHECK(o.request_timeout_ms >= 0, "--request-timeout %ld",
               (long)o.request_timeout_ms);
  }
  ctl_options_cleanup(&o);
  return r;
}

/* Split a copy of the input into argv and parse it with program which;
 * the parser's result. */
static int parse_copy(int which, const uint8_t *data, size_t size)
{
  static const char *const names[] = {"berth-provisioner", "berth-peers",
                                      "berthctl"};
  char *argv[MAX_ARGS + 2];
  char *text = fuzz_strndup(data, size);
  char *p;
  int argc = 1;
  int r;

  if (text == NULL)
    return -1;
  argv[0] = (char *)names[which];
  for (p = text; p != NULL && size > 0 && argc <= MAX_ARGS;) {
    char *nl = strchr(p, '\n');

    if (nl != NULL)
      *nl = '\0';
    argv[argc++] = p;
    p = nl != NULL ? nl + 1 : NULL;
  }
  argv[argc] = NULL;
  switch (which) {
  case 0:
    r = provisioner(argc, argv);
    break;
  case 1:
    r = peers(argc, argv);
    break;
  default:
    r = berthctl(argc, argv);
    break;
  }
  free(text);
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int which;
  int first;
  int second;

  fuzz_quiet_logs();
  if (size < 1)
    return 0;
  which = data[0] % 3;
  /* Twice, each from a fresh copy freed afterwards: a parser must not
   * keep pointers into the last argv (getopt's state does, unless it is
   * reset). */
  first = parse_copy(which, data + 1, size - 1);
  second = parse_copy(which, data + 1, size - 1);
  FUZZ_CHECK(first == second || first < 0 || second < 0,
             "the same command line parsed twice: %d, then %d", first, second);
  return 0;
}
