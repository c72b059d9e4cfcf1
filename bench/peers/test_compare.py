"""Checks compare.py's join on small hand-made inputs (runs without a GPU or PyTorch):
  python3 bench/peers/test_compare.py"""
import unittest

import json
import os
import tempfile

from compare import join, load, merge


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


if __name__ == "__main__":
    unittest.main()
