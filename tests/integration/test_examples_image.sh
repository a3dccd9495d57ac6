#!/bin/sh
# scripts/image: builds the OCI layout (Release build of its own, under a
# temporary --out), which umoci reads back: the configuration (user 65532,
# no entrypoint, CMD berth-provisioner), a root filesystem holding the three
# programs (and berth-peers-static, which `berth-peers install` copies),
# each of which runs (--version) chrooted into the unpacked image
# as uid 65532 with only the image's libraries; berth-peers also loads
# libmicrohttpd (dlopen) and answers /healthz. Under the bed (k8s), the
# image's berthctl (doctor) and berth-provisioner (/readyz) reach the API
# server over HTTPS with the image's libcurl and OpenSSL.
#
#   test_examples_image.sh SOURCE_DIR      (as root, with umoci: scripts/setup
#                                           installs it; without either it fails)
set -eu
src=$1
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (chroot, umoci)"; exit 1; }
command -v umoci >/dev/null || { echo "FAIL: umoci not installed (scripts/setup installs it)"; exit 1; }
t0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$src/scripts/image" --out "$tmp/out" --archive >"$tmp/image.log" 2>&1 ||
  { tail -n 30 "$tmp/image.log"; fail "scripts/image failed"; }
grep '^image:' "$tmp/image.log"
echo "[$(ms) ms] scripts/image done"

version=$(sed -n 's/^project(berth VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
img="$tmp/out/oci:$version"
umoci stat --image "$img" >"$tmp/stat" || fail "umoci stat"
[ -s "$tmp/out/berth-$version.oci.tar" ] || fail "no archive"
umoci unpack --image "$img" "$tmp/b" >/dev/null || fail "umoci unpack"
/usr/bin/python3 - "$tmp/b/config.json" <<'PY' || fail "runtime config"
import json, sys
p = json.load(open(sys.argv[1]))["process"]
u = p["user"]
assert (u["uid"], u["gid"]) == (65532, 65532), u
assert p["args"] == ["berth-provisioner"], p["args"]
assert "PATH=/usr/local/bin:/usr/bin:/bin" in p["env"], p["env"]
print("config: user 65532:65532, args", p["args"])
PY
r="$tmp/b/rootfs"
for b in berth-provisioner berth-peers berthctl; do
  [ -x "$r/usr/local/bin/$b" ] || fail "$b not in /usr/local/bin"
  out=$(chroot --userspec=65532:65532 "$r" "/usr/local/bin/$b" --version) || fail "$b --version in the image"
  [ "$out" = "$b $version" ] || fail "$b --version: '$out'"
  echo "in the image: $out"
done
grep -q '^nonroot:x:65532:65532:' "$r/etc/passwd" || fail "no nonroot user"
[ -s "$r/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA bundle"
# Nothing else: no shell, no package manager.
extra=$(cd "$r" && find . -type f ! -path './usr/local/bin/*' ! -path './usr/lib/*' \
          ! -path './usr/lib64/*' ! -path './etc/*' | sort)
[ -z "$extra" ] || fail "unexpected files: $extra"

# The install init container: the image's berth-peers copies
# berth-peers-static (no program interpreter: fully static) into a
# directory shared with the next container.
[ -x "$r/usr/local/bin/berth-peers-static" ] || fail "no berth-peers-static"
readelf -l "$r/usr/local/bin/berth-peers-static" | grep -q 'INTERP' &&
  fail "berth-peers-static is dynamically linked"
mkdir "$r/tmp/work-dir" && chown 65532:65532 "$r/tmp/work-dir"
chroot --userspec=65532:65532 "$r" /usr/local/bin/berth-peers install /tmp/work-dir ||
  fail "berth-peers install in the image"
cmp -s "$r/tmp/work-dir/berth-peers" "$r/usr/local/bin/berth-peers-static" ||
  fail "berth-peers install did not copy berth-peers-static"
rm -rf "$r/tmp/work-dir"
echo "in the image: berth-peers install /tmp/work-dir copies the static berth-peers"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chroot --userspec=65532:65532 "$r" /usr/local/bin/berth-peers -service=web -ns=default \
  --dns-server 127.0.0.1:9 --http-endpoint "127.0.0.1:$port" >"$tmp/peers.log" 2>&1 &
pid=$!
i=0
until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/peers.log"; fail "berth-peers /healthz in the image"; }
  sleep 0.05
done
echo "in the image: berth-peers --http-endpoint (libmicrohttpd, dlopen) answers /healthz"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

if [ -n "${KUBECONFIG:-}" ]; then
  install -m 0644 "$KUBECONFIG" "$r/tmp/kubeconfig"
  chroot --userspec=65532:65532 "$r" /usr/local/bin/berthctl --kubeconfig /tmp/kubeconfig \
    doctor >"$tmp/doctor.log" 2>&1 || { cat "$tmp/doctor.log"; fail "berthctl doctor in the image"; }
  grep -q '^ok    API server' "$tmp/doctor.log" || { cat "$tmp/doctor.log"; fail "berthctl doctor: API"; }
  echo "in the image: berthctl doctor reaches the API server (HTTPS)"
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  NFS_URL=nfs://127.0.0.1/export chroot --userspec=65532:65532 "$r" \
    /usr/local/bin/berth-provisioner --kubeconfig /tmp/kubeconfig \
    --provisioner berth.io/nfs=nfs --leader-elect=false \
    --http-endpoint "127.0.0.1:$port" >"$tmp/prov.log" 2>&1 &
  pid=$!
  i=0
  until [ "$(curl -fs "http://127.0.0.1:$port/readyz" 2>/dev/null)" = ready ]; do
    i=$((i + 1)); [ $i -lt 300 ] || { cat "$tmp/prov.log"; fail "berth-provisioner /readyz in the image"; }
    sleep 0.05
  done
  kill -TERM "$pid"
  rc=0; wait "$pid" || rc=$?
  pid=""
  [ "$rc" -eq 0 ] || { cat "$tmp/prov.log"; fail "berth-provisioner exit status $rc after SIGTERM"; }
  echo "in the image: berth-provisioner syncs with the API server, /readyz ready, SIGTERM exit 0"
fi
echo "[$(ms) ms] ok"
