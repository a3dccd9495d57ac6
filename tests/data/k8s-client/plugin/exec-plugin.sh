#!/bin/sh
# A client.authentication.k8s.io exec credential plugin for berth's tests.
#
#   exec-plugin.sh [--expires-in SECONDS] [--bad-first] [--fail]
#
# Prints an ExecCredential (apiVersion from $PLUGIN_API_VERSION, default v1)
# with the token in $PLUGIN_TOKEN_FILE. Each run appends one line to
# $PLUGIN_LOG: its arguments and KUBERNETES_EXEC_INFO, so that tests can
# check what the client passed and count the runs. --bad-first gives a
# wrong token on the first run only; --fail exits 1 with a message on
# standard error.
set -eu
args="$*"
expires=""
bad_first=0
while [ $# -gt 0 ]; do
  case "$1" in
    --expires-in) expires="$2"; shift 2 ;;
    --bad-first) bad_first=1; shift ;;
    --fail) echo "exec-plugin: told to fail" >&2; exit 1 ;;
    *) shift ;;
  esac
done
runs=0
if [ -f "$PLUGIN_LOG" ]; then runs=$(wc -l < "$PLUGIN_LOG"); fi
printf 'run args=[%s] info=%s\n' "$args" "${KUBERNETES_EXEC_INFO:-none}" >> "$PLUGIN_LOG"
token=$(cat "$PLUGIN_TOKEN_FILE")
if [ "$bad_first" = 1 ] && [ "$runs" -eq 0 ]; then
  token="wrong-$token"
fi
exp=""
if [ -n "$expires" ]; then
  exp=$(date -u -d "@$(( $(date +%s) + expires ))" +%Y-%m-%dT%H:%M:%SZ)
  exp=",\"expirationTimestamp\":\"$exp\""
fi
printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"%s"%s}}\n' \
  "${PLUGIN_API_VERSION:-client.authentication.k8s.io/v1}" "$token" "$exp"
