#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Each program answers --help and --version with status 0 and its name,
# version and git commit, and rejects an unknown option with status 2.
set -u
fail=0
for prog in "$@"; do
  name=$(basename "$prog")
  out=$("$prog" --help) || { echo "FAIL: $name --help exited $?"; fail=1; }
  case "$out" in *Usage:*) ;; *) echo "FAIL: $name --help: no Usage"; fail=1;; esac
  ver=$("$prog" --version) || { echo "FAIL: $name --version exited $?"; fail=1; }
  case "$ver" in "$name "[0-9]*" (commit "*")") ;; *) echo "FAIL: $name --version: '$ver'"; fail=1;; esac
  # The commit is the source tree's (BERTH_SOURCE_DIR), when it is a git
  # checkout: a build that printed a stale or made-up commit fails here.
  if [ -n "${BERTH_SOURCE_DIR:-}" ] &&
     head=$(git -C "$BERTH_SOURCE_DIR" rev-parse --short=12 HEAD 2>/dev/null); then
    case "$ver" in *"(commit $head)"|*"(commit $head-dirty)") ;;
      *) echo "FAIL: $name --version: '$ver', want commit $head"; fail=1;; esac
  fi
  "$prog" --no-such-option >/dev/null 2>&1
  rc=$?
  [ "$rc" -eq 2 ] || { echo "FAIL: $name --no-such-option exited $rc, want 2"; fail=1; }
done
[ "$fail" -eq 0 ] && echo "ok: $# programs"
exit "$fail"
