#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the standard snapshot-controller of kubernetes-csi's
# external-snapshotter from this folder's Go module into a per-machine
# cache keyed by the release, once, and copy the snapshot CRDs beside it
# from the client module (config/crd) as the module proxy serves them.
#
#   tests/snapshotter/build.sh          # build if missing; print the cache dir
#   tests/snapshotter/build.sh --dir    # print the cache dir only
#
# The cache is ${BERTH_SNAPSHOTTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/snapshotter}/<release>/
# with bin/snapshot-controller, crd/*.yaml and a stamp file written last,
# so an interrupted build is redone, never half-used. Progress goes to
# stderr in one line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mod=github.com/kubernetes-csi/external-snapshotter/v8
client=github.com/kubernetes-csi/external-snapshotter/client/v8
release=$(awk -v m="$mod" '$1 == m && $2 ~ /^v/ { print $2 }' "$here/go.mod")
[ -n "$release" ] || { echo "snapshotter: no $mod release in $here/go.mod" >&2; exit 1; }
client_release=$(awk -v m="$client" '$1 == m && $2 ~ /^v/ { print $2 }' "$here/go.mod")
cache_root=${BERTH_SNAPSHOTTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/snapshotter}
dir="$cache_root/$release"
stamp_want="$release client $client_release $(cat "$here/go.sum" "$0" | sha256sum | cut -c1-16)"

if [ "${1:-}" = "--dir" ]; then
  echo "$dir"
  exit 0
fi

if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp_want" ]; then
  echo "$dir"
  exit 0
fi

command -v go >/dev/null || {
  echo "snapshotter: Go is needed to build the snapshot-controller (https://go.dev/dl/)" >&2; exit 1; }

start=$(date +%s)
echo "snapshotter: building snapshot-controller $release into $dir (the first time: a few minutes)..." >&2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/bin" "$dir.tmp/crd"
jobs=${BERTH_KUBE_JOBS:-$(nproc)}
(
  cd "$here"
  export CGO_ENABLED=0 GOFLAGS="-p=$jobs -buildvcs=false -mod=readonly"
  # The version the controller logs, as the project's Makefile stamps it.
  go build -trimpath -ldflags "-s -w -X main.version=$release" -o "$dir.tmp/bin/" \
    "$mod/cmd/snapshot-controller"
  # The CRDs are part of the client module (client/config/crd upstream).
  crd=$(go mod download -json "$client" | awk -F'"' '$2 == "Dir" { print $4 }')/config/crd
  cp "$crd"/snapshot.storage.k8s.io_*.yaml "$dir.tmp/crd/"
  chmod u+w "$dir.tmp/crd/"*.yaml
) >"$dir.tmp/build.log" 2>&1 || {
  echo "snapshotter: build failed; the log is $dir.tmp/build.log:" >&2
  tail -20 "$dir.tmp/build.log" >&2
  exit 1
}
echo "$stamp_want" > "$dir.tmp/stamp"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
end=$(date +%s)
echo "snapshotter: built in $((end - start)) s: $(cd "$dir/bin" && du -sh -- * | tr '\t\n' ' ')" >&2
echo "$dir"
