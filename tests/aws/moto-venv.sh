#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Make (once per machine) the virtual environment with moto's server that
# the bed's "moto" component runs, from the pinned tests/aws/moto-requirements.txt;
# print its directory.
#
#   tests/aws/moto-venv.sh          # make it if missing; print the dir
#   tests/aws/moto-venv.sh --dir    # the dir only
#
# The environment is ${BERTH_MOTO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/moto}/<hash>/,
# keyed by the requirements' hash; a stamp written last marks it complete.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
req="$here/moto-requirements.txt"
key=$(sha256sum "$req" | cut -c1-16)
dir="${BERTH_MOTO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/moto}/$key"
if [ "${1:-}" = "--dir" ] || [ -f "$dir/stamp" ]; then
  echo "$dir"
  exit 0
fi
start=$(date +%s)
echo "moto: installing moto's server (pinned) into $dir..." >&2
rm -rf "$dir"
/usr/bin/python3 -m venv "$dir" >&2
"$dir/bin/pip" install -q --disable-pip-version-check --no-deps -r "$req" >&2 || {
  echo "moto: pip install failed" >&2; exit 1; }
"$dir/bin/python" -c 'import moto.server' >&2
touch "$dir/stamp"
echo "moto: installed in $(( $(date +%s) - start )) s" >&2
echo "$dir"
