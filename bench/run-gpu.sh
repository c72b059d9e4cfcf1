#!/usr/bin/env bash
# Issue 5's one command on the GPU machine: Shears' GPU benchmark and the PyTorch peers on the
# same work, joined into one JSON with the ratios, plus a PNG chart. Run from the project root
# after `source .device/env.sh` (see ../shared/GPU.md); results go to ${OUT:-bench/results}.
#   bench/run-gpu.sh [--quick]
set -euo pipefail
out=${OUT:-bench/results}
mkdir -p "$out"
quick=()
[[ ${1:-} == --quick ]] && quick=(--quick)
: "${JAVA:?source .device/env.sh first}" "${CP:?source .device/env.sh first}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.csv" 2>/dev/null || true
$JAVA -Xmx48g -cp "$CP" dev.shears.bench.gpu.GpuBench --out "$out/shears.json" --shapes "$out/shapes.json" "${quick[@]}" \
  2> "$out/shears.log"
python3 bench/peers/threshold_torch.py --shapes "$out/shapes.json" --out "$out/torch_threshold.json" "${quick[@]}" \
  2> "$out/torch.log"
python3 bench/peers/update_torch.py --out "$out/torch_update.json" $([[ ${#quick[@]} -gt 0 ]] && echo --n 1e7) 2>> "$out/torch.log"
python3 bench/peers/compare.py --shears "$out/shears.json" --torch "$out/torch_threshold.json" "$out/torch_update.json" \
  --out "$out/gpu-bench.json" --png "$out/gpu-bench.png"
