#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
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
# The image also carries the licenses of what it bundles and an SPDX SBOM
# listing every Debian package it copies from, its OCI labels name the
# source, licenses and revision, its layout tag is the whole reference
# (skopeo copy oci:DIR:berth:VERSION, as scripts/image's header says), and
# a second build of the same commit gives the same digest (reproducible).
#
#   test_examples_image.sh SOURCE_DIR      (as root, with umoci and skopeo:
#                                           scripts/setup installs them;
#                                           without any of them it fails)
set -eu
src=$1
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (chroot, umoci)"; exit 1; }
command -v umoci >/dev/null || { echo "FAIL: umoci not installed (scripts/setup installs it)"; exit 1; }
command -v skopeo >/dev/null || { echo "FAIL: skopeo not installed (scripts/setup installs it)"; exit 1; }
t0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The source label comes from BERTH_SOURCE_URL (else git's origin).
export BERTH_SOURCE_URL=https://git.example.org/berth.git
"$src/scripts/image" --out "$tmp/out" --archive >"$tmp/image.log" 2>&1 ||
  { tail -n 30 "$tmp/image.log"; fail "scripts/image failed"; }
grep '^image:' "$tmp/image.log"
echo "[$(ms) ms] scripts/image done"

version=$(sed -n 's/^project(berth VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
img="$tmp/out/oci:berth:$version"
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
  case "$out" in "$b $version (commit "*")") ;; *) fail "$b --version: '$out'";; esac
  echo "in the image: $out"
done
# --source endpoints: berth-peers execs berth-peers-endpoints, whose
# libraries (libcurl's) are in the image too; with no cluster here it
# stops at its credentials, not at a missing program or library.
out=$(chroot --userspec=65532:65532 "$r" /usr/local/bin/berth-peers -service=web -ns=default \
  --source endpoints --once -kubeconfig /nonexistent 2>&1) &&
  fail "berth-peers --source endpoints without a cluster exited 0"
case "$out" in
  *'msg="cannot start"'*kubeconfig*) ;;
  *) fail "--source endpoints in the image: '$out'";;
esac
echo "in the image: berth-peers --source endpoints runs berth-peers-endpoints"
grep -q '^nonroot:x:65532:65532:' "$r/etc/passwd" || fail "no nonroot user"
[ -s "$r/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA bundle"
# Nothing else: no shell, no package manager.
extra=$(cd "$r" && find . -type f ! -path './usr/local/bin/*' ! -path './usr/lib/*' \
          ! -path './usr/lib64/*' ! -path './etc/*' ! -path './usr/share/doc/*' | sort)
[ -z "$extra" ] || fail "unexpected files: $extra"

# Licenses and SBOM: berth's own, and for every library in the image the
# copyright file of the Debian package it came from, named in the SBOM.
[ -s "$r/usr/share/doc/berth/LICENSE" ] && [ -s "$r/usr/share/doc/berth/NOTICE" ] ||
  fail "no LICENSE/NOTICE in the image"
/usr/bin/python3 - "$r" "$src" <<'PY' || fail "licenses and SBOM"
import json, os, subprocess, sys
r, src = sys.argv[1:3]
sbom = json.load(open(os.path.join(r, "usr/share/doc/berth/sbom.spdx.json")))
assert sbom["spdxVersion"] == "SPDX-2.3", sbom.get("spdxVersion")
pk = {p["name"]: p for p in sbom["packages"]}
assert pk["berth"]["licenseConcluded"] == "Apache-2.0", pk["berth"]
libs = []
for d, _, files in os.walk(os.path.join(r, "usr/lib")):
    libs += [os.path.join(d, f) for f in files if ".so" in f]
assert libs, "no libraries"
want = {"libcurl4", "libssl3", "libnfs13", "libmicrohttpd12", "libjansson4", "libc-ares2",
        "libyaml-0-2", "libexpat1", "libc6"}
missing = sorted(w for w in want if w not in pk)
assert not missing, "SBOM lacks %s (has %s)" % (missing, sorted(pk))
for name, p in pk.items():
    if name == "berth":
        continue
    assert os.path.getsize(os.path.join(r, "usr/share/doc", name, "copyright")) > 0, name
    inst = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name],
                          capture_output=True, text=True).stdout
    assert p["versionInfo"] == inst, (name, p["versionInfo"], inst)
    assert p["externalRefs"][0]["referenceLocator"].startswith("pkg:deb/debian/" + name + "@")
deps = {x["relatedSpdxElement"] for x in sbom["relationships"] if x["relationshipType"] == "DEPENDS_ON"}
assert len(deps) == len(pk) - 1, (len(deps), len(pk))
print("SBOM: %d Debian packages, each with its copyright file: %s"
      % (len(pk) - 1, ", ".join(sorted(n for n in pk if n != "berth"))))
PY

# OCI labels: source, licenses, revision (this commit), created (the
# commit's time, not the build's).
/usr/bin/python3 - "$tmp/out/oci" "berth:$version" "$(git -C "$src" rev-parse HEAD)" \
    "$(git -C "$src" log -1 --format=%ct)" <<'PY' || fail "OCI labels"
import datetime, json, os, sys
layout, ref, rev, epoch = sys.argv[1:5]
def blob(d):
    a, h = d["digest"].split(":")
    return json.load(open(os.path.join(layout, "blobs", a, h)))
idx = json.load(open(os.path.join(layout, "index.json")))
m = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == ref]
assert m, "no manifest tagged %s in %s" % (ref, idx)
cfg = blob(blob(m[0])["config"])
lab = cfg["config"]["Labels"]
when = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
assert lab["org.opencontainers.image.revision"] == rev, lab
assert lab["org.opencontainers.image.licenses"] == "Apache-2.0", lab
assert lab.get("org.opencontainers.image.source") == os.environ["BERTH_SOURCE_URL"], lab
assert lab["org.opencontainers.image.created"] == when and cfg["created"] == when, (lab, cfg["created"])
assert all(h.get("created") == when for h in cfg["history"]), cfg["history"]
print("labels:", {k.split(".")[-1]: v for k, v in lab.items()})
PY

# The command in scripts/image's header works: skopeo copy oci:DIR:berth:VERSION.
skopeo copy --quiet "oci:$tmp/out/oci:berth:$version" "dir:$tmp/copied" ||
  fail "skopeo copy oci:...:berth:$version"
[ -s "$tmp/copied/manifest.json" ] || fail "skopeo copied no manifest"
echo "skopeo copy oci:OUT/oci:berth:$version works"

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

# Reproducible: packaging again (a later second, the files installed
# anew) gives the same manifest digest.
d1=$(sed -n 's/^image: .*  \(sha256:[0-9a-f]*\)$/\1/p' "$tmp/image.log")
"$src/scripts/image" --out "$tmp/out" >"$tmp/image2.log" 2>&1 || { tail -n 20 "$tmp/image2.log"; fail "second scripts/image"; }
d2=$(sed -n 's/^image: .*  \(sha256:[0-9a-f]*\)$/\1/p' "$tmp/image2.log")
[ -n "$d1" ] && [ "$d1" = "$d2" ] || fail "not reproducible: $d1 then $d2"
echo "reproducible: $d1 twice"

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
