#!/bin/sh
# Each program answers --help and --version with status 0 and its name,
# and rejects an unknown option with status 2.
set -u
fail=0
for prog in "$@"; do
  name=$(basename "$prog")
  out=$("$prog" --help) || { echo "FAIL: $name --help exited $?"; fail=1; }
  case "$out" in *Usage:*) ;; *) echo "FAIL: $name --help: no Usage"; fail=1;; esac
  ver=$("$prog" --version) || { echo "FAIL: $name --version exited $?"; fail=1; }
  case "$ver" in "$name "[0-9]*) ;; *) echo "FAIL: $name --version: '$ver'"; fail=1;; esac
  "$prog" --no-such-option >/dev/null 2>&1
  rc=$?
  [ "$rc" -eq 2 ] || { echo "FAIL: $name --no-such-option exited $rc, want 2"; fail=1; }
done
[ "$fail" -eq 0 ] && echo "ok: $# programs"
exit "$fail"
