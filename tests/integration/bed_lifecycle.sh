#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The test bed's own contract, as a person uses it by hand:
#   eval "$(scripts/bed start nfs dns)"; nfs-ls "$BERTH_NFS_URL";
#   dig @127.0.0.1 -p PORT ...; scripts/bed stop
# works, listens on 127.0.0.1 only, and leaves no process or file behind.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bed="$root/scripts/bed"
dir=$(mktemp -d /tmp/berth-bed-test.XXXXXX)
rmdir "$dir"
# A killed server is a zombie until PID 1 reaps it: count that as gone.
running() {
  [ -r "/proc/$1/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
  [ "$state" != Z ] && [ "$state" != X ]
}
fail() { echo "FAIL: $*"; "$bed" stop --dir "$dir" >/dev/null 2>&1; exit 1; }

exports=$("$bed" start --dir "$dir" nfs dns) || fail "bed start exited $?"
eval "$exports"
[ -n "${BERTH_NFS_URL:-}" ] || fail "BERTH_NFS_URL not exported"
[ -n "${BERTH_DNS_SERVER:-}" ] || fail "BERTH_DNS_SERVER not exported"
[ "$BERTH_BED_DIR" = "$dir" ] || fail "BERTH_BED_DIR is '$BERTH_BED_DIR'"

"$bed" status --dir "$dir" >/dev/null || fail "status says a server is down"
pids=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(" ".join(str(p) for c in s["components"].values() for p in c["pids"]))' "$dir/state.json")
[ -n "$pids" ] || fail "no pids recorded"

nfs-ls "$BERTH_NFS_URL" >/dev/null || fail "nfs-ls $BERTH_NFS_URL"
port=${BERTH_DNS_SERVER##*:}
answer=$(dig +short +time=2 +tries=2 @127.0.0.1 -p "$port" SRV web.default.svc.cluster.local)
[ "$(printf '%s\n' "$answer" | grep -c .)" -ge 3 ] || fail "dig SRV gave: $answer"

# Listening sockets of the bed's processes are on 127.0.0.1 only (ss
# comes with iproute2, which scripts/setup installs: without it this check
# would pass by seeing nothing, so its absence fails).
command -v ss >/dev/null || fail "ss not found (iproute2; scripts/setup installs it)"
listening=$(ss -H -ltnup) || fail "ss -ltnup exited $?"
printf '%s\n' "$listening" | grep -q "pid=" || fail "ss shows no listening process: $listening"
for pid in $pids; do
  if printf '%s\n' "$listening" | grep "pid=$pid," | grep -vE '127\.0\.0\.1\]?:|\[::1\]:' ; then
    fail "pid $pid listens beyond loopback"
  fi
done

"$bed" stop --dir "$dir" 2>/dev/null || fail "bed stop exited $?"
for pid in $pids; do
  if running "$pid"; then
    fail "pid $pid still running after stop"
  fi
done
[ ! -e "$dir" ] || fail "$dir left behind"

# A bed started without --dir is the one a bare `stop` stops: a second
# start must refuse (naming the first) rather than take it over, and
# `stop` stops exactly the first, saying so.
first=$("$bed" start dns) || fail "bed start (no --dir) exited $?"
first_dir=$(printf '%s\n' "$first" | sed -n "s/^export BERTH_BED_DIR=//p" | tr -d "'")
[ -d "$first_dir" ] || fail "no BERTH_BED_DIR in: $first"
first_pids=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(" ".join(str(p) for c in s["components"].values() for p in c["pids"]))' "$first_dir/state.json")
if second=$("$bed" start dns 2>"$first_dir.err"); then
  eval "$second"; "$bed" stop --dir "$BERTH_BED_DIR" 2>/dev/null
  (unset BERTH_BED_DIR; "$bed" stop) 2>/dev/null
  fail "a second bed start took over berth-bed.current"
fi
grep -q "$first_dir" "$first_dir.err" || fail "the refusal does not name $first_dir: $(cat "$first_dir.err")"
rm -f "$first_dir.err"
said=$(unset BERTH_BED_DIR; "$bed" stop 2>&1) || fail "bed stop exited $?: $said"
case "$said" in *"stopped $first_dir"*) ;; *) fail "bed stop said: $said";; esac
for pid in $first_pids; do
  running "$pid" && fail "pid $pid of $first_dir still running after stop"
done
[ ! -e "$first_dir" ] || fail "$first_dir left behind"
echo "ok: bed started, answered NFS and DNS, stopped ($pids)"
