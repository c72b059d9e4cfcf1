// Internal interface between the emulator's parts: the kernel registry (kernels.cpp), the block
// scheduler (scheduler.cpp) and the driver API (driver.cpp). Test-only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

struct uint3;

namespace emu {

// A kernel of the real sources: its extern "C" name, its address, and a function that calls it
// with the arguments unpacked from cuLaunchKernel's kernelParams (one pointer per parameter).
struct KernelEntry {
    const char* name;
    void* function;
    void (*invoke)(void* function, void** params);
    int paramCount;
    const std::size_t* paramSizes;  // paramCount entries: the bytes each parameter occupies
};

// The registered kernel named `name`, or nullptr.
const KernelEntry* find_kernel(const char* name);

// Every registered kernel; *count gets their number.
const KernelEntry* all_kernels(std::size_t* count);

// Runs the whole grid, blocks one after another; returns false with a message in *error when a
// kernel does something undefined on a GPU (divergent warp operations, a deadlock at a barrier,
// a warp operation naming an exited or missing lane). A memory fault inside the kernel also
// returns false, with the faulting address in *fault (0 otherwise); a vector access at an address
// its size does not divide returns false with *misaligned set.
bool run_grid(const KernelEntry& k, void** params, unsigned gx, unsigned gy, unsigned gz,
              unsigned bx, unsigned by, unsigned bz, std::string* error, std::uintptr_t* fault, bool* misaligned);

}  // namespace emu
