#!/usr/bin/env bash
# Packs .device/ for the GPU machine (bench/run-gpu.sh, the *IT tests): runs ../shared/tools/device-pack
# with two adaptations, then trims what no GPU run needs so the device tool's carry (64 MiB) holds it.
#   bench/pack-gpu.sh            # from anywhere in the checkout
# Adaptations (measured on 2026-11-21 with the device-pack of that day; the script stops if its text changed):
#   - in a git worktree .git is a file, so device-pack's `.git/info/exclude` line fails; .device/ is in
#     .gitignore anyway, so that line is skipped;
#   - device-pack copies dependencies with a bare `mvn dependency:copy-dependencies`, which resolves the
#     project's own modules only from ~/.m2 (after `mvn install`, which helpers must not run: ~/.m2 is
#     shared); run in the same Maven invocation as `package`, the reactor provides them.
# Trimmed: onnxruntime's jar (54 MB of natives for the CPU ONNX Runtime benchmark and tests; nothing on the
# GPU machine uses it), the modules' own jars, which duplicate .device/classes/<module>-main|test,
# model-import's test classes and a second copy of the bundled data set (below).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
source bin/find-jdk25.sh
export SHEARS_JDK=${SHEARS_JDK:-$JAVA_HOME}
tool=${SHEARS_DEVICE_PACK:-$root/../shared/tools/device-pack}
[[ -f $tool ]] || { echo "pack-gpu.sh: no device-pack at $tool (set SHEARS_DEVICE_PACK to it)" >&2; exit 2; }
for pattern in '^grep -qxF .*info/exclude$' '"$mvn" -q dependency:copy-dependencies'; do
  grep -q -- "$pattern" "$tool" || { echo "pack-gpu.sh: $tool no longer has the line matching '$pattern'; adapt this script (or run device-pack as GPU.md says)" >&2; exit 2; }
done
patched=$(mktemp)
trap 'rm -f "$patched"' EXIT
sed -e 's|^grep -qxF .*info/exclude$|true # .device/ is in .gitignore (and in a worktree .git is a file)|' \
    -e 's|"$mvn" -q dependency:copy-dependencies|"$mvn" -q -o package -DskipTests dependency:copy-dependencies|' "$tool" > "$patched"
# Settle (gpu-core) asks the JIT whether it is compiling through jdk.management's DiagnosticCommand
# MBean, whose commands are only listed with jdk.jfr present (measured: 1 operation without it, 53 with);
# device-pack's default module list lacks both (without them Settle falls back to the
# compilation time alone).
export SHEARS_JLINK_MODULES=${SHEARS_JLINK_MODULES:-java.base,java.logging,java.management,java.naming,java.xml,java.sql,java.desktop,jdk.unsupported,jdk.incubator.vector,jdk.zipfs,jdk.management,jdk.jfr}
bash "$patched"
rm -f .device/lib/onnxruntime-*.jar
for m in $(sed -n 's|^ *<module>\(.*\)</module>|\1|p' pom.xml); do rm -f .device/lib/"$m"-[0-9]*.jar; done
# model-import's tests (12 MB of copied Keras/ONNX files) have no GPU test among them
rm -rf .device/classes/model-import-test
# The bundled Fashion-MNIST split (6 MB) travels with the repo anyway: put its source folder on the
# class path through a relative link (the link travels, and what it points to is in the repo)
# instead of a second copy.
data=dev/shears/core/data/fashion-mnist-small
if [[ -d .device/classes/gpu-core-main/$data ]]; then
  rm -rf ".device/classes/gpu-core-main/$data"
  ln -sfn ../../gpu-core/src/main/resources .device/classes/gpu-core-resources
fi
# The device tool's 64 MiB hold the whole working tree that travels: the tracked files and .device.
tree=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
dev=$(du -sb .device | cut -f1)
total=$(( (tree + dev) / 1048576 ))
echo "pack-gpu.sh: .device is $((dev / 1048576)) MiB, with the tracked files ${total} MiB (the device tool carries at most 64 MiB)" >&2
[[ $total -lt 64 ]] || { echo "pack-gpu.sh: too big to carry; see what grew: du -sh .device/* and the largest tracked files" >&2; exit 1; }
