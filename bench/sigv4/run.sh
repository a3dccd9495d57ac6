#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/sigv4: SigV4 signatures per second on one thread, libberth beside
# botocore on the same machine. Not part of the test run.
#
#   bench/sigv4/run.sh [SECONDS]        # 2 seconds per figure
#
# Builds libberth without sanitizers into $BERTH_BENCH_BUILD (default
# build-bench/, RelWithDebInfo), compiles sigv4-bench against it, and
# prints key=value lines from both.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BERTH_BENCH_BUILD:-$root/build-bench}
seconds=${1:-2}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBERTH_BUILD_TESTS=OFF -DBERTH_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target berth -j"$(nproc)" >/dev/null
libs=$(pkg-config --libs libcurl jansson libcrypto libnfs libcares yaml-0.1 \
       expat libmicrohttpd)
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra \
  -I"$root/include" -I"$build/include" \
  "$root/bench/sigv4/sigv4-bench.c" "$build/lib/libberth.a" \
  $libs -lpthread -o "$build/sigv4-bench"

echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "openssl=$(openssl version | cut -d' ' -f2)"
"$build/sigv4-bench" "$seconds"
/usr/bin/python3 "$root/bench/sigv4/botocore_bench.py" "$seconds"
