// The part of cuBLAS (libcublas.so.13) that Shears binds (native-bindings Cublas.java), emulated
// on the CPU for tests: naive column-major GEMMs (FP32; cublasGemmEx also FP16/BF16 data with
// CUBLAS_COMPUTE_32F, for the 2:4 benchmark's dense baseline) with exactly cuBLAS's argument rules (cuBLAS
// documentation, "cublas<t>gemm()"): C = alpha op(A) op(B) + beta C with op(A) m x k, op(B) k x n,
// C m x n, all column-major; lda >= max(1, rows of A as stored), and likewise ldb, ldc; when beta
// is 0, C is not read (NaN there does not propagate). Device pointers are host addresses, as in
// the driver emulator. The GEMMs run in stream order: they are queued on the handle's stream
// through the driver emulator (shears_emu_enqueue; this library links libcuda.so.1), with alpha
// and beta read at the call as in cuBLAS's host pointer mode. Each sum runs over k in order with fmaf, one rounding per step (cuBLAS's
// order is unspecified; callers compare with a tolerance). Test-only.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include <cstdlib>

#include "half_convert.h"
#include "driver_hooks.h"

namespace {

// cublasStatus_t values (cublas_api.h)
enum : int {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_ARCH_MISMATCH = 8,
    CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_INTERNAL_ERROR = 14,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
    CUBLAS_STATUS_LICENSE_ERROR = 16,
};

struct Status { int code; const char* name; const char* text; };
const Status STATUSES[] = {
    {CUBLAS_STATUS_SUCCESS, "CUBLAS_STATUS_SUCCESS", "success"},
    {CUBLAS_STATUS_NOT_INITIALIZED, "CUBLAS_STATUS_NOT_INITIALIZED", "the library was not initialized"},
    {CUBLAS_STATUS_ALLOC_FAILED, "CUBLAS_STATUS_ALLOC_FAILED", "the resource allocation failed"},
    {CUBLAS_STATUS_INVALID_VALUE, "CUBLAS_STATUS_INVALID_VALUE", "an invalid numeric value was used as an argument"},
    {CUBLAS_STATUS_ARCH_MISMATCH, "CUBLAS_STATUS_ARCH_MISMATCH", "an absent device architectural feature is required"},
    {CUBLAS_STATUS_MAPPING_ERROR, "CUBLAS_STATUS_MAPPING_ERROR", "an access to GPU memory space failed"},
    {CUBLAS_STATUS_EXECUTION_FAILED, "CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to execute"},
    {CUBLAS_STATUS_INTERNAL_ERROR, "CUBLAS_STATUS_INTERNAL_ERROR", "an internal operation failed"},
    {CUBLAS_STATUS_NOT_SUPPORTED, "CUBLAS_STATUS_NOT_SUPPORTED", "the functionality requested is not supported"},
    {CUBLAS_STATUS_LICENSE_ERROR, "CUBLAS_STATUS_LICENSE_ERROR", "an error was detected when checking the current licensing"},
};

const unsigned HANDLE_MAGIC = 0x43424c53;
struct Handle {
    unsigned magic = HANDLE_MAGIC;
    void* stream = nullptr;
    // the caller's workspace (cublasSetWorkspace), or null: cuBLAS's default pool; the emulator's
    // GEMMs need none, it is only checked and recorded
    void* workspace = nullptr;
    size_t workspaceBytes = 0;
};

constexpr int OP_N = 0, OP_T = 1, OP_C = 2;
constexpr int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14;
constexpr int CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77;

bool valid(const Handle* h) { return h != nullptr && h->magic == HANDLE_MAGIC; }

int check_gemm(int ta, int tb, int m, int n, int k, int lda, int ldb, int ldc) {
    if (ta < OP_N || ta > OP_C || tb < OP_N || tb > OP_C) return CUBLAS_STATUS_INVALID_VALUE;
    if (m < 0 || n < 0 || k < 0) return CUBLAS_STATUS_INVALID_VALUE;
    int rowsA = ta == OP_N ? m : k, rowsB = tb == OP_N ? k : n;
    if (lda < (rowsA > 1 ? rowsA : 1) || ldb < (rowsB > 1 ? rowsB : 1) || ldc < (m > 1 ? m : 1)) return CUBLAS_STATUS_INVALID_VALUE;
    return CUBLAS_STATUS_SUCCESS;
}

void gemm(int ta, int tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
          float beta, float* c, int ldc) {
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            float s = 0.0f;
            if (alpha != 0.0f) {
                for (int l = 0; l < k; l++) {
                    float av = ta == OP_N ? a[i + (std::int64_t)l * lda] : a[l + (std::int64_t)i * lda];
                    float bv = tb == OP_N ? b[l + (std::int64_t)j * ldb] : b[j + (std::int64_t)l * ldb];
                    s = std::fmaf(av, bv, s);
                }
            }
            float& out = c[i + (std::int64_t)j * ldc];
            out = beta == 0.0f ? alpha * s : alpha * s + beta * out;
        }
    }
}

// One queued strided-batched GEMM (a plain GEMM is a batch of one).
struct GemmCall {
    int ta, tb, m, n, k;
    float alpha, beta;
    const float* a;
    int lda;
    long long strideA;
    const float* b;
    int ldb;
    long long strideB;
    float* c;
    int ldc;
    long long strideC;
    int batch;
};

void run_gemm(void* arg) {
    const GemmCall& g = *static_cast<GemmCall*>(arg);
    for (int i = 0; i < g.batch; i++) {
        gemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a + i * g.strideA, g.lda, g.b + i * g.strideB, g.ldb, g.beta,
             g.c + i * g.strideC, g.ldc);
    }
}

void free_gemm(void* arg) { delete static_cast<GemmCall*>(arg); }

// cublasGemmEx with 16-bit data: A and B CUDA_R_16F or CUDA_R_16BF, C the same type or
// CUDA_R_32F, CUBLAS_COMPUTE_32F (cuBLAS documentation, cublasGemmEx(): the CUBLAS_COMPUTE_32F
// rows with scale type CUDA_R_32F). Sums in float with fmaf, one rounding to C's type.
struct GemmExCall {
    int ta, tb, m, n, k;
    float alpha, beta;
    const void* a;
    int aType, lda;
    const void* b;
    int ldb;
    void* c;
    int cType, ldc;
};

float load_ex(const void* p, int type, long long i) {
    if (type == CUDA_R_32F) return static_cast<const float*>(p)[i];
    std::uint16_t v = static_cast<const std::uint16_t*>(p)[i];
    return type == CUDA_R_16F ? emu16::half_to_float(v) : emu16::bf16_to_float(v);
}

void store_ex(void* p, int type, long long i, float f) {
    if (type == CUDA_R_32F) static_cast<float*>(p)[i] = f;
    else static_cast<std::uint16_t*>(p)[i] = type == CUDA_R_16F ? emu16::float_to_half(f) : emu16::float_to_bf16(f);
}

void run_gemm_ex(void* arg) {
    const GemmExCall& g = *static_cast<GemmExCall*>(arg);
    for (int j = 0; j < g.n; j++)
        for (int i = 0; i < g.m; i++) {
            float s = 0.0f;
            if (g.alpha != 0.0f)
                for (int l = 0; l < g.k; l++) {
                    float av = load_ex(g.a, g.aType, g.ta == OP_N ? i + (long long)l * g.lda : l + (long long)i * g.lda);
                    float bv = load_ex(g.b, g.aType, g.tb == OP_N ? l + (long long)j * g.ldb : j + (long long)l * g.ldb);
                    s = std::fmaf(av, bv, s);
                }
            long long at = i + (long long)j * g.ldc;
            float out = g.beta == 0.0f ? g.alpha * s : g.alpha * s + g.beta * load_ex(g.c, g.cType, at);
            store_ex(g.c, g.cType, at, out);
        }
}

void free_gemm_ex(void* arg) { delete static_cast<GemmExCall*>(arg); }

int enqueue_gemm(const Handle* h, const GemmCall& call) {
    int rc = shears_emu_enqueue(h->stream, run_gemm, new GemmCall(call), free_gemm);
    if (rc != 0) {
        std::fprintf(stderr, "shears-cuda-emulator: cuBLAS could not queue its GEMM (driver status %d)\n", rc);
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

EXPORT const char* cublasGetStatusName(int status) {
    for (const Status& s : STATUSES) if (s.code == status) return s.name;
    return "CUBLAS_STATUS_UNKNOWN";
}

EXPORT const char* cublasGetStatusString(int status) {
    for (const Status& s : STATUSES) if (s.code == status) return s.text;
    return "unknown error";
}

EXPORT int cublasCreate_v2(Handle** out) {
    if (out == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *out = new Handle();
    return CUBLAS_STATUS_SUCCESS;
}

EXPORT int cublasDestroy_v2(Handle* h) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->magic = 0;
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

EXPORT int cublasSetStream_v2(Handle* h, void* stream) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->stream = stream;
    // as documented: setting the stream resets the workspace to the default pool
    h->workspace = nullptr;
    h->workspaceBytes = 0;
    return CUBLAS_STATUS_SUCCESS;
}

// cuBLAS documents CUBLAS_STATUS_INVALID_VALUE for a workspace not aligned to 256 bytes.
EXPORT int cublasSetWorkspace_v2(Handle* h, void* workspace, size_t bytes) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (reinterpret_cast<uintptr_t>(workspace) % 256 != 0 || (workspace == nullptr && bytes != 0))
        return CUBLAS_STATUS_INVALID_VALUE;
    h->workspace = workspace;
    h->workspaceBytes = bytes;
    return CUBLAS_STATUS_SUCCESS;
}

EXPORT int cublasSgemm_v2(Handle* h, int ta, int tb, int m, int n, int k, const float* alpha, const float* a, int lda,
                          const float* b, int ldb, const float* beta, float* c, int ldc) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (int rc = check_gemm(ta, tb, m, n, k, lda, ldb, ldc)) return rc;
    if (alpha == nullptr || beta == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    return enqueue_gemm(h, GemmCall{ta, tb, m, n, k, *alpha, *beta, a, lda, 0, b, ldb, 0, c, ldc, 0, 1});
}

EXPORT int cublasSgemmStridedBatched(Handle* h, int ta, int tb, int m, int n, int k, const float* alpha, const float* a,
                                     int lda, long long strideA, const float* b, int ldb, long long strideB,
                                     const float* beta, float* c, int ldc, long long strideC, int batch) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (int rc = check_gemm(ta, tb, m, n, k, lda, ldb, ldc)) return rc;
    if (alpha == nullptr || beta == nullptr || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
    return enqueue_gemm(h, GemmCall{ta, tb, m, n, k, *alpha, *beta, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch});
}

EXPORT int cublasGemmEx(Handle* h, int ta, int tb, int m, int n, int k, const void* alpha, const void* a, int aType,
                        int lda, const void* b, int bType, int ldb, const void* beta, void* c, int cType, int ldc,
                        int computeType, int algo) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    (void)algo;
    bool fp32 = aType == CUDA_R_32F && bType == CUDA_R_32F && cType == CUDA_R_32F &&
                (computeType == CUBLAS_COMPUTE_32F || computeType == CUBLAS_COMPUTE_32F_FAST_TF32);
    bool half = (aType == CUDA_R_16F || aType == CUDA_R_16BF) && bType == aType && (cType == aType || cType == CUDA_R_32F) &&
                computeType == CUBLAS_COMPUTE_32F;
    if (!fp32 && !half) {
        std::fprintf(stderr, "shears-cuda-emulator: cublasGemmEx emulates FP32 data, and FP16/BF16 data with CUBLAS_COMPUTE_32F "
                             "(types %d %d %d, compute %d)\n", aType, bType, cType, computeType);
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    if (fp32)
        return cublasSgemm_v2(h, ta, tb, m, n, k, static_cast<const float*>(alpha), static_cast<const float*>(a), lda,
                              static_cast<const float*>(b), ldb, static_cast<const float*>(beta), static_cast<float*>(c), ldc);
    if (int rc = check_gemm(ta, tb, m, n, k, lda, ldb, ldc)) return rc;
    if (alpha == nullptr || beta == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    if (ta == OP_C || tb == OP_C) return CUBLAS_STATUS_NOT_SUPPORTED;  // real types: same as T; kept out of the emulator
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    GemmExCall* call = new GemmExCall{ta, tb, m, n, k, *static_cast<const float*>(alpha), *static_cast<const float*>(beta), a, aType, lda,
                                      b, ldb, c, cType, ldc};
    int rc = shears_emu_enqueue(h->stream, run_gemm_ex, call, free_gemm_ex);
    if (rc != 0) {
        std::fprintf(stderr, "shears-cuda-emulator: cuBLAS could not queue its GemmEx (driver status %d)\n", rc);
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    return CUBLAS_STATUS_SUCCESS;
}
