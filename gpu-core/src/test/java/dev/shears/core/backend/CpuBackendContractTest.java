package dev.shears.core.backend;

import dev.shears.core.cpu.CpuBackend;

/** The CPU backend against the reference computations of {@link BackendContractTest}. */
class CpuBackendContractTest extends BackendContractTest {
    @Override protected Backend createBackend() { return new CpuBackend(2); }
}
