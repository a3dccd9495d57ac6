#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/informer: time and peak RSS for libberth's informer to list and
# watch 10,000 PersistentVolumeClaims and 10,000 PersistentVolumes into its
# cache, end-to-end watch events per second, and the watch decoder's events
# per second. Not part of the test run.
#
#   bench/informer/run.sh [CLAIMS [VOLUMES [CHURN]]]
#
# Builds libberth without sanitizers into build-bench/ (RelWithDebInfo),
# compiles informer-bench against it, starts the bed's real control plane
# (tests/bed/bed.py run k8s) and prints key=value figures.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build-bench"
claims=${1:-10000}
volumes=${2:-10000}
churn=${3:-2000}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBERTH_BUILD_TESTS=OFF -DBERTH_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target berth -j"$(nproc)" >/dev/null
libs=$(pkg-config --libs libcurl jansson libcrypto libnfs libcares yaml-0.1 \
       expat libmicrohttpd)
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra \
  -I"$root/include" -I"$build/include" \
  "$root/bench/informer/informer-bench.c" "$build/lib/libberth.a" \
  $libs -lpthread -o "$build/informer-bench"

# The PV binder at 20 requests a second (kube-controller-manager's
# default) would be what this measures: the bed's is raised
# (tests/bed/bed_k8s.py, BERTH_BED_KCM_QPS=20 for the default).
export BERTH_BED_KCM_QPS=${BERTH_BED_KCM_QPS:-1000}
echo "kcm_qps=$BERTH_BED_KCM_QPS"
echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "claims=$claims volumes=$volumes"
"$build/informer-bench" decode 200000
exec /usr/bin/python3 "$root/tests/bed/bed.py" run k8s -- /bin/sh -c "
  '$build/informer-bench' populate $claims $volumes 8 &&
  t0=\$(date +%s%N) &&
  until curl -sf -XPOST -d '{\"timeout\": 20}' \"\$BERTH_K8S_ADMIN_URL/idle\" |
        grep -q '\"idle\": true'; do :; done &&
  echo populate_bind_ms=\$(( (\$(date +%s%N) - t0) / 1000000 )) &&
  '$build/informer-bench' sync whole &&
  '$build/informer-bench' sync trimmed &&
  '$build/informer-bench' sync foreign &&
  '$build/informer-bench' churn $churn"
