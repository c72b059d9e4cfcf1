#!/usr/bin/env bash
# Shears' dense batch-1 layer (JMH SparseLayerBench, dense, batch 1, 4096 x 4096) against numpy's
# OpenBLAS GEMV, run alternately ROUNDS times (default 3): on a shared machine the memory bandwidth
# drifts from minute to minute, so only figures taken side by side compare.
#   bench/gemv-vs-numpy.sh [ROUNDS]        (needs python3 with numpy; builds the JMH jar first)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
source "$root/bin/find-jdk25.sh"
cd "$root"
./mvnw -q -B -o -Pbench -pl bench -am -DskipTests package >&2 || ./mvnw -q -B -Pbench -pl bench -am -DskipTests package >&2
for ((r = 1; r <= ${1:-3}; r++)); do
  echo "round $r"
  python3 bench/peers/gemv_numpy.py
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar org.openjdk.jmh.Main \
    SparseLayerBench -p batch=1 -p format=dense -f 1 -wi 5 -i 10 2>/dev/null | grep '^SparseLayerBench' | sed 's/^/shears /'
done
