"""Joins the Shears GPU benchmarks' JSON (GpuBench, TrainBench) with the PyTorch peers' into one
results file with the ratios issue 5 asks for (Shears time / one read of the data at copy
bandwidth; PyTorch time / Shears time; update bandwidth as a share of copy bandwidth; Shears
images/second / PyTorch images/second for the training step and the whole GMP run), carries
SparseGpuBench's sweep (issue 6, no PyTorch peer) under "sparse", and draws a PNG chart when
matplotlib exists (GpuCharts draws the training and sparse charts in Java either way).

  python3 bench/peers/compare.py --shears shears.json train.json --torch torch_threshold.json torch_update.json torch_train.json \
      [--sparse sparse.json] [--stages stages.tsv] --out gpu-bench.json [--png chart.png]
  python3 bench/peers/compare.py --record-stages stages.tsv --out gpu-bench.json

run-gpu.sh records every stage's outcome in stages.tsv (see read_stages); --stages puts them under
"stages" and names the figures each missing or partial file stood for; --record-stages, run last,
rewrites only "stages" (with compare's and the charts' own outcome) in an existing gpu-bench.json,
or writes one holding just the stages when compare left none.
"""
import argparse
import csv
import json
import os
import sys


THROUGHPUT_OPS = ("train_step", "gmp_run")


def key(r):
    if r["op"] in THROUGHPUT_OPS:
        return (r["op"], None, r.get("model"), None, None, r.get("batch"))
    return (r["op"], r.get("scope"), r.get("model"), r.get("n"), r.get("sparsity"), None)


def join(shears, torch_runs):
    """Shears rows with the matching PyTorch figures and ratios: times (medianMs, lower is better)
    give speedup = PyTorch ms / Shears ms; throughputs (imagesPerSec, higher is better) give
    speedup = Shears images/s / PyTorch images/s. A peer that failed leaves its error in the row."""
    rows = []
    peers = {}
    for run in torch_runs:
        for r in run["results"]:
            # error rows too (any op): a peer that failed (e.g. topk or the global cat+kthvalue out of
            # memory at 1e9) leaves its error beside the Shears figure instead of vanishing
            if "medianMs" in r or "imagesPerSec" in r or "error" in r:
                peers.setdefault(key(r), []).append(r)
    for r in shears["results"]:
        if r["op"] == "copy" or ("medianMs" not in r and "imagesPerSec" not in r and "error" not in r):
            continue
        if "error" in r:  # a Shears row that failed (TrainBench's CUDA-graph rows): kept with its error, no ratio
            rows.append(dict(r))
            continue
        if r.get("kernel") == "naive":
            continue  # the naive kernels are kept for reference, not compared
        row = dict(r)
        k = key(r)
        if r["op"] not in THROUGHPUT_OPS and r["op"] != "threshold":
            k = (r["op"], None, None, r["n"], None, None)
        for p in peers.get(k, []):
            if "error" in p:
                row["torch_" + p["impl"] + "_error"] = p["error"]
            elif "imagesPerSec" in r:
                row["torch_" + p["impl"] + "_imagesPerSec"] = p["imagesPerSec"]
                row["speedup_vs_" + p["impl"]] = r["imagesPerSec"] / p["imagesPerSec"]
            else:
                row["torch_" + p["impl"] + "_ms"] = p["medianMs"]
                row["speedup_vs_" + p["impl"]] = p["medianMs"] / r["medianMs"]
        rows.append(row)
    return rows


def merge(shears_runs):
    """One Shears object from several files: the first file's header fields, every file's rows."""
    out = {"results": [], "parts": shears_runs}
    for run in shears_runs:
        for k, v in run.items():
            if k not in ("results", "missing", "partial", "partialFile"):
                out.setdefault(k, v)
        out["results"].extend(run["results"])
    return out


def chart(rows, path, sparse=None):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    labels, ours, theirs = [], [], []
    for r in rows:
        peer = [v for k, v in r.items() if k.startswith("torch_") and k.endswith("_ms")]
        if not peer:
            continue
        labels.append("%s %s %s %s" % (r["op"], r.get("scope", ""), r.get("model", r.get("n")), r.get("sparsity", "")))
        ours.append(r["medianMs"])
        theirs.append(min(peer))
    train = [r for r in rows if r["op"] in THROUGHPUT_OPS and "imagesPerSec" in r]
    sweep = [r for r in (sparse or {}).get("results", []) if r.get("speedupVsDense") and r.get("format") != "dense"]
    panels = bool(labels) + bool(train) + bool(sweep)
    if panels == 0:
        return False
    fig, axes = plt.subplots(panels, 1, figsize=(10, (max(3, 0.35 * len(labels)) if labels else 0) + 4 * (panels - bool(labels))),
                             squeeze=False)
    panel = 0
    if labels:
        ax = axes[panel][0]
        panel += 1
        y = range(len(labels))
        ax.barh([i + 0.2 for i in y], theirs, height=0.4, label="PyTorch (best)")
        ax.barh([i - 0.2 for i in y], ours, height=0.4, label="Shears")
        ax.set_yticks(list(y))
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("median ms (log)")
        ax.legend()
    if train:
        ax = axes[panel][0]
        panel += 1
        impls = sorted({k[len("torch_"):-len("_imagesPerSec")] for r in train for k in r if k.startswith("torch_") and k.endswith("_imagesPerSec")})
        series = [("Shears", "imagesPerSec")] + [("PyTorch " + i, "torch_%s_imagesPerSec" % i) for i in impls]
        x = range(len(train))
        width = 0.8 / len(series)
        for j, (name, field) in enumerate(series):
            ax.bar([i + (j - (len(series) - 1) / 2) * width for i in x], [r.get(field, 0) for r in train], width=width, label=name)
        ax.set_xticks(list(x))
        ax.set_xticklabels(["%s%s\n%s b%s" % (r["op"], " graphs" if r.get("cudaGraphs") else "", r["model"], r["batch"]) for r in train],
                           fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("images / s (log)")
        ax.legend(fontsize=7)
    if sweep:
        ax = axes[panel][0]
        square = [r for r in sweep if r["m"] == r["k"] == 4096]
        sweep = square or sweep  # one layer size keeps the panel readable; gpu-sparse.png has them all
        groups = {}
        for r in sweep:
            groups.setdefault("%s %s %dx%d n=%d" % (r["op"], r["format"], r["m"], r["k"], r["n"]), []).append(r)
        for name, rs in sorted(groups.items()):
            rs.sort(key=lambda r: r["sparsity"])
            if len(rs) > 1:
                ax.plot([r["sparsity"] for r in rs], [r["speedupVsDense"] for r in rs], marker="o", label=name)
        ax.axhline(1.0, color="gray", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("sparsity")
        ax.set_ylabel("speed-up vs cuBLAS dense (log)")
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def load(path):
    """A JSON file; a missing or broken one (a stage that failed, timed out or was skipped, as run-gpu.log says) becomes an empty run, named."""
    try:
        with open(path) as f:
            run = json.load(f)
        if run.get("partial"):  # a Java stage's checkpoint: the stage stopped (time limit) before its last row
            print("compare.py: %s is partial: its stage stopped before the end" % path, file=sys.stderr)
            run["partialFile"] = path
        return run
    except (OSError, ValueError) as e:
        print("compare.py: skipping %s: %s" % (path, e), file=sys.stderr)
        return {"results": [], "missing": path}


# run-gpu.sh's stages that write a JSON file: the file's name there and the figures it holds
STAGE_FILES = {
    "gpubench": ("shears.json", "Shears threshold, fused optimizer updates and copy bandwidth (GpuBench)"),
    "torch-threshold": ("torch_threshold.json", "PyTorch threshold peers (threshold_torch.py)"),
    "torch-update": ("torch_update.json", "PyTorch fused optimizer peers (update_torch.py)"),
    "trainbench": ("train.json", "Shears training step and whole GMP run (TrainBench)"),
    "torch-train": ("torch_train.json", "PyTorch training peers, eager and torch.compile (train_torch.py)"),
    "sparse": ("sparse.json", "sparse sweep: cuBLAS vs cuSPARSE and cuSPARSELt 2:4 (SparseGpuBench)"),
}


# stages.tsv's status words as the summary spells them
STATUS = {"ok": "ok", "failed": "failed", "timed-out": "timed out", "skipped": "skipped (deadline)",
          "not-requested": "not requested"}


def read_stages(path):
    """run-gpu.sh's stages.tsv (a header line, then one line per stage: stage, status, rc, seconds,
    limit_s, left_s) as a list of objects in run order. status is ok, failed (with rc), timed out
    (rc 124 or 137: timeout's), skipped (deadline) (too near to start: left_s seconds were left)
    or not requested (--only). A stage that was cut off before its line has none."""
    stages = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            st = {"stage": r["stage"], "status": STATUS.get(r["status"], r["status"])}
            for field, name in (("rc", "rc"), ("seconds", "seconds"), ("limit_s", "limitS"), ("left_s", "secondsLeft")):
                if r.get(field) not in (None, ""):
                    st[name] = int(r[field])
            if st["stage"] in STAGE_FILES:
                st["figures"] = STAGE_FILES[st["stage"]][1]
            stages.append(st)
    return stages


def name_file(path, stages):
    """What a missing or partial file stood for: its stage, the figures, and the stage's outcome
    when stages.tsv has it (the file's path is a temporary one, so only its name is kept)."""
    base = os.path.basename(path)
    entry = {"file": base}
    for stage, (file, figures) in STAGE_FILES.items():
        if file == base:
            entry = {"stage": stage, "figures": figures, "file": base}
            outcome = next((s for s in stages if s["stage"] == stage), None)
            if outcome is not None:  # the outcome in short; "stages" has the seconds and limits
                entry.update({k: v for k, v in outcome.items() if k in ("status", "rc", "secondsLeft")})
            elif stages:
                entry["status"] = "no record (the run stopped before this stage)"
    return entry


def record_stages(stages, out_path):
    """Rewrites out_path's "stages" (run last, with compare's and the charts' outcome too); writes a
    file holding the stages alone when compare left no readable one."""
    try:
        with open(out_path) as f:
            out = json.load(f)
        if not isinstance(out, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        print("compare.py: %s unreadable (%s): writing the stages alone" % (out_path, e), file=sys.stderr)
        out = {"results": [], "error": "compare.py wrote no results: see the compare stage below and run-gpu.log"}
    out["stages"] = stages
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shears", nargs="+", help="GpuBench and TrainBench JSON files")
    ap.add_argument("--torch", nargs="+")
    ap.add_argument("--sparse", help="SparseGpuBench JSON (issue 6's sweep; carried as is under 'sparse')")
    ap.add_argument("--stages", help="run-gpu.sh's stages.tsv: each stage's outcome, under 'stages'")
    ap.add_argument("--record-stages", metavar="STAGES_TSV", help="only rewrite --out's 'stages' from this stages.tsv")
    ap.add_argument("--out", required=True)
    ap.add_argument("--png")
    ap.add_argument("--quiet", action="store_true", help="do not echo the joined JSON on stdout")
    a = ap.parse_args()
    if a.record_stages:
        record_stages(read_stages(a.record_stages), a.out)
        return
    if not a.shears or not a.torch:
        ap.error("--shears and --torch are required (unless --record-stages)")
    stages = read_stages(a.stages) if a.stages else []
    shears = merge([load(p) for p in a.shears])
    runs = [load(p) for p in a.torch]
    rows = join(shears, runs)
    sparse = load(a.sparse) if a.sparse else None
    out = {"device": shears.get("device"), "driver": shears.get("driver"), "date": shears.get("date"), "copyGBs": shears.get("copyGBs"),
           "torch": next((r.get("torch") for r in runs if r.get("torch")), None), "data": shears.get("data"),
           "recipe": shears.get("recipe"), "results": rows}
    if sparse is not None:
        out["sparse"] = sparse
    runs_and_parts = [*shears.get("parts", []), *runs, sparse or {}]
    # a stage left out with --only is listed under "stages" as not requested, not as missing
    missing = [e for e in (name_file(r["missing"], stages) for r in runs_and_parts if "missing" in r)
               if e.get("status") != "not requested"]
    if missing:
        out["missing"] = missing
    partial = [name_file(r["partialFile"], stages) for r in runs_and_parts if "partialFile" in r]
    if partial:
        out["partial"] = partial
    if stages:
        out["stages"] = stages
    if a.png:
        out["chart"] = a.png if chart(rows, a.png, sparse) else None
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    if not a.quiet:
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
