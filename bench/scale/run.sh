#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/scale: berth-provisioner's resident memory, time to settle and idle
# CPU among N claims + N PVs of another provisioner and M claims of its own
# (release build, the bed's real Kubernetes control plane and ganesha). Not
# part of the test run.
#
#   bench/scale/run.sh [N[,N...] [M [PROVISIONER FLAGS...]]]   # 1000,10000,50000 1000
#
# Builds berth-provisioner, scale-populate and bench/informer's
# informer-bench without sanitizers into build-scale-rel/ (Release), or
# uses BERTH_PROVISIONER if set (to measure another build), starts the bed
# (tests/bed/bed.py run k8s nfs) and runs bench_scale.py in it (its
# environment knobs: IDLE_S, POPULATE_THREADS, POPULATE_UNTIL, VIA_PROXY,
# INFORMER_AT; see its top).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build-scale-rel"
n=${1:-1000,10000,50000}
m=${2:-1000}
shift 2 || shift $# || true

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DBERTH_BUILD_TESTS=OFF -DBERTH_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target berth-provisioner berth -j2 >/dev/null
libs=$(pkg-config --libs libcurl jansson libcrypto libnfs libcares yaml-0.1 \
       expat libmicrohttpd)
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra \
  -I"$root/include" -I"$build/include" \
  "$root/bench/scale/scale-populate.c" "$build/lib/libberth.a" \
  $libs -lpthread -o "$build/scale-populate"
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra \
  -I"$root/include" -I"$build/include" \
  "$root/bench/informer/informer-bench.c" "$build/lib/libberth.a" \
  $libs -lpthread -o "$build/informer-bench"
prov=${BERTH_PROVISIONER:-$build/provisioner/berth-provisioner}
# bench/informer's figures are taken on this bed when N reaches
# INFORMER_AT (10000): its 10,000 pairs are what that bench needs.
export INFORMER_BENCH="$build/informer-bench"

# The PV binder at 20 requests a second (kube-controller-manager's
# default) would be what this measures: the bed's is raised
# (tests/bed/bed_k8s.py, BERTH_BED_KCM_QPS=20 for the default).
export BERTH_BED_KCM_QPS=${BERTH_BED_KCM_QPS:-1000}
echo "kcm_qps=$BERTH_BED_KCM_QPS"
echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') x $(nproc)"
echo "provisioner=$prov"
exec /usr/bin/python3 "$root/tests/bed/bed.py" run k8s nfs -- \
  /usr/bin/python3 "$root/bench/scale/bench_scale.py" "$prov" \
  "$build/scale-populate" "$n" "$m" "$@"
