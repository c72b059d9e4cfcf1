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

# Reads one kernel's SASS; prints its loops (backward branches) with the instructions, 32-bit
# integer divisions (I2F.U32.RP starts nvcc's reciprocal-based sequence) and CALLs (the 64-bit
# division routine) between the branch target and the branch.
loop_divisions() {
    awk -v k="$1" '
      function hex(h,   v, i) { v = 0; h = tolower(h); sub(/^0x/, "", h); for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
      match($0, /\/\*[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*\*\//) { a = hex(substr($0, RSTART + 2, RLENGTH - 4)); n++; addr[n] = a; ins[n] = $0
        if ($0 ~ /EXIT/) last = a
        if ($0 ~ /BRA/ && match($0, /0x[0-9a-f]+ *;/)) { t = substr($0, RSTART, RLENGTH - 1); sub(/ *$/, "", t); t = hex(t); if (t <= a) { m++; from[m] = t; to[m] = a } } }
      END { out = ""
        for (j = 1; j <= m; j++) { if (to[j] > last) continue; c = d = x = 0
          for (i = 1; i <= n; i++) if (addr[i] >= from[j] && addr[i] <= to[j]) { c++; if (ins[i] ~ /I2F\.U32\.RP/) d++; if (ins[i] ~ /CALL/) x++ }
          out = out sprintf(" [%d instr, %d div32, %d CALL]", c, d, x) }
        printf "%-28s%s\n", k, (out == "" ? " no loops" : out) }'
}

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
    echo
    echo "Integer divisions inside loops (want 0: index splitting is done with Digits, common.cuh):"
    for f in shears_add_bias shears_prelu shears_bias_grad shears_bias_grad_partial shears_im2col shears_im2col_batch \
             shears_col2im_batch shears_max_pool shears_batch_norm_train; do
        cuobjdump -sass -fun "$f" "$work/k.cubin" | loop_divisions "$f"
    done
else
    echo
    echo "(no cuobjdump that reads this cubin: SASS summary skipped)"
fi
