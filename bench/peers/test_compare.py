"""Checks compare.py's join on small hand-made inputs (runs without a GPU or PyTorch):
  python3 bench/peers/test_compare.py"""
import unittest

from compare import join


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


if __name__ == "__main__":
    unittest.main()
