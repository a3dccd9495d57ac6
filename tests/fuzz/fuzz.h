/* SPDX-License-Identifier: Apache-2.0 */
/* What every fuzz target shares: the libFuzzer entry point each one
 * defines, and a check that reports and aborts (libFuzzer and the replay
 * main both treat an abort as a finding). */
#ifndef BERTH_FUZZ_H
#define BERTH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Run one input through the code under test; 0 always (libFuzzer's
 * contract). Every target defines it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant that must hold for every input. */
#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__,     \
              #cond);                                                          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* A NUL-terminated copy of the input (free() it); NULL when out of
 * memory, which a target treats as "nothing to do". */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Send berth's log lines to a sink that checks each is one line of
 * printable text (no newline or control byte a hostile value could
 * smuggle in) and drops it, so that fuzzing is not slowed by output.
 * Call at the start of every input; cheap. */
void fuzz_quiet_logs(void);

#endif /* BERTH_FUZZ_H */
