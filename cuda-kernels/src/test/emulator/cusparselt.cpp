// The part of cuSPARSELt (libcusparseLt.so.0) that Shears binds (native-bindings CusparseLt.java),
// emulated on the CPU for tests: library handle, dense and structured (2:4) matrix descriptors,
// the matmul descriptor, algorithm selection, plan, workspace query, pruning (STRIP and TILE),
// the prune check, compressed size and compression, and the structured matmul
// D = alpha op(A) op(B) + beta C (and cusparseLtMatmulSearch), for FP16 and BF16 data with FP32
// accumulation.
//
// It presents itself as cuSPARSELt 0.8.1 (cusparseLtGetVersion 801), whose opaque structs are
// uint8_t data[512] (native-bindings/src/test/resources/abi/cusparselt.txt, from NVIDIA's
// cusparseLt.h through nvmath-python's generated cycusparseLt.pxd). As in the real library, the
// caller allocates every struct and only the library writes and reads it: everything the
// emulator knows about an object lives inside those 512 bytes (static_asserts below), nothing
// is allocated behind it, and a struct that was never initialised (or was destroyed) is refused.
//
// Semantics and rules, from NVIDIA's cuSPARSELt documentation:
//  [F] https://docs.nvidia.com/cuda/cusparselt/functions.html  (function reference)
//  [T] https://docs.nvidia.com/cuda/cusparselt/types.html      (types and enumerators)
//  [R] https://docs.nvidia.com/cuda/cusparselt/release_notes.html
//  [S] NVIDIA/CUDALibrarySamples cuSPARSELt/matmul/matmul_example.cpp (the documented workflow)
//  [P] pytorch/pytorch aten/src/ATen/native/sparse/cuda/cuSPARSELtOps.cpp (a user that runs on GPUs)
//  [A] https://docs.nvidia.com/cuda/nvmath-python/latest/bindings/cusparseLt.html (NVIDIA's generated
//      bindings: MatmulAlgAttribute's values, matmul_alg_get_attribute's parameters)
// Rules marked (*) are as written from [F]/[T] without being re-read when this file was written
// (the docs search at hand returned only the opening of each page); the others were checked in
// the opening of [F], [T], [R] or in [S]/[P]. A (*) rule the real library contradicts is a bug
// here: fix it against the GPU.
// - [F] cusparseLtInit must be called before any other call with the handle; a call with a handle
//   not initialised, or after cusparseLtDestroy, returns an error (here
//   CUSPARSE_STATUS_NOT_INITIALIZED).
// - [T] CUSPARSELT_SPARSITY_50_PERCENT is 2:4 for half and bfloat16 (1:2 for float); (*) the pattern
//   runs along the reduction dimension k of the product, which is what the Sparse Tensor Cores
//   skip (an m x k structured A keeps at most 2 of every 4 consecutive k values in each row).
// - (*) [F] cusparseLtDenseDescriptorInit / cusparseLtStructuredDescriptorInit: rows, cols and ld
//   must be multiples of 16 bytes' worth of elements for a dense matrix (8 for 16-bit types) and
//   of twice that for a structured one (16 for 16-bit types); ld >= cols (row-major) or >= rows
//   (column-major); alignment (bytes) a multiple of 16, and every pointer later passed for the
//   matrix aligned to it. Otherwise CUSPARSE_STATUS_INVALID_VALUE.
// - (*) [F] cusparseLtMatmulDescriptorInit: exactly one of matA, matB is structured; C and D dense
//   of the same shape, type and order (D may alias C: [S] passes &matC twice); op(A) m x k,
//   op(B) k x n, C m x n; opA/opB NON_TRANSPOSE or TRANSPOSE. Data types: A and B 16F with C/D
//   16F, or 16BF with 16BF, and CUSPARSE_COMPUTE_32F (0.6 and later; [P]
//   switched FP16/BF16 to CUSPARSE_COMPUTE_32F from cuSPARSELt 0.5.2 on). Other supported type
//   combinations (INT8, FP8, FP32, FP16 with CUSPARSE_COMPUTE_16F) are CUSPARSE_STATUS_NOT_SUPPORTED
//   here with a line on stderr: this emulator computes 16-bit inputs with FP32 accumulation only.
// - (*) [T] cusparseLtPruneAlg_t: CUSPARSELT_PRUNE_SPMMA_TILE zeroes 8 of each 4x4 tile keeping two
//   values per row and per column, maximising the L1 norm of what is kept;
//   CUSPARSELT_PRUNE_SPMMA_STRIP zeroes 2 of each 1x4 strip, keeping the two largest magnitudes.
//   d_in and d_out may be the same ([S] prunes in place).
// - [F] cusparseLtSpMMAPruneCheck writes to the device int d_valid 0 when the matrix follows the
//   pattern, 1 otherwise ([S] treats nonzero as "pruned in a wrong way").
// - [F] cusparseLtSpMMACompressedSize gives the compressed bytes and the compression work-buffer
//   bytes; cusparseLtSpMMACompress takes the pruned dense matrix. The compressed format is
//   opaque: here the kept values ([rows-or-cols][k/2], 16-bit) then 2-bit column indices, k/2
//   values + k/8 bytes per line, the 9/16 of the dense element count [P] allocates for 16-bit
//   types (compression_factor 9 / 16).
// - [F] cusparseLtMatmul: alpha and beta are host pointers to floats (compute type 32F); d_A or
//   d_B is the compressed structured matrix; d_C and d_D may be the same; workspace of
//   cusparseLtMatmulGetWorkspace bytes; streams/numStreams an array of streams (numStreams 0:
//   the default stream; [S], [P]). cusparseLtMatmulSearch runs the candidate kernels, each several
//   times ((*) CUSPARSELT_MATMUL_SEARCH_ITERATIONS, default 5, [T]), and leaves D computed; with beta != 0 and D
//   aliasing C it accumulates ([S]: "dC accumulates so reset dC").
// - cusparseLtMatmulSearch keeps the fastest kernel configuration in the plan, and the caller reads
//   which one with cusparseLtMatmulAlgGetAttribute(handle, algSelection, CUSPARSELT_MATMUL_ALG_CONFIG_ID,
//   &int, sizeof(int)) on the algorithm selection the plan was made from, then asks
//   cusparseLtMatmulGetWorkspace again (the chosen kernel may need another workspace): (*) as
//   versions of [S] copied into public repositories read it (search, then the attribute, then the
//   workspace); the attribute numbers CONFIG_ID 0, CONFIG_MAX_ID 1, SEARCH_ITERATIONS 2 are [A]'s
//   cusparseLt.MatmulAlgAttribute, the prototype (handle*, algSelection*, attribute, void* data,
//   size_t dataSize) [A]'s matmul_alg_get_attribute. Here: CONFIG_ID, CONFIG_MAX_ID and SEARCH_ITERATIONS (all int),
//   a data size other than sizeof(int) or another attribute is CUSPARSE_STATUS_INVALID_VALUE.
// - cusparseLtMatmulAlgSetAttribute(handle*, algSelection*, attribute, const void* data, size_t dataSize) ([A]'s
//   matmul_alg_set_attribute; [P] sets SEARCH_ITERATIONS on the selection before cusparseLtMatmulPlanInit): here
//   SEARCH_ITERATIONS (int, > 0; [T]) and CONFIG_ID (int, 0..CONFIG_MAX_ID); CONFIG_MAX_ID is read-only ([T]), and
//   it, another attribute, a value out of range or a data size other than sizeof(int) is CUSPARSE_STATUS_INVALID_VALUE.
//   (*) The plan takes the selection's values when it is made (cusparseLtMatmulPlanInit), as the workflow of [S]
//   and [P] (attributes first, then the plan) implies: a search runs SEARCH_ITERATIONS launches per configuration
//   as the selection held it then. The emulator has
//   CONFIGS kernel configurations (ids 0..CONFIGS-1), all the same code; the search runs each
//   SEARCH_ITERATIONS times and, since none can be faster here, keeps the last (the highest id), so
//   that a caller who reads the id back sees the search's choice rather than the default 0. The plan
//   remembers the address of its algorithm selection (the caller keeps it alive until the plan is
//   destroyed, as [S] does) and the search writes the id there and into the plan.
//
// Like the driver emulator, work runs in stream order (queued through libcuda.so.1's
// shears_emu_enqueue), descriptors are copied at the call, and when the work runs every operand
// must lie in live device memory, else the context gets the sticky CUDA_ERROR_ILLEGAL_ADDRESS of
// a faulting kernel (shears_emu_fault). Sums run over k in order with fmaf into a float, then one
// rounding to the 16-bit output (cuSPARSELt's order is unspecified: compare with a tolerance).
// Compressing a matrix that does not follow 2:4 is undefined in cuSPARSELt; here the first two
// nonzeros of each group are kept (so a product differs from the dense one) and stderr says so.
// Test-only.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "half_convert.h"
#include "cusparse_status.h"
#include "driver_hooks.h"

namespace {

using namespace emu_cusparse;  // the status codes, names and texts (cusparse_status.h)

// enum values (cusparseLt.h 0.6-0.8, cusparse.h, library_types.h; see abi/*.txt)
constexpr int VERSION = 801;  // 0.8.1: major*1000 + minor*100 + patch
constexpr int OP_N = 0, OP_T = 1, OP_C = 2;
constexpr int ORDER_COL = 1, ORDER_ROW = 2;
constexpr int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_8I = 3, CUDA_R_32I = 10, CUDA_R_16BF = 14, CUDA_R_8F_E4M3 = 28,
              CUDA_R_8F_E5M2 = 29;
constexpr int SPARSITY_50_PERCENT = 0;
constexpr int COMPUTE_32I = 0, COMPUTE_16F = 1, COMPUTE_32F = 2;
constexpr int MATMUL_ALG_DEFAULT = 0;
constexpr int PRUNE_SPMMA_TILE = 0, PRUNE_SPMMA_STRIP = 1;
constexpr int SEARCH_ITERATIONS = 5;  // CUSPARSELT_MATMUL_SEARCH_ITERATIONS' default ([T])
constexpr int ALG_CONFIG_ID = 0, ALG_CONFIG_MAX_ID = 1, ALG_SEARCH_ITERATIONS = 2;  // cusparseLtMatmulAlgAttribute_t ([A])
constexpr int CONFIGS = 2;  // the emulated kernel configurations (ids 0..CONFIGS-1), all the same code
constexpr std::size_t OPAQUE_BYTES = 512;  // uint8_t data[512] in cusparseLt.h 0.7.1-0.8.1

// Magic words at the start of each initialised struct; a destroyed struct gets DEAD.
constexpr std::uint64_t HANDLE_MAGIC = 0x534c544848414e44ull, MAT_MAGIC = 0x534c544d41544452ull,
                        MATMUL_MAGIC = 0x534c544d4d554c44ull, ALG_MAGIC = 0x534c54414c475345ull,
                        PLAN_MAGIC = 0x534c54504c414e31ull, DEAD = 0x4445414444454144ull;

struct Handle {
    std::uint64_t magic;
    int version;
};

struct Mat {
    std::uint64_t magic;
    std::int64_t rows, cols, ld;
    std::uint32_t alignment;
    int type, order;
    int structured;  // 1: cusparseLtStructuredDescriptorInit (50%)
};

struct Matmul {
    std::uint64_t magic;
    int opA, opB, computeType;
    Mat a, b, c, d;
};

struct AlgSelection {
    std::uint64_t magic;
    int alg, configId;
    int searchIterations;  // CUSPARSELT_MATMUL_SEARCH_ITERATIONS
    Matmul matmul;
};

struct Plan {
    std::uint64_t magic;
    Matmul matmul;
    int alg, configId;
    int searchIterations;  // the selection's when the plan was made
    std::size_t workspace;
    AlgSelection* algSelection;  // the caller's, which the search updates (see the header comment)
};

static_assert(sizeof(Handle) <= OPAQUE_BYTES && sizeof(Mat) <= OPAQUE_BYTES && sizeof(Matmul) <= OPAQUE_BYTES &&
                  sizeof(AlgSelection) <= OPAQUE_BYTES && sizeof(Plan) <= OPAQUE_BYTES,
              "every emulated object must fit the 512 bytes cusparseLt.h 0.7.1-0.8.1 gives it");

bool live(const Handle* h) { return h != nullptr && h->magic == HANDLE_MAGIC; }
bool live(const Mat* m) { return m != nullptr && m->magic == MAT_MAGIC; }
bool live(const Matmul* m) { return m != nullptr && m->magic == MATMUL_MAGIC; }
bool live(const AlgSelection* a) { return a != nullptr && a->magic == ALG_MAGIC; }
bool live(const Plan* p) { return p != nullptr && p->magic == PLAN_MAGIC; }

// Writes obj over the caller's whole 512-byte struct (the rest zeroed), as the library owns it.
template <typename T> void store(void* where, const T& obj) {
    std::memset(where, 0, OPAQUE_BYTES);
    std::memcpy(where, &obj, sizeof(T));
}

int refuse(int code, const char* fn, const std::string& why) {
    std::fprintf(stderr, "shears-cuda-emulator: %s: %s\n", fn, why.c_str());
    return code;
}

int element_bytes(int type) {
    switch (type) {
        case CUDA_R_8I: case CUDA_R_8F_E4M3: case CUDA_R_8F_E5M2: return 1;
        case CUDA_R_16F: case CUDA_R_16BF: return 2;
        case CUDA_R_32F: case CUDA_R_32I: return 4;
        default: return 0;  // not a type cuSPARSELt takes
    }
}

bool is16(int type) { return type == CUDA_R_16F || type == CUDA_R_16BF; }

// Both descriptor inits ([F]): dense shapes in multiples of 16 bytes, structured of 32 bytes.
int mat_init(const char* fn, const Handle* h, void* out, std::int64_t rows, std::int64_t cols, std::int64_t ld,
             std::uint32_t alignment, int type, int order, int structured) {
    if (!live(h)) return CUSPARSE_STATUS_NOT_INITIALIZED;
    if (out == nullptr) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "matDescr is null");
    int bytes = element_bytes(type);
    if (bytes == 0) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "valueType " + std::to_string(type) + " is not a cuSPARSELt type");
    if (order != ORDER_ROW && order != ORDER_COL) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "order " + std::to_string(order));
    if (rows <= 0 || cols <= 0) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "rows and cols must be positive");
    std::int64_t minLd = order == ORDER_ROW ? cols : rows;
    if (ld < minLd)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "ld " + std::to_string(ld) + " below " + std::to_string(minLd) +
                                                             (order == ORDER_ROW ? " (cols of a row-major matrix)" : " (rows of a column-major matrix)"));
    std::int64_t multiple = (structured ? 32 : 16) / bytes;
    if (rows % multiple != 0 || cols % multiple != 0 || ld % multiple != 0)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn,
                      "rows " + std::to_string(rows) + ", cols " + std::to_string(cols) + " and ld " + std::to_string(ld) +
                          " must be multiples of " + std::to_string(multiple) + " for this type" +
                          (structured ? " (structured matrix)" : " (dense matrix)"));
    if (alignment == 0 || alignment % 16 != 0)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "alignment " + std::to_string(alignment) + " is not a multiple of 16 bytes");
    store(out, Mat{MAT_MAGIC, rows, cols, ld, alignment, type, order, structured});
    return CUSPARSE_STATUS_SUCCESS;
}

// The bytes a matrix spans from its first element.
std::size_t span_bytes(const Mat& m) {
    std::int64_t lines = m.order == ORDER_ROW ? m.rows : m.cols, len = m.order == ORDER_ROW ? m.cols : m.rows;
    return (std::size_t)((lines - 1) * m.ld + len) * element_bytes(m.type);
}

// The structured operand of a matmul, seen as lines x k with 2:4 groups along k: element (line, kk)
// of op(S) where S is A (op(A) m x k: lines = m) or B (op(B) k x n, lines = n).
struct Structured {
    Mat mat;
    bool isA, transposed;
    std::int64_t lines, k;
    // offset in elements of op-element (line, kk) in the stored matrix
    std::int64_t offset(std::int64_t line, std::int64_t kk) const {
        std::int64_t r, c;  // stored row and column
        if (isA) {  // op(A)(line, kk)
            r = transposed ? kk : line;
            c = transposed ? line : kk;
        } else {  // op(B)(kk, line)
            r = transposed ? line : kk;
            c = transposed ? kk : line;
        }
        return mat.order == ORDER_ROW ? r * mat.ld + c : r + c * mat.ld;
    }
    std::size_t compressed_bytes() const {
        return (std::size_t)(lines * (k / 2)) * element_bytes(mat.type) + (std::size_t)(lines * (k / 8));
    }
};

Structured structured_of(const Matmul& mm) {
    bool isA = mm.a.structured != 0;
    const Mat& s = isA ? mm.a : mm.b;
    bool t = (isA ? mm.opA : mm.opB) == OP_T;
    std::int64_t sr = t ? s.cols : s.rows, sc = t ? s.rows : s.cols;  // op(S) rows x cols
    return Structured{s, isA, t, isA ? sr : sc, isA ? sc : sr};
}

float load(const void* base, int type, std::int64_t i) {
    std::uint16_t v = static_cast<const std::uint16_t*>(base)[i];
    return type == CUDA_R_16F ? emu16::half_to_float(v) : emu16::bf16_to_float(v);
}

void store16(void* base, int type, std::int64_t i, float f) {
    static_cast<std::uint16_t*>(base)[i] = type == CUDA_R_16F ? emu16::float_to_half(f) : emu16::float_to_bf16(f);
}

bool in_device(const char* fn, const char* what, unsigned long long p, std::size_t bytes) {
    if (bytes == 0 || shears_emu_in_device_memory(p, bytes)) return true;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s: %s [0x%llx, +%zu bytes) is not inside one live device allocation", fn, what, p, bytes);
    shears_emu_fault(buf);
    return false;
}

bool aligned(const void* p, std::uint32_t alignment) { return reinterpret_cast<std::uintptr_t>(p) % alignment == 0; }

int enqueue(const char* fn, void* stream, void (*run)(void*), void* work, void (*release)(void*)) {
    int rc = shears_emu_enqueue(stream, run, work, release);
    if (rc != 0) return refuse(CUSPARSE_STATUS_EXECUTION_FAILED, fn, "could not queue the work (driver status " + std::to_string(rc) + ")");
    return CUSPARSE_STATUS_SUCCESS;
}

// ------------------------------------------------------------------ pruning

struct PruneWork {
    const char* fn;
    Structured s;
    const void* in;
    void* out;
    int* valid;  // the check: where to write 0 / 1
    int alg;
};

// The 90 ways to keep two of four in every row and column of a 4x4 tile (bit r*4+c: keep (r, c)).
const std::vector<std::uint16_t>& tile_patterns() {
    static const std::vector<std::uint16_t> patterns = [] {
        std::vector<std::uint16_t> p;
        for (unsigned m = 0; m < 65536; m++) {
            bool ok = true;
            for (int i = 0; i < 4 && ok; i++) {
                int row = 0, col = 0;
                for (int j = 0; j < 4; j++) {
                    row += (m >> (i * 4 + j)) & 1;
                    col += (m >> (j * 4 + i)) & 1;
                }
                ok = row == 2 && col == 2;
            }
            if (ok) p.push_back((std::uint16_t)m);
        }
        return p;
    }();
    return patterns;
}

void run_prune(void* arg) {
    const PruneWork& w = *static_cast<PruneWork*>(arg);
    const Structured& s = w.s;
    std::size_t bytes = span_bytes(s.mat);
    if (!in_device(w.fn, "d_in", reinterpret_cast<unsigned long long>(w.in), bytes)) return;
    if (!in_device(w.fn, "d_out", reinterpret_cast<unsigned long long>(w.out), bytes)) return;
    int type = s.mat.type;
    // read everything first: d_out may alias d_in
    std::vector<float> v((std::size_t)(s.lines * s.k));
    for (std::int64_t l = 0; l < s.lines; l++)
        for (std::int64_t kk = 0; kk < s.k; kk++) v[l * s.k + kk] = load(w.in, type, s.offset(l, kk));
    std::vector<char> keep(v.size(), 0);
    if (w.alg == PRUNE_SPMMA_STRIP) {
        for (std::int64_t l = 0; l < s.lines; l++)
            for (std::int64_t g = 0; g < s.k; g += 4) {
                // the two largest magnitudes of the strip (the earlier on a tie)
                int first = -1, second = -1;
                for (int j = 0; j < 4; j++) {
                    float a = std::fabs(v[l * s.k + g + j]);
                    if (first < 0 || a > std::fabs(v[l * s.k + g + first])) { second = first; first = j; }
                    else if (second < 0 || a > std::fabs(v[l * s.k + g + second])) second = j;
                }
                keep[l * s.k + g + first] = keep[l * s.k + g + second] = 1;
            }
    } else {  // TILE: 4 lines x 4 k, two kept per line and per k, the largest L1 norm (the first pattern on a tie)
        const std::vector<std::uint16_t>& patterns = tile_patterns();
        for (std::int64_t l0 = 0; l0 < s.lines; l0 += 4)
            for (std::int64_t g = 0; g < s.k; g += 4) {
                double best = -1;
                std::uint16_t bestPattern = patterns[0];
                for (std::uint16_t p : patterns) {
                    double sum = 0;
                    for (int b = 0; b < 16; b++)
                        if ((p >> b) & 1) sum += std::fabs(v[(l0 + b / 4) * s.k + g + b % 4]);
                    if (sum > best) { best = sum; bestPattern = p; }
                }
                for (int b = 0; b < 16; b++)
                    if ((bestPattern >> b) & 1) keep[(l0 + b / 4) * s.k + g + b % 4] = 1;
            }
    }
    for (std::int64_t l = 0; l < s.lines; l++)
        for (std::int64_t kk = 0; kk < s.k; kk++) {
            std::int64_t at = s.offset(l, kk);
            if (keep[l * s.k + kk]) store16(w.out, type, at, v[l * s.k + kk]);
            else static_cast<std::uint16_t*>(w.out)[at] = 0;  // +0
        }
}

void run_prune_check(void* arg) {
    const PruneWork& w = *static_cast<PruneWork*>(arg);
    const Structured& s = w.s;
    if (!in_device(w.fn, "d_in", reinterpret_cast<unsigned long long>(w.in), span_bytes(s.mat))) return;
    if (!in_device(w.fn, "d_valid", reinterpret_cast<unsigned long long>(w.valid), sizeof(int))) return;
    int result = 0;
    for (std::int64_t l = 0; l < s.lines && result == 0; l++)
        for (std::int64_t g = 0; g < s.k && result == 0; g += 4) {
            int nonzero = 0;
            for (int j = 0; j < 4; j++) nonzero += load(w.in, s.mat.type, s.offset(l, g + j)) != 0.0f;
            if (nonzero > 2) result = 1;
        }
    *w.valid = result;
}

void free_prune(void* arg) { delete static_cast<PruneWork*>(arg); }

// ------------------------------------------------------------------ compression

struct CompressWork {
    const char* fn;
    Structured s;
    const void* dense;
    void* compressed;
    void* buffer;
    std::size_t bufferBytes;
};

// Compressed layout: values[line][k/2] (16-bit), then for each line k/8 bytes of 2-bit indices
// (group g's two indices in bits 0-1 and 2-3 of nibble g % 2 of byte g / 2).
void run_compress(void* arg) {
    const CompressWork& w = *static_cast<CompressWork*>(arg);
    const Structured& s = w.s;
    if (!in_device(w.fn, "d_dense", reinterpret_cast<unsigned long long>(w.dense), span_bytes(s.mat))) return;
    if (!in_device(w.fn, "d_compressed", reinterpret_cast<unsigned long long>(w.compressed), s.compressed_bytes())) return;
    if (!in_device(w.fn, "d_compressed_buffer", reinterpret_cast<unsigned long long>(w.buffer), w.bufferBytes)) return;
    std::uint16_t* values = static_cast<std::uint16_t*>(w.compressed);
    unsigned char* meta = reinterpret_cast<unsigned char*>(values + s.lines * (s.k / 2));
    std::memset(meta, 0, (std::size_t)(s.lines * (s.k / 8)));
    const std::uint16_t* in = static_cast<const std::uint16_t*>(w.dense);
    bool warned = false;
    for (std::int64_t l = 0; l < s.lines; l++)
        for (std::int64_t g = 0; g < s.k / 4; g++) {
            int idx[2] = {-1, -1}, kept = 0, nonzero = 0;
            for (int j = 0; j < 4; j++) {
                if (load(in, s.mat.type, s.offset(l, g * 4 + j)) == 0.0f) continue;
                nonzero++;
                if (kept < 2) idx[kept++] = j;
            }
            if (nonzero > 2 && !warned) {
                std::fprintf(stderr, "shears-cuda-emulator: %s: the matrix does not follow 2:4 (line %lld, k %lld..%lld keeps %d of 4): "
                                     "undefined in cuSPARSELt, the first two are kept here\n",
                             w.fn, (long long)l, (long long)g * 4, (long long)g * 4 + 3, nonzero);
                warned = true;
            }
            // fewer than two nonzeros: fill with zeros at unused positions (distinct indices, as the hardware needs)
            for (int j = 0; kept < 2 && j < 4; j++)
                if (j != idx[0]) idx[kept++] = j;
            for (int q = 0; q < 2; q++) {
                values[l * (s.k / 2) + g * 2 + q] = in[s.offset(l, g * 4 + idx[q])];
                meta[l * (s.k / 8) + g / 2] |= (unsigned char)(idx[q] << ((g % 2) * 4 + q * 2));
            }
        }
}

void free_compress(void* arg) { delete static_cast<CompressWork*>(arg); }

// ------------------------------------------------------------------ the product

struct MatmulWork {
    const char* fn;
    Matmul mm;
    float alpha, beta;
    const void* a;
    const void* b;
    const void* c;
    void* d;
    void* workspace;
    std::size_t workspaceBytes;
    int repeats;  // cusparseLtMatmulSearch runs the product several times
};

float dense_at(const Mat& m, const void* p, std::int64_t r, std::int64_t c) {
    return load(p, m.type, m.order == ORDER_ROW ? r * m.ld + c : r + c * m.ld);
}

void run_matmul(void* arg) {
    const MatmulWork& w = *static_cast<MatmulWork*>(arg);
    const Matmul& mm = w.mm;
    Structured s = structured_of(mm);
    const Mat& dense = s.isA ? mm.b : mm.a;
    const void* comp = s.isA ? w.a : w.b;
    const void* other = s.isA ? w.b : w.a;
    if (!in_device(w.fn, s.isA ? "d_A (compressed)" : "d_B (compressed)", reinterpret_cast<unsigned long long>(comp), s.compressed_bytes())) return;
    if (!in_device(w.fn, s.isA ? "d_B" : "d_A", reinterpret_cast<unsigned long long>(other), span_bytes(dense))) return;
    if (w.beta != 0.0f && !in_device(w.fn, "d_C", reinterpret_cast<unsigned long long>(w.c), span_bytes(mm.c))) return;
    if (!in_device(w.fn, "d_D", reinterpret_cast<unsigned long long>(w.d), span_bytes(mm.d))) return;
    if (!in_device(w.fn, "workspace", reinterpret_cast<unsigned long long>(w.workspace), w.workspaceBytes)) return;
    std::int64_t m = mm.c.rows, n = mm.c.cols, k = s.k;
    const std::uint16_t* values = static_cast<const std::uint16_t*>(comp);
    const unsigned char* meta = reinterpret_cast<const unsigned char*>(values + s.lines * (k / 2));
    int type = s.mat.type;
    // op(dense) element: A dense: op(A)(i, kk); B dense: op(B)(kk, j)
    bool denseT = (s.isA ? mm.opB : mm.opA) == OP_T;
    auto other_at = [&](std::int64_t kk, std::int64_t x) {  // B: op(B)(kk, x = j); A: op(A)(x = i, kk)
        if (s.isA) return denseT ? dense_at(dense, other, x, kk) : dense_at(dense, other, kk, x);
        return denseT ? dense_at(dense, other, kk, x) : dense_at(dense, other, x, kk);
    };
    std::vector<float> result((std::size_t)(m * n));
    for (std::int64_t line = 0; line < s.lines; line++)
        for (std::int64_t x = 0; x < (s.isA ? n : m); x++) {
            float sum = 0.0f;
            for (std::int64_t g = 0; g < k / 4; g++) {
                unsigned char bits = (unsigned char)(meta[line * (k / 8) + g / 2] >> ((g % 2) * 4));
                for (int q = 0; q < 2; q++) {
                    std::int64_t kk = g * 4 + ((bits >> (q * 2)) & 3);
                    float sv = load(values, type, line * (k / 2) + g * 2 + q);
                    sum = std::fmaf(sv, other_at(kk, x), sum);
                }
            }
            std::int64_t i = s.isA ? line : x, j = s.isA ? x : line;
            result[i * n + j] = sum;
        }
    for (int rep = 0; rep < w.repeats; rep++)
        for (std::int64_t i = 0; i < m; i++)
            for (std::int64_t j = 0; j < n; j++) {
                float out = w.alpha * result[i * n + j];
                if (w.beta != 0.0f) out += w.beta * dense_at(mm.c, w.c, i, j);  // beta 0: C is not read
                store16(w.d, mm.d.type, mm.d.order == ORDER_ROW ? i * mm.d.ld + j : i + j * mm.d.ld, out);
            }
}

void free_matmul(void* arg) { delete static_cast<MatmulWork*>(arg); }

// The workspace the emulated kernel asks for: nonzero on purpose, so that a caller that ignores
// cusparseLtMatmulGetWorkspace fails here as it may on a GPU.
std::size_t workspace_bytes(const Matmul& mm) { return 4096 + (std::size_t)(mm.c.rows * 4); }

// The compression work buffer cusparseLtSpMMACompressedSize reports (nonzero on purpose).
constexpr std::size_t COMPRESS_BUFFER_BYTES = 1024;

int check_matmul_call(const char* fn, const Handle* h, const Plan* plan, const void* alpha, const void* a, const void* b,
                      const void* beta, const void* c, void* d, void* workspace, void** streams, int numStreams) {
    if (!live(h)) return CUSPARSE_STATUS_NOT_INITIALIZED;
    if (!live(plan)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "plan not initialised (cusparseLtMatmulPlanInit) or destroyed");
    if (alpha == nullptr || beta == nullptr) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "alpha or beta is null");
    if (a == nullptr || b == nullptr || c == nullptr || d == nullptr) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "a matrix pointer is null");
    if (numStreams < 0 || (numStreams > 0 && streams == nullptr))
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "numStreams " + std::to_string(numStreams) + " with streams " + (streams ? "set" : "null"));
    const Matmul& mm = plan->matmul;
    if (!aligned(a, mm.a.alignment) || !aligned(b, mm.b.alignment) || !aligned(c, mm.c.alignment) || !aligned(d, mm.d.alignment))
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "a matrix pointer is not aligned to its descriptor's alignment");
    if (plan->workspace > 0 && workspace == nullptr)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "no workspace, though cusparseLtMatmulGetWorkspace asks for " +
                                                             std::to_string(plan->workspace) + " bytes");
    return CUSPARSE_STATUS_SUCCESS;
}

int matmul_call(const char* fn, int repeats, const Handle* h, const Plan* plan, const void* alpha, const void* a,
                const void* b, const void* beta, const void* c, void* d, void* workspace, void** streams, int numStreams) {
    if (int rc = check_matmul_call(fn, h, plan, alpha, a, b, beta, c, d, workspace, streams, numStreams)) return rc;
    void* stream = numStreams > 0 ? streams[0] : nullptr;
    MatmulWork* w = new MatmulWork{fn, plan->matmul, *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
                                   a, b, c, d, workspace, plan->workspace, repeats};
    return enqueue(fn, stream, run_matmul, w, free_matmul);
}

}  // namespace

// ------------------------------------------------------------------ library management

EXPORT const char* cusparseLtGetErrorName(int status) { return status_name(status); }

EXPORT const char* cusparseLtGetErrorString(int status) { return status_text(status); }

EXPORT int cusparseLtInit(void* handle) {
    if (handle == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    store(handle, Handle{HANDLE_MAGIC, VERSION});
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtDestroy(void* handle) {
    Handle* h = static_cast<Handle*>(handle);
    if (!live(h)) return CUSPARSE_STATUS_NOT_INITIALIZED;
    h->magic = DEAD;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtGetVersion(const void* handle, int* version) {
    const Handle* h = static_cast<const Handle*>(handle);
    if (!live(h)) return CUSPARSE_STATUS_NOT_INITIALIZED;
    if (version == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    *version = h->version;
    return CUSPARSE_STATUS_SUCCESS;
}

// ------------------------------------------------------------------ matrix descriptors

EXPORT int cusparseLtDenseDescriptorInit(const void* handle, void* matDescr, std::int64_t rows, std::int64_t cols,
                                         std::int64_t ld, std::uint32_t alignment, int valueType, int order) {
    return mat_init("cusparseLtDenseDescriptorInit", static_cast<const Handle*>(handle), matDescr, rows, cols, ld, alignment,
                    valueType, order, 0);
}

EXPORT int cusparseLtStructuredDescriptorInit(const void* handle, void* matDescr, std::int64_t rows, std::int64_t cols,
                                              std::int64_t ld, std::uint32_t alignment, int valueType, int order,
                                              int sparsity) {
    if (live(static_cast<const Handle*>(handle)) && sparsity != SPARSITY_50_PERCENT)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, "cusparseLtStructuredDescriptorInit", "sparsity " + std::to_string(sparsity));
    return mat_init("cusparseLtStructuredDescriptorInit", static_cast<const Handle*>(handle), matDescr, rows, cols, ld,
                    alignment, valueType, order, 1);
}

EXPORT int cusparseLtMatDescriptorDestroy(const void* matDescr) {
    Mat* m = const_cast<Mat*>(static_cast<const Mat*>(matDescr));
    if (!live(m)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, "cusparseLtMatDescriptorDestroy", "descriptor not initialised or already destroyed");
    m->magic = DEAD;
    return CUSPARSE_STATUS_SUCCESS;
}

// ------------------------------------------------------------------ matmul descriptor, algorithm, plan

EXPORT int cusparseLtMatmulDescriptorInit(const void* handle, void* matmulDescr, int opA, int opB, const void* matA,
                                          const void* matB, const void* matC, const void* matD, int computeType) {
    const char* fn = "cusparseLtMatmulDescriptorInit";
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    const Mat *a = static_cast<const Mat*>(matA), *b = static_cast<const Mat*>(matB), *c = static_cast<const Mat*>(matC),
              *d = static_cast<const Mat*>(matD);
    if (matmulDescr == nullptr) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "matmulDescr is null");
    if (!live(a) || !live(b) || !live(c) || !live(d))
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "a matrix descriptor is not initialised or was destroyed");
    if (opA < OP_N || opA > OP_C || opB < OP_N || opB > OP_C)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "opA " + std::to_string(opA) + " / opB " + std::to_string(opB));
    if (opA == OP_C || opB == OP_C) return refuse(CUSPARSE_STATUS_NOT_SUPPORTED, fn, "CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE");
    if (a->structured + b->structured != 1)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "exactly one of matA and matB must be structured");
    if (c->structured || d->structured) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "matC and matD must be dense");
    std::int64_t m = opA == OP_N ? a->rows : a->cols, k = opA == OP_N ? a->cols : a->rows;
    std::int64_t bk = opB == OP_N ? b->rows : b->cols, n = opB == OP_N ? b->cols : b->rows;
    if (bk != k || c->rows != m || c->cols != n)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn,
                      "op(A) " + std::to_string(m) + "x" + std::to_string(k) + ", op(B) " + std::to_string(bk) + "x" + std::to_string(n) +
                          ", C " + std::to_string(c->rows) + "x" + std::to_string(c->cols));
    if (d->rows != c->rows || d->cols != c->cols || d->type != c->type || d->order != c->order || d->ld != c->ld)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "matD must describe the same matrix layout as matC");
    if (computeType != COMPUTE_32I && computeType != COMPUTE_16F && computeType != COMPUTE_32F)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "computeType " + std::to_string(computeType));
    bool sixteen = is16(a->type) && a->type == b->type && c->type == a->type;
    if (a->type != b->type) return refuse(CUSPARSE_STATUS_NOT_SUPPORTED, fn, "A and B of different types");
    if (!sixteen || computeType != COMPUTE_32F)
        return refuse(CUSPARSE_STATUS_NOT_SUPPORTED, fn,
                      "types A/B " + std::to_string(a->type) + ", C/D " + std::to_string(c->type) + ", compute " + std::to_string(computeType) +
                          ": the emulator computes only 16F/16BF inputs and output with CUSPARSE_COMPUTE_32F");
    Matmul mm{MATMUL_MAGIC, opA, opB, computeType, *a, *b, *c, *d};
    store(matmulDescr, mm);
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtMatmulAlgSelectionInit(const void* handle, void* algSelection, const void* matmulDescr, int alg) {
    const char* fn = "cusparseLtMatmulAlgSelectionInit";
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    const Matmul* mm = static_cast<const Matmul*>(matmulDescr);
    if (algSelection == nullptr || !live(mm)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "algSelection null or matmulDescr not initialised");
    if (alg != MATMUL_ALG_DEFAULT) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "alg " + std::to_string(alg));
    store(algSelection, AlgSelection{ALG_MAGIC, alg, 0, SEARCH_ITERATIONS, *mm});
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtMatmulAlgSelectionDestroy(const void* algSelection) {
    AlgSelection* a = const_cast<AlgSelection*>(static_cast<const AlgSelection*>(algSelection));
    if (!live(a)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, "cusparseLtMatmulAlgSelectionDestroy", "not initialised or already destroyed");
    a->magic = DEAD;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtMatmulPlanInit(const void* handle, void* plan, const void* matmulDescr, const void* algSelection) {
    const char* fn = "cusparseLtMatmulPlanInit";
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    const Matmul* mm = static_cast<const Matmul*>(matmulDescr);
    const AlgSelection* alg = static_cast<const AlgSelection*>(algSelection);
    if (plan == nullptr || !live(mm) || !live(alg))
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "plan null, or matmulDescr / algSelection not initialised");
    store(plan, Plan{PLAN_MAGIC, *mm, alg->alg, alg->configId, alg->searchIterations, workspace_bytes(*mm),
                     const_cast<AlgSelection*>(alg)});
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtMatmulPlanDestroy(const void* plan) {
    Plan* p = const_cast<Plan*>(static_cast<const Plan*>(plan));
    if (!live(p)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, "cusparseLtMatmulPlanDestroy", "not initialised or already destroyed");
    p->magic = DEAD;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtMatmulGetWorkspace(const void* handle, const void* plan, std::size_t* workspaceSize) {
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    const Plan* p = static_cast<const Plan*>(plan);
    if (!live(p) || workspaceSize == nullptr) return refuse(CUSPARSE_STATUS_INVALID_VALUE, "cusparseLtMatmulGetWorkspace", "plan not initialised or size null");
    *workspaceSize = p->workspace;
    return CUSPARSE_STATUS_SUCCESS;
}

// ------------------------------------------------------------------ the product

EXPORT int cusparseLtMatmul(const void* handle, const void* plan, const void* alpha, const void* d_A, const void* d_B,
                            const void* beta, const void* d_C, void* d_D, void* workspace, void** streams, int numStreams) {
    return matmul_call("cusparseLtMatmul", 1, static_cast<const Handle*>(handle), static_cast<const Plan*>(plan), alpha, d_A,
                       d_B, beta, d_C, d_D, workspace, streams, numStreams);
}

EXPORT int cusparseLtMatmulSearch(const void* handle, void* plan, const void* alpha, const void* d_A, const void* d_B,
                                  const void* beta, const void* d_C, void* d_D, void* workspace, void** streams,
                                  int numStreams) {
    // every emulated configuration, the plan's search iterations each; all equally fast here, so the last one is kept
    Plan* p = static_cast<Plan*>(plan);
    int iterations = live(p) ? p->searchIterations : 1;  // a dead plan: matmul_call refuses it
    int rc = matmul_call("cusparseLtMatmulSearch", CONFIGS * iterations, static_cast<const Handle*>(handle), p, alpha, d_A,
                         d_B, beta, d_C, d_D, workspace, streams, numStreams);
    if (rc != CUSPARSE_STATUS_SUCCESS) return rc;
    p->configId = CONFIGS - 1;
    if (live(p->algSelection)) p->algSelection->configId = CONFIGS - 1;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtMatmulAlgGetAttribute(const void* handle, const void* algSelection, int attribute, void* data,
                                           std::size_t dataSize) {
    const char* fn = "cusparseLtMatmulAlgGetAttribute";
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    const AlgSelection* a = static_cast<const AlgSelection*>(algSelection);
    if (!live(a)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "algSelection not initialised or destroyed");
    if (data == nullptr || dataSize != sizeof(int))
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "data null or dataSize " + std::to_string(dataSize) + " is not sizeof(int)");
    int value;
    switch (attribute) {
        case ALG_CONFIG_ID: value = a->configId; break;
        case ALG_CONFIG_MAX_ID: value = CONFIGS - 1; break;
        case ALG_SEARCH_ITERATIONS: value = a->searchIterations; break;
        default: return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "attribute " + std::to_string(attribute) + " is not emulated");
    }
    std::memcpy(data, &value, sizeof value);
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtMatmulAlgSetAttribute(const void* handle, void* algSelection, int attribute, const void* data,
                                           std::size_t dataSize) {
    const char* fn = "cusparseLtMatmulAlgSetAttribute";
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    AlgSelection* a = static_cast<AlgSelection*>(algSelection);
    if (!live(a)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "algSelection not initialised or destroyed");
    if (data == nullptr || dataSize != sizeof(int))
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "data null or dataSize " + std::to_string(dataSize) + " is not sizeof(int)");
    int value;
    std::memcpy(&value, data, sizeof value);
    switch (attribute) {
        case ALG_SEARCH_ITERATIONS:
            if (value < 1) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "search iterations " + std::to_string(value) + " (must be > 0)");
            a->searchIterations = value;
            return CUSPARSE_STATUS_SUCCESS;
        case ALG_CONFIG_ID:
            if (value < 0 || value > CONFIGS - 1)
                return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "config id " + std::to_string(value) + " outside 0.." + std::to_string(CONFIGS - 1));
            a->configId = value;
            return CUSPARSE_STATUS_SUCCESS;
        case ALG_CONFIG_MAX_ID: return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "CUSPARSELT_MATMUL_ALG_CONFIG_MAX_ID is read-only");
        default: return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "attribute " + std::to_string(attribute) + " is not emulated");
    }
}

// ------------------------------------------------------------------ pruning and compression

EXPORT int cusparseLtSpMMAPrune(const void* handle, const void* matmulDescr, const void* d_in, void* d_out, int pruneAlg,
                                void* stream) {
    const char* fn = "cusparseLtSpMMAPrune";
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    const Matmul* mm = static_cast<const Matmul*>(matmulDescr);
    if (!live(mm)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "matmulDescr not initialised");
    if (pruneAlg != PRUNE_SPMMA_TILE && pruneAlg != PRUNE_SPMMA_STRIP) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "pruneAlg " + std::to_string(pruneAlg));
    if (d_in == nullptr || d_out == nullptr) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "d_in or d_out is null");
    Structured s = structured_of(*mm);
    if (!aligned(d_in, s.mat.alignment) || !aligned(d_out, s.mat.alignment))
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "d_in or d_out is not aligned to the descriptor's alignment");
    return enqueue(fn, stream, run_prune, new PruneWork{fn, s, d_in, d_out, nullptr, pruneAlg}, free_prune);
}

EXPORT int cusparseLtSpMMAPruneCheck(const void* handle, const void* matmulDescr, const void* d_in, int* d_valid, void* stream) {
    const char* fn = "cusparseLtSpMMAPruneCheck";
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    const Matmul* mm = static_cast<const Matmul*>(matmulDescr);
    if (!live(mm)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "matmulDescr not initialised");
    if (d_in == nullptr || d_valid == nullptr) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "d_in or d_valid is null");
    Structured s = structured_of(*mm);
    if (!aligned(d_in, s.mat.alignment)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "d_in is not aligned to the descriptor's alignment");
    return enqueue(fn, stream, run_prune_check, new PruneWork{fn, s, d_in, nullptr, d_valid, 0}, free_prune);
}

EXPORT int cusparseLtSpMMACompressedSize(const void* handle, const void* plan, std::size_t* compressedSize,
                                         std::size_t* compressBufferSize) {
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    const Plan* p = static_cast<const Plan*>(plan);
    if (!live(p) || compressedSize == nullptr || compressBufferSize == nullptr)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, "cusparseLtSpMMACompressedSize", "plan not initialised or an output is null");
    *compressedSize = structured_of(p->matmul).compressed_bytes();
    *compressBufferSize = COMPRESS_BUFFER_BYTES;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseLtSpMMACompress(const void* handle, const void* plan, const void* d_dense, void* d_compressed,
                                   void* d_compressed_buffer, void* stream) {
    const char* fn = "cusparseLtSpMMACompress";
    if (!live(static_cast<const Handle*>(handle))) return CUSPARSE_STATUS_NOT_INITIALIZED;
    const Plan* p = static_cast<const Plan*>(plan);
    if (!live(p)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "plan not initialised");
    if (d_dense == nullptr || d_compressed == nullptr || d_compressed_buffer == nullptr)
        return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "d_dense, d_compressed or d_compressed_buffer is null");
    Structured s = structured_of(p->matmul);
    if (!aligned(d_dense, s.mat.alignment)) return refuse(CUSPARSE_STATUS_INVALID_VALUE, fn, "d_dense is not aligned to the descriptor's alignment");
    return enqueue(fn, stream, run_compress, new CompressWork{fn, s, d_dense, d_compressed, d_compressed_buffer, COMPRESS_BUFFER_BYTES},
                   free_compress);
}
