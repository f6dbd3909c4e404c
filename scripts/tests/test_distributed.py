"""The distributed model's outputs: `aigcbench model`'s curve and its figure, and the
collectives figure of a committed mpirun run."""
import csv
import glob
import os
import subprocess
import tempfile
import unittest

from script_runner import ROOT, run_script

BIN = os.environ.get("AIGCBENCH_BIN", os.path.join(ROOT, "build/release/driver/aigcbench"))
BATCH = os.path.join(ROOT, "results/intel-xeon-emr-2c-avx3/batch.csv")
SHAPE = "cfg=gpt2-124m,prompt=128,gen=32"


def collectives_csvs():
    return sorted(glob.glob(os.path.join(ROOT, "results/*/*collectives.csv")))


class ModelCommand(unittest.TestCase):
    def model(self, *args):
        return subprocess.run([BIN, "model", "--results", BATCH, *args], capture_output=True,
                              text=True)

    def test_curve_and_figure(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "scaling.csv")
            # The README's worked example: a 100 Gb/s (12.5 GB/s), 2 us network.
            r = self.model("--shape", SHAPE, "--alpha", "2e-6", "--beta", "8e-11",
                           "--ranks", "1,2,4,8,16,32,64", "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("crossover: from P = ", r.stdout)
            with open(out) as f:
                rows = list(csv.DictReader(f))
            self.assertEqual([int(x["ranks"]) for x in rows], [1, 2, 4, 8, 16, 32, 64])
            one = float(rows[0]["t_wall_s"])
            for x in rows:
                p = int(x["ranks"])
                # T_wall = T_compute(1) / P + T_comm; efficiency = T(1) / (P T_wall) <= 1.
                self.assertAlmostEqual(float(x["t_wall_s"]),
                                       one / p + float(x["t_comm_s"]), delta=1e-8 * one)
                self.assertLessEqual(float(x["efficiency"]), 1.0 + 1e-12)
                self.assertEqual(float(x["t_comm_s"]) == 0, p == 1)
            fig = run_script("plot_model.py", out, "--out", os.path.join(tmp, "fig"))
            self.assertEqual(fig.returncode, 0, fig.stderr)
            for ext in ("png", "svg"):
                self.assertGreater(os.path.getsize(os.path.join(tmp, f"fig.{ext}")), 1000)

    def test_bad_input_is_refused_by_name(self):
        cases = [(["--shape", SHAPE, "--alpha", "2e-6"], "--beta: --alpha and --beta go together"),
                 (["--shape", SHAPE, "--alpha", "2e-6", "--beta", "1e-10", "--ranks", "0"],
                  "--ranks: 0 is out of range (valid: 1..65536)"),
                 (["--alpha", "2e-6", "--beta", "1e-10"], "--shape: "),
                 (["--shape", "cfg=gpt2-124m,prompt=7,gen=1", "--alpha", "0", "--beta", "0"],
                  "has no measured decoder decode row"),
                 (["--shape", SHAPE], "--network: the network is needed")]
        for args, message in cases:
            with self.subTest(args=args):
                r = self.model(*args)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn(message, r.stderr)


class CollectivesFigure(unittest.TestCase):
    @unittest.skipUnless(collectives_csvs(), "no committed collectives run under results/")
    def test_committed_runs_plot(self):
        for path in collectives_csvs():
            with self.subTest(path=path), tempfile.TemporaryDirectory() as tmp:
                r = run_script("plot.py", path, "--out-dir", tmp)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(os.path.exists(os.path.join(tmp, "collectives.png")), r.stdout)


if __name__ == "__main__":
    unittest.main()
