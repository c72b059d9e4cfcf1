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
# GPU machine uses it) and the modules' own jars, which duplicate .device/classes/<module>-main|test.
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
bash "$patched"
rm -f .device/lib/onnxruntime-*.jar
for m in $(sed -n 's|^ *<module>\(.*\)</module>|\1|p' pom.xml); do rm -f .device/lib/"$m"-[0-9]*.jar; done
size=$(du -sm .device | cut -f1)
echo "pack-gpu.sh: .device is ${size} MiB (the device tool carries at most 64 MiB)" >&2
[[ $size -lt 64 ]] || { echo "pack-gpu.sh: too big to carry; see what grew: du -sh .device/*" >&2; exit 1; }
