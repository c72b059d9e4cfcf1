// Runs a kernel grid on the CPU: blocks one after another, the threads of a block as fibers on
// the calling OS thread (a ten-instruction stack switch on x86-64; ucontext elsewhere, whose
// swapcontext costs a system call per switch). A fiber runs until it reaches __syncthreads or a warp
// operation and then yields; the scheduler resumes runnable fibers round-robin. So a kernel
// without barriers runs each thread start to end, and one with barriers sees exactly the
// guarantees CUDA gives (nothing about the order between barriers). Test-only.
#include "emu_internal.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_shim.h"

uint3 threadIdx, blockIdx, blockDim, gridDim;

// The bounds of the kernels' static shared memory (cuda_shim.h puts every __shared__ variable in
// the section "shears_shared"; the linker defines these two symbols for it).
extern "C" char __start_shears_shared[] __attribute__((weak));
extern "C" char __stop_shears_shared[] __attribute__((weak));

namespace emu {
namespace {

enum class State { RUNNABLE, AT_BARRIER, AT_WARP, DONE };

constexpr std::size_t STACK_BYTES = 256 * 1024;
constexpr int MAX_THREADS = 1024;

#if defined(__x86_64__)
// Saves the callee-saved registers on the current stack, stores the stack pointer in *from,
// switches to the stack `to` and restores its registers (System V x86-64: rbx, rbp, r12-r15).
extern "C" void shears_emu_switch(void** from, void* to);
asm(R"(
    .text
    .globl shears_emu_switch
    .hidden shears_emu_switch
    .type shears_emu_switch, @function
shears_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size shears_emu_switch, .-shears_emu_switch
)");

struct Context {
    void* sp = nullptr;
};

void switch_to(Context* from, Context* to) { shears_emu_switch(&from->sp, to->sp); }

// A fresh context that starts in entry() on `stack`: six zero registers and entry's address, so
// that the first switch "returns" into entry with the stack aligned as after a call.
void prepare(Context* c, char* stack, std::size_t bytes, void (*entry)()) {
    std::uintptr_t top = (reinterpret_cast<std::uintptr_t>(stack) + bytes) & ~std::uintptr_t(15);
    void** sp = reinterpret_cast<void**>(top - 16);
    sp[1] = nullptr;                            // entry's (never used) return address
    sp[0] = reinterpret_cast<void*>(entry);
    sp -= 6;
    for (int i = 0; i < 6; i++) sp[i] = nullptr;
    c->sp = sp;
}
#else
struct Context {
    ucontext_t uc;
};

void switch_to(Context* from, Context* to) { swapcontext(&from->uc, &to->uc); }

void prepare(Context* c, char* stack, std::size_t bytes, void (*entry)()) {
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = stack;
    c->uc.uc_stack.ss_size = bytes;
    c->uc.uc_link = nullptr;
    makecontext(&c->uc, entry, 0);
}
#endif

struct Fiber {
    Context context;
    State state;
    char* stack;
};

struct Warp {
    unsigned arrived;    // lanes that have deposited in the current exchange
    unsigned generation; // exchanges completed; slots alternate by its parity
    const char* op;      // the operation of the current exchange
    unsigned mask;
    unsigned long long slots[2][32];
};

struct Scheduler {
    Fiber fibers[MAX_THREADS];
    Warp warps[MAX_THREADS / 32];
    Context main;
    int threads = 0;
    int live = 0;
    int current = 0;
    int barrierArrived = 0;
    unsigned launches = 0;
    const KernelEntry* kernel = nullptr;
    void** params = nullptr;
    bool failed = false;
    bool misaligned = false;  // the failure is a misaligned access (CUDA_ERROR_MISALIGNED_ADDRESS)
    std::string error;
};

Scheduler S;

void set_thread_index(int linear) {
    threadIdx.x = linear % blockDim.x;
    threadIdx.y = (linear / blockDim.x) % blockDim.y;
    threadIdx.z = linear / (blockDim.x * blockDim.y);
}

std::string where() {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s block (%u,%u,%u) thread (%u,%u,%u)", S.kernel->name, blockIdx.x, blockIdx.y,
                  blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
    return buf;
}

// Fails the launch from inside a fiber: records the message and never returns to the kernel.
[[noreturn]] void fail(const std::string& message) {
    if (!S.failed) {
        S.failed = true;
        S.error = where() + ": " + message;
    }
    Fiber& f = S.fibers[S.current];
    f.state = State::DONE;
    switch_to(&f.context, &S.main);
    std::abort();  // a failed launch never resumes its fibers
}

void yield() {
    Fiber& f = S.fibers[S.current];
    switch_to(&f.context, &S.main);
    if (S.failed) fail("aborted");
}

void release_barrier() {
    S.barrierArrived = 0;
    for (int i = 0; i < S.threads; i++) {
        if (S.fibers[i].state == State::AT_BARRIER) S.fibers[i].state = State::RUNNABLE;
    }
}

void fiber_main() {
    S.kernel->invoke(S.kernel->function, S.params);
    // The thread has exited: it no longer holds up __syncthreads (as on sm_70+), but a warp
    // operation that names it can never complete.
    Fiber& f = S.fibers[S.current];
    int warp = S.current >> 5, lane = S.current & 31;
    Warp& w = S.warps[warp];
    if (w.arrived != 0 && ((w.mask >> lane) & 1u)) {
        fail(std::string("exited while lanes of its warp wait in ") + w.op + " with a mask that names it");
    }
    f.state = State::DONE;
    S.live--;
    if (S.barrierArrived > 0 && S.barrierArrived == S.live) release_barrier();
    switch_to(&f.context, &S.main);
    std::abort();  // a finished fiber is never resumed
}

std::string describe_deadlock() {
    int atBarrier = 0;
    std::string warps;
    for (int i = 0; i < S.threads; i++) {
        if (S.fibers[i].state == State::AT_BARRIER) atBarrier++;
    }
    for (int w = 0; w * 32 < S.threads; w++) {
        if (S.warps[w].arrived != 0) {
            char buf[120];
            std::snprintf(buf, sizeof buf, "; warp %d waits in %s (mask 0x%08x, arrived 0x%08x)", w, S.warps[w].op,
                          S.warps[w].mask, S.warps[w].arrived);
            warps += buf;
        }
    }
    return "deadlock: " + std::to_string(atBarrier) + " of " + std::to_string(S.live) +
           " live threads wait at __syncthreads" + warps +
           " (a barrier or warp operation not reached by every thread it waits for)";
}

char* stack_for(int i) {
    Fiber& f = S.fibers[i];
    if (f.stack == nullptr) {
        void* p = mmap(nullptr, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return nullptr;
        f.stack = static_cast<char*>(p);
    }
    return f.stack;
}

bool run_block(std::string* error) {
    S.live = S.threads;
    S.barrierArrived = 0;
    for (int w = 0; w * 32 < S.threads; w++) {
        S.warps[w].arrived = 0;
        S.warps[w].generation = 0;
        S.warps[w].op = nullptr;
        S.warps[w].mask = 0;
    }
    for (int i = 0; i < S.threads; i++) {
        Fiber& f = S.fibers[i];
        char* stack = stack_for(i);
        if (stack == nullptr) {
            *error = "cannot map a fiber stack";
            return false;
        }
        prepare(&f.context, stack, STACK_BYTES, fiber_main);
        f.state = State::RUNNABLE;
    }
    if (__start_shears_shared != nullptr) std::memset(__start_shears_shared, 0xFF, __stop_shears_shared - __start_shears_shared);
    // Threads of a block may run in any order between barriers: blocks alternate between running
    // thread 0 first and the last thread first (and so do successive launches of a one-block
    // kernel), so a missing __syncthreads shows in one of the two.
    bool reverse = ((S.launches + blockIdx.x + blockIdx.y + blockIdx.z) & 1u) != 0;
    while (S.live > 0) {
        bool ran = false;
        for (int n = 0; n < S.threads && !S.failed; n++) {
            int i = reverse ? S.threads - 1 - n : n;
            if (S.fibers[i].state != State::RUNNABLE) continue;
            S.current = i;
            set_thread_index(i);
            switch_to(&S.main, &S.fibers[i].context);
            ran = true;
        }
        if (S.failed) break;
        if (!ran) {
            S.failed = true;
            S.error = std::string(S.kernel->name) + " block (" + std::to_string(blockIdx.x) + "," +
                      std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) + "): " + describe_deadlock();
        }
    }
    if (S.failed) {
        *error = S.error;
        return false;
    }
    return true;
}

}  // namespace

void syncthreads() {
    S.barrierArrived++;
    if (S.barrierArrived == S.live) {
        release_barrier();
        return;
    }
    S.fibers[S.current].state = State::AT_BARRIER;
    yield();
}

int lane() { return S.current & 31; }

void check_aligned(const void* p, unsigned align, const char* what) {
    std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
    if (a % align == 0) return;
    char buf[160];
    std::snprintf(buf, sizeof buf, "misaligned address: %s at 0x%lx, which is not a multiple of %u", what, (unsigned long)a, align);
    if (!S.failed) S.misaligned = true;
    fail(buf);
}

const unsigned long long* warp_exchange(const char* op, unsigned int mask, unsigned long long value) {
    int warp = S.current >> 5, me = S.current & 31;
    int lanes = S.threads - warp * 32 < 32 ? S.threads - warp * 32 : 32;
    if (((mask >> me) & 1u) == 0) fail(std::string(op) + " with a mask that does not name the calling lane");
    for (int l = 0; l < 32; l++) {
        if (((mask >> l) & 1u) == 0) continue;
        if (l >= lanes) {
            char buf[200];
            std::snprintf(buf, sizeof buf, "%s with mask 0x%08x names lane %d, which does not exist (block of %d threads: "
                          "a partial last warp)", op, mask, l, S.threads);
            fail(buf);
        }
        if (S.fibers[warp * 32 + l].state == State::DONE) {
            char buf[200];
            std::snprintf(buf, sizeof buf, "%s with mask 0x%08x names lane %d, which has exited", op, mask, l);
            fail(buf);
        }
    }
    Warp& w = S.warps[warp];
    if (w.arrived == 0) {
        w.op = op;
        w.mask = mask;
    } else if (std::strcmp(w.op, op) != 0 || w.mask != mask) {
        char buf[240];
        std::snprintf(buf, sizeof buf, "divergent warp operations: %s (mask 0x%08x) while other lanes wait in %s (mask 0x%08x)",
                      op, mask, w.op, w.mask);
        fail(buf);
    }
    unsigned slot = w.generation & 1u;
    w.slots[slot][me] = value;
    w.arrived |= 1u << me;
    if (w.arrived == mask) {
        w.arrived = 0;
        w.generation++;
        for (int l = 0; l < lanes; l++) {
            Fiber& f = S.fibers[warp * 32 + l];
            if (f.state == State::AT_WARP) f.state = State::RUNNABLE;
        }
        return w.slots[slot];
    }
    S.fibers[S.current].state = State::AT_WARP;
    yield();
    return w.slots[slot];
}

// Memory faults of kernels: SIGSEGV/SIGBUS on the device thread while a grid runs jump back to
// run_grid; any other fault goes to the handler that was installed before (the JVM's).
namespace {
struct sigaction previousSegv, previousBus;
pthread_t deviceThread;
volatile sig_atomic_t inKernel = 0;
sigjmp_buf faultJump;
volatile std::uintptr_t faultAddress = 0;

void on_fault(int sig, siginfo_t* info, void* context) {
    if (inKernel && pthread_equal(pthread_self(), deviceThread)) {
        faultAddress = reinterpret_cast<std::uintptr_t>(info->si_addr);
        inKernel = 0;
        siglongjmp(faultJump, 1);
    }
    const struct sigaction& prev = sig == SIGSEGV ? previousSegv : previousBus;
    if (prev.sa_flags & SA_SIGINFO) {
        prev.sa_sigaction(sig, info, context);
    } else if (prev.sa_handler == SIG_DFL || prev.sa_handler == SIG_IGN) {
        signal(sig, SIG_DFL);  // re-raised by the faulting instruction, now fatal as usual
    } else {
        prev.sa_handler(sig);
    }
}

void install_fault_handler() {
    static bool installed = false;
    if (installed) return;
    installed = true;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previousSegv);
    sigaction(SIGBUS, &sa, &previousBus);
}
}  // namespace

bool run_grid(const KernelEntry& k, void** params, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
              unsigned bz, std::string* error, std::uintptr_t* fault, bool* misaligned) {
    *fault = 0;
    *misaligned = false;
    deviceThread = pthread_self();
    install_fault_handler();
    if (sigsetjmp(faultJump, 1) != 0) {
        *fault = faultAddress;
        char buf[200];
        std::snprintf(buf, sizeof buf, "%s block (%u,%u,%u) thread (%u,%u,%u): illegal memory access", k.name, blockIdx.x,
                      blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
        *error = buf;
        return false;
    }
    S.kernel = &k;
    S.params = params;
    S.launches++;
    S.failed = false;
    S.misaligned = false;
    S.error.clear();
    S.threads = (int)(bx * by * bz);
    gridDim = uint3{gx, gy, gz};
    blockDim = uint3{bx, by, bz};
    for (unsigned z = 0; z < gz; z++) {
        for (unsigned y = 0; y < gy; y++) {
            for (unsigned x = 0; x < gx; x++) {
                blockIdx = uint3{x, y, z};
                inKernel = 1;
                bool ok = run_block(error);
                inKernel = 0;
                if (!ok) {
                    *misaligned = S.misaligned;
                    return false;
                }
            }
        }
    }
    return true;
}

}  // namespace emu
