#!/usr/bin/env bash
# Bit-for-bit comparison of the barrier-free kernels (harness.cpp) between a git revision's
# src/main/cuda and the working tree's, run on the host with the emulator's cuda_shim.h.
#   cuda-kernels/src/test/emulator/bitcompare/bitcompare.sh [REV]     (default HEAD)
# Exit 0 and "identical" when every output byte matches; 1 and the first differing byte otherwise.
set -euo pipefail
rev="${1:-HEAD}"
here="$(cd "$(dirname "$0")" && pwd)"
emu="$(dirname "$here")"
root="$(git -C "$here" rev-parse --show-toplevel)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
git -C "$root" archive "$rev" cuda-kernels/src/main/cuda | tar -x -C "$work/src"
build() { g++ -O1 -std=c++17 -w -include "$emu/cuda_shim.h" -I"$emu" -I"$2" -o "$work/$1" "$here/harness.cpp"; }
build old "$work/src/cuda-kernels/src/main/cuda"
build new "$root/cuda-kernels/src/main/cuda"
"$work/old" > "$work/old.bin"
"$work/new" > "$work/new.bin"
if cmp "$work/old.bin" "$work/new.bin"; then
    echo "identical: $(stat -c %s "$work/new.bin") output bytes of $rev and the working tree"
else
    exit 1
fi
