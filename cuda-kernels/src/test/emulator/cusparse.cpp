// The part of cuSPARSE's generic API (libcusparse.so.12) that Shears binds (native-bindings
// Cusparse.java), emulated on the CPU for tests: handles, CSR and Blocked-ELL sparse matrices,
// dense matrices and vectors, SpMM and SpMV with their work-buffer queries. Semantics per the
// cuSPARSE documentation, https://docs.nvidia.com/cuda/cusparse/ sections "cusparseSpMM()",
// "cusparseSpMV()", "cusparseCreateCsr()", "cusparseCreateBlockedEll()", "cusparseCreateDnMat()"
// and "Blocked-Ellpack (Blocked-ELL)" (the NVIDIA page itself was not at hand; its 12.x text was
// read in the transcription of the singe-cusparse crate's spmm.rs / spmv.rs / matrix.rs, and the
// Blocked-ELL layout in NVIDIA's CUDALibrarySamples cuSPARSE/spmm_blockedell sample):
//   SpMM: C = alpha op(A) op(B) + beta C, op(A) m x k sparse, op(B) k x n and C m x n dense, each
//         dense matrix row- or column-major with its own leading dimension (ld >= cols for
//         row-major, >= rows for column-major). Every algorithm takes either layout: the docs'
//         "CSR_ALG1 ... best performance with column-major layout", "CSR_ALG2 ... best
//         performance with row-major layout" are performance notes, not restrictions, so no
//         algorithm is refused for a layout here. CSR_ALG3 takes only opA = NON_TRANSPOSE.
//         Blocked-ELL: only opA = NON_TRANSPOSE, opB not CONJUGATE_TRANSPOSE, 32-bit indices
//         only, host pointer mode; FP32 needs compute capability >= 8.0 (this device is sm_90);
//   SpMV: y = alpha op(A) x + beta y, A in COO, CSR, CSC, BSR or Sliced-ELL (not Blocked-ELL);
//   Blocked-ELL: rows x cols cut into b x b blocks; ellColInd [ceil(rows/b), ellCols/b] holds each
//         block row's block-column indices (-1: padding), ellValue [rows, ellCols] row-major the
//         values of those blocks side by side ("ellCols: actual number of columns of the
//         Blocked-Ellpack format (ellValue columns)"; the sample's matrix [[0 0 1 2] [0 0 3 4]
//         [5 6 0 0] [7 8 0 0]] is ellColInd {1, 0}, ellValue {1..8}). The block-row-major order of
//         ellColInd is not spelled out in the text (only its size); the sample has one slot per
//         block row, so it does not tell either. A -1 slot is documented as an empty block, but
//         NVIDIA confirmed (CUDALibrarySamples issue #80, 2022) that the library read it as block
//         column 0 and that padding should hold zero values: the emulator does the same, so
//         padding with non-zero values gives the GPU's wrong answer here too.
// Argument checks return the documented codes: an unknown handle or descriptor, a negative size,
// an ld too small, an index type, base, order or operation out of the enum, mismatched sizes, or a
// null alpha/beta/work buffer (when the buffer query asked for bytes) is CUSPARSE_STATUS_INVALID_VALUE;
// an algorithm that does not fit the format (a CSR algorithm on Blocked-ELL, SpMV on Blocked-ELL,
// Blocked-ELL with op(A) transposed or 64-bit indices, CSR_ALG3 with op(A) transposed) is
// CUSPARSE_STATUS_NOT_SUPPORTED (the docs list these limits but not the code returned; cuSPARSE
// uses NOT_SUPPORTED for unsupported combinations). This emulator computes FP32 only (value and
// compute types CUDA_R_32F): other types are CUSPARSE_STATUS_NOT_SUPPORTED here, though the real
// library takes some of them.
//
// The products run in stream order (queued through the driver emulator, whose libcuda.so.1 this
// library links), with alpha and beta read at the call (host pointer mode) and the descriptors
// copied at the call (a descriptor may be destroyed before the work runs, as on a GPU). When the
// work runs it checks, as a GPU's memory protection would, that every array it reads or writes
// lies in live device memory and that every stored index is in range; a violation is the sticky
// CUDA_ERROR_ILLEGAL_ADDRESS of a faulting kernel (shears_emu_fault), with the cause on stderr.
// Sums run over the stored entries in order with fmaf (cuSPARSE's order is unspecified; callers
// compare with a tolerance). Test-only.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cusparse_status.h"
#include "driver_hooks.h"

namespace {

using namespace emu_cusparse;  // the status codes, names and texts (cusparse_status.h)

// enum values (cusparse.h, library_types.h)
constexpr int OP_N = 0, OP_T = 1, OP_C = 2;
constexpr int INDEX_16U = 1, INDEX_32I = 2, INDEX_64I = 3;
constexpr int BASE_ZERO = 0, BASE_ONE = 1;
constexpr int ORDER_COL = 1, ORDER_ROW = 2;
constexpr int CUDA_R_32F = 0, CUDA_R_64F = 1, CUDA_R_16F = 2, CUDA_R_16BF = 14;
constexpr int SPMM_ALG_DEFAULT = 0, SPMM_COO_ALG1 = 1, SPMM_COO_ALG2 = 2, SPMM_COO_ALG3 = 3, SPMM_CSR_ALG1 = 4,
              SPMM_COO_ALG4 = 5, SPMM_CSR_ALG2 = 6, SPMM_CSR_ALG3 = 12, SPMM_BLOCKED_ELL_ALG1 = 13;
constexpr int SPMV_ALG_DEFAULT = 0, SPMV_COO_ALG1 = 1, SPMV_CSR_ALG1 = 2, SPMV_CSR_ALG2 = 3, SPMV_COO_ALG2 = 4;

enum class Format { CSR, BLOCKED_ELL };

constexpr unsigned HANDLE_MAGIC = 0x43535048, SPMAT_MAGIC = 0x4353504d, DNMAT_MAGIC = 0x43534e4d, DNVEC_MAGIC = 0x43534e56;

struct Handle {
    unsigned magic = HANDLE_MAGIC;
    void* stream = nullptr;
};

struct SpMat {
    unsigned magic = SPMAT_MAGIC;
    Format format;
    std::int64_t rows, cols, nnz;  // nnz: CSR's stored count; Blocked-ELL: rows * ellCols
    unsigned long long rowOffsets, colInd, values;  // Blocked-ELL: colInd = ellColInd, values = ellValue
    int rowType, colType, base, valueType;
    std::int64_t block, ellCols;
};

struct DnMat {
    unsigned magic = DNMAT_MAGIC;
    std::int64_t rows, cols, ld;
    unsigned long long values;
    int valueType, order;
};

struct DnVec {
    unsigned magic = DNVEC_MAGIC;
    std::int64_t size;
    unsigned long long values;
    int valueType;
};

bool valid(const Handle* h) { return h != nullptr && h->magic == HANDLE_MAGIC; }
bool valid(const SpMat* d) { return d != nullptr && d->magic == SPMAT_MAGIC; }
bool valid(const DnMat* d) { return d != nullptr && d->magic == DNMAT_MAGIC; }
bool valid(const DnVec* d) { return d != nullptr && d->magic == DNVEC_MAGIC; }

bool known_type(int t) { return t == CUDA_R_32F || t == CUDA_R_64F || t == CUDA_R_16F || t == CUDA_R_16BF; }
bool index_type(int t) { return t == INDEX_32I || t == INDEX_64I; }
int index_bytes(int t) { return t == INDEX_64I ? 8 : 4; }

// The work-buffer size the queries report. Nonzero on purpose, so that a caller that ignores it
// (passes no buffer, or a smaller one) fails here as it may on a GPU.
std::size_t work_bytes(std::int64_t m, std::int64_t n) { return 256 + 4 * static_cast<std::size_t>(m > n ? m : n); }

// ------------------------------------------------------------------ the queued products

// A dense operand as stored: element (i, j) of the rows x cols matrix.
struct Dense {
    float* p;
    std::int64_t rows, cols, ld;
    int order;
    float& at(std::int64_t i, std::int64_t j) const { return order == ORDER_COL ? p[i + j * ld] : p[i * ld + j]; }
    std::size_t bytes() const {
        if (rows == 0 || cols == 0) return 0;
        std::int64_t last = order == ORDER_COL ? (rows - 1) + (cols - 1) * ld : (rows - 1) * ld + (cols - 1);
        return static_cast<std::size_t>(last + 1) * 4;
    }
};

struct Product {
    const char* fn;
    SpMat a;
    int opA, opB;
    float alpha, beta;
    Dense b, c;  // SpMV: vectors as n = 1 column-major matrices
    unsigned long long buffer;
    std::size_t bufferBytes;
};

std::int64_t load_index(unsigned long long base, int type, std::int64_t i) {
    return type == INDEX_64I ? reinterpret_cast<const std::int64_t*>(base)[i] : reinterpret_cast<const std::int32_t*>(base)[i];
}

bool check_range(const char* fn, const char* what, unsigned long long p, std::size_t bytes) {
    if (bytes == 0 || shears_emu_in_device_memory(p, bytes)) return true;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s: %s [0x%llx, +%zu bytes) is not inside one live device allocation", fn, what, p, bytes);
    shears_emu_fault(buf);
    return false;
}

bool fault(const Product& w, const std::string& what) {
    shears_emu_fault((std::string(w.fn) + ": " + what).c_str());
    return false;
}

// Every array the product touches is device memory, every index in range.
bool check_operands(const Product& w) {
    const SpMat& a = w.a;
    if (!check_range(w.fn, "B (or x)", reinterpret_cast<unsigned long long>(w.b.p), w.b.bytes())) return false;
    if (!check_range(w.fn, "C (or y)", reinterpret_cast<unsigned long long>(w.c.p), w.c.bytes())) return false;
    if (!check_range(w.fn, "externalBuffer", w.buffer, w.bufferBytes)) return false;
    if (a.format == Format::CSR) {
        if (!check_range(w.fn, "csrRowOffsets", a.rowOffsets, (a.rows + 1) * index_bytes(a.rowType))) return false;
        if (!check_range(w.fn, "csrColInd", a.colInd, a.nnz * index_bytes(a.colType))) return false;
        if (!check_range(w.fn, "csrValues", a.values, a.nnz * 4)) return false;
        if (load_index(a.rowOffsets, a.rowType, 0) != a.base || load_index(a.rowOffsets, a.rowType, a.rows) != a.nnz + a.base)
            return fault(w, "csrRowOffsets must run from the index base to nnz + base");
        for (std::int64_t r = 0; r < a.rows; r++) {
            std::int64_t s = load_index(a.rowOffsets, a.rowType, r), e = load_index(a.rowOffsets, a.rowType, r + 1);
            if (e < s) return fault(w, "csrRowOffsets decrease at row " + std::to_string(r));
            for (std::int64_t q = s - a.base; q < e - a.base; q++) {
                std::int64_t col = load_index(a.colInd, a.colType, q) - a.base;
                if (col < 0 || col >= a.cols)
                    return fault(w, "csrColInd[" + std::to_string(q) + "] = " + std::to_string(col + a.base) + " outside [0, " +
                                    std::to_string(a.cols) + ") (row " + std::to_string(r) + ")");
            }
        }
    } else {
        std::int64_t blockRows = (a.rows + a.block - 1) / a.block, slots = a.ellCols / a.block;
        if (!check_range(w.fn, "ellColInd", a.colInd, blockRows * slots * index_bytes(a.colType))) return false;
        if (!check_range(w.fn, "ellValue", a.values, a.rows * a.ellCols * 4)) return false;
        std::int64_t blockCols = (a.cols + a.block - 1) / a.block;
        for (std::int64_t i = 0; i < blockRows * slots; i++) {
            std::int64_t bc = load_index(a.colInd, a.colType, i);
            if (bc != -1 && (bc - a.base < 0 || bc - a.base >= blockCols))
                return fault(w, "ellColInd[" + std::to_string(i) + "] = " + std::to_string(bc) + " outside [0, " +
                                std::to_string(blockCols) + ") and not -1");
        }
    }
    return true;
}

// S = op(A) op(B) into C (m x n), accumulated as C = alpha S + beta C.
void run_product(void* arg) {
    const Product& w = *static_cast<Product*>(arg);
    if (!check_operands(w)) return;
    const SpMat& a = w.a;
    std::int64_t m = w.c.rows, n = w.c.cols;
    auto B = [&](std::int64_t i, std::int64_t j) { return w.opB == OP_N ? w.b.at(i, j) : w.b.at(j, i); };
    // S[m, n] accumulated per stored entry of A, in storage order
    std::vector<float> scratch(static_cast<std::size_t>(m * n), 0.0f);
    float* s = scratch.data();
    auto entry = [&](std::int64_t r, std::int64_t col, float v) {  // A(r, col) = v
        std::int64_t i = w.opA == OP_N ? r : col, l = w.opA == OP_N ? col : r;  // op(A)(i, l)
        for (std::int64_t j = 0; j < n; j++) s[i * n + j] = std::fmaf(v, B(l, j), s[i * n + j]);
    };
    const float* values = reinterpret_cast<const float*>(a.values);
    if (a.format == Format::CSR) {
        for (std::int64_t r = 0; r < a.rows; r++)
            for (std::int64_t q = load_index(a.rowOffsets, a.rowType, r) - a.base; q < load_index(a.rowOffsets, a.rowType, r + 1) - a.base; q++)
                entry(r, load_index(a.colInd, a.colType, q) - a.base, values[q]);
    } else {
        std::int64_t slots = a.ellCols / a.block;
        for (std::int64_t r = 0; r < a.rows; r++)
            for (std::int64_t e = 0; e < slots; e++) {
                std::int64_t bc = load_index(a.colInd, a.colType, (r / a.block) * slots + e);
                if (bc == -1) bc = a.base;  // padding read as block column 0 (issue #80, see the top)
                for (std::int64_t q = 0; q < a.block; q++) {
                    std::int64_t col = (bc - a.base) * a.block + q;
                    if (col < a.cols) entry(r, col, values[r * a.ellCols + e * a.block + q]);
                }
            }
    }
    for (std::int64_t i = 0; i < m; i++)
        for (std::int64_t j = 0; j < n; j++) {
            float& out = w.c.at(i, j);
            out = w.beta == 0.0f ? w.alpha * s[i * n + j] : w.alpha * s[i * n + j] + w.beta * out;  // beta 0: C not read
        }
}

void free_product(void* arg) { delete static_cast<Product*>(arg); }

// ------------------------------------------------------------------ argument checks

int check_types(const SpMat* a, int bType, int cType, int computeType) {
    if (!known_type(bType) || !known_type(cType) || !known_type(computeType)) return CUSPARSE_STATUS_INVALID_VALUE;
    if (a->valueType != CUDA_R_32F || bType != CUDA_R_32F || cType != CUDA_R_32F || computeType != CUDA_R_32F) {
        std::fprintf(stderr, "shears-cuda-emulator: cuSPARSE emulates only FP32 data and compute (types A %d B %d C %d, compute %d)\n",
                     a->valueType, bType, cType, computeType);
        return CUSPARSE_STATUS_NOT_SUPPORTED;
    }
    return CUSPARSE_STATUS_SUCCESS;
}

// SpMM's checks, shared by the buffer query and the product.
int check_spmm(const Handle* h, int opA, int opB, const void* alpha, const SpMat* a, const DnMat* b, const void* beta,
               const DnMat* c, int computeType, int alg) {
    if (!valid(h)) return CUSPARSE_STATUS_NOT_INITIALIZED;
    if (!valid(a) || !valid(b) || !valid(c) || alpha == nullptr || beta == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    if (opA < OP_N || opA > OP_C || opB < OP_N || opB > OP_C) return CUSPARSE_STATUS_INVALID_VALUE;
    switch (alg) {
        case SPMM_ALG_DEFAULT: break;
        case SPMM_CSR_ALG1: case SPMM_CSR_ALG2:
            if (a->format != Format::CSR) return CUSPARSE_STATUS_NOT_SUPPORTED;
            break;
        case SPMM_CSR_ALG3:  // "supports only CSR matrices with opA NON_TRANSPOSE"
            if (a->format != Format::CSR || opA != OP_N) return CUSPARSE_STATUS_NOT_SUPPORTED;
            break;
        case SPMM_BLOCKED_ELL_ALG1:
            if (a->format != Format::BLOCKED_ELL) return CUSPARSE_STATUS_NOT_SUPPORTED;
            break;
        case SPMM_COO_ALG1: case SPMM_COO_ALG2: case SPMM_COO_ALG3: case SPMM_COO_ALG4:
            return CUSPARSE_STATUS_NOT_SUPPORTED;  // COO matrices are not emulated (nor bound)
        default: return CUSPARSE_STATUS_INVALID_VALUE;
    }
    // documented Blocked-ELL limits: op(A) non-transposed, 32-bit indices only
    if (a->format == Format::BLOCKED_ELL && (opA != OP_N || a->colType != INDEX_32I)) return CUSPARSE_STATUS_NOT_SUPPORTED;
    if (opA == OP_C || opB == OP_C) return CUSPARSE_STATUS_NOT_SUPPORTED;  // real types: same as T; kept out of the emulator
    std::int64_t m = opA == OP_N ? a->rows : a->cols, k = opA == OP_N ? a->cols : a->rows;
    std::int64_t bk = opB == OP_N ? b->rows : b->cols, bn = opB == OP_N ? b->cols : b->rows;
    if (bk != k || c->rows != m || c->cols != bn) return CUSPARSE_STATUS_INVALID_VALUE;
    return check_types(a, b->valueType, c->valueType, computeType);
}

int check_spmv(const Handle* h, int opA, const void* alpha, const SpMat* a, const DnVec* x, const void* beta,
               const DnVec* y, int computeType, int alg) {
    if (!valid(h)) return CUSPARSE_STATUS_NOT_INITIALIZED;
    if (!valid(a) || !valid(x) || !valid(y) || alpha == nullptr || beta == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    if (opA < OP_N || opA > OP_C) return CUSPARSE_STATUS_INVALID_VALUE;
    if (a->format == Format::BLOCKED_ELL) return CUSPARSE_STATUS_NOT_SUPPORTED;  // SpMV takes COO, CSR, CSC, SELL, BSR
    switch (alg) {
        case SPMV_ALG_DEFAULT: case SPMV_CSR_ALG1: case SPMV_CSR_ALG2: break;
        case SPMV_COO_ALG1: case SPMV_COO_ALG2: return CUSPARSE_STATUS_NOT_SUPPORTED;
        default: return CUSPARSE_STATUS_INVALID_VALUE;
    }
    if (opA == OP_C) return CUSPARSE_STATUS_NOT_SUPPORTED;
    std::int64_t m = opA == OP_N ? a->rows : a->cols, k = opA == OP_N ? a->cols : a->rows;
    if (x->size != k || y->size != m) return CUSPARSE_STATUS_INVALID_VALUE;
    return check_types(a, x->valueType, y->valueType, computeType);
}

int enqueue(const Handle* h, Product* w) {
    int rc = shears_emu_enqueue(h->stream, run_product, w, free_product);
    if (rc != 0) {
        std::fprintf(stderr, "shears-cuda-emulator: cuSPARSE could not queue %s (driver status %d)\n", w->fn, rc);
        return CUSPARSE_STATUS_EXECUTION_FAILED;
    }
    return CUSPARSE_STATUS_SUCCESS;
}

}  // namespace

EXPORT const char* cusparseGetErrorName(int status) { return status_name(status); }

EXPORT const char* cusparseGetErrorString(int status) { return status_text(status); }

EXPORT int cusparseCreate(Handle** out) {
    if (out == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    *out = new Handle();
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseDestroy(Handle* h) {
    if (!valid(h)) return CUSPARSE_STATUS_NOT_INITIALIZED;
    h->magic = 0;
    delete h;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseSetStream(Handle* h, void* stream) {
    if (!valid(h)) return CUSPARSE_STATUS_NOT_INITIALIZED;
    h->stream = stream;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseCreateCsr(SpMat** out, std::int64_t rows, std::int64_t cols, std::int64_t nnz, void* rowOffsets,
                             void* colInd, void* values, int rowType, int colType, int base, int valueType) {
    if (out == nullptr || rows < 0 || cols < 0 || nnz < 0 || nnz > rows * cols) return CUSPARSE_STATUS_INVALID_VALUE;
    if (!index_type(rowType) || !index_type(colType) || (base != BASE_ZERO && base != BASE_ONE) || !known_type(valueType))
        return CUSPARSE_STATUS_INVALID_VALUE;
    if ((rows > 0 && rowOffsets == nullptr) || (nnz > 0 && (colInd == nullptr || values == nullptr)))
        return CUSPARSE_STATUS_INVALID_VALUE;
    SpMat* d = new SpMat();
    d->format = Format::CSR;
    d->rows = rows;
    d->cols = cols;
    d->nnz = nnz;
    d->rowOffsets = reinterpret_cast<unsigned long long>(rowOffsets);
    d->colInd = reinterpret_cast<unsigned long long>(colInd);
    d->values = reinterpret_cast<unsigned long long>(values);
    d->rowType = rowType;
    d->colType = colType;
    d->base = base;
    d->valueType = valueType;
    d->block = d->ellCols = 0;
    *out = d;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseCreateBlockedEll(SpMat** out, std::int64_t rows, std::int64_t cols, std::int64_t block,
                                    std::int64_t ellCols, void* ellColInd, void* ellValue, int indexType, int base,
                                    int valueType) {
    if (out == nullptr || rows < 0 || cols < 0 || block <= 0 || ellCols < 0 || ellCols > cols || ellCols % block != 0)
        return CUSPARSE_STATUS_INVALID_VALUE;
    if (!index_type(indexType) || (base != BASE_ZERO && base != BASE_ONE) || !known_type(valueType))
        return CUSPARSE_STATUS_INVALID_VALUE;
    if (rows > 0 && ellCols > 0 && (ellColInd == nullptr || ellValue == nullptr)) return CUSPARSE_STATUS_INVALID_VALUE;
    SpMat* d = new SpMat();
    d->format = Format::BLOCKED_ELL;
    d->rows = rows;
    d->cols = cols;
    d->nnz = rows * ellCols;
    d->rowOffsets = 0;
    d->colInd = reinterpret_cast<unsigned long long>(ellColInd);
    d->values = reinterpret_cast<unsigned long long>(ellValue);
    d->rowType = d->colType = indexType;
    d->base = base;
    d->valueType = valueType;
    d->block = block;
    d->ellCols = ellCols;
    *out = d;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseDestroySpMat(SpMat* d) {
    if (!valid(d)) return CUSPARSE_STATUS_INVALID_VALUE;
    d->magic = 0;
    delete d;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseCreateDnMat(DnMat** out, std::int64_t rows, std::int64_t cols, std::int64_t ld, void* values,
                               int valueType, int order) {
    if (out == nullptr || rows < 0 || cols < 0 || !known_type(valueType)) return CUSPARSE_STATUS_INVALID_VALUE;
    if (order != ORDER_COL && order != ORDER_ROW) return CUSPARSE_STATUS_INVALID_VALUE;
    std::int64_t minLd = order == ORDER_COL ? rows : cols;
    if (ld < (minLd > 1 ? minLd : 1)) return CUSPARSE_STATUS_INVALID_VALUE;
    if (rows > 0 && cols > 0 && values == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    *out = new DnMat{DNMAT_MAGIC, rows, cols, ld, reinterpret_cast<unsigned long long>(values), valueType, order};
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseDestroyDnMat(DnMat* d) {
    if (!valid(d)) return CUSPARSE_STATUS_INVALID_VALUE;
    d->magic = 0;
    delete d;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseCreateDnVec(DnVec** out, std::int64_t size, void* values, int valueType) {
    if (out == nullptr || size < 0 || !known_type(valueType) || (size > 0 && values == nullptr)) return CUSPARSE_STATUS_INVALID_VALUE;
    *out = new DnVec{DNVEC_MAGIC, size, reinterpret_cast<unsigned long long>(values), valueType};
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseDestroyDnVec(DnVec* d) {
    if (!valid(d)) return CUSPARSE_STATUS_INVALID_VALUE;
    d->magic = 0;
    delete d;
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseSpMM_bufferSize(Handle* h, int opA, int opB, const void* alpha, const SpMat* a, const DnMat* b,
                                   const void* beta, const DnMat* c, int computeType, int alg, std::size_t* size) {
    if (int rc = check_spmm(h, opA, opB, alpha, a, b, beta, c, computeType, alg)) return rc;
    if (size == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    *size = work_bytes(c->rows, c->cols);
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseSpMM(Handle* h, int opA, int opB, const void* alpha, const SpMat* a, const DnMat* b, const void* beta,
                        DnMat* c, int computeType, int alg, void* buffer) {
    if (int rc = check_spmm(h, opA, opB, alpha, a, b, beta, c, computeType, alg)) return rc;
    std::size_t need = work_bytes(c->rows, c->cols);
    if (buffer == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    if (c->rows == 0 || c->cols == 0) return CUSPARSE_STATUS_SUCCESS;
    Product* w = new Product{"cusparseSpMM", *a, opA, opB, *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
                             Dense{reinterpret_cast<float*>(b->values), b->rows, b->cols, b->ld, b->order},
                             Dense{reinterpret_cast<float*>(c->values), c->rows, c->cols, c->ld, c->order},
                             reinterpret_cast<unsigned long long>(buffer), need};
    return enqueue(h, w);
}

EXPORT int cusparseSpMV_bufferSize(Handle* h, int opA, const void* alpha, const SpMat* a, const DnVec* x, const void* beta,
                                   const DnVec* y, int computeType, int alg, std::size_t* size) {
    if (int rc = check_spmv(h, opA, alpha, a, x, beta, y, computeType, alg)) return rc;
    if (size == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    *size = work_bytes(y->size, 1);
    return CUSPARSE_STATUS_SUCCESS;
}

EXPORT int cusparseSpMV(Handle* h, int opA, const void* alpha, const SpMat* a, const DnVec* x, const void* beta, DnVec* y,
                        int computeType, int alg, void* buffer) {
    if (int rc = check_spmv(h, opA, alpha, a, x, beta, y, computeType, alg)) return rc;
    if (buffer == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
    if (y->size == 0) return CUSPARSE_STATUS_SUCCESS;
    // vectors as one-column column-major matrices; op(B) = B
    Product* w = new Product{"cusparseSpMV", *a, opA, OP_N, *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
                             Dense{reinterpret_cast<float*>(x->values), x->size, 1, x->size > 0 ? x->size : 1, ORDER_COL},
                             Dense{reinterpret_cast<float*>(y->values), y->size, 1, y->size, ORDER_COL},
                             reinterpret_cast<unsigned long long>(buffer), work_bytes(y->size, 1)};
    return enqueue(h, w);
}
