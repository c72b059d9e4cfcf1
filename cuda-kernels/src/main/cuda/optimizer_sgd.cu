// Fused masked SGD with momentum (and Nesterov): one pass reading w, g, v, mask and writing w, v.
// CPU twin: CpuBackend.sgdUpdate (CpuUpdates.sgd), expression for expression:
//   keep: g' = g + w*wd; v = v*momentum + g'; step = nesterov ? g' + v*momentum : v; w = w - step*lr
//   masked: w = v = 0 exactly.
// A null mask keeps everything; a null velocity means plain SGD (step = g'). Built with
// --fmad=false and IEEE division/sqrt, so results match the Java twin bit for bit.
// lrOnDevice: null, or the learning rate in device memory (a captured CUDA-graph step, whose
// learning rate is written there before each replay instead of being baked into the launch).
#include "common.cuh"

__device__ __forceinline__ void sgd_one(float& w, float g, float* v, bool keep,
                                        float lr, float momentum, float weightDecay, int nesterov) {
    if (!keep) {
        w = 0.0f;
        if (v != nullptr) *v = 0.0f;
        return;
    }
    float gp = g + w * weightDecay;
    float step = gp;
    if (v != nullptr) {
        float vn = *v * momentum + gp;
        *v = vn;
        step = nesterov ? gp + vn * momentum : vn;
    }
    w = w - step * lr;
}

// Version 1: one element per iteration.
extern "C" __global__ void shears_sgd_update_naive(
        float* w, const float* g, float* v, const unsigned char* mask, i64 n,
        float lr, float momentum, float weightDecay, int nesterov, const float* lrOnDevice) {
    if (lrOnDevice != nullptr) lr = *lrOnDevice;
    GRID_STRIDE(i, n) {
        float wi = w[i];
        float vi = v != nullptr ? v[i] : 0.0f;
        sgd_one(wi, g[i], v != nullptr ? &vi : nullptr, mask == nullptr || mask[i] != 0, lr, momentum, weightDecay, nesterov);
        w[i] = wi;
        if (v != nullptr) v[i] = vi;
    }
}

// Version 2: four elements per iteration with 16-byte loads (w, g, v 16-byte aligned, mask
// 4-byte aligned: the host checks) and a scalar tail. 21 bytes move per parameter with a mask
// and momentum (read w, g, v, mask; write w, v).
extern "C" __global__ void shears_sgd_update(
        float* w, const float* g, float* v, const unsigned char* mask, i64 n,
        float lr, float momentum, float weightDecay, int nesterov, const float* lrOnDevice) {
    if (lrOnDevice != nullptr) lr = *lrOnDevice;
    i64 n4 = n >> 2;
    float4* w4 = reinterpret_cast<float4*>(w);
    const float4* g4 = reinterpret_cast<const float4*>(g);
    float4* v4 = reinterpret_cast<float4*>(v);
    const uchar4* m4 = reinterpret_cast<const uchar4*>(mask);
    bool hasV = v != nullptr;
    GRID_STRIDE(i, n4) {
        float4 wv = w4[i], gv = g4[i];
        float4 vv = hasV ? v4[i] : make_float4(0.f, 0.f, 0.f, 0.f);
        uchar4 mb = mask != nullptr ? m4[i] : make_uchar4(1, 1, 1, 1);
        sgd_one(wv.x, gv.x, hasV ? &vv.x : nullptr, mb.x != 0, lr, momentum, weightDecay, nesterov);
        sgd_one(wv.y, gv.y, hasV ? &vv.y : nullptr, mb.y != 0, lr, momentum, weightDecay, nesterov);
        sgd_one(wv.z, gv.z, hasV ? &vv.z : nullptr, mb.z != 0, lr, momentum, weightDecay, nesterov);
        sgd_one(wv.w, gv.w, hasV ? &vv.w : nullptr, mb.w != 0, lr, momentum, weightDecay, nesterov);
        w4[i] = wv;
        if (hasV) v4[i] = vv;
    }
    i64 tail = (n4 << 2) + (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (tail < n) {
        float wi = w[tail];
        float vi = hasV ? v[tail] : 0.0f;
        sgd_one(wi, g[tail], hasV ? &vi : nullptr, mask == nullptr || mask[tail] != 0, lr, momentum, weightDecay, nesterov);
        w[tail] = wi;
        if (hasV) v[tail] = vi;
    }
}
