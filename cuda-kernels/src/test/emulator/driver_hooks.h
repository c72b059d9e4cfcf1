// What the emulated libraries (cublas.cpp, cusparse.cpp, cusparselt.cpp) take from the driver
// emulator (driver.cpp, which defines these), and the macro that exports their own entry points.
// Test-only.
#pragma once

#include <cstddef>

#define EXPORT extern "C" __attribute__((visibility("default")))

// Queues fn(arg) on `stream` in order with the driver's work; release(arg) runs when the operation
// is dropped. Returns a CUresult.
extern "C" int shears_emu_enqueue(void* stream, void (*fn)(void*), void* arg, void (*release)(void*));
// Nonzero when [p, p + bytes) lies inside one live device allocation.
extern "C" int shears_emu_in_device_memory(unsigned long long p, std::size_t bytes);
// A library "kernel" that faulted: makes the context's error sticky (CUDA_ERROR_ILLEGAL_ADDRESS),
// as a faulting kernel does; `what` goes into the error text.
extern "C" void shears_emu_fault(const char* what);
