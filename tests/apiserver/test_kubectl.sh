#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The real kubectl, unmodified, against berth's test API server: apply
# (create and re-apply), get -o json|yaml|jsonpath|wide, get -w, describe,
# patch, wait --for=jsonpath and --for=delete, delete, namespaces, a wrong
# token. Run it in a test bed:
#   tests/bed/bed.py run k8s -- /bin/sh tests/apiserver/test_kubectl.sh
set -u
DATA=$(cd "$(dirname "$0")/../data/k8s" && pwd)
: "${KUBECONFIG:?run under tests/bed/bed.py run k8s -- ...}"
K="kubectl --request-timeout=20s"
TMP=$(mktemp -d)
PIDS=""
passed=0
failed=0
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/       /'; }

# check NAME EXPECTED ACTUAL
check() {
  if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want: $2
got:  $3"; fi
}
# contains NAME NEEDLE HAYSTACK
contains() {
  case "$3" in *"$2"*) ok "$1" ;; *) fail "$1" "missing: $2
in: $3" ;; esac
}
# wait_file NAME FILE PATTERN [SECONDS]: poll FILE until a line matches.
wait_file() {
  end=$(( $(date +%s) + ${4:-30} ))
  while [ "$(date +%s)" -le "$end" ]; do
    if grep -Eq "$3" "$2" 2>/dev/null; then ok "$1"; return 0; fi
    sleep 0.05
  done
  fail "$1" "no line matching /$3/ in $2:
$(cat "$2" 2>/dev/null)"
}

# --- discovery and plain gets ------------------------------------------------
out=$($K get namespaces -o name 2>&1)
check "get namespaces" "namespace/default
namespace/kube-node-lease
namespace/kube-public
namespace/kube-system" "$out"
contains "api-resources lists pvc" "persistentvolumeclaims" "$($K api-resources 2>&1)"
contains "version" "Server Version: v1.32" "$($K version 2>&1)"

# --- apply: create ---------------------------------------------------------------
out=$($K apply -f "$DATA/storageclass.yaml" -f "$DATA/pvc.yaml" -f "$DATA/pod.yaml" 2>&1)
check "apply creates" "storageclass.storage.k8s.io/berth-nfs created
persistentvolumeclaim/data created
pod/web created" "$out"

# A watch in the background, started before the changes below (kubectl
# lists, then watches from the list's resourceVersion: nothing is missed).
$K get pvc -w >"$TMP/watch.out" 2>&1 &
PIDS="$PIDS $!"
wait_file "get -w lists the claim" "$TMP/watch.out" '^data +Pending'

# --- the PV controller's annotations and event ----------------------------------
$K wait --for=jsonpath='{.metadata.annotations.volume\.kubernetes\.io/storage-provisioner}'=berth.example.com/nfs \
  pvc/data --timeout=15s >/dev/null 2>&1 && ok "wait for the provisioner annotation" \
  || fail "wait for the provisioner annotation"
contains "ExternalProvisioning event" "Waiting for a volume to be created either by the external provisioner 'berth.example.com/nfs'" \
  "$($K get events --field-selector involvedObject.name=data 2>&1)"

# --- get in every output format --------------------------------------------------
out=$($K get pvc data 2>&1)
contains "table header" "NAME   STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE" "$out"
contains "table row" "data   Pending                                      berth-nfs      <unset>" "$out"
contains "get -o wide" "VOLUMEMODE" "$($K get pvc data -o wide 2>&1)"
contains "get pod -o wide" "NOMINATED NODE" "$($K get pod web -o wide 2>&1)"
contains "get sc" "berth-nfs   berth.example.com/nfs   Delete          Immediate           true" "$($K get sc 2>&1)"
out=$($K get pvc data -o json 2>&1)
contains "get -o json" '"kind": "PersistentVolumeClaim"' "$out"
contains "get -o json status" '"phase": "Pending"' "$out"
out=$($K get pvc data -o yaml 2>&1)
contains "get -o yaml" "storageClassName: berth-nfs" "$out"
contains "get -o yaml finalizer" "kubernetes.io/pvc-protection" "$out"
check "get -o jsonpath" "data ReadWriteMany 1Gi" \
  "$($K get pvc data -o jsonpath='{.metadata.name} {.spec.accessModes[0]} {.spec.resources.requests.storage}' 2>&1)"
check "get -o custom-columns" "data   Filesystem" \
  "$($K get pvc -o custom-columns=N:.metadata.name,M:.spec.volumeMode --no-headers 2>&1)"
check "get -l selector" "persistentvolumeclaim/data" "$($K get pvc -l app=web -o name 2>&1)"
check "get -l no match" "" "$($K get pvc -l app=none -o name 2>&1)"
contains "get -A" "default     data" "$($K get pvc -A 2>&1)"

# --- describe ----------------------------------------------------------------------
out=$($K describe pvc data 2>&1)
contains "describe: status" "Status:        Pending" "$out"
contains "describe: used by" "Used By:       web" "$out"
contains "describe: events" "ExternalProvisioning" "$out"
out=$($K describe pod web 2>&1)
contains "describe pod: volume" "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)" "$out"
contains "describe pod: mount" "/usr/share/nginx/html from data (rw)" "$out"

# --- apply: re-apply after a change ------------------------------------------------
sed 's/app: web/app: web-v2/' "$DATA/pvc.yaml" >"$TMP/pvc2.yaml"
check "re-apply configures" "persistentvolumeclaim/data configured" "$($K apply -f "$TMP/pvc2.yaml" 2>&1)"
check "re-apply took the label" "web-v2" "$($K get pvc data -o jsonpath='{.metadata.labels.app}')"
check "re-apply unchanged" "persistentvolumeclaim/data unchanged" "$($K apply -f "$TMP/pvc2.yaml" 2>&1)"
sed 's/image: nginx:1.27/image: nginx:1.28/' "$DATA/pod.yaml" >"$TMP/pod2.yaml"
check "re-apply pod (strategic merge)" "pod/web configured" "$($K apply -f "$TMP/pod2.yaml" 2>&1)"
check "pod image changed, mount kept" "nginx:1.28 /usr/share/nginx/html" \
  "$($K get pod web -o jsonpath='{.spec.containers[0].image} {.spec.containers[0].volumeMounts[0].mountPath}')"
contains "apply --dry-run=server" "persistentvolumeclaim/data configured (server dry run)" \
  "$($K apply --dry-run=server -f "$DATA/pvc.yaml" 2>&1)"

# --- patch ---------------------------------------------------------------------------
check "patch merge" "persistentvolumeclaim/data patched" \
  "$($K patch pvc data --type=merge -p '{"metadata":{"labels":{"tier":"db"}}}' 2>&1)"
check "patch json" "persistentvolumeclaim/data patched" \
  "$($K patch pvc data --type=json -p '[{"op":"add","path":"/metadata/annotations/note","value":"x"}]' 2>&1)"
check "patch strategic" "persistentvolumeclaim/data patched" \
  "$($K patch pvc data -p '{"metadata":{"labels":{"zone":"a"}}}' 2>&1)"
check "patch results" "db x a" \
  "$($K get pvc data -o jsonpath='{.metadata.labels.tier} {.metadata.annotations.note} {.metadata.labels.zone}')"
contains "label/annotate" "persistentvolumeclaim/data labeled" "$($K label pvc data extra=1 2>&1)"
contains "patch rejected (422)" "field can not be less than previous value" \
  "$($K patch pvc data -p '{"spec":{"resources":{"requests":{"storage":"1Mi"}}}}' 2>&1)"
# The first line was there before the updates: wait for a second one.
end=$(( $(date +%s) + 30 ))
while [ "$(grep -c '^data ' "$TMP/watch.out")" -lt 2 ] && [ "$(date +%s)" -le "$end" ]; do
  sleep 0.05
done
lines=$(grep -c '^data ' "$TMP/watch.out")
[ "$lines" -ge 2 ] && ok "get -w printed updates ($lines lines)" || fail "get -w printed updates" "$(cat "$TMP/watch.out")"

# --- bind: a PV that names the claim; kubectl wait for Bound ---------------------------
# A sentinel volume first: once the watch has shown it, the watch is live,
# so pv-data's binding must arrive as a MODIFIED event (not be folded into
# the initial ADDED of a watch that started late on a loaded machine).
$K apply -f - >/dev/null <<'EOF_PV'
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-sentinel}
spec:
  capacity: {storage: 1Mi}
  accessModes: ["ReadWriteOnce"]
  storageClassName: none
  nfs: {server: 127.0.0.1, path: /sentinel}
EOF_PV
$K get pv -w --output-watch-events >"$TMP/pvwatch.out" 2>&1 &
PIDS="$PIDS $!"
wait_file "get pv -w is live" "$TMP/pvwatch.out" '^ADDED +pv-sentinel ' 30
$K wait --for=jsonpath='{.status.phase}'=Bound pvc/data --timeout=30s >"$TMP/wait.out" 2>&1 &
WAIT=$!
check "apply PV" "persistentvolume/pv-data created" "$($K apply -f "$DATA/pv-prebound.yaml" 2>&1)"
if wait "$WAIT"; then ok "wait --for=jsonpath Bound"; else fail "wait --for=jsonpath Bound" "$(cat "$TMP/wait.out")"; fi
check "wait output" "persistentvolumeclaim/data condition met" "$(cat "$TMP/wait.out")"
check "claim bound" "Bound pv-data 1Gi yes yes" \
  "$($K get pvc data -o jsonpath='{.status.phase} {.spec.volumeName} {.status.capacity.storage} {.metadata.annotations.pv\.kubernetes\.io/bind-completed} {.metadata.annotations.pv\.kubernetes\.io/bound-by-controller}')"
check "pv bound" "Bound default/data" "$($K get pv pv-data -o jsonpath='{.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name}')"
contains "pv table" "pv-data   1Gi        RWX            Retain           Bound    default/data   berth-nfs" "$($K get pv pv-data 2>&1)"
wait_file "get -w saw Bound" "$TMP/watch.out" '^data +Bound +pv-data +1Gi +RWX +berth-nfs' 30
wait_file "get pv -w saw MODIFIED Bound" "$TMP/pvwatch.out" '^MODIFIED +pv-data .* Bound ' 30
$K delete pv pv-sentinel >/dev/null 2>&1

# --- delete, wait --for=delete, Released ------------------------------------------------
check "delete pod" 'pod "web" deleted' "$($K delete pod web 2>&1)"
check "delete pvc --wait=false" 'persistentvolumeclaim "data" deleted' "$($K delete pvc data --wait=false 2>&1)"
if $K wait --for=delete pvc/data --timeout=20s >"$TMP/wd.out" 2>&1; then ok "wait --for=delete"; else fail "wait --for=delete" "$(cat "$TMP/wd.out")"; fi
if $K wait --for=jsonpath='{.status.phase}'=Released pv/pv-data --timeout=20s >/dev/null 2>&1; then
  ok "pv Released"; else fail "pv Released" "$($K get pv -o yaml)"; fi
check "get deleted" 'Error from server (NotFound): persistentvolumeclaims "data" not found' "$($K get pvc data 2>&1)"

# --- namespaces and imperative creates (protobuf bodies) ---------------------------------
check "create ns" "namespace/scratch created" "$($K create namespace scratch 2>&1)"
check "create cm" "configmap/c1 created" "$($K -n scratch create configmap c1 --from-literal=a=b 2>&1)"
check "create secret" "secret/s1 created" "$($K -n scratch create secret generic s1 --from-literal=p=q 2>&1)"
check "secret data" "cQ==" "$($K -n scratch get secret s1 -o jsonpath='{.data.p}')"
check "delete ns (waits)" 'namespace "scratch" deleted' "$($K delete namespace scratch --timeout=30s 2>&1)"
check "ns gone" 'Error from server (NotFound): namespaces "scratch" not found' "$($K get ns scratch 2>&1)"

# --- errors as kubectl shows them ---------------------------------------------------------
contains "wrong token" "Unauthorized" "$($K --token=wrong get pods 2>&1)"
contains "AlreadyExists" 'storageclasses.storage.k8s.io "berth-nfs" already exists' "$($K create -f "$DATA/storageclass.yaml" 2>&1)"
contains "immutable StorageClass" "updates to parameters are forbidden" \
  "$(sed 's/onDelete: delete/onDelete: retain/' "$DATA/storageclass.yaml" | $K apply -f - 2>&1)"
check "delete sc" 'storageclass.storage.k8s.io "berth-nfs" deleted' "$($K delete -f "$DATA/storageclass.yaml" 2>&1)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
