// N:M mask update: in every group of m consecutive weights along the reduction axis, keep the
// `keep` largest |w| (of those not masked already) and mask the rest; count the ones.
// CPU twin: CpuBackend.updateMaskNm (the rule is Backend.updateMaskNm's).
//
// Layout: the tensor is [outer, k, inner] row-major and groups run along k (a Dense kernel
// [in, out] is (1, in, out); a Conv2D kernel [out, in, kh, kw] is (out, in, kh*kw): M consecutive
// input channels at one output channel and kernel position, NVIDIA's grouping, see
// pruning's NmLayout). When m does not divide k the last group of each run is shorter. Ranking: already-masked elements rank
// below every unmasked one (they stay masked), unmasked ones by the bit pattern of |w| (as
// update_mask.cu: -0 equals +0, NaN is the largest), equal keys by lower k index first.
//
// Version 1 (the only one): one thread per group, the group's keys held in registers (m <= 32,
// NM_MAX_GROUP in Backend), every rank counted by comparing against the whole group (m^2
// comparisons, at most 1024). Consecutive threads take consecutive `inner` indices, so a Dense
// kernel's loads are coalesced (a Conv2D kernel's too, in runs of kh*kw). A mask update runs a few times per epoch: simplicity wins.
#include "common.cuh"

#define NM_MAX_GROUP 32

__device__ __forceinline__ unsigned int nm_key(float w) { return __float_as_uint(w) & 0x7fffffffu; }

extern "C" __global__ void shears_mask_update_nm(
        float* w, unsigned char* mask, i64 outer, i64 k, i64 inner, int keep, int m, u64* nnz) {
    __shared__ u64 scratch[32];
    i64 groupsK = (k + m - 1) / m;
    i64 total = outer * groupsK * inner;
    u64 ones = 0;
    GRID_STRIDE(t, total) {
        i64 i = t % inner;
        i64 rest = t / inner;
        i64 g = rest % groupsK;
        i64 o = rest / groupsK;
        i64 k0 = g * m;
        int len = (int)(k - k0 < (i64)m ? k - k0 : (i64)m);
        i64 base = (o * k + k0) * inner + i;
        // 0 for a masked element, else 1 + key (keys are < 2^31, so this fits): read every old
        // value of the group before writing any
        unsigned int rank[NM_MAX_GROUP];
        for (int j = 0; j < NM_MAX_GROUP; j++) {
            if (j >= len) break;
            i64 a = base + (i64)j * inner;
            rank[j] = mask[a] == 0 ? 0u : 1u + nm_key(w[a]);
        }
        for (int j = 0; j < NM_MAX_GROUP; j++) {
            if (j >= len) break;
            i64 a = base + (i64)j * inner;
            bool kept = false;
            if (rank[j] != 0) {
                int above = 0;
                for (int l = 0; l < NM_MAX_GROUP; l++) {
                    if (l >= len) break;
                    above += (rank[l] > rank[j] || (rank[l] == rank[j] && l < j)) ? 1 : 0;
                }
                kept = above < keep;
            }
            if (kept) {
                ones++;
            } else {
                mask[a] = 0;
                w[a] = 0.0f;
            }
        }
    }
    ones = block_sum_u64(ones, scratch);
    if (threadIdx.x == 0 && ones != 0) atomicAdd(nnz, ones);
}
