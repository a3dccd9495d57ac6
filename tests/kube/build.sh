#!/usr/bin/env bash
# Build the real Kubernetes control plane (kube-apiserver,
# kube-controller-manager, kube-scheduler) and etcd from this folder's Go
# module into a per-machine cache keyed by the release, once.
#
#   tests/kube/build.sh            # build if missing; print the cache dir
#   tests/kube/build.sh --dir      # print the cache dir only
#
# The cache is ${BERTH_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/kube}/<release>/
# with bin/ and a stamp file written last, so an interrupted build is
# redone, never half-used. Progress goes to stderr in one line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
release=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2 }' "$here/go.mod")
[ -n "$release" ] || { echo "kube: no k8s.io/kubernetes release in $here/go.mod" >&2; exit 1; }
etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2 }' "$here/go.mod")
cache_root=${BERTH_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/kube}
dir="$cache_root/$release"
# The stamp names what was built, so a change of go.sum rebuilds.
stamp_want="$release etcd $etcd_version $(sha256sum "$here/go.sum" | cut -c1-16)"

if [ "${1:-}" = "--dir" ]; then
  echo "$dir"
  exit 0
fi

if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp_want" ]; then
  echo "$dir"
  exit 0
fi

command -v go >/dev/null || {
  echo "kube: Go is needed to build the control plane (go 1.26 or newer)" >&2; exit 1; }

start=$(date +%s)
echo "kube: building Kubernetes $release and etcd $etcd_version into $dir (the first time takes 20-40 minutes on 2 cores)..." >&2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/bin"
# -p bounds the parallel compilers; the default is every core.
jobs=${BERTH_KUBE_JOBS:-$(nproc)}
(
  cd "$here"
  export CGO_ENABLED=0 GOFLAGS="-p=$jobs"
  go build -trimpath -ldflags '-s -w' -o "$dir.tmp/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    ./etcd
) >"$dir.tmp/build.log" 2>&1 || {
  echo "kube: build failed; the log is $dir.tmp/build.log:" >&2
  tail -20 "$dir.tmp/build.log" >&2
  exit 1
}
echo "$stamp_want" > "$dir.tmp/stamp"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
end=$(date +%s)
echo "kube: built in $((end - start)) s: $(cd "$dir/bin" && du -sh -- * | tr '\t\n' ' ')" >&2
echo "$dir"
