#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A fake mongosh and mongod (by the name it is called as) for
# test_mongodb_hook.py: every call is appended to $FAKE_MONGO/calls (and to
# calls.<the hook's $BERTH_SELF>, one member's own), and
# mongosh answers the scripts that examples/mongodb's on-start.sh sends
# from a model of one replica set kept in $FAKE_MONGO: `primary` (its
# host:port) and `members` (host:port list). A member is "already in a
# set" when it is in `members`; localhost means the hook's $BERTH_SELF.
set -u
state=$FAKE_MONGO
name=$(basename "$0")
line=$name
for a in "$@"; do line="$line [$a]"; done
echo "$line" >> "$state/calls"
echo "$line" >> "$state/calls.${BERTH_SELF:-none}"
[ "$name" = mongosh ] || exit 0
host=""
js=""
while [ $# -gt 0 ]; do
  case $1 in
  --host) host=$2; shift 2 ;;
  --eval) js=$2; shift 2 ;;
  *) shift ;;
  esac
done
case $host in localhost:*) host="$BERTH_SELF:${host#localhost:}" ;; esac
members=$(cat "$state/members" 2>/dev/null || :)
arg_host() { echo "$js" | sed -n "s/.*host: '\([^']*\)'.*/\1/p"; }
case $js in
*ping*) echo 1 ;;
*rs.status*)
  case " $members " in *" $host "*) echo 1 ;; *) echo 0 ;; esac ;;
*isWritablePrimary*)
  if [ "$(cat "$state/primary" 2>/dev/null || :)" = "$host" ]; then echo true; else echo false; fi ;;
*rs.conf*) echo "$members" ;;
*rs.initiate*)
  arg_host > "$state/primary"
  arg_host > "$state/members"
  echo 1 ;;
*rs.add*)
  echo "$members $(arg_host)" > "$state/members.tmp"
  mv "$state/members.tmp" "$state/members"
  echo 1 ;;
*) echo "fake mongosh: unexpected script: $js" >&2; exit 1 ;;
esac
