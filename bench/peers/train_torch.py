"""PyTorch peer of TrainBench (issue 5 item 3): the same models (LeNet-300-100 and the Keras MNIST
CNN's architecture), the same data shape and the same recipe, timed the same way, in eager mode
and with torch.compile where it works.

  python3 bench/peers/train_torch.py --plan plan.json --out torch_train.json [--data IDX_DIR] [--no-compile]
      [--compile-runs] [--no-sync] [--data-on-gpu]

The plan is written by `TrainBench --plan`: models, data sizes, the step benchmark's warm-up /
step counts / mask sparsity, and for each batch size the GMP run's schedule as GmpTrainer runs
it (mask updates at given positions with their cubic-schedule targets, the learning rate of every
step, SGD momentum / Nesterov / weight decay, layer or global scope). Semantics mirrored:
  - masks on every Conv/Linear weight (not biases); the gradient is multiplied by the mask before
    the optimizer step and the weight after it (GMP: masked weights stay zero);
  - SGD with momentum and L2 weight decay, PyTorch's fused implementation (the fastest it has);
  - magnitude pruning per layer (or global) with torch.kthvalue; masks only gain zeros;
  - like GmpTrainer, each step reads the loss and the correct count back to the host (a sync);
    --no-sync keeps them on the device until the end of the epoch instead (PyTorch at its best);
  - like GmpTrainer, batches are gathered from host memory and copied to the device every step;
    --data-on-gpu keeps the whole set on the device instead;
  - a GMP run evaluates the test set and copies the weights to the host before training and at
    the end of every epoch, as GmpTrainer does.
Step timing: CUDA events around `steps` steps after `warmup` (on the CPU: wall time). Whole runs:
wall time. Data: synthetic with Fashion-MNIST's shape (prototype per class + noise, as
SyntheticImages; not the same values) unless --data names a folder of IDX files.
"""
import argparse
import gzip
import json
import os
import struct
import time

import torch
import torch.nn.functional as F
from torch import nn

CLASSES = 10


def make_model(name):
    if name == "lenet-300-100":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, CLASSES))
    if name == "mnist-cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
                             nn.Flatten(), nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, CLASSES))
    if name == "lenet-5":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, CLASSES))
    raise SystemExit("train_torch.py: unknown model %r (lenet-300-100, lenet-5, mnist-cnn)" % name)


def synthetic(n, seed, prototypes):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, CLASSES, (n,), generator=g)
    x = 0.5 * prototypes[y] + 0.5 * torch.rand(n, 1, 28, 28, generator=g)
    return x, y


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit("%s: not an unsigned-byte IDX file" % path)
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def idx_split(folder, n_train, n_test):
    def find(stem):
        for name in (stem, stem + ".gz"):
            if os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        raise SystemExit("%s: no %s[.gz]" % (folder, stem))
    xs = [read_idx(find(p + "-images-idx3-ubyte")).float().div_(255).unsqueeze(1) for p in ("train", "t10k")]
    ys = [read_idx(find(p + "-labels-idx1-ubyte")).long() for p in ("train", "t10k")]
    return (xs[0][:n_train], ys[0][:n_train]), (xs[1][:n_test], ys[1][:n_test])


class Pruned:
    """A model with a float mask per prunable weight (Conv/Linear weights), as GmpTrainer keeps them."""

    def __init__(self, model):
        self.model = model
        self.weights = [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
        self.masks = [torch.ones_like(w) for w in self.weights]

    @torch.no_grad()
    def prune(self, target, scope):
        if scope == "global":
            total = sum(w.numel() for w in self.weights)
            k = round(target * total)
            if k < 1:
                return
            thr = torch.kthvalue(torch.cat([w.abs().flatten() for w in self.weights]), k).values
            for w, m in zip(self.weights, self.masks):
                m.mul_((w.abs() > thr).to(m.dtype))
                w.mul_(m)
            return
        for w, m in zip(self.weights, self.masks):
            k = round(target * w.numel())
            if k < 1:
                continue
            thr = torch.kthvalue(w.abs().flatten(), k).values
            m.mul_((w.abs() > thr).to(m.dtype))  # masked weights are 0 <= thr: masks only gain zeros
            w.mul_(m)


class Trainer:
    """One training step as GmpTrainer's: gather, copy, forward, cross-entropy, backward, masked fused SGD."""

    def __init__(self, pruned, forward, opt, train, device, data_on_gpu, sync):
        self.p, self.forward, self.opt, self.device, self.sync = pruned, forward, opt, device, sync
        x, y = train
        if data_on_gpu:
            x, y = x.to(device), y.to(device)
        elif device.type == "cuda":
            x, y = x.pin_memory(), y.pin_memory()
        self.x, self.y, self.on_gpu = x, y, data_on_gpu
        self.grads_masks = None

    def step(self, idx):
        if self.on_gpu:
            idx = idx.to(self.device, non_blocking=True)
            xb, yb = self.x[idx], self.y[idx]
        else:
            xb = self.x[idx].to(self.device, non_blocking=True)
            yb = self.y[idx].to(self.device, non_blocking=True)
        logits = self.forward(xb)
        loss = F.cross_entropy(logits, yb)
        correct = (logits.argmax(1) == yb).sum()
        self.opt.zero_grad(set_to_none=False)
        loss.backward()
        grads = [w.grad for w in self.p.weights]
        torch._foreach_mul_(grads, self.p.masks)
        self.opt.step()
        with torch.no_grad():
            torch._foreach_mul_(self.p.weights, self.p.masks)
        if self.sync:
            return loss.item() * len(idx), correct.item()
        return loss.detach() * len(idx), correct


@torch.no_grad()
def evaluate(model, test, batch, device):
    model.eval()
    x, y = test
    loss, correct = torch.zeros((), device=device), torch.zeros((), device=device, dtype=torch.long)
    for s in range(0, len(y), batch):
        xb, yb = x[s:s + batch].to(device), y[s:s + batch].to(device)
        logits = model(xb)
        loss += F.cross_entropy(logits, yb, reduction="sum")
        correct += (logits.argmax(1) == yb).sum()
    model.train()
    return loss.item() / len(y), correct.item() / len(y)


def make_sgd(params, lr, momentum, nesterov, weight_decay, device):
    fused = device.type == "cuda"
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, fused=fused)


def timed(device, fn):
    """(wall ms, CUDA-event ms or None) of fn()."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        t0 = time.perf_counter()
        start.record()
        fn()
        end.record()
        end.synchronize()
        return (time.perf_counter() - t0) * 1e3, start.elapsed_time(end)
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3, None


def train_step(name, batch, impl, plan, train, device, a):
    torch.manual_seed(1)
    model = make_model(name).to(device)
    pruned = Pruned(model)
    sparsity = plan["step"]["maskedSparsity"]
    if sparsity > 0:
        pruned.prune(sparsity, "layer")
    run = plan["runs"][0] if plan["runs"] else {"momentum": 0.9, "nesterov": False, "weightDecay": 1e-4, "lr": [0.05]}
    opt = make_sgd(model.parameters(), run["lr"][0], run["momentum"], run["nesterov"], run["weightDecay"], device)
    forward = torch.compile(model) if impl == "compile" else model
    tr = Trainer(pruned, forward, opt, train, device, a.data_on_gpu, not a.no_sync)
    n = len(train[1])
    rows = min(batch, n)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(1))
    counter = [0]

    def one():
        start = counter[0] * rows % (n - rows + 1)
        counter[0] += 1
        tr.step(order[start:start + rows])

    # at least `warmup` steps and `warmupSeconds`, as TrainBench (compile: at least 3 steps, the first compiles)
    warm_end = time.perf_counter() + plan["step"].get("warmupSeconds", 0)
    i = 0
    while i < max(plan["step"]["warmup"], 3 if impl == "compile" else 0) or time.perf_counter() < warm_end:
        one()
        i += 1
    steps = plan["step"]["steps"]

    def many():
        for _ in range(steps):
            one()

    wall, events = timed(device, many)
    used = events if events is not None else wall
    return {"op": "train_step", "impl": impl, "model": name, "batch": rows, "steps": steps, "maskedSparsity": sparsity,
            "timing": "cuda-events" if events is not None else "wall", "msPerStep": used / steps,
            "imagesPerSec": 1000.0 * rows * steps / used, "wallImagesPerSec": 1000.0 * rows * steps / wall,
            "syncEveryStep": not a.no_sync, "dataOnGpu": a.data_on_gpu}


def gmp_run(name, run, impl, train, test, device, a):
    torch.manual_seed(1)
    model = make_model(name).to(device)
    pruned = Pruned(model)
    lr = run["lr"]
    opt = make_sgd(model.parameters(), lr[0], run["momentum"], run["nesterov"], run["weightDecay"], device)
    forward = torch.compile(model) if impl == "compile" else model
    tr = Trainer(pruned, forward, opt, train, device, a.data_on_gpu, not a.no_sync)
    n, batch, spe, epochs = len(train[1]), run["batch"], run["stepsPerEpoch"], run["epochs"]
    updates = {int(p): t for p, t in run["prune"]}
    eval_batch = min(batch, len(test[1]))
    result = {}

    def whole():
        evaluate(model, test, eval_batch, device)
        snapshot = [w.detach().cpu() for w in model.parameters()]
        done = -1
        acc = 0.0
        for e in range(epochs):
            order = torch.randperm(n, generator=torch.Generator().manual_seed(1000 + e))
            for b in range(spe):
                t = e * spe + b
                if t > done and t in updates:
                    pruned.prune(updates[t], run["scope"])
                done = max(done, t)
                for g in opt.param_groups:
                    g["lr"] = lr[t]
                tr.step(order[b * batch:min(n, (b + 1) * batch)])
            end = (e + 1) * spe
            if end in updates:
                pruned.prune(updates[end], run["scope"])
            done = end
            _, acc = evaluate(model, test, eval_batch, device)
            snapshot = [w.detach().cpu() for w in model.parameters()]
        result["acc"] = acc
        result["snapshot"] = snapshot

    wall, _ = timed(device, whole)
    zeros = sum(int((w == 0).sum()) for w in pruned.weights)
    size = sum(w.numel() for w in pruned.weights)
    return {"op": "gmp_run", "impl": impl, "model": name, "batch": batch, "epochs": epochs, "stepsPerEpoch": spe,
            "maskUpdates": len(updates), "trainImages": epochs * n, "wallSec": wall / 1e3,
            "imagesPerSec": epochs * n / (wall / 1e3), "finalSparsity": zeros / size, "testAccuracy": result["acc"],
            "syncEveryStep": not a.no_sync, "dataOnGpu": a.data_on_gpu}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", required=True, help="plan.json written by TrainBench --plan")
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", help="folder of IDX files (train-images-idx3-ubyte[.gz], ...); default synthetic")
    ap.add_argument("--no-compile", action="store_true", help="eager only")
    ap.add_argument("--compile-runs", action="store_true", help="also run the whole GMP runs under torch.compile")
    ap.add_argument("--no-sync", action="store_true", help="keep loss and correct counts on the device during an epoch")
    ap.add_argument("--data-on-gpu", action="store_true", help="keep the whole data set on the device")
    a = ap.parse_args()
    with open(a.plan) as f:
        plan = json.load(f)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    n_train, n_test = plan["data"]["train"], plan["data"]["test"]
    if a.data:
        train, test = idx_split(a.data, n_train, n_test)
        data_name = "IDX files in " + a.data
    else:
        prototypes = torch.rand(CLASSES, 1, 28, 28, generator=torch.Generator().manual_seed(1))
        train, test = synthetic(n_train, 2, prototypes), synthetic(n_test, 3, prototypes)
        data_name = "synthetic, Fashion-MNIST's shape (1x28x28, 10 classes)"
    header = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "torch": torch.__version__, "data": data_name}

    def save():  # after every row, so a run stopped by a time limit keeps what finished
        with open(a.out, "w") as f:
            json.dump({**header, "results": results}, f, indent=1)

    batches = plan["batches"]
    results = []
    save()
    # eager first (steps and whole runs), torch.compile last: if the time limit cuts the run short,
    # what is lost is the compiled figures, not the baseline
    phases = [("eager", True)] + ([] if a.no_compile else [("compile", a.compile_runs)])
    for impl, with_runs in phases:
        for name in plan["models"]:
            for batch in batches:
                try:
                    results.append(train_step(name, batch, impl, plan, train, device, a))
                except Exception as e:  # torch.compile may fail on the machine (no compiler, Triton...)
                    results.append({"op": "train_step", "impl": impl, "model": name, "batch": batch, "error": repr(e)[:300]})
                print(json.dumps(results[-1]), flush=True)
                save()
            for run in plan["runs"] if with_runs else []:
                try:
                    results.append(gmp_run(name, run, impl, train, test, device, a))
                except Exception as e:
                    results.append({"op": "gmp_run", "impl": impl, "model": name, "batch": run["batch"], "error": repr(e)[:300]})
                print(json.dumps(results[-1]), flush=True)
                save()


if __name__ == "__main__":
    main()
