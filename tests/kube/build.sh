#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
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
stamp_want="$release etcd $etcd_version $(cat "$here/go.sum" "$0" | sha256sum | cut -c1-16)"

if [ "${1:-}" = "--dir" ]; then
  echo "$dir"
  exit 0
fi

if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp_want" ]; then
  echo "$dir"
  exit 0
fi

command -v go >/dev/null || {
  echo "kube: Go 1.26 or newer is needed to build the control plane (https://go.dev/dl/)" >&2; exit 1; }
need=$(awk '$1 == "go" { print $2 }' "$here/go.mod")
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
  echo "kube: Go $have is too old: k8s.io/kubernetes $release needs Go $need" >&2
  exit 1
fi

start=$(date +%s)
echo "kube: building Kubernetes $release and etcd $etcd_version into $dir (the first time: 15-50 minutes on 2 cores)..." >&2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/bin"
# -p bounds the parallel compilers; the default is every core.
jobs=${BERTH_KUBE_JOBS:-$(nproc)}
(
  cd "$here"
  export CGO_ENABLED=0 GOFLAGS="-p=$jobs -buildvcs=false -mod=readonly"
  # The version the servers report (kubectl version, /version), as
  # Kubernetes' own build stamps it; a module build has none otherwise.
  minor=${release#v1.}; minor=${minor%%.*}
  x=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x="$x -X $pkg.gitVersion=$release -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    x="$x -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  go build -trimpath -ldflags "-s -w$x" -o "$dir.tmp/bin/" \
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
