/* SPDX-License-Identifier: Apache-2.0 */
/* berth: the standard process_* metrics of Prometheus client libraries
 * (CPU time, memory, file descriptors, start time), read from /proc, for
 * the programs' /metrics endpoints. */
#ifndef BERTH_PROCESS_H
#define BERTH_PROCESS_H

#include "berth/buf.h"
#include "berth/status.h"

/* Append the process_* families, each with # HELP and # TYPE, in the
 * Prometheus text format: process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_start_time_seconds, process_open_fds, process_max_fds.
 * BERTH_EIO when /proc/self cannot be read (nothing is appended then). */
berth_status_t berth_process_metrics_format(berth_buf_t *out);

/* Append a build_info gauge for program: name{program,version,revision} 1
 * (name such as "berth_build_info"), with # HELP and # TYPE. */
void berth_build_info_format(berth_buf_t *out, const char *name,
                             const char *program);

#endif /* BERTH_PROCESS_H */
