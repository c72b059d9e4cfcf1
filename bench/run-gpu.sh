#!/usr/bin/env bash
# Issues 5 and 6's one command on the GPU machine: Shears' GPU benchmarks and the PyTorch peers on
# the same work, joined into one JSON with the ratios, plus PNG charts. Run from the project root; it
# sources .device/env.sh itself when $JAVA or $CP is unset (see bench/README.md, "GPU benchmarks"):
#   bench/run-gpu.sh [--quick] [--only threshold,train,sparse]
# Stages (each under its own time limit, so one that overruns loses only its own figures):
#   threshold  GpuBench (threshold, fused updates, copy bandwidth) + threshold_torch.py + update_torch.py
#   train      TrainBench --backend cuda (training step, whole GMP run) + train_torch.py (eager, torch.compile)
#   sparse     SparseGpuBench (cuBLAS vs cuSPARSE CSR / Blocked-ELL, cuSPARSELt 2:4)
# then compare.py joins them and GpuCharts draws the charts. What comes back in ${OUT:-bench/results/gpu-DATE}
# (the device returns at most 8 files): gpu-bench.json (everything joined, the sparse sweep under
# "sparse"), gpu-bench.png (matplotlib, when installed), gpu-train.png, gpu-sparse.png, run-gpu.log,
# raw.tar.gz (every stage's own JSON and stages.tsv, rewritten after every stage); gpu-bench.json's
# "stages" gives every stage's outcome (ok, failed with its rc, timed out, skipped for the deadline, not
# requested) and "missing" the figures of each stage that left no file. Stage limits add up to 535 s (full)
# and 335 s (--quick); on top of them one deadline, SHEARS_GPU_BUDGET_S (default 560 s from the start,
# env.sh's unpacking and library search included), shortens or skips the stages that would run past it,
# keeping 30 s for compare and charts: the device kills the whole command at 600 s, and a killed
# command returns only what is already under $OUT.
set -uo pipefail # not -e: a failed stage must not stop the others
t_start=$(date +%s)
budget=${SHEARS_GPU_BUDGET_S:-560}
if [[ ! $budget =~ ^[0-9]+$ ]]; then
  echo "run-gpu.sh: SHEARS_GPU_BUDGET_S='$budget' must be a whole number of seconds (default 560)" >&2
  exit 2
fi
deadline=$(( t_start + budget ))
quick=()
only=threshold,train,sparse
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=(--quick); shift ;;
    --only) only=$2; shift 2 ;;
    *) echo "run-gpu.sh: unknown argument $1; usage: bench/run-gpu.sh [--quick] [--only threshold,train,sparse]" >&2; exit 2 ;;
  esac
done
# env.sh sets JAVA and CP without exporting them, so a sourcing shell does not pass them on: source it here
if [[ -z ${JAVA:-} || -z ${CP:-} ]]; then
  [[ -f .device/env.sh ]] || { echo "run-gpu.sh: no .device/env.sh here; run bench/pack-gpu.sh on the build machine and carry .device" >&2; exit 2; }
  source .device/env.sh
fi
# The CUDA 13 wheels PyTorch runs on (site-packages/nvidia/cu13/lib, nvidia/cusparselt/lib) first, found
# by the Python that imports them: env.sh's search covers only the root file system (find / -xdev).
wheel_libs=$(python3 -c 'import glob, site
dirs = site.getsitepackages() + [site.getusersitepackages()]
print(":".join(sorted({d for p in dirs for d in glob.glob(p + "/nvidia/*/lib")})))' 2>/dev/null || true)
[[ -n $wheel_libs ]] && export SHEARS_CUDA_LIB_PATH=$wheel_libs${SHEARS_CUDA_LIB_PATH:+:$SHEARS_CUDA_LIB_PATH}
out=${OUT:-bench/results/gpu-$(date +%F)}
mkdir -p "$out"
work=$(mktemp -d)
log=$out/run-gpu.log
: > "$log"
q=${#quick[@]}
# per-stage limits in seconds (full, quick); their sum stays under the device's 600 s per command
limit() { if [[ $q -gt 0 ]]; then echo "$2"; else echo "$1"; fi; }
wants() { [[ ,$only, == *,$1,* ]]; }

reserve=30 # seconds kept for compare and charts
# Every stage's outcome, one line each, for the summary JSON (compare.py --stages / --record-stages
# put it under "stages"): status ok, failed (rc), timed-out (rc 124 or 137, timeout's), skipped
# (the deadline too near; left_s) or not-requested (--only). In $work, so raw.tar.gz carries it.
stages=$work/stages.tsv
printf 'stage\tstatus\trc\tseconds\tlimit_s\tleft_s\n' > "$stages"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$stages"; } # record STAGE STATUS RC SECONDS LIMIT_S LEFT_S
not_requested() { local s; for s in "$@"; do record "$s" not-requested "" "" "" ""; done; }
stage() { # stage NAME LIMIT_S COMMAND...: runs it with a time limit, logs output, rc and seconds, records the outcome
  local name=$1 lim=$2; shift 2
  local t0; t0=$(date +%s)
  # what is left before the deadline, less the reserve (the final stages are what the reserve is for)
  local keep=$reserve; [[ $name == compare || $name == charts ]] && keep=0
  local left=$(( deadline - t0 - keep ))
  if [[ $left -lt 10 ]]; then
    echo "== $name: SKIPPED, ${left} s left before the ${SHEARS_GPU_BUDGET_S:-560} s deadline" >> "$log"
    record "$name" skipped "" "" "" "$left"
    return
  fi
  [[ $left -lt $lim ]] && lim=$left
  echo "== $name (limit ${lim} s): $*" >> "$log"
  timeout --kill-after=5 "$lim" "$@" >> "$log" 2>&1
  local rc=$? status=ok
  [[ $rc -ne 0 ]] && status=failed
  [[ $rc -eq 124 || $rc -eq 137 ]] && status=timed-out
  local took=$(( $(date +%s) - t0 ))
  echo "== $name: rc=$rc ($([[ $status == timed-out ]] && echo 'TIMED OUT, partial or no figures; ')$took s)" >> "$log"
  record "$name" "$status" "$rc" "$took" "$lim" ""
  # every stage's own JSON so far, so that a command killed later still returns them
  tar -C "$work" -czf "$out/raw.tar.gz" . 2>> "$log"
}

{
  echo "run-gpu.sh $(date -Is) quick=$q only=$only"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 || true
  echo "SHEARS_CUDA_LIB_PATH=${SHEARS_CUDA_LIB_PATH:-}"
  echo "started $(( $(date +%s) - t_start )) s after the script (env.sh), deadline in $(( deadline - $(date +%s) )) s"
} >> "$log"

if wants threshold; then
  stage gpubench "$(limit 100 60)" $JAVA -Xmx48g -cp "$CP" dev.shears.bench.gpu.GpuBench --out "$work/shears.json" \
    --shapes "$work/shapes.json" "${quick[@]}"
  stage torch-threshold "$(limit 90 45)" python3 bench/peers/threshold_torch.py --shapes "$work/shapes.json" \
    --out "$work/torch_threshold.json" --reps 5 "${quick[@]}"
  stage torch-update "$(limit 25 20)" python3 bench/peers/update_torch.py --out "$work/torch_update.json" \
    $([[ $q -gt 0 ]] && echo --n 1e7)
else
  not_requested gpubench torch-threshold torch-update
fi
# the real Fashion-MNIST split bundled in gpu-core (12k train, 2k test): it travels with the repository;
# SHEARS_TRAIN_DATA=synthetic uses SyntheticImages (60k/10k of Fashion-MNIST's shape) instead
data=${SHEARS_TRAIN_DATA:-gpu-core/src/main/resources/dev/shears/core/data/fashion-mnist-small}
data_args=(); [[ $data != synthetic ]] && data_args=(--data "$data")
# SHEARS_TRAIN_BACKEND=cpu rehearses the train stage on a machine without a GPU (not a result to commit)
if wants train; then
  stage trainbench "$(limit 90 60)" $JAVA -Xmx16g -cp "$CP" dev.shears.bench.gpu.TrainBench --backend "${SHEARS_TRAIN_BACKEND:-cuda}" \
    --out "$work/train.json" --plan "$work/plan.json" "${data_args[@]}" "${quick[@]}"
  stage torch-train "$(limit 100 60)" python3 bench/peers/train_torch.py --plan "$work/plan.json" --out "$work/torch_train.json" \
    "${data_args[@]}"
else
  not_requested trainbench torch-train
fi
if wants sparse; then
  stage sparse "$(limit 100 60)" $JAVA -Xmx32g -cp "$CP" dev.shears.bench.gpu.SparseGpuBench --out "$work/sparse.json" "${quick[@]}"
else
  not_requested sparse
fi

stage compare 15 python3 bench/peers/compare.py --shears "$work/shears.json" "$work/train.json" \
  --torch "$work/torch_threshold.json" "$work/torch_update.json" "$work/torch_train.json" \
  --sparse "$work/sparse.json" --stages "$stages" --out "$out/gpu-bench.json" --png "$out/gpu-bench.png" --quiet
stage charts 15 $JAVA -cp "$CP" dev.shears.bench.gpu.GpuCharts --in "$out/gpu-bench.json" \
  --train-png "$out/gpu-train.png" --sparse-png "$out/gpu-sparse.png"
# every stage's outcome, compare's and the charts' included, into gpu-bench.json's "stages" (or a
# gpu-bench.json of the stages alone when compare wrote none)
timeout 10 python3 bench/peers/compare.py --record-stages "$stages" --out "$out/gpu-bench.json" >> "$log" 2>&1 \
  || echo "== recording the stages in gpu-bench.json failed (rc=$?); they are in raw.tar.gz's stages.tsv" >> "$log"
tar -C "$work" -czf "$out/raw.tar.gz" . 2>> "$log"
rm -rf "$work"
echo "run-gpu.sh: done in $(( $(date +%s) - t_start )) s; files in $out: $(ls "$out" | tr '\n' ' ')" | tee -a "$log"
