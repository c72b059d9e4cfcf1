// Runs the barrier-free kernels of one kernel source tree on the host, block after block, thread
// after thread (they share nothing within a block, so any order gives a GPU's result), for fixed
// inputs and several grid sizes (1 block: many grid-stride steps per thread; 4224: an H100's cap);
// writes every output buffer's bytes to stdout. bitcompare.sh builds it against two revisions of
// src/main/cuda and compares the bytes: for refactors that must not change a single result bit.
// Kernels with barriers or warp operations abort here (the emulator proper runs those).
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <random>
uint3 threadIdx, blockIdx, blockDim, gridDim;
namespace emu {
void syncthreads() { abort(); }
const unsigned long long* warp_exchange(const char*, unsigned int, unsigned long long) { abort(); }
int lane() { abort(); }
void check_aligned(const void* p, unsigned align, const char*) {
    if (reinterpret_cast<uintptr_t>(p) % align != 0) abort();  // a GPU faults: misaligned address
}
}
#include "shears_kernels.cu"
template <typename F> void grid(int blocks, F f) {
    gridDim = {(unsigned)blocks, 1, 1}; blockDim = {256, 1, 1};
    for (unsigned b = 0; b < (unsigned)blocks; b++) for (unsigned t = 0; t < 256; t++) { blockIdx = {b, 0, 0}; threadIdx = {t, 0, 0}; f(); }
}
static std::mt19937 rng(7);
static std::vector<float> rnd(size_t n) { std::vector<float> v(n); std::uniform_real_distribution<float> d(-1, 1); for (auto& x : v) x = d(rng); return v; }
template <typename T> static void out(const std::vector<T>& v) { fwrite(v.data(), sizeof(T), v.size(), stdout); }
int main() {
    int grids[] = {1, 7, 64, 4224};
    for (int G : grids) {
        // [outer, channels, inner] element-wise kernels
        long long shapes[][3] = {{5, 37, 300}, {300, 17, 1}, {2, 3, 1001}, {1, 1, 70000}};
        for (auto& s : shapes) {
            long long o = s[0], c = s[1], in = s[2], n = o * c * in;
            auto x = rnd(n), b = rnd(c), b2 = rnd(c), b3 = rnd(c), dy = rnd(n); for (auto& v : b3) v = v * v + 0.1f;
            auto y = x; grid(G, [&] { shears_add_bias(y.data(), b.data(), o, (int)c, in); }); out(y);
            std::vector<float> p(n), dx(n), bn(n);
            grid(G, [&] { shears_prelu(x.data(), b.data(), p.data(), o, (int)c, in); }); out(p);
            grid(G, [&] { shears_prelu_backward_dx(x.data(), b.data(), dy.data(), dx.data(), o, (int)c, in); }); out(dx);
            grid(G, [&] { shears_batch_norm_inference(x.data(), b.data(), b2.data(), b2.data(), b3.data(), 1e-5f, bn.data(), o, (int)c, in); }); out(bn);
        }
        // window kernels
        WindowGeom geoms[] = {
            {8, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 9, 9, 1, 1},
            {6, 29, 23, 3, 3, 2, 2, 1, 1, 1, 1, 15, 12, 1, 1},
            {3, 17, 13, 3, 2, 2, 1, 1, 0, 2, 1, 9, 13, 2, 1},
        };
        for (auto g : geoms) {
            int images = 3;
            long long img = (long long)g.channels * g.height * g.width, hw = (long long)g.outH * g.outW;
            long long colsN = (long long)g.channels * g.kernelH * g.kernelW * hw;
            auto x = rnd(img * images);
            std::vector<float> cols(colsN), colsT(colsN), colsB(colsN * images);
            grid(G, [&] { shears_im2col(x.data(), g, cols.data()); }); out(cols);
            grid(G, [&] { shears_im2col_tap_major(x.data(), g, colsT.data()); }); out(colsT);
            grid(G, [&] { shears_im2col_batch(x.data(), g, images, colsB.data()); }); out(colsB);
            auto dx = rnd(img), dxb = rnd(img * images);
            grid(G, [&] { shears_col2im(cols.data(), g, dx.data()); }); out(dx);
            grid(G, [&] { shears_col2im_batch(colsB.data(), g, images, dxb.data()); }); out(dxb);
            // pooling over batch `images`
            std::vector<float> py(hw * g.channels * images), pdx(img * images), ay(py.size()), adx(pdx.size());
            std::vector<int> arg(py.size());
            auto pdy = rnd(py.size());
            grid(G, [&] { shears_max_pool(x.data(), py.data(), arg.data(), g, images); }); out(py); out(arg);
            grid(G, [&] { shears_max_pool_backward(pdy.data(), arg.data(), pdx.data(), g, images); }); out(pdx);
            grid(G, [&] { shears_avg_pool(x.data(), ay.data(), g, images, 0); }); out(ay);
            grid(G, [&] { shears_avg_pool_backward(pdy.data(), adx.data(), g, images, 1); }); out(adx);
        }
        // half conversions: [rows, cols] padded to [outRows, outCols]
        {
            int rows = 37, cols = 53, outCols = 64, outRows = 40; long long n = (long long)outRows * outCols;
            auto x = rnd((size_t)rows * cols);
            std::vector<unsigned short> h(n), hb(n); std::vector<float> back((size_t)rows * cols);
            grid(G, [&] { shears_f32_to_16(x.data(), h.data(), rows, cols, cols, 0, outCols, 0, n); }); out(h);
            grid(G, [&] { shears_f32_to_16(x.data(), hb.data(), cols, rows, rows, 1, outCols, 1, n); }); out(hb);
            grid(G, [&] { shears_16_to_f32(h.data(), back.data(), cols, outCols, 0, 0, (long long)rows * cols); }); out(back);
        }
    }
    return 0;
}
