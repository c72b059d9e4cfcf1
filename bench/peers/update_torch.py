"""PyTorch peer of GpuBench's fused masked updates at N parameters: the fused SGD-momentum and
AdamW optimizers (fused=True) plus the two mask multiplies a pruning loop needs (gradient
before the step, weight after it), timed as one unit as GpuBench times its single kernel.

  python3 bench/peers/update_torch.py --out torch_update.json [--n 1e8] [--reps 10]
"""
import argparse
import json

import torch

from common import random_weights, time_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=float, default=1e8)
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args()
    n = int(a.n)
    mask = (torch.rand(n, device="cuda") < 0.1).float()  # float mask: what a PyTorch loop multiplies by
    results = []
    for name, make, bytes_per_param in (
            ("sgd_momentum_masked", lambda p: torch.optim.SGD([p], lr=0.01, momentum=0.9, weight_decay=1e-4, fused=True), 21),
            ("adamw_masked", lambda p: torch.optim.AdamW([p], lr=1e-3, weight_decay=0.01, fused=True), 29)):
        p = torch.nn.Parameter(random_weights(n, 1))
        p.grad = random_weights(n, 2)
        opt = make(p)

        def step():
            p.grad.mul_(mask)
            opt.step()
            with torch.no_grad():
                p.mul_(mask)

        ms = time_ms(step, a.reps)
        results.append({"op": name, "impl": "torch fused + mask", "n": n, "medianMs": ms,
                        "bytesPerParam": bytes_per_param, "GBs": bytes_per_param * n / (ms * 1e6)})
        del opt, p
        torch.cuda.empty_cache()
    out = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "results": results}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
