#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Where a process's resident memory is, from /proc/PID/smaps, as
key=value lines (KiB):

  lib_<name>      mapped files (shared libraries, the program), by file
  heap            the main arena ([heap])
  arenas          other malloc arenas (anonymous 64 MiB reservations)
  stacks          thread stacks (anonymous mappings of the stack size plus
                  a guard page) and [stack]
  anon_other      the rest of the anonymous memory (large mallocs, TLS
                  session caches, ...)
  stack_mappings  how many thread stacks

    smaps.py PID
"""

import collections
import os
import sys


def parse(pid):
    maps = []
    cur = None
    with open("/proc/%s/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                cur = {"size": (hi - lo) // 1024, "perms": parts[1],
                       "name": parts[5] if len(parts) > 5 else "", "rss": 0}
                maps.append(cur)
            elif parts[0] == "Rss:":
                cur["rss"] = int(parts[1])
    return maps


def main(pid):
    maps = parse(pid)
    out = collections.OrderedDict()
    libs = collections.Counter()
    stacks = nstacks = heap = arenas = other = 0
    for i, m in enumerate(maps):
        name = m["name"]
        if name.startswith("/"):
            libs[os.path.basename(name).split(".so")[0]] += m["rss"]
        elif name == "[heap]":
            heap += m["rss"]
        elif name == "[stack]":
            stacks += m["rss"]
        elif name == "":
            # A thread stack is a read-write mapping right after its
            # PROT_NONE guard page; an arena is a 64 MiB-aligned
            # reservation whose used part is read-write.
            prev = maps[i - 1] if i > 0 else None
            if m["perms"].startswith("rw") and prev is not None and \
                    prev["name"] == "" and prev["perms"].startswith("---") and \
                    prev["size"] <= 64 and m["size"] >= 1024:
                stacks += m["rss"]
                nstacks += 1
            elif m["size"] + (maps[i + 1]["size"] if i + 1 < len(maps) and
                              maps[i + 1]["perms"].startswith("---") else 0) == 65536:
                arenas += m["rss"]
            else:
                other += m["rss"]
    for k, v in sorted(libs.items(), key=lambda kv: -kv[1]):
        if v >= 64:
            out["lib_" + k] = v
    out["libs_total"] = sum(libs.values())
    out["heap"] = heap
    out["arenas"] = arenas
    out["stacks"] = stacks
    out["stack_mappings"] = nstacks
    out["anon_other"] = other
    for k, v in out.items():
        print("smaps_%s=%d" % (k, v))


if __name__ == "__main__":
    main(sys.argv[1])
