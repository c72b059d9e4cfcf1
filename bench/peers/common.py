"""Timing helpers shared by the PyTorch peers: CUDA events on the current stream, L2 flushed
before each repetition with a 256 MiB fill, one warm-up, the median reported (as GpuBench does)."""
import statistics

import torch

_flush = None


def time_ms(fn, reps):
    """Median milliseconds of fn() over reps runs after one warm-up."""
    global _flush
    if _flush is None:
        _flush = torch.empty(64 << 20, dtype=torch.float32, device="cuda")
    fn()
    torch.cuda.synchronize()
    times = []
    for r in range(reps):
        _flush.fill_(float(r))
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def random_weights(n, seed):
    """Roughly Gaussian weights with 20% exact zeros, like GpuBench's (not the same values)."""
    g = torch.Generator(device="cuda").manual_seed(seed)
    w = (torch.rand(n, device="cuda", generator=g) + torch.rand(n, device="cuda", generator=g)
         + torch.rand(n, device="cuda", generator=g) - 1.5) * 0.1
    w[torch.rand(n, device="cuda", generator=g) < 0.2] = 0
    return w
