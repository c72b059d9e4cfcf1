"""The OpenBLAS reference for Shears' dense batch-1 layer (SparseLayerBench, dense, batch 1):
y = A x for a 4096 x 4096 float32 A, median of 300 products after 200 warm-up ones.
Prints one line: numpy gemv median <ms> ms (<BLAS name>)."""
import time

import numpy as np

n = 4096
rng = np.random.default_rng(1)
a = rng.random((n, n), dtype=np.float32)
x = rng.random(n, dtype=np.float32)
for _ in range(200):
    y = a @ x
times = []
for _ in range(300):
    t = time.perf_counter()
    y = a @ x
    times.append(time.perf_counter() - t)
times.sort()
blas = "unknown BLAS"
try:
    info = np.show_config(mode="dicts")
    blas = info["Build Dependencies"]["blas"]["name"]
except Exception:
    pass
print("numpy gemv median %.3f ms (%s)" % (times[len(times) // 2] * 1e3, blas))
