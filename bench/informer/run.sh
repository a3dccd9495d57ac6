#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/informer: time and peak RSS for libberth's informer to list and
# watch PAIRS PersistentVolumeClaims and their PersistentVolumes (10,000
# each) into its cache, end-to-end watch events per second, and the watch
# decoder's events per second. Not part of the test run.
#
#   bench/informer/run.sh [PAIRS [CHURN]]     # 10000 2000
#
# Builds libberth without sanitizers into build-bench/ (RelWithDebInfo),
# compiles informer-bench and bench/scale's scale-populate against it,
# starts the bed's real control plane (tests/bed/bed.py run k8s), creates
# the pairs as bound claims and volumes of another provisioner (see
# bench/scale/scale-populate.c) and prints key=value figures. Everything
# talks to kube-apiserver itself, not through the bed's fault proxy, but
# the last churn, which goes through the proxy for comparison.
# bench/scale/run.sh takes the same figures on its own bed when its N
# reaches 10,000.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build-bench"
pairs=${1:-10000}
churn=${2:-2000}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBERTH_BUILD_TESTS=OFF -DBERTH_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target berth -j2 >/dev/null
libs=$(pkg-config --libs libcurl jansson libcrypto libnfs libcares yaml-0.1 \
       expat libmicrohttpd)
for prog in informer/informer-bench scale/scale-populate; do
  cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra \
    -I"$root/include" -I"$build/include" \
    "$root/bench/$prog.c" "$build/lib/libberth.a" \
    $libs -lpthread -o "$build/$(basename "$prog")"
done

# The PV binder at 20 requests a second (kube-controller-manager's
# default) would slow the populating: the bed's is raised
# (tests/bed/bed_k8s.py, BERTH_BED_KCM_QPS=20 for the default).
export BERTH_BED_KCM_QPS=${BERTH_BED_KCM_QPS:-1000}
echo "kcm_qps=$BERTH_BED_KCM_QPS"
echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "pairs=$pairs"
"$build/informer-bench" decode 200000
exec /usr/bin/python3 "$root/tests/bed/bed.py" run k8s -- /bin/sh -c "
  set -e
  proxy=\$KUBECONFIG
  export KUBECONFIG=\$BERTH_K8S_ADMIN_KUBECONFIG
  '$build/scale-populate' foreign $pairs 16
  t0=\$(date +%s%N)
  until curl -sf -XPOST -d '{\"timeout\": 20}' \"\$BERTH_K8S_ADMIN_URL/idle\" |
        grep -q '\"idle\": true'; do :; done
  echo populate_bind_ms=\$(( (\$(date +%s%N) - t0) / 1000000 ))
  '$build/scale-populate' check $pairs
  kubectl get --raw /api/v1/namespaces/scale-f-1/persistentvolumeclaims/fc-000001 \
    > \"\${TMPDIR:-/tmp}/claim.json\"
  '$build/informer-bench' decode 50000 \"\${TMPDIR:-/tmp}/claim.json\"
  '$build/informer-bench' decode 50000 \"\${TMPDIR:-/tmp}/claim.json\" drop
  '$build/informer-bench' sync whole
  '$build/informer-bench' sync trimmed
  '$build/informer-bench' sync foreign
  '$build/informer-bench' churn $churn
  '$build/informer-bench' churn $churn trimmed
  echo churn_via=proxy
  KUBECONFIG=\$proxy '$build/informer-bench' churn $churn"
