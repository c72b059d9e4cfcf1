"""PyTorch peer of GpuBench's magnitude-threshold figures: the k-th smallest |w| with
torch.kthvalue and torch.topk, for one tensor of N elements and for the models' layers (a loop
per layer, and a global concatenate + kthvalue). Writes one JSON object.

  python3 bench/peers/threshold_torch.py --shapes shapes.json --out torch_threshold.json [--reps 10] [--max-n 1e9]
"""
import argparse
import json

import torch

from common import random_weights, time_ms

SPARSITIES = (0.5, 0.9, 0.95)


def kth_abs(w, k):
    return torch.kthvalue(w.abs(), k).values


def topk_abs(w, k):
    return torch.topk(w.abs(), k, largest=False, sorted=False).values.max()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", required=True, help="shapes.json written by GpuBench --shapes")
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--max-n", type=float, default=1e9)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    results = []
    sizes = [n for n in (10**6, 10**7, 10**8, 10**9) if n <= a.max_n and (not a.quick or n <= 10**7)]
    for n in sizes:
        w = random_weights(n, n)
        for s in SPARSITIES:
            k = max(1, round(s * n))
            for name, fn in (("kthvalue", kth_abs), ("topk", topk_abs)):
                try:
                    ms = time_ms(lambda: fn(w, k), a.reps)
                except RuntimeError as e:  # e.g. out of memory for topk at 1e9
                    results.append({"op": "threshold", "scope": "single", "impl": name, "n": n, "sparsity": s, "error": str(e)[:200]})
                    torch.cuda.empty_cache()
                    continue
                results.append({"op": "threshold", "scope": "single", "impl": name, "n": n, "sparsity": s, "medianMs": ms})
        del w
        torch.cuda.empty_cache()
    with open(a.shapes) as f:
        shapes = json.load(f)
    for model, dims in shapes.items():
        if a.quick and model != "resnet50":
            continue
        ws = [random_weights(int(torch.tensor(d).prod()), 7000 + i) for i, d in enumerate(dims)]
        s = 0.9
        ks = [max(1, round(s * w.numel())) for w in ws]
        ms = time_ms(lambda: [kth_abs(w, k) for w, k in zip(ws, ks)], a.reps)
        total = sum(w.numel() for w in ws)
        results.append({"op": "threshold", "scope": "layer", "impl": "kthvalue-loop", "model": model,
                        "tensors": len(ws), "n": total, "sparsity": s, "medianMs": ms})
        kg = max(1, round(s * total))
        try:
            ms = time_ms(lambda: kth_abs(torch.cat([w.flatten() for w in ws]), kg), a.reps)
            results.append({"op": "threshold", "scope": "global", "impl": "cat+kthvalue", "model": model,
                            "tensors": len(ws), "n": total, "sparsity": s, "medianMs": ms})
        except RuntimeError as e:
            # n and sparsity as in the timed row: compare.py pairs rows on them
            results.append({"op": "threshold", "scope": "global", "impl": "cat+kthvalue", "model": model,
                            "tensors": len(ws), "n": total, "sparsity": s, "error": str(e)[:200]})
        del ws
        torch.cuda.empty_cache()
    out = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "results": results}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
