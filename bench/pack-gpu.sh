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
# model-import's test classes and a second copy of the bundled data set (below), and (measured on
# 2026-11-21 with jar tf, jdeps -filter:none -verbose:class over every .device/classes folder, and
# ./mvnw -o dependency:tree per module):
#   - lib/'s junit-jupiter*, junit-platform-commons/-engine, opentest4j and apiguardian jars (1.7 MB):
#     every class in them is also in junit-platform-console-standalone (only module-info.class differs),
#     which device_tests runs with -jar, so the launcher's app class loader finds those classes before the
#     test class loader reaches lib/; no main class of any module references org.junit, opentest4j or
#     apiguardian. (To run JUnit under another program, as with compute-sanitizer, use
#     `$JAVA -jar .device/junit-platform-console-standalone-*.jar execute --class-path "$CP" ...`:
#     the launcher's own classes were only ever in the standalone jar.)
#   - jmh-core, jopt-simple and commons-math3 (2.8 MB, bench's compile scope: jmh-core brings the other two;
#     no source imports commons-math3) and jmh-generator-annprocess (the annotation processor, provided
#     scope), with bench's jmh_generated classes: only bench's CPU JMH benchmarks (RunBenchmarks, SgemmBench,
#     SparseLayerBench, SparseModelBench, TrainStepBench, OrtDenseBench) reference org.openjdk.jmh; what the
#     GPU machine runs (bench/run-gpu.sh: dev.shears.bench.gpu's GpuBench, TrainBench, SparseGpuBench,
#     GpuCharts, timed with CUDA events, and every *IT) reaches none of them. bench's two tests of them
#     (RunBenchmarksJsonTest: a constant; SparseModelBenchTest: the model it builds) load only what they
#     use and pass without JMH (checked with device_tests);
#   - jhdf's slf4j-api (2.0.18 when written): the same entries as cli's (2.0.17, beside slf4j-nop of the
#     same version), which comes first on env.sh's sorted $CP, so no class was ever loaded from it.
# Kept though no GPU test reads HDF5: lz4-java, compress-lzf, commons-lang3 and slf4j-api are jhdf's runtime
# dependencies, and jhdf's FilterManager instantiates its LZ4, LZF and bitshuffle filters as soon as it is
# initialised; model-import's Keras import/export uses jhdf, and cli's commands and tests reach it.
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
rm -f .device/lib/{junit-jupiter,junit-platform-commons,junit-platform-engine,opentest4j,apiguardian-api}-[0-9]*.jar \
  .device/lib/junit-jupiter-{api,engine,params}-[0-9]*.jar
rm -f .device/lib/{jmh-core,jmh-generator-annprocess,jopt-simple,commons-math3}-[0-9]*.jar
rm -rf .device/classes/bench-main/dev/shears/bench/jmh_generated .device/classes/bench-main/META-INF/BenchmarkList \
  .device/classes/bench-main/META-INF/CompilerHints
# the slf4j-api beside slf4j-nop (cli's) is kept, any other version (jhdf's) goes, whatever the versions are
nop=$(ls .device/lib/slf4j-nop-*.jar 2>/dev/null | head -n 1)
if [ -n "$nop" ]; then
  for j in .device/lib/slf4j-api-*.jar; do [ "$j" = "${nop/slf4j-nop-/slf4j-api-}" ] || rm -f "$j"; done
fi
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
# Each module's main classes travel as one jar (measured on 2026-11-22: 5.3 MB of class folders, 2.0 MB as
# jars). Main code reads its resources only as streams (getResourceAsStream: the kernel fatbin, the recipes,
# the bundled data set), which work from a jar; env.sh's $CP lists whatever is in .device/classes. The *-test
# folders stay folders: device_tests scans them for tests, and tests open resources as files
# (Path.of(getResource(..).toURI())), which a jar cannot give.
for d in .device/classes/*-main; do
  [[ -d $d ]] || continue
  "$SHEARS_JDK/bin/jar" --create --file "$d.jar" -C "$d" . && rm -rf "$d"
done
# The device tool's 64 MiB hold the whole working tree that travels: the tracked files, the untracked ones
# git does not ignore, and .device (du -b also counts its folders' entries: a slight overestimate).
limit=$(( 64 * 1048576 ))
tree=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | du -cb --files0-from=- | tail -1 | cut -f1)
dev=$(du -sb .device | cut -f1)
left=$(( limit - tree - dev ))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "pack-gpu.sh: .device is $(mib "$dev") MiB, with the tree's files $(mib $(( tree + dev ))) MiB; $(mib "$left") MiB left of the 64 MiB the device tool carries" >&2
if [[ $left -le 0 ]]; then
  echo "pack-gpu.sh: too big to carry; see what grew: du -sh .device/* and the largest tracked files (sourcing .device/env.sh here unpacks 94 MB into .device/jre: delete it before carrying)" >&2; exit 1
elif [[ $left -lt $(( 4 * 1048576 )) ]]; then
  echo "pack-gpu.sh: WARNING: only $(mib "$left") MiB of headroom (under 4 MiB); a few more commits of logs or data and the GPU session cannot start: trim .device or move large tracked files out" >&2
fi
