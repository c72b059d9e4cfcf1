#!/usr/bin/env bash
# Static resource report of every kernel, as the fatbin build compiles them (--fmad=false):
# registers, stack frame, spills and shared memory per kernel from ptxas -v, and, when cuobjdump
# can read the cubin (a CUDA toolkit of the same major version as nvcc), the global load/store
# widths and local-memory instructions of the bandwidth-bound kernels.
#   cuda-kernels/ptxas-report.sh [sm_90|sm_80]     (default sm_90; NVCC=/path/to/nvcc to choose)
set -euo pipefail
arch="${1:-sm_90}"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$nvcc" -cubin -arch="$arch" --fmad=false -lineinfo -Xptxas -v -o "$work/k.cubin" \
    "$here/src/main/cuda/shears_kernels.cu" 2> "$work/ptxas.txt" \
    || { cat "$work/ptxas.txt" >&2; echo "ptxas-report: $nvcc failed (CUDA 13's nvcc is needed)" >&2; exit 1; }

echo "| kernel ($arch) | regs | stack B | spill st/ld B | smem B |"
echo "|---|---|---|---|---|"
awk '
  /Compiling entry function/ { if (k != "") print row(); match($0, /'"'"'[A-Za-z0-9_]+'"'"'/); k = substr($0, RSTART + 1, RLENGTH - 2); r = st = ss = sl = sm = 0 }
  /bytes stack frame/ { st = $1; ss = $5; sl = $9 }
  /Used [0-9]+ registers/ { for (i = 1; i <= NF; i++) { if ($i == "Used") r = $(i + 1); if ($(i + 1) ~ /^bytes$/ && $(i + 2) ~ /^smem/) sm = $i } }
  function row() { return "| " k " | " r " | " st " | " ss "/" sl " | " sm " |" }
  END { if (k != "") print row() }
' "$work/ptxas.txt" | sort

if command -v cuobjdump > /dev/null && cuobjdump -sass "$work/k.cubin" > "$work/all.sass" 2> /dev/null; then
    echo
    echo "SASS of the bandwidth-bound kernels (want LDG.E.128 / STG.E.128 and no LDL/STL):"
    for f in shears_sgd_update shears_adam_update shears_threshold_histogram shears_mask_update_simple shears_mask_apply; do
        cuobjdump -sass -fun "$f" "$work/k.cubin" > "$work/$f.sass"
        printf '%-28s %s\n' "$f" "$(grep -oE '(LDG|STG|LD|ST|LDL|STL)\.E[.A-Z0-9]*|ATOMS\.[A-Z0-9.]+|REDG?\.[A-Z0-9.]+' "$work/$f.sass" | sort | uniq -c | tr -s ' \n' ' ')"
    done
else
    echo
    echo "(no cuobjdump that reads this cubin: SASS summary skipped)"
fi
