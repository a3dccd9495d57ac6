#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/provision: 1,000 claims created at once against berth-provisioner
# (release build, NFS backend) on the test bed; prints claims per second,
# p50/p99 time from claim to Bound, API requests per claim and the
# provisioner's peak RSS. Not part of the test run.
#
#   bench/provision/run.sh [CLAIMS [PROVISIONER FLAGS...]]
#
# Builds berth-provisioner without sanitizers into build-prov-rel/
# (Release), or uses BERTH_PROVISIONER if set (to compare builds), starts
# the bed (tests/bed/bed.py run k8s nfs: the real control plane) and runs
# bench_provision.py in it.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build-prov-rel"
claims=${1:-1000}
shift || true

if [ -z "${BERTH_PROVISIONER:-}" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DBERTH_BUILD_TESTS=OFF -DBERTH_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$build" --target berth-provisioner -j"$(nproc)" >/dev/null
fi
prov=${BERTH_PROVISIONER:-$build/provisioner/berth-provisioner}

# The PV binder at 20 requests a second (kube-controller-manager's
# default) would be what this measures: the bed's is raised
# (tests/bed/bed_k8s.py, BERTH_BED_KCM_QPS=20 for the default).
export BERTH_BED_KCM_QPS=${BERTH_BED_KCM_QPS:-1000}
echo "kcm_qps=$BERTH_BED_KCM_QPS"
echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') x $(nproc)"
exec /usr/bin/python3 "$root/tests/bed/bed.py" run k8s nfs -- \
  /usr/bin/python3 "$root/bench/provision/bench_provision.py" \
  "$prov" "$claims" "$@"
