// Fused masked Adam / AdamW: one pass reading w, g, m, v, mask and writing w, m, v.
// CPU twin: CpuBackend.adamUpdate (CpuUpdates.adam), expression for expression:
//   cwd = decoupled ? 0 : wd (L2 decay enters the gradient); dwd = decoupled ? lr*wd : 0 (host)
//   keep: g' = g + w*cwd; m = m*b1 + g'*(1-b1); v = v*b2 + g'*g'*(1-b2);
//         upd = m/bc1*lr / (sqrt(v/bc2) + eps); w = w - (upd + w*dwd)
//   masked: w = m = v = 0 exactly.
// bc1 = 1 - b1^t and bc2 = 1 - b2^t, ob1 = 1 - b1, ob2 = 1 - b2 and dwd come from the host,
// rounded to float as the Java twin rounds them. --fmad=false keeps the results bit-exact.
#include "common.cuh"

__device__ __forceinline__ void adam_one(float& w, float g, float& m, float& v, bool keep,
                                         float lr, float b1, float b2, float ob1, float ob2, float eps,
                                         float cwd, float dwd, float bc1, float bc2) {
    if (!keep) {
        w = 0.0f;
        m = 0.0f;
        v = 0.0f;
        return;
    }
    float gp = g + w * cwd;
    float mn = m * b1 + gp * ob1;
    float vn = v * b2 + gp * gp * ob2;
    m = mn;
    v = vn;
    float upd = mn / bc1 * lr / (sqrtf(vn / bc2) + eps);
    w = w - (upd + w * dwd);
}

// Version 1: one element per iteration.
// In a captured step (CUDA graph) the per-step scalars live in device memory, written before each
// replay: scalarsOnDevice = {lr, bc1, bc2} (bias corrections rounded to float by the host exactly
// as for the arguments), and the decoupled decay lr * decoupledDecay is formed here, the same
// single float multiplication the host does (decoupledDecay is 0 for plain Adam). Null: the
// arguments hold the values.
__device__ __forceinline__ void adam_scalars_from_device(const float* s, float decoupledDecay,
                                                         float& lr, float& dwd, float& bc1, float& bc2) {
    if (s == nullptr) return;
    lr = s[0];
    bc1 = s[1];
    bc2 = s[2];
    dwd = lr * decoupledDecay;
}

extern "C" __global__ void shears_adam_update_naive(
        float* w, const float* g, float* m, float* v, const unsigned char* mask, i64 n,
        float lr, float b1, float b2, float ob1, float ob2, float eps, float cwd, float dwd, float bc1, float bc2,
        const float* scalarsOnDevice, float decoupledDecay) {
    adam_scalars_from_device(scalarsOnDevice, decoupledDecay, lr, dwd, bc1, bc2);
    GRID_STRIDE(i, n) {
        float wi = w[i], mi = m[i], vi = v[i];
        adam_one(wi, g[i], mi, vi, mask == nullptr || mask[i] != 0, lr, b1, b2, ob1, ob2, eps, cwd, dwd, bc1, bc2);
        w[i] = wi;
        m[i] = mi;
        v[i] = vi;
    }
}

// Version 2: 16-byte loads of four elements (alignment checked on the host), scalar tail.
// 29 bytes move per parameter with a mask (read w, g, m, v, mask; write w, m, v).
extern "C" __global__ void shears_adam_update(
        float* w, const float* g, float* m, float* v, const unsigned char* mask, i64 n,
        float lr, float b1, float b2, float ob1, float ob2, float eps, float cwd, float dwd, float bc1, float bc2,
        const float* scalarsOnDevice, float decoupledDecay) {
    adam_scalars_from_device(scalarsOnDevice, decoupledDecay, lr, dwd, bc1, bc2);
    i64 n4 = n >> 2;
    float4* w4 = reinterpret_cast<float4*>(w);
    const float4* g4 = reinterpret_cast<const float4*>(g);
    float4* m4 = reinterpret_cast<float4*>(m);
    float4* v4 = reinterpret_cast<float4*>(v);
    const uchar4* k4 = reinterpret_cast<const uchar4*>(mask);
    GRID_STRIDE(i, n4) {
        float4 wv = w4[i], gv = g4[i], mv = m4[i], vv = v4[i];
        uchar4 kb = mask != nullptr ? k4[i] : make_uchar4(1, 1, 1, 1);
        adam_one(wv.x, gv.x, mv.x, vv.x, kb.x != 0, lr, b1, b2, ob1, ob2, eps, cwd, dwd, bc1, bc2);
        adam_one(wv.y, gv.y, mv.y, vv.y, kb.y != 0, lr, b1, b2, ob1, ob2, eps, cwd, dwd, bc1, bc2);
        adam_one(wv.z, gv.z, mv.z, vv.z, kb.z != 0, lr, b1, b2, ob1, ob2, eps, cwd, dwd, bc1, bc2);
        adam_one(wv.w, gv.w, mv.w, vv.w, kb.w != 0, lr, b1, b2, ob1, ob2, eps, cwd, dwd, bc1, bc2);
        w4[i] = wv;
        m4[i] = mv;
        v4[i] = vv;
    }
    i64 tail = (n4 << 2) + (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (tail < n) {
        float wi = w[tail], mi = m[tail], vi = v[tail];
        adam_one(wi, g[tail], mi, vi, mask == nullptr || mask[tail] != 0, lr, b1, b2, ob1, ob2, eps, cwd, dwd, bc1, bc2);
        w[tail] = wi;
        m[tail] = mi;
        v[tail] = vi;
    }
}
