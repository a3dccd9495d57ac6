#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A hook for the berth-peers integration tests: records each run as
# DIR/run.N.stdin (the peers it was given) and DIR/run.N.env (its BERTH_*
# variables, sorted), then behaves as MODE says:
#
#   ok              exit 0
#   fail-first-K    exit 1 on runs 1..K, then 0
#   hang-first-K    hang (sleep 60, same pid) on runs 1..K, then exit 0
#
# Runs are sequential (berth-peers runs one hook at a time), so the
# counter needs no lock.
set -u
dir=$1
mode=${2:-ok}
n=$(cat "$dir/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$dir/count.tmp" && mv "$dir/count.tmp" "$dir/count"
echo "$$" > "$dir/run.$n.pid"
cat > "$dir/run.$n.stdin.tmp" && mv "$dir/run.$n.stdin.tmp" "$dir/run.$n.stdin"
env | grep '^BERTH_' | sort > "$dir/run.$n.env.tmp" &&
  mv "$dir/run.$n.env.tmp" "$dir/run.$n.env"
echo "recorder run $n"
case "$mode" in
fail-first-*)
  if [ "$n" -le "${mode#fail-first-}" ]; then
    echo "recorder failing run $n" >&2
    exit 1
  fi
  ;;
hang-first-*)
  if [ "$n" -le "${mode#hang-first-}" ]; then
    exec sleep 60
  fi
  ;;
esac
exit 0
