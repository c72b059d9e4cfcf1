"""Joins GpuBench's JSON with the PyTorch peers' into one results file with the ratios issue 5
asks for (Shears time / one read of the data at copy bandwidth; PyTorch time / Shears time;
update bandwidth as a share of copy bandwidth), and draws a PNG chart when matplotlib exists.

  python3 bench/peers/compare.py --shears shears.json --torch torch_threshold.json torch_update.json --out gpu-bench.json [--png chart.png]
"""
import argparse
import json


def key(r):
    return (r["op"], r.get("scope"), r.get("model"), r.get("n"), r.get("sparsity"))


def join(shears, torch_runs):
    rows = []
    peers = {}
    for run in torch_runs:
        for r in run["results"]:
            if "medianMs" in r:
                peers.setdefault(key(r), []).append(r)
    for r in shears["results"]:
        if r["op"] == "copy" or "medianMs" not in r:
            continue
        if r.get("kernel") == "naive":
            continue  # the naive kernels are kept for reference, not compared
        row = dict(r)
        k = key(r)
        if r["op"] != "threshold":
            k = (r["op"], None, None, r["n"], None)
        for p in peers.get(k, []):
            row["torch_" + p["impl"] + "_ms"] = p["medianMs"]
            row["speedup_vs_" + p["impl"]] = p["medianMs"] / r["medianMs"]
        rows.append(row)
    return rows


def chart(rows, path):
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
    fig, ax = plt.subplots(figsize=(10, max(3, 0.35 * len(labels))))
    y = range(len(labels))
    ax.barh([i + 0.2 for i in y], theirs, height=0.4, label="PyTorch (best)")
    ax.barh([i - 0.2 for i in y], ours, height=0.4, label="Shears")
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("median ms (log)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shears", required=True)
    ap.add_argument("--torch", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--png")
    a = ap.parse_args()
    with open(a.shears) as f:
        shears = json.load(f)
    runs = []
    for p in a.torch:
        with open(p) as f:
            runs.append(json.load(f))
    rows = join(shears, runs)
    out = {"device": shears["device"], "driver": shears["driver"], "date": shears["date"], "copyGBs": shears["copyGBs"],
           "torch": runs[0].get("torch") if runs else None, "results": rows}
    if a.png:
        out["chart"] = a.png if chart(rows, a.png) else None
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
