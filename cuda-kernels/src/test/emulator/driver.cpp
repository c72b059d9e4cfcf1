// The part of the CUDA driver API (libcuda.so.1) that Shears binds (native-bindings Cuda.java),
// emulated on the CPU for tests. Device memory is host memory (CUdeviceptr = address); kernels
// are the real sources compiled as C++ (kernels.cpp) run by the fiber scheduler (scheduler.cpp)
// on one "device" thread.
//
// Asynchrony is emulated at its most hostile: stream work (launches, async copies, memsets,
// event records, graph launches, and cuBLAS calls, which enqueue here) is queued in issue order
// and runs only when the host waits (cuStreamSynchronize, cuEventSynchronize, cuCtxSynchronize,
// and the calls CUDA documents as synchronising: cuMemFree, cuMemFreeHost, a copy to pageable
// host memory). So a host that reuses a pinned buffer, or reads one, before waiting for the copy
// sees the wrong data here as it would on a fast-enough-to-hurt GPU; copies from pageable memory
// snapshot the source at the call, as the driver's staging does. SHEARS_EMU_EAGER=1 runs every
// operation at once instead (for debugging a failure).
//
// The emulator checks what a GPU would reject, returning the driver's codes (values from cuda.h):
// calls before cuInit, without a current context on the calling thread (contexts are current
// per thread, as in CUDA), unknown handles and kernels, copies and memsets outside a live
// allocation, launches over the device limits, API calls a stream capture forbids. A kernel that
// does something undefined on a GPU fails like a faulting kernel: the launch itself succeeds
// (launches are asynchronous) and the context's sticky error, CUDA_ERROR_LAUNCH_FAILED, comes
// back from every later call until the primary context is released; the cause is printed to
// stderr and kept for shears_emu_last_error(). Test-only.
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emu_internal.h"

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

#define EXPORT extern "C" __attribute__((visibility("default")))

namespace {

// cudaError_enum values (cuda.h)
constexpr int CUDA_SUCCESS = 0;
constexpr int CUDA_ERROR_INVALID_VALUE = 1;
constexpr int CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr int CUDA_ERROR_NOT_INITIALIZED = 3;
constexpr int CUDA_ERROR_NO_DEVICE = 100;
constexpr int CUDA_ERROR_INVALID_DEVICE = 101;
constexpr int CUDA_ERROR_INVALID_IMAGE = 200;
constexpr int CUDA_ERROR_INVALID_CONTEXT = 201;
constexpr int CUDA_ERROR_INVALID_HANDLE = 400;
constexpr int CUDA_ERROR_NOT_FOUND = 500;
constexpr int CUDA_ERROR_NOT_READY = 600;
constexpr int CUDA_ERROR_ILLEGAL_ADDRESS = 700;
constexpr int CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701;
constexpr int CUDA_ERROR_MISALIGNED_ADDRESS = 716;
constexpr int CUDA_ERROR_LAUNCH_FAILED = 719;
constexpr int CUDA_ERROR_NOT_SUPPORTED = 801;
constexpr int CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900;
constexpr int CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901;
constexpr int CUDA_ERROR_STREAM_CAPTURE_UNMATCHED = 903;
constexpr int CUDA_ERROR_CAPTURED_EVENT = 907;
constexpr int CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908;

struct ErrorText { int code; const char* name; const char* text; };
const ErrorText ERRORS[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {CUDA_ERROR_MISALIGNED_ADDRESS, "CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "operation not permitted when stream is capturing"},
    {CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", "operation failed due to a previous error during capture"},
    {CUDA_ERROR_STREAM_CAPTURE_UNMATCHED, "CUDA_ERROR_STREAM_CAPTURE_UNMATCHED", "capture was not initiated in this stream"},
    {CUDA_ERROR_CAPTURED_EVENT, "CUDA_ERROR_CAPTURED_EVENT", "operation not permitted on an event last recorded in a capturing stream"},
    {CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD", "attempt to terminate a thread-local capture sequence from another thread"},
};

// Device attributes (CUdevice_attribute, cuda.h) and the values the emulated device reports:
// an sm_90 part with few SMs, so that grid-stride kernels launch few blocks on the CPU.
struct Attribute { int id; int value; };
const Attribute ATTRIBUTES[] = {
    {1, 1024},        // MAX_THREADS_PER_BLOCK
    {2, 1024},        // MAX_BLOCK_DIM_X
    {3, 1024},        // MAX_BLOCK_DIM_Y
    {4, 64},          // MAX_BLOCK_DIM_Z
    {5, 2147483647},  // MAX_GRID_DIM_X
    {6, 65535},       // MAX_GRID_DIM_Y
    {7, 65535},       // MAX_GRID_DIM_Z
    {8, 49152},       // MAX_SHARED_MEMORY_PER_BLOCK
    {9, 65536},       // TOTAL_CONSTANT_MEMORY
    {10, 32},         // WARP_SIZE
    {12, 65536},      // MAX_REGISTERS_PER_BLOCK
    {13, 1000000},    // CLOCK_RATE (kHz)
    {14, 512},        // TEXTURE_ALIGNMENT
    {16, 2},          // MULTIPROCESSOR_COUNT
    {39, 2048},       // MAX_THREADS_PER_MULTIPROCESSOR
    {75, 9},          // COMPUTE_CAPABILITY_MAJOR
    {76, 0},          // COMPUTE_CAPABILITY_MINOR
    {81, 233472},     // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
};

constexpr const char* DEVICE_NAME = "Shears CPU emulator";
constexpr std::size_t ALIGNMENT = 256;  // cuMemAlloc's guarantee
constexpr int MAX_DYNAMIC_SHARED = 49152;

const unsigned STREAM_MAGIC = 0x5354524d, EVENT_MAGIC = 0x45564e54, MODULE_MAGIC = 0x4d4f444c,
               GRAPH_MAGIC = 0x47524150, EXEC_MAGIC = 0x47455845;

struct Graph;

struct Stream {
    unsigned magic = STREAM_MAGIC;
    unsigned flags = 0;
    Graph* capture = nullptr;           // the graph being recorded, or null
    std::thread::id captureThread;      // who began the capture
    int captureMode = 0;
    bool captureInvalid = false;
};

struct Event {
    unsigned magic = EVENT_MAGIC;
    bool recorded = false;  // the record has run
    bool pending = false;   // a record is queued
    bool captured = false;  // last recorded into a capture: it stands for a graph node, not for work that runs
    std::chrono::steady_clock::time_point time;
};

struct Module { unsigned magic = MODULE_MAGIC; };

struct Graph {
    unsigned magic = GRAPH_MAGIC;
    std::vector<std::function<int()>> nodes;  // each returns a CUresult
};

struct GraphExec {
    unsigned magic = EXEC_MAGIC;
    std::vector<std::function<int()>> nodes;
};

struct Context {
    int refs = 0;
    bool alive = false;
};

// All state below is guarded by M: calls are serialised, as the operations are synchronous.
std::recursive_mutex M;
bool initialised = false;
Context primary;
int sticky = CUDA_SUCCESS;
std::string lastError;
std::map<std::uintptr_t, std::size_t> deviceAllocations;  // address -> bytes
std::map<std::uintptr_t, std::size_t> hostAllocations;
std::set<Stream*> streams;
std::set<Event*> events;
std::set<Module*> modules;
std::set<Graph*> graphs;
std::set<GraphExec*> execs;
std::size_t allocatedBytes = 0;
thread_local Context* current = nullptr;

std::size_t total_memory() {
    static std::size_t total = [] {
        const char* env = std::getenv("SHEARS_EMU_DEVICE_MEMORY_MIB");
        std::size_t mib = env != nullptr ? std::strtoull(env, nullptr, 10) : 8192;
        return (mib == 0 ? 8192 : mib) << 20;
    }();
    return total;
}

void set_error(const std::string& message) {
    lastError = message;
    std::fprintf(stderr, "shears-cuda-emulator: %s\n", message.c_str());
}

// ------------------------------------------------------------------ the device thread

// Grids run on one long-lived thread (their fibers never run on a JVM thread's stack); the
// caller waits, so every operation is synchronous.
class DeviceThread {
  public:
    void run(const std::function<void()>& work) {
        std::unique_lock<std::mutex> lock(m_);
        if (!started_) {
            std::thread([this] { loop(); }).detach();
            started_ = true;
        }
        work_ = &work;
        done_ = false;
        cv_.notify_all();
        cv_.wait(lock, [this] { return done_; });
    }

  private:
    void loop() {
        std::unique_lock<std::mutex> lock(m_);
        for (;;) {
            cv_.wait(lock, [this] { return work_ != nullptr; });
            const std::function<void()>* w = work_;
            work_ = nullptr;
            lock.unlock();
            (*w)();
            lock.lock();
            done_ = true;
            cv_.notify_all();
        }
    }

    std::mutex m_;
    std::condition_variable cv_;
    const std::function<void()>* work_ = nullptr;
    bool done_ = true;
    bool started_ = false;
};

// Never destroyed: at process exit its thread still waits on the condition variable, and
// destroying a condition variable with a waiter blocks for ever (this hung the JVM's exit).
DeviceThread& device = *new DeviceThread();

// ------------------------------------------------------------------ checks

// The preamble of every call that needs a context: initialised, a live current context, no
// sticky error.
int need_context() {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (current == nullptr || !current->alive) return CUDA_ERROR_INVALID_CONTEXT;
    return sticky;
}

// Device memory: each allocation ends against an inaccessible guard page (its start 256-byte
// aligned, as cuMemAlloc guarantees), so a kernel that runs past the end of a buffer by more than
// the alignment slack faults; the scheduler turns the fault into CUDA_ERROR_ILLEGAL_ADDRESS.
constexpr std::size_t PAGE = 4096;

std::size_t mapping_bytes(std::size_t bytes) {
    std::size_t rounded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    return (rounded + PAGE - 1) / PAGE * PAGE + PAGE;
}

void* map_device(std::size_t bytes) {
    std::size_t rounded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT, total = mapping_bytes(bytes);
    void* base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    char* guard = static_cast<char*>(base) + total - PAGE;
    mprotect(guard, PAGE, PROT_NONE);
    return guard - rounded;
}

void unmap_device(std::uintptr_t p, std::size_t bytes) {
    std::size_t rounded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT, total = mapping_bytes(bytes);
    char* base = reinterpret_cast<char*>(p) + rounded + PAGE - total;
    munmap(base, total);
}

// Names the allocation an address falls into or just past (for fault messages).
std::string describe_address(std::uintptr_t a) {
    auto it = deviceAllocations.upper_bound(a);
    if (it == deviceAllocations.begin()) return "below every allocation";
    --it;
    char buf[160];
    if (a < it->first + it->second) {
        std::snprintf(buf, sizeof buf, "inside the %zu-byte allocation at 0x%lx", it->second, (unsigned long)it->first);
    } else {
        std::snprintf(buf, sizeof buf, "%zu bytes past the end of the %zu-byte allocation at 0x%lx",
                      (std::size_t)(a - it->first - it->second), it->second, (unsigned long)it->first);
    }
    return buf;
}

// Whether [p, p+bytes) lies in one live device allocation.
bool in_device_memory(CUdeviceptr p, std::size_t bytes) {
    auto it = deviceAllocations.upper_bound((std::uintptr_t)p);
    if (it == deviceAllocations.begin()) return false;
    --it;
    return (std::uintptr_t)p >= it->first && (std::uintptr_t)p + bytes <= it->first + it->second;
}

std::string hex(unsigned long long v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", v);
    return buf;
}

int bad_range(const char* fn, CUdeviceptr p, std::size_t bytes) {
    set_error(std::string(fn) + ": device range [" + hex(p) + ", +" + std::to_string(bytes) +
              ") is not inside one live cuMemAlloc allocation");
    return CUDA_ERROR_INVALID_VALUE;
}

// A stream handle: null is the legacy default stream; anything else must be a live stream.
bool valid_stream(void* s) { return s == nullptr || streams.count(static_cast<Stream*>(s)) != 0; }

// Whether the calling thread is capturing (any stream): the calls a capture forbids fail then.
bool capturing_here() {
    for (Stream* s : streams) {
        if (s->capture != nullptr && (s->captureMode == 0 || s->captureThread == std::this_thread::get_id())) return true;
    }
    return false;
}

int forbidden_in_capture(const char* fn) {
    for (Stream* s : streams) {
        if (s->capture != nullptr && (s->captureMode == 0 || s->captureThread == std::this_thread::get_id())) {
            s->captureInvalid = true;
        }
    }
    set_error(std::string(fn) + " during a stream capture (not permitted; the capture is invalidated)");
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

// Work issued but not yet run, in issue order (one queue: streams may always serialise).
std::deque<std::function<int()>> pending;

bool eager() {
    static bool e = [] {
        const char* v = std::getenv("SHEARS_EMU_EAGER");
        return v != nullptr && std::strcmp(v, "1") == 0;
    }();
    return e;
}

// Runs every pending operation (the host waits for the device); after a fault the rest is dropped,
// as a faulted context runs nothing more.
void drain() {
    while (!pending.empty()) {
        std::function<int()> op = std::move(pending.front());
        pending.pop_front();
        if (sticky != CUDA_SUCCESS) continue;
        int rc = op();
        if (rc != CUDA_SUCCESS && sticky == CUDA_SUCCESS) sticky = rc;
    }
}

// Queues `op`, or records it when `stream` is capturing.
int enqueue(void* stream, std::function<int()> op) {
    Stream* s = static_cast<Stream*>(stream);
    if (s != nullptr && s->capture != nullptr) {
        s->capture->nodes.push_back(std::move(op));
        return CUDA_SUCCESS;
    }
    if (s == nullptr && capturing_here()) return forbidden_in_capture("work on the legacy default stream");
    pending.push_back(std::move(op));
    if (eager()) drain();
    return CUDA_SUCCESS;
}

// Whether [p, p+bytes) lies in one cuMemHostAlloc allocation (pinned: copies to and from it are
// truly asynchronous).
bool in_pinned_memory(const void* p, std::size_t bytes) {
    auto it = hostAllocations.upper_bound((std::uintptr_t)p);
    if (it == hostAllocations.begin()) return false;
    --it;
    return (std::uintptr_t)p >= it->first && (std::uintptr_t)p + bytes <= it->first + it->second;
}

// A copy between device and pageable host memory inside a capture. The graph's memcpy node
// touches that host memory at every replay, long after the call (a Java arena or heap copy is
// freed or moved by then), and no staging applies to a replay; this emulator cannot snapshot it
// faithfully, so it refuses: stricter than the driver, which may accept the capture. Use pinned
// memory (cuMemHostAlloc) that lives as long as the graph. Invalidates the capture like the calls
// a capture forbids.
int pageable_in_capture(const char* fn) {
    return forbidden_in_capture((std::string(fn) + " with pageable host memory (the emulator's rule: a replay would touch "
                                 "host memory the caller may have freed; use pinned memory that outlives the graph)").c_str());
}

// ------------------------------------------------------------------ launches

int run_kernel(const emu::KernelEntry* k, void** params, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
               unsigned by, unsigned bz) {
    std::string error;
    bool ok = true;
    std::uintptr_t fault = 0;
    bool misaligned = false;
    device.run([&] { ok = emu::run_grid(*k, params, gx, gy, gz, bx, by, bz, &error, &fault, &misaligned); });
    if (!ok && misaligned) {
        sticky = CUDA_ERROR_MISALIGNED_ADDRESS;
        set_error("kernel failed (sticky CUDA_ERROR_MISALIGNED_ADDRESS until the context is released): " + error);
    } else if (!ok && fault != 0) {
        sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
        set_error("kernel failed (sticky CUDA_ERROR_ILLEGAL_ADDRESS until the context is released): " + error +
                  ": address " + hex(fault) + " " + describe_address(fault));
    } else if (!ok) {
        sticky = CUDA_ERROR_LAUNCH_FAILED;
        set_error("kernel failed (sticky CUDA_ERROR_LAUNCH_FAILED until the context is released): " + error);
    }
    return CUDA_SUCCESS;  // the sticky error surfaces from the next call, as an asynchronous fault does
}

}  // namespace

// ------------------------------------------------------------------ errors, init, devices

EXPORT const char* shears_emu_last_error() { return lastError.c_str(); }

EXPORT CUresult cuGetErrorName(CUresult code, const char** out) {
    if (out == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (const ErrorText& e : ERRORS) {
        if (e.code == code) { *out = e.name; return CUDA_SUCCESS; }
    }
    *out = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuGetErrorString(CUresult code, const char** out) {
    if (out == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (const ErrorText& e : ERRORS) {
        if (e.code == code) { *out = e.text; return CUDA_SUCCESS; }
    }
    *out = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuInit(unsigned flags) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    initialised = true;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDriverGetVersion(int* version) {
    if (version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *version = 13000;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetCount(int* count) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (count == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *count = 1;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (device == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (name == nullptr || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    std::snprintf(name, (std::size_t)len, "%s", DEVICE_NAME);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice dev) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (value == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (const Attribute& a : ATTRIBUTES) {
        if (a.id == attribute) { *value = a.value; return CUDA_SUCCESS; }
    }
    set_error("cuDeviceGetAttribute: attribute " + std::to_string(attribute) + " is not emulated (add it to ATTRIBUTES)");
    return CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuDeviceTotalMem_v2(std::size_t* bytes, CUdevice dev) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (bytes == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *bytes = total_memory();
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ contexts

EXPORT CUresult cuDevicePrimaryCtxRetain(void** ctx, CUdevice dev) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (ctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    primary.refs++;
    primary.alive = true;
    *ctx = &primary;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (primary.refs == 0) return CUDA_ERROR_INVALID_CONTEXT;
    if (--primary.refs == 0) {
        // The context is destroyed with everything in it (after its queued work); its sticky
        // error goes with it.
        drain();
        pending.clear();
        primary.alive = false;
        sticky = CUDA_SUCCESS;
        for (auto& a : deviceAllocations) unmap_device(a.first, a.second);
        deviceAllocations.clear();
        allocatedBytes = 0;
        for (auto& a : hostAllocations) std::free(reinterpret_cast<void*>(a.first));
        hostAllocations.clear();
        for (Stream* s : streams) delete s;
        streams.clear();
        for (Event* e : events) delete e;
        events.clear();
        for (Module* m : modules) delete m;
        modules.clear();
        for (Graph* x : graphs) delete x;
        graphs.clear();
        for (GraphExec* x : execs) delete x;
        execs.clear();
    }
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxSetCurrent(void* ctx) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx != nullptr && ctx != &primary) return CUDA_ERROR_INVALID_CONTEXT;
    current = static_cast<Context*>(ctx);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxSynchronize() {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (capturing_here()) return forbidden_in_capture("cuCtxSynchronize");
    drain();
    return sticky;
}

// ------------------------------------------------------------------ streams and events

EXPORT CUresult cuStreamCreate(void** out, unsigned flags) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (out == nullptr || flags > 1) return CUDA_ERROR_INVALID_VALUE;
    Stream* s = new Stream();
    s->flags = flags;
    streams.insert(s);
    *out = s;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamDestroy_v2(void* stream) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    Stream* s = static_cast<Stream*>(stream);
    if (s == nullptr || streams.count(s) == 0) return CUDA_ERROR_INVALID_HANDLE;
    drain();  // the stream's queued work completes first, as the driver documents
    streams.erase(s);
    delete s;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamSynchronize(void* stream) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    Stream* s = static_cast<Stream*>(stream);
    if ((s != nullptr && s->capture != nullptr) || (s == nullptr && capturing_here())) {
        if (s != nullptr) s->captureInvalid = true;
        return forbidden_in_capture("cuStreamSynchronize");
    }
    drain();
    return sticky;
}

EXPORT CUresult cuStreamWaitEvent(void* stream, void* event, unsigned flags) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (!valid_stream(stream) || events.count(static_cast<Event*>(event)) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;  // work runs in issue order: every event has completed already
}

EXPORT CUresult cuEventCreate(void** out, unsigned flags) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (out == nullptr) return CUDA_ERROR_INVALID_VALUE;
    (void)flags;
    Event* e = new Event();
    events.insert(e);
    *out = e;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuEventRecord(void* event, void* stream) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    Event* e = static_cast<Event*>(event);
    if (events.count(e) == 0 || !valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    Stream* s = static_cast<Stream*>(stream);
    e->captured = s != nullptr && s->capture != nullptr;
    if (!e->captured) e->pending = true;
    return enqueue(stream, [e] {
        e->pending = false;
        e->recorded = true;
        e->time = std::chrono::steady_clock::now();
        return CUDA_SUCCESS;
    });
}

// Waiting for, or timing, an event last recorded into a capture is invalid: it stands for a node
// of the graph being built, not for work that runs (CUDA Programming Guide, "CUDA Graphs",
// "Prohibited and Unhandled Operations": "It is invalid to synchronize or query the execution
// status of a stream which is being captured or a captured event"); CUDA_ERROR_CAPTURED_EVENT.
int captured_event(const char* fn) {
    set_error(std::string(fn) + ": the event was last recorded in a capturing stream (a graph node, not work that runs)");
    return CUDA_ERROR_CAPTURED_EVENT;
}

EXPORT CUresult cuEventSynchronize(void* event) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (events.count(static_cast<Event*>(event)) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (static_cast<Event*>(event)->captured) return captured_event("cuEventSynchronize");
    drain();
    return sticky;
}

EXPORT CUresult cuEventElapsedTime_v2(float* ms, void* start, void* end) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    Event* a = static_cast<Event*>(start);
    Event* b = static_cast<Event*>(end);
    if (ms == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (events.count(a) == 0 || events.count(b) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (a->captured || b->captured) return captured_event("cuEventElapsedTime_v2");
    if (a->pending || b->pending) return CUDA_ERROR_NOT_READY;  // recorded, but the host has not waited for it
    if (!a->recorded || !b->recorded) return CUDA_ERROR_INVALID_HANDLE;  // as the driver: never recorded
    *ms = std::chrono::duration<float, std::milli>(b->time - a->time).count();
    return CUDA_SUCCESS;
}

EXPORT CUresult cuEventDestroy_v2(void* event) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    Event* e = static_cast<Event*>(event);
    if (events.count(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    drain();  // a queued record still refers to the event (the driver defers the destruction likewise)
    events.erase(e);
    delete e;
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ memory

EXPORT CUresult cuMemGetInfo_v2(std::size_t* free, std::size_t* total) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (free == nullptr || total == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *total = total_memory();
    *free = total_memory() - allocatedBytes;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* out, std::size_t bytes) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (out == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (capturing_here()) return forbidden_in_capture("cuMemAlloc_v2");
    if (bytes > total_memory() - allocatedBytes) return CUDA_ERROR_OUT_OF_MEMORY;
    void* p = map_device(bytes);
    if (p == nullptr) return CUDA_ERROR_OUT_OF_MEMORY;
    // Fresh device memory holds garbage: fill it so kernels that read before writing show it.
    std::memset(p, 0xA5, (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
    deviceAllocations[(std::uintptr_t)p] = bytes;
    allocatedBytes += bytes;
    *out = (CUdeviceptr)(std::uintptr_t)p;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr p) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (capturing_here()) return forbidden_in_capture("cuMemFree_v2");
    drain();  // cuMemFree waits for the device
    if (sticky != CUDA_SUCCESS) return sticky;
    auto it = deviceAllocations.find((std::uintptr_t)p);
    if (it == deviceAllocations.end()) {
        set_error("cuMemFree_v2: " + hex(p) + " is not the start of a live allocation");
        return CUDA_ERROR_INVALID_VALUE;
    }
    allocatedBytes -= it->second;
    unmap_device(it->first, it->second);
    deviceAllocations.erase(it);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemHostAlloc(void** out, std::size_t bytes, unsigned flags) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (out == nullptr || bytes == 0 || flags > 7) return CUDA_ERROR_INVALID_VALUE;
    if (capturing_here()) return forbidden_in_capture("cuMemHostAlloc");
    std::size_t rounded = (bytes + 4095) / 4096 * 4096;
    void* p = std::aligned_alloc(4096, rounded);
    if (p == nullptr) return CUDA_ERROR_OUT_OF_MEMORY;
    hostAllocations[(std::uintptr_t)p] = bytes;
    *out = p;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemFreeHost(void* p) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (capturing_here()) return forbidden_in_capture("cuMemFreeHost");
    drain();
    if (sticky != CUDA_SUCCESS) return sticky;
    auto it = hostAllocations.find((std::uintptr_t)p);
    if (it == hostAllocations.end()) return CUDA_ERROR_INVALID_VALUE;
    std::free(p);
    hostAllocations.erase(it);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, std::size_t bytes, void* stream) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (bytes == 0) return CUDA_SUCCESS;
    if (src == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (!in_device_memory(dst, bytes)) return bad_range("cuMemcpyHtoDAsync_v2", dst, bytes);
    Stream* cs = static_cast<Stream*>(stream);
    bool pinned = in_pinned_memory(src, bytes);
    if (cs != nullptr && cs->capture != nullptr && !pinned) return pageable_in_capture("cuMemcpyHtoDAsync_v2");
    if (pinned) {
        return enqueue(stream, [=] {
            std::memmove(reinterpret_cast<void*>(dst), src, bytes);
            return CUDA_SUCCESS;
        });
    }
    // pageable source: staged at the call, so the caller may reuse it at once
    auto staged = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(src),
                                                               static_cast<const unsigned char*>(src) + bytes);
    return enqueue(stream, [=] {
        std::memcpy(reinterpret_cast<void*>(dst), staged->data(), bytes);
        return CUDA_SUCCESS;
    });
}

EXPORT CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, std::size_t bytes, void* stream) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (bytes == 0) return CUDA_SUCCESS;
    if (dst == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (!in_device_memory(src, bytes)) return bad_range("cuMemcpyDtoHAsync_v2", src, bytes);
    Stream* s = static_cast<Stream*>(stream);
    if (s != nullptr && s->capture != nullptr && !in_pinned_memory(dst, bytes)) return pageable_in_capture("cuMemcpyDtoHAsync_v2");
    int rc = enqueue(stream, [=] {
        std::memmove(dst, reinterpret_cast<const void*>(src), bytes);
        return CUDA_SUCCESS;
    });
    // to pageable memory the copy has completed when the call returns (CUDA's documented rule)
    if (rc == CUDA_SUCCESS && !in_pinned_memory(dst, bytes) && (s == nullptr || s->capture == nullptr)) {
        drain();
        return sticky;
    }
    return rc;
}

EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, std::size_t bytes, void* stream) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (bytes == 0) return CUDA_SUCCESS;
    if (!in_device_memory(dst, bytes)) return bad_range("cuMemcpyDtoDAsync_v2 (destination)", dst, bytes);
    if (!in_device_memory(src, bytes)) return bad_range("cuMemcpyDtoDAsync_v2 (source)", src, bytes);
    return enqueue(stream, [=] {
        std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
        return CUDA_SUCCESS;
    });
}

EXPORT CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, std::size_t count, void* stream) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (count == 0) return CUDA_SUCCESS;
    if (!in_device_memory(dst, count)) return bad_range("cuMemsetD8Async", dst, count);
    return enqueue(stream, [=] {
        std::memset(reinterpret_cast<void*>(dst), value, count);
        return CUDA_SUCCESS;
    });
}

EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, std::size_t count, void* stream) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (count == 0) return CUDA_SUCCESS;
    if (dst % 4 != 0) {
        set_error("cuMemsetD32Async: destination " + hex(dst) + " is not 4-byte aligned");
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (!in_device_memory(dst, count * 4)) return bad_range("cuMemsetD32Async", dst, count * 4);
    return enqueue(stream, [=] {
        unsigned* p = reinterpret_cast<unsigned*>(dst);
        for (std::size_t i = 0; i < count; i++) p[i] = value;
        return CUDA_SUCCESS;
    });
}

// ------------------------------------------------------------------ modules and launches

EXPORT CUresult cuModuleLoadData(void** out, const void* image) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (out == nullptr || image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    // The image is not executed (the kernels are compiled in), but it must be a fatbin: the
    // first word 0xBA55ED50, as the driver checks.
    unsigned magic;
    std::memcpy(&magic, image, 4);
    if (magic != 0xBA55ED50u) {
        set_error("cuModuleLoadData: the image does not start with the fatbin magic 0xBA55ED50");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    Module* m = new Module();
    modules.insert(m);
    *out = m;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleUnload(void* module) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    Module* m = static_cast<Module*>(module);
    if (modules.erase(m) == 0) return CUDA_ERROR_INVALID_HANDLE;
    delete m;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleGetFunction(void** out, void* module, const char* name) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (out == nullptr || name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (modules.count(static_cast<Module*>(module)) == 0) return CUDA_ERROR_INVALID_HANDLE;
    const emu::KernelEntry* k = emu::find_kernel(name);
    if (k == nullptr) return CUDA_ERROR_NOT_FOUND;
    *out = const_cast<emu::KernelEntry*>(k);
    return CUDA_SUCCESS;
}

static bool is_kernel(const void* f) {
    std::size_t n;
    const emu::KernelEntry* all = emu::all_kernels(&n);
    return f >= static_cast<const void*>(all) && f < static_cast<const void*>(all + n);
}

EXPORT CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                               unsigned sharedBytes, void* stream, void** params, void** extra) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    if (f == nullptr || !is_kernel(f)) return CUDA_ERROR_INVALID_HANDLE;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    const emu::KernelEntry* k = static_cast<const emu::KernelEntry*>(f);
    std::string what = std::string("cuLaunchKernel ") + k->name + ": ";
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || gy > 65535 || gz > 65535 || gx > 2147483647u ||
        bx > 1024 || by > 1024 || bz > 64) {
        set_error(what + "grid or block dimensions outside the device limits");
        return CUDA_ERROR_INVALID_VALUE;
    }
    if ((unsigned long long)bx * by * bz > 1024) {
        set_error(what + "more than 1024 threads per block");
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (sharedBytes > MAX_DYNAMIC_SHARED) {
        set_error(what + std::to_string(sharedBytes) + " bytes of dynamic shared memory (limit 48 KiB without opt-in)");
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (extra != nullptr) {
        set_error(what + "the 'extra' argument form is not emulated");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (k->paramCount > 0 && params == nullptr) {
        set_error(what + "kernelParams is null for a kernel with parameters");
        return CUDA_ERROR_INVALID_VALUE;
    }
    // Copy the argument values now, as the driver does: the caller may reuse its buffer at once.
    std::vector<std::vector<unsigned char>> values((std::size_t)k->paramCount);
    for (int i = 0; i < k->paramCount; i++) {
        if (params[i] == nullptr) {
            set_error(what + "kernelParams[" + std::to_string(i) + "] is null");
            return CUDA_ERROR_INVALID_VALUE;
        }
        values[(std::size_t)i].assign(static_cast<unsigned char*>(params[i]),
                                      static_cast<unsigned char*>(params[i]) + k->paramSizes[i]);
    }
    return enqueue(stream, [k, values, gx, gy, gz, bx, by, bz]() mutable {
        // aligned copies: a parameter may be a struct or a 16-byte type
        std::vector<void*> pointers;
        std::vector<std::vector<unsigned long long>> aligned;
        for (auto& v : values) {
            aligned.emplace_back((v.size() + 7) / 8 + 1);
            std::memcpy(aligned.back().data(), v.data(), v.size());
        }
        for (auto& a : aligned) pointers.push_back(a.data());
        return run_kernel(k, pointers.data(), gx, gy, gz, bx, by, bz);
    });
}

// For the cuBLAS emulator (libcublas.so.13 links this library): queue fn(arg) on `stream`, in
// order with the driver's work; `release(arg)` runs when the operation is dropped.
EXPORT CUresult shears_emu_enqueue(void* stream, void (*fn)(void*), void* arg, void (*release)(void*)) {
    std::lock_guard<std::recursive_mutex> g(M);
    std::shared_ptr<void> owned(arg, release);
    if (int rc = need_context()) return rc;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    return enqueue(stream, [fn, owned] {
        fn(owned.get());
        return CUDA_SUCCESS;
    });
}

// For the cuSPARSE emulator: whether [p, p+bytes) lies in one live device allocation.
EXPORT int shears_emu_in_device_memory(CUdeviceptr p, std::size_t bytes) {
    std::lock_guard<std::recursive_mutex> g(M);
    return in_device_memory(p, bytes) ? 1 : 0;
}

// For the cuSPARSE emulator: a library "kernel" that faulted (an index or an operand outside
// device memory) makes the context's error sticky, as a faulting kernel does.
EXPORT void shears_emu_fault(const char* what) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (sticky != CUDA_SUCCESS) return;
    sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
    set_error(std::string("library kernel failed (sticky CUDA_ERROR_ILLEGAL_ADDRESS until the context is released): ") + what);
}

// ------------------------------------------------------------------ graphs

EXPORT CUresult cuStreamBeginCapture_v2(void* stream, int mode) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    Stream* s = static_cast<Stream*>(stream);
    if (s == nullptr) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;  // the legacy stream cannot capture
    if (streams.count(s) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (mode < 0 || mode > 2) return CUDA_ERROR_INVALID_VALUE;
    if (s->capture != nullptr) return CUDA_ERROR_INVALID_VALUE;
    s->capture = new Graph();
    s->captureMode = mode;
    s->captureThread = std::this_thread::get_id();
    s->captureInvalid = false;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamEndCapture(void* stream, void** graph) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    Stream* s = static_cast<Stream*>(stream);
    if (s == nullptr || streams.count(s) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (graph == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (s->capture == nullptr) return CUDA_ERROR_STREAM_CAPTURE_UNMATCHED;
    if (s->captureMode == 1 && s->captureThread != std::this_thread::get_id()) return CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD;
    Graph* gr = s->capture;
    s->capture = nullptr;
    if (s->captureInvalid) {
        delete gr;
        *graph = nullptr;
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    graphs.insert(gr);
    *graph = gr;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphInstantiateWithFlags(void** exec, void* graph, unsigned long long flags) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    Graph* gr = static_cast<Graph*>(graph);
    if (exec == nullptr || flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (graphs.count(gr) == 0) return CUDA_ERROR_INVALID_HANDLE;
    GraphExec* x = new GraphExec();
    x->nodes = gr->nodes;
    execs.insert(x);
    *exec = x;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphLaunch(void* exec, void* stream) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    GraphExec* x = static_cast<GraphExec*>(exec);
    if (execs.count(x) == 0 || !valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    std::vector<std::function<int()>> nodes = x->nodes;
    return enqueue(stream, [nodes] {
        for (const auto& n : nodes) {
            if (int rc = n()) return rc;
        }
        return CUDA_SUCCESS;
    });
}

EXPORT CUresult cuGraphExecDestroy(void* exec) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    GraphExec* x = static_cast<GraphExec*>(exec);
    if (execs.erase(x) == 0) return CUDA_ERROR_INVALID_HANDLE;
    delete x;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphDestroy(void* graph) {
    std::lock_guard<std::recursive_mutex> g(M);
    if (int rc = need_context()) return rc;
    Graph* x = static_cast<Graph*>(graph);
    if (graphs.erase(x) == 0) return CUDA_ERROR_INVALID_HANDLE;
    delete x;
    return CUDA_SUCCESS;
}
