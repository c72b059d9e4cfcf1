"""Checks compare.py's join on small hand-made inputs (runs without a GPU or PyTorch):
  python3 bench/peers/test_compare.py"""
import unittest

import json
import os
import subprocess
import sys
import tempfile

from compare import join, load, merge, name_file, read_stages, record_stages

HERE = os.path.dirname(os.path.abspath(__file__))

# run-gpu.sh's stages.tsv for a run with --only threshold,train whose stages ended every way they can
STAGES_TSV = ("stage\tstatus\trc\tseconds\tlimit_s\tleft_s\n"
              "gpubench\tok\t0\t50\t100\t\n"
              "torch-threshold\tfailed\t1\t3\t90\t\n"
              "torch-update\ttimed-out\t124\t25\t25\t\n"
              "trainbench\tskipped\t\t\t\t4\n"
              "torch-train\tskipped\t\t\t\t-3\n"
              "sparse\tnot-requested\t\t\t\t\n")


class JoinTest(unittest.TestCase):
    def test_ratios_pair_the_same_work(self):
        shears = {"results": [
            {"op": "copy", "GBs": 3000.0},
            {"op": "threshold", "scope": "single", "n": 100, "sparsity": 0.9, "medianMs": 2.0},
            {"op": "threshold", "scope": "layer", "model": "vgg19", "n": 5, "sparsity": 0.9, "medianMs": 1.0},
            {"op": "sgd_momentum_masked", "kernel": "naive", "n": 7, "medianMs": 9.0},
            {"op": "sgd_momentum_masked", "kernel": "vectorized", "n": 7, "medianMs": 3.0}]}
        torch = [{"results": [
            {"op": "threshold", "scope": "single", "impl": "kthvalue", "n": 100, "sparsity": 0.9, "medianMs": 50.0},
            {"op": "threshold", "scope": "single", "impl": "topk", "n": 100, "sparsity": 0.9, "medianMs": 10.0},
            {"op": "threshold", "scope": "single", "impl": "topk", "n": 100, "sparsity": 0.5, "error": "oom"},
            {"op": "threshold", "scope": "layer", "impl": "kthvalue-loop", "model": "vgg19", "n": 5, "sparsity": 0.9, "medianMs": 4.0},
            {"op": "sgd_momentum_masked", "impl": "torch fused + mask", "n": 7, "medianMs": 6.0}]}]
        rows = join(shears, torch)
        self.assertEqual(3, len(rows), "copy and the naive kernel are not compared")
        self.assertAlmostEqual(25.0, rows[0]["speedup_vs_kthvalue"])
        self.assertAlmostEqual(5.0, rows[0]["speedup_vs_topk"])
        self.assertAlmostEqual(4.0, rows[1]["speedup_vs_kthvalue-loop"])
        self.assertAlmostEqual(2.0, rows[2]["speedup_vs_torch fused + mask"])

    def test_a_failed_threshold_peer_leaves_its_error_in_the_row(self):
        shears = {"results": [
            {"op": "threshold", "scope": "single", "n": 100, "sparsity": 0.5, "medianMs": 2.0},
            {"op": "threshold", "scope": "global", "model": "vgg19", "tensors": 19, "n": 5, "sparsity": 0.9, "medianMs": 1.0}]}
        torch = [{"results": [
            {"op": "threshold", "scope": "single", "impl": "kthvalue", "n": 100, "sparsity": 0.5, "medianMs": 50.0},
            {"op": "threshold", "scope": "single", "impl": "topk", "n": 100, "sparsity": 0.5, "error": "oom"},
            {"op": "threshold", "scope": "global", "impl": "cat+kthvalue", "model": "vgg19", "tensors": 19, "n": 5, "sparsity": 0.9,
             "error": "CUDA out of memory"}]}]
        rows = join(shears, torch)
        self.assertAlmostEqual(25.0, rows[0]["speedup_vs_kthvalue"])
        self.assertEqual("oom", rows[0]["torch_topk_error"])
        self.assertEqual("CUDA out of memory", rows[1]["torch_cat+kthvalue_error"])
        self.assertNotIn("speedup_vs_cat+kthvalue", rows[1])

    def test_throughput_ratios_are_shears_over_pytorch_and_errors_are_kept(self):
        shears = merge([{"device": "GPU", "copyGBs": 3000.0, "results": [{"op": "copy", "GBs": 3000.0}]},
                        {"device": "cuda (GPU)", "data": "synthetic", "results": [
                            {"op": "train_step", "model": "lenet-300-100", "batch": 128, "imagesPerSec": 300000.0},
                            {"op": "train_step", "model": "lenet-300-100", "batch": 512, "imagesPerSec": 900000.0},
                            {"op": "gmp_run", "model": "mnist-cnn", "batch": 128, "imagesPerSec": 50000.0}]}])
        self.assertEqual("GPU", shears["device"], "the first file's header wins")
        self.assertEqual("synthetic", shears["data"])
        self.assertEqual(4, len(shears["results"]))
        torch = [{"results": [
            {"op": "train_step", "impl": "eager", "model": "lenet-300-100", "batch": 128, "imagesPerSec": 200000.0},
            {"op": "train_step", "impl": "compile", "model": "lenet-300-100", "batch": 128, "imagesPerSec": 400000.0},
            {"op": "train_step", "impl": "compile", "model": "lenet-300-100", "batch": 512, "error": "RuntimeError('no triton')"},
            {"op": "gmp_run", "impl": "eager", "model": "mnist-cnn", "batch": 512, "imagesPerSec": 1.0},
            {"op": "gmp_run", "impl": "eager", "model": "mnist-cnn", "batch": 128, "imagesPerSec": 40000.0}]}]
        rows = join(shears, torch)
        self.assertEqual(3, len(rows))
        self.assertAlmostEqual(1.5, rows[0]["speedup_vs_eager"])
        self.assertAlmostEqual(0.75, rows[0]["speedup_vs_compile"])
        self.assertEqual(200000.0, rows[0]["torch_eager_imagesPerSec"])
        self.assertEqual("RuntimeError('no triton')", rows[1]["torch_compile_error"])
        self.assertNotIn("speedup_vs_compile", rows[1])
        self.assertAlmostEqual(1.25, rows[2]["speedup_vs_eager"], msg="paired by batch, not with the batch-512 run")

    def test_a_failed_shears_row_is_kept_with_its_error(self):
        shears = {"results": [
            {"op": "train_step", "model": "mnist-cnn", "batch": 128, "cudaGraphs": False, "imagesPerSec": 300000.0},
            {"op": "train_step", "model": "mnist-cnn", "batch": 128, "cudaGraphs": True, "error": "CudaException: capture failed"}]}
        torch = [{"results": [{"op": "train_step", "impl": "eager", "model": "mnist-cnn", "batch": 128, "imagesPerSec": 200000.0}]}]
        rows = join(shears, torch)
        self.assertEqual(2, len(rows))
        self.assertAlmostEqual(1.5, rows[0]["speedup_vs_eager"])
        self.assertEqual("CudaException: capture failed", rows[1]["error"])
        self.assertNotIn("speedup_vs_eager", rows[1])

    def test_a_missing_or_broken_file_becomes_an_empty_named_run(self):
        with tempfile.TemporaryDirectory() as d:
            broken = os.path.join(d, "broken.json")
            with open(broken, "w") as f:
                f.write('{"results": [')
            good = os.path.join(d, "good.json")
            with open(good, "w") as f:
                json.dump({"results": [{"op": "copy"}]}, f)
            self.assertEqual({"results": [], "missing": broken}, load(broken))
            self.assertEqual([], load(os.path.join(d, "absent.json"))["results"])
            self.assertEqual(1, len(load(good)["results"]))
            partial = os.path.join(d, "partial.json")
            with open(partial, "w") as f:
                json.dump({"partial": True, "results": [{"op": "copy"}]}, f)
            self.assertEqual(partial, load(partial)["partialFile"], "a stage's checkpoint is named as partial")
            self.assertNotIn("partialFile", load(good))



class StagesTest(unittest.TestCase):
    def write(self, d, name, text):
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_every_outcome_is_read_with_its_figures(self):
        with tempfile.TemporaryDirectory() as d:
            stages = read_stages(self.write(d, "stages.tsv", STAGES_TSV))
        self.assertEqual(["gpubench", "torch-threshold", "torch-update", "trainbench", "torch-train", "sparse"],
                         [s["stage"] for s in stages])
        ok, failed, timed_out, skipped, late, unwanted = stages
        self.assertEqual({"status": "ok", "rc": 0, "seconds": 50, "limitS": 100}, {k: ok[k] for k in ("status", "rc", "seconds", "limitS")})
        self.assertIn("GpuBench", ok["figures"])
        self.assertEqual(("failed", 1), (failed["status"], failed["rc"]))
        self.assertEqual(("timed out", 124), (timed_out["status"], timed_out["rc"]))
        self.assertEqual("skipped (deadline)", skipped["status"])
        self.assertEqual(4, skipped["secondsLeft"])
        self.assertEqual(-3, late["secondsLeft"])
        self.assertNotIn("rc", skipped, "a skipped stage never ran: no exit code")
        self.assertEqual({"stage": "sparse", "status": "not requested", "figures": unwanted["figures"]}, unwanted)

    def test_a_missing_file_is_named_by_its_stage_and_figures(self):
        with tempfile.TemporaryDirectory() as d:
            stages = read_stages(self.write(d, "stages.tsv", STAGES_TSV))
        entry = name_file("/tmp/tmp.Xy12/torch_update.json", stages)
        self.assertEqual({"stage": "torch-update", "figures": "PyTorch fused optimizer peers (update_torch.py)",
                          "file": "torch_update.json", "status": "timed out", "rc": 124}, entry)
        self.assertEqual("skipped (deadline)", name_file("/tmp/w/train.json", stages)["status"])
        # no stages.tsv (compare.py run by hand): the stage and figures still, no outcome
        self.assertEqual({"stage": "sparse", "figures": name_file("sparse.json", [])["figures"], "file": "sparse.json"},
                         name_file("/tmp/w/sparse.json", []))
        self.assertEqual({"file": "other.json"}, name_file("/tmp/w/other.json", stages))
        # a stage with no line: the run stopped before it
        self.assertIn("stopped before", name_file("/tmp/w/sparse.json", stages[:2])["status"])

    def test_the_summary_holds_the_stages_and_names_what_is_missing(self):
        with tempfile.TemporaryDirectory() as d:
            shears = self.write(d, "shears.json", json.dumps({"device": "GPU", "results": [
                {"op": "threshold", "scope": "single", "n": 100, "sparsity": 0.9, "medianMs": 2.0}]}))
            torch_threshold = self.write(d, "torch_threshold.json", '{"results": [')  # a peer killed mid-write
            stages_tsv = self.write(d, "stages.tsv", STAGES_TSV)
            out = os.path.join(d, "gpu-bench.json")
            missing = lambda name: os.path.join(d, name)
            rc = subprocess.call([sys.executable, os.path.join(HERE, "compare.py"), "--shears", shears, missing("train.json"),
                                  "--torch", torch_threshold, missing("torch_update.json"), missing("torch_train.json"),
                                  "--sparse", missing("sparse.json"), "--stages", stages_tsv, "--out", out, "--quiet"],
                                 stderr=subprocess.DEVNULL)
            self.assertEqual(0, rc)
            with open(out) as f:
                j = json.load(f)
        self.assertEqual(6, len(j["stages"]))
        self.assertEqual(1, len(j["results"]))
        by_stage = {m["stage"]: m for m in j["missing"]}
        self.assertEqual({"trainbench", "torch-threshold", "torch-update", "torch-train"}, set(by_stage),
                         "sparse was not requested: listed under stages, not as missing")
        self.assertEqual(("failed", 1), (by_stage["torch-threshold"]["status"], by_stage["torch-threshold"]["rc"]))
        self.assertEqual("timed out", by_stage["torch-update"]["status"])
        self.assertEqual("skipped (deadline)", by_stage["trainbench"]["status"])
        for m in j["missing"]:
            self.assertNotIn(d, json.dumps(m), "temporary paths stay out of the summary")
            self.assertTrue(m["figures"])

    def test_recording_the_stages_keeps_the_results_or_writes_the_stages_alone(self):
        with tempfile.TemporaryDirectory() as d:
            stages = read_stages(self.write(d, "stages.tsv", STAGES_TSV))
            out = self.write(d, "gpu-bench.json", json.dumps({"results": [{"op": "threshold"}], "stages": stages[:2]}))
            record_stages(stages, out)
            with open(out) as f:
                j = json.load(f)
            self.assertEqual([{"op": "threshold"}], j["results"])
            self.assertEqual(stages, j["stages"])
            absent = os.path.join(d, "none.json")  # compare failed or was skipped
            record_stages(stages, absent)
            with open(absent) as f:
                j = json.load(f)
            self.assertEqual(stages, j["stages"])
            self.assertEqual([], j["results"])
            self.assertIn("compare", j["error"])


if __name__ == "__main__":
    unittest.main()
