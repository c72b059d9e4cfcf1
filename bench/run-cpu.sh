#!/usr/bin/env bash
# Builds the JMH uber-jar and runs the CPU benchmarks, writing bench/results/cpu-<date>.json.
#   bench/run-cpu.sh                  # everything, full JMH settings (~15 min on 2 cores)
#   bench/run-cpu.sh --quick          # shorter iterations (~6 min)
#   bench/run-cpu.sh --only sgemm     # groups (comma-separated): sgemm, sparse, ort, models, train
#   bench/run-cpu.sh --sweep          # sparse layer at sparsity 0.5 ... 0.99 (break-even)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
source "$root/bin/find-jdk25.sh"
cd "$root"
./mvnw -q -B -o -Pbench -pl bench -am -DskipTests package >&2 || ./mvnw -q -B -Pbench -pl bench -am -DskipTests package >&2
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -jar bench/target/benchmarks.jar "$@"
