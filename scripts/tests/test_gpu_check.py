"""gpu_summary.py on results CSVs made here from one real row (every column, the real schema)
with the GPU rows the targets read: hits, misses, rows that are missing or did not run, a
decode row without a roofline, a bad file. And gpu-check.sh on a machine without a GPU: exit
status 3 with the reason, nothing run.

Run by ctest (which sets AIGCBENCH_BIN); by hand:
    AIGCBENCH_BIN=build/release/driver/aigcbench .venv/bin/python -m unittest discover -s scripts/tests
"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import pandas as pd

from script_runner import ROOT, SCRIPTS, run_script

BIN = os.environ.get("AIGCBENCH_BIN", os.path.join(ROOT, "build/release/driver/aigcbench"))

MATMUL = "M=4096,N=4096,K=4096"
ATT64, ATT128 = "B=1,H=12,S=4096,D=64", "B=1,H=12,S=4096,D=128"
DECODE = "cfg=gpt2-124m,prompt=128,gen=128"
DECODE_Q8, DECODE_Q4 = DECODE + ",dtype=q8_0", DECODE + ",dtype=q4_1"


def summary(*args):
    return run_script("gpu_summary.py", *args)


class GpuSummaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="aigc_gpu_summary_")
        real = os.path.join(cls.dir, "real.csv")
        done = subprocess.run(
            [BIN, "run", "--workloads", "matmul", "--shapes", "M=8,N=8,K=8", "--backends", "scalar",
             "--repetitions", "2", "--min-time", "0.001", "--trust-probe", "--probe-file",
             os.path.join(cls.dir, "probe.json"), "--out", real], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"aigcbench run failed: {done.stdout}\n{done.stderr}")
        cls.template = pd.read_csv(real, dtype={"phase": str, "shape": str}).iloc[0]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def row(self, workload, shape, backend, time_s, status="ok", roofline=None, t_roof=None):
        r = self.template.copy()
        r["workload"], r["shape"], r["backend"], r["status"] = workload, shape, backend, status
        r["phase"] = "decode" if workload == "decoder" else ("" if workload == "matmul" else "prefill")
        r["time_median_s"] = time_s if status == "ok" else float("nan")
        r["gpu_name"] = "NVIDIA H100 80GB HBM3"
        r["roofline_fraction"] = roofline if roofline is not None else float("nan")
        r["t_roofline_s"] = t_roof if t_roof is not None else float("nan")
        return r

    def write(self, name, rows):
        path = os.path.join(self.dir, name)
        pd.DataFrame(rows).to_csv(path, index=False)
        return path

    def all_rows(self):
        """Every target's rows, each target hit."""
        rows = {
            ("cuda", MATMUL): self.row("matmul", MATMUL, "cuda", 0.0030),
            ("cublas", MATMUL): self.row("matmul", MATMUL, "cublas", 0.0027),
            ("cuda", ATT64): self.row("attention", ATT64, "cuda", 0.004),
            ("cuda-naive", ATT64): self.row("attention", ATT64, "cuda-naive", 0.040),
            ("cublas", ATT64): self.row("attention", ATT64, "cublas", 0.008),
            ("cuda", ATT128): self.row("attention", ATT128, "cuda", 0.008),
            ("cuda-naive", ATT128): self.row("attention", ATT128, "cuda-naive", 0.060),
            ("cublas", ATT128): self.row("attention", ATT128, "cublas", 0.012),
            ("cuda", DECODE_Q8): self.row("decoder", DECODE_Q8, "cuda", 0.012, roofline=0.65,
                                          t_roof=0.0078),
            ("cuda", DECODE_Q4): self.row("decoder", DECODE_Q4, "cuda", 0.008, roofline=0.62,
                                          t_roof=0.005),
            ("cuda", DECODE): self.row("decoder", DECODE, "cuda", 0.030, roofline=0.7,
                                       t_roof=0.021),
        }
        return list(rows.values())

    def test_every_target_hit_prints_each_ratio_and_writes_the_table(self):
        csv = self.write("hit.csv", self.all_rows())
        out = os.path.join(self.dir, "hit-summary.csv")
        done = summary(csv, "--out", out)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("NVIDIA H100", done.stdout)
        table = pd.read_csv(out)
        self.assertEqual(len(table), 8)
        self.assertTrue((table["verdict"] == "hit").all(), table)
        got = dict(zip(table["target"], table["ratio"]))
        self.assertAlmostEqual(got["sgemm_vs_cublas"], 0.0027 / 0.0030)
        self.assertAlmostEqual(got["flash_vs_naive_d64"], 10.0)
        self.assertAlmostEqual(got["flash_vs_naive_d128"], 7.5)
        self.assertAlmostEqual(got["flash_vs_cublas_d64"], 2.0)
        self.assertAlmostEqual(got["flash_vs_cublas_d128"], 1.5)
        self.assertAlmostEqual(got["decode_vs_hbm_bound"], 0.7)
        self.assertAlmostEqual(got["decode_q8_0_vs_hbm"], 0.65)
        self.assertAlmostEqual(got["decode_q4_1_vs_hbm"], 0.62)
        self.assertIn("sgemm_vs_cublas", done.stdout)
        self.assertIn("0.90", done.stdout)

    def test_a_miss_is_reported_as_measured_not_as_a_failure(self):
        slow = self.row("matmul", MATMUL, "cuda", 0.0054)  # half cuBLAS's speed
        rows = self.all_rows()
        rows[0] = slow
        csv = self.write("miss.csv", rows)
        done = summary(csv)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        line = next(l for l in done.stdout.splitlines() if l.startswith("sgemm_vs_cublas"))
        self.assertIn("0.50", line)
        self.assertIn("MISS", line)

    def test_missing_and_failed_rows_are_not_measured_naming_the_row_and_status(self):
        rows = [r for r in self.all_rows()
                if not (r["backend"] == "cublas" and r["shape"] == MATMUL)]
        for r in rows:
            if r["backend"] == "cuda-naive" and r["shape"] == ATT128:
                r["status"] = "skipped: naive attention's score matrix needs 3.00 GiB"
                r["time_median_s"] = float("nan")
        csv = self.write("missing.csv", rows)
        done = summary(csv)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        lines = {l.split()[0]: l for l in done.stdout.splitlines()[2:]}
        self.assertIn("not measured", lines["sgemm_vs_cublas"])
        self.assertIn(f"cublas matmul {MATMUL}: not in the file", lines["sgemm_vs_cublas"])
        self.assertIn("not measured", lines["flash_vs_naive_d128"])
        self.assertIn("score matrix needs 3.00 GiB", lines["flash_vs_naive_d128"])
        self.assertIn("hit", lines["flash_vs_naive_d64"])

    def test_a_decode_row_without_a_roofline_says_so(self):
        rows = self.all_rows()
        rows[-1] = self.row("decoder", DECODE, "cuda", 0.030)
        done = summary(self.write("noroof.csv", rows))
        self.assertEqual(done.returncode, 1)
        self.assertIn("no roofline", done.stdout)

    def test_a_file_that_is_not_a_results_csv_is_refused_with_exit_2(self):
        bad = os.path.join(self.dir, "bad.csv")
        with open(bad, "w") as f:
            f.write("a,b\n1,2\n")
        done = summary(bad)
        self.assertEqual(done.returncode, 2)
        self.assertIn("gpu_summary: error:", done.stderr)
        done = summary(os.path.join(self.dir, "none.csv"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("no such file", done.stderr)


class GpuCheckWithoutGpuTest(unittest.TestCase):
    def test_exit_3_with_the_reason_and_nothing_run(self):
        listing = subprocess.run([BIN, "list"], capture_output=True, text=True).stdout
        if any(l.strip().startswith("cuda:") and "unavailable" not in l
               for l in listing.splitlines()):
            self.skipTest("this machine has a GPU: gpu-check.sh would run for minutes")
        done = subprocess.run(["bash", os.path.join(SCRIPTS, "gpu-check.sh"), "--no-build"],
                              capture_output=True, text=True, cwd=ROOT)
        self.assertEqual(done.returncode, 3, done.stdout + done.stderr)
        self.assertIn("no usable GPU here", done.stderr)
        self.assertIn("nothing was run", done.stderr)
        self.assertNotIn("tests", done.stdout)

    def test_exit_3_before_any_set_up_or_build(self):
        # Without --no-build: the driver's answer comes first, so nothing is installed or built.
        if os.path.exists("/dev/nvidia0") or shutil.which("nvidia-smi"):
            self.skipTest("this machine has an NVIDIA driver: gpu-check.sh would set up and build")
        started = time.monotonic()
        done = subprocess.run(["bash", os.path.join(SCRIPTS, "gpu-check.sh")],
                              capture_output=True, text=True, cwd=ROOT)
        self.assertEqual(done.returncode, 3, done.stdout + done.stderr)
        self.assertIn("no NVIDIA driver", done.stderr)
        self.assertNotIn("set-up", done.stdout)
        self.assertLess(time.monotonic() - started, 10)

    def test_a_missing_bundle_is_bad_usage(self):
        done = subprocess.run(["bash", os.path.join(SCRIPTS, "gpu-check.sh"), "--bundle",
                               "/nonexistent/gpu-bundle.tar.gz"], capture_output=True, text=True)
        self.assertEqual(done.returncode, 2)
        self.assertIn("--bundle", done.stderr)


STAND_IN = """#!/usr/bin/env bash
# Claims a GPU and runs a small CPU case instead of the GPU preset, to drive gpu-check's GPU path.
case "$1" in
  --help) exit 0 ;;
  list) echo "  cuda:      available                    own CUDA kernels (stand-in)"; exit 0 ;;
  machine) echo "stand-in-gpu"; exit 0 ;;
  run) shift; args=()
       while (($#)); do case "$1" in --preset|--backends) shift 2 ;; *) args+=("$1"); shift ;; esac; done
       exec "{real}" run --workloads matmul --shapes "M=32,N=32,K=32" --backends scalar \\
         --repetitions 2 --min-time 0.001 "${{args[@]}}" ;;
esac
"""


class GpuCheckOnAStandInTest(unittest.TestCase):
    """gpu-check.sh's GPU path, from a bundle whose aigcbench claims a GPU and runs a CPU case."""

    @classmethod
    def setUpClass(cls):
        # One probe of this machine, reused by every run (probing takes seconds).
        cls.probe_dir = tempfile.mkdtemp(prefix="aigc_gpu_check_probe_")
        cls.probe = os.path.join(cls.probe_dir, "probe.json")
        subprocess.run([BIN, "run", "--workloads", "matmul", "--shapes", "M=8,N=8,K=8",
                        "--backends", "scalar", "--repetitions", "1", "--min-time", "0.001",
                        "--trust-probe", "--probe-file", cls.probe, "--out", os.path.join(cls.probe_dir, "r.csv")],
                       capture_output=True, check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.probe_dir)

    def bundle(self, tests_output):
        work = tempfile.mkdtemp(prefix="aigc_gpu_check_")
        self.addCleanup(shutil.rmtree, work)
        stage = os.path.join(work, "stage")
        for d in ("bin", "lib", "fallback"):
            os.makedirs(os.path.join(stage, d))
        with open(os.path.join(stage, "bin", "aigcbench"), "w") as f:
            f.write(STAND_IN.format(real=os.path.abspath(BIN)))
        with open(os.path.join(stage, "bin", "aigc_tests"), "w") as f:
            f.write(f"#!/usr/bin/env bash\necho '{tests_output}'\n")
        for b in ("aigcbench", "aigc_tests"):
            os.chmod(os.path.join(stage, "bin", b), 0o755)
        tarball = os.path.join(work, "bundle.tar.gz")
        subprocess.run(["tar", "-czf", tarball, "-C", stage, "bin", "lib", "fallback"], check=True)
        return work, tarball

    def run_check(self, tests_output):
        work, tarball = self.bundle(tests_output)
        results, copy = os.path.join(work, "results"), os.path.join(work, "copy")
        os.makedirs(results)
        os.makedirs(os.path.join(results, "stand-in-gpu"))
        shutil.copy(self.probe, os.path.join(results, "stand-in-gpu", "probe.json"))
        done = subprocess.run(["bash", os.path.join(SCRIPTS, "gpu-check.sh"), "--bundle", tarball,
                               "--results", results, "--copy-to", copy],
                              capture_output=True, text=True, cwd=ROOT)
        return done, results, copy

    def test_the_run_its_files_and_the_targets_come_last(self):
        done, results, copy = self.run_check("All tests passed (1 assertion in 1 test case)")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertTrue(os.path.exists(os.path.join(results, "stand-in-gpu", "gpu.csv")))
        self.assertTrue(os.path.isdir(os.path.join(results, "stand-in-gpu", "figures", "gpu")))
        copied = sorted(os.listdir(copy))
        self.assertEqual(copied, sorted([
            "stand-in-gpu-gpu.csv", "stand-in-gpu-gpu.repetitions.csv", "stand-in-gpu-gpu.log",
            "stand-in-gpu-gpu-summary.csv", "probe-stand-in-gpu.json",
            "figures-stand-in-gpu-gpu.tar.gz"]))
        tail = done.stdout.strip().splitlines()[-10:]  # the targets' table, then "done"
        self.assertTrue(any(l.startswith("sgemm_vs_cublas") for l in tail), tail)
        self.assertIn("not measured", done.stdout)  # the stand-in ran no GPU row
        self.assertIn("done (exit 0)", tail[-1])

    def test_a_test_that_skips_itself_on_a_gpu_machine_fails_the_check(self):
        done, _, _ = self.run_check("test skipped: no CUDA device")
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn("1 GPU test(s) skipped themselves on a GPU machine", done.stdout)


if __name__ == "__main__":
    unittest.main()
