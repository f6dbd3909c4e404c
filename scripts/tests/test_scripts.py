"""plot.py and compare.py on a small results CSV made by a real `aigcbench run`, and on
hand-made variants of it: the expected figures, the ratios, the verdicts, and the errors.

Run by ctest (which sets AIGCBENCH_BIN); by hand:
    AIGCBENCH_BIN=build/release/driver/aigcbench .venv/bin/python -m unittest discover -s scripts/tests
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import pandas as pd

from script_runner import SCRIPTS, run_script

BIN = os.environ.get("AIGCBENCH_BIN", "build/release/driver/aigcbench")


class ScriptsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="aigc_scripts_")
        cls.csv = os.path.join(cls.dir, "run.csv")
        binary = os.environ.get("AIGCBENCH_BIN", "build/release/driver/aigcbench")
        done = subprocess.run(
            [binary, "run", "--preset", "smoke", "--workloads", "matmul,decoder", "--backends",
             "scalar,openmp", "--threads", "1,2", "--repetitions", "4", "--min-time", "0.001",
             "--trust-probe", "--probe-file", os.path.join(cls.dir, "probe.json"), "--out", cls.csv],
            capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"aigcbench run failed: {done.stdout}\n{done.stderr}")
        cls.stabilize()
        cls.df = pd.read_csv(cls.csv, dtype={"phase": str, "shape": str})

    @classmethod
    def stabilize(cls):
        """The real run's microsecond-long repetitions may spread by more than 2x on a busy
        machine (ctest runs other tests beside this one), which would make the verdicts below
        depend on the load. Keep the real medians, and set each row's repetitions to within
        +-1% of its median, so the hand-made variants decide the verdicts."""
        df = pd.read_csv(cls.csv, dtype={"phase": str, "shape": str})
        reps_path = os.path.splitext(cls.csv)[0] + ".repetitions.csv"
        reps = pd.read_csv(reps_path, dtype={"phase": str, "shape": str})
        reps["phase"] = reps["phase"].fillna("")
        spread = [1.0, 1.01, 0.99, 1.005]
        for i in df.index:
            if not df.loc[i, "time_median_s"] > 0:
                continue
            r = df.loc[i]
            phase = "" if pd.isna(r["phase"]) else r["phase"]
            hit = ((reps["workload"] == r["workload"]) & (reps["shape"] == r["shape"]) &
                   (reps["phase"] == phase) & (reps["backend"] == r["backend"]) &
                   (reps["threads"] == r["threads"]))
            median = r["time_median_s"]
            reps.loc[hit, "time_s"] = [median * spread[k % 4] for k in range(int(hit.sum()))]
            df.loc[i, "time_min_s"] = median * 0.99
            df.loc[i, "time_max_s"] = median * 1.01
        df.to_csv(cls.csv, index=False)
        reps.to_csv(reps_path, index=False)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    # --- plot.py ---

    def test_plot_writes_every_figure_as_png_and_svg(self):
        out = self.path("figures")
        done = run_script("plot.py", self.csv, "--out-dir", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        for name in ["speedup-matmul", "speedup-decoder", "roofline", "scaling", "models", "decoder",
                     "formats", "batch"]:
            for ext in ("png", "svg"):
                path = os.path.join(out, f"{name}.{ext}")
                self.assertTrue(os.path.getsize(path) > 1000, path)
        self.assertIn(f"figures: 8 in {out}", done.stdout)

    def test_plot_names_the_rows_it_cannot_plot(self):
        df = self.df.copy()
        df.loc[0, ["time_median_s", "status"]] = [float("nan"), "skipped: for the test"]
        df.to_csv(self.path("skipped.csv"), index=False)
        done = run_script("plot.py", self.path("skipped.csv"), "--out-dir", self.path("f2"))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("not plotted (no time)", done.stderr)
        self.assertIn("skipped: for the test", done.stderr)

    def test_the_scripts_schema_is_the_binarys(self):
        done = subprocess.run([BIN, "schema", "--format", "json"], capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(SCRIPTS, "results_schema.json")) as f:
            committed = f.read()
        self.assertEqual(json.loads(committed), json.loads(done.stdout),
                         "scripts/results_schema.json is stale: regenerate it with "
                         "`aigcbench schema --format json > scripts/results_schema.json`")
        self.assertEqual(list(self.df.columns),
                         [c["name"] for c in json.loads(done.stdout)["columns"]])

    def test_a_version_2_file_without_machine_is_still_read(self):
        self.df.drop(columns=["machine"]).assign(schema_version=2).to_csv(self.path("v2.csv"),
                                                                        index=False)
        done = run_script("plot.py", self.path("v2.csv"), "--out-dir", self.path("fv2"))
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_bad_inputs_are_refused_with_exit_2(self):
        open(self.path("empty.csv"), "w").close()
        self.df.assign(schema_version=99).to_csv(self.path("v99.csv"), index=False)
        self.df.drop(columns=["peak_flops"]).to_csv(self.path("cols.csv"), index=False)
        self.df.head(0).to_csv(self.path("header.csv"), index=False)
        cases = {"empty.csv": "empty file", "v99.csv": "schema_version [99]",
                 "cols.csv": "missing columns peak_flops", "header.csv": "no rows",
                 "absent.csv": "no such file"}
        for script in ("plot.py", "compare.py"):
            for name, message in cases.items():
                args = [self.path(name)] if script == "plot.py" else [self.csv, self.path(name)]
                done = run_script(script, *args, "--out" if script == "compare.py" else "--out-dir",
                                  self.path("x.csv" if script == "compare.py" else "xfig"))
                self.assertEqual(done.returncode, 2, f"{script} {name}: {done.stderr}")
                self.assertIn(message, done.stderr, f"{script} {name}")

    # --- compare.py ---

    def write_variant(self, name, scale_by_row, drop_row=None):
        """B = A with row i's times multiplied by scale_by_row[i]; repetitions likewise."""
        df = self.df.copy()
        for i, factor in scale_by_row.items():
            for column in ("time_median_s", "time_min_s", "time_max_s"):
                df.loc[i, column] *= factor
        if drop_row is not None:
            df = df.drop(index=drop_row)
        df.to_csv(self.path(name), index=False)
        reps = pd.read_csv(os.path.splitext(self.csv)[0] + ".repetitions.csv",
                           dtype={"phase": str, "shape": str})
        reps["phase"] = reps["phase"].fillna("")
        for i, factor in scale_by_row.items():
            r = self.df.loc[i]
            phase = "" if pd.isna(r["phase"]) else r["phase"]
            hit = ((reps["workload"] == r["workload"]) & (reps["shape"] == r["shape"]) &
                   (reps["phase"] == phase) & (reps["backend"] == r["backend"]) &
                   (reps["threads"] == r["threads"]))
            reps.loc[hit, "time_s"] *= factor
        reps.to_csv(os.path.splitext(self.path(name))[0] + ".repetitions.csv", index=False)

    def timed_rows(self):
        return [i for i in self.df.index if self.df.loc[i, "time_median_s"] > 0]

    def test_ratios_and_verdicts_with_repetitions(self):
        slow, same = self.timed_rows()[:2]
        self.write_variant("b.csv", {slow: 2.0}, drop_row=self.timed_rows()[-1])
        out = self.path("cmp.csv")
        done = run_script("compare.py", self.csv, self.path("b.csv"), "--out", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        table = pd.read_csv(out, dtype={"phase": str, "shape": str})
        key = ["workload", "shape", "backend", "threads"]

        def row(i):
            r = self.df.loc[i]
            hit = table[(table[key] == r[key]).all(axis=1)]
            self.assertEqual(len(hit), 1)
            return hit.iloc[0]

        doubled = row(slow)
        self.assertAlmostEqual(doubled["ratio_b_over_a"], 2.0, places=5)
        self.assertAlmostEqual(doubled["speedup_b_vs_a"], 0.5, places=5)
        self.assertEqual(doubled["test"], "mann-whitney")
        self.assertLess(doubled["p_value"], 0.05)  # 4 vs 4 repetitions, all slower: p = 0.029
        self.assertEqual(doubled["verdict"], "B slower")
        unchanged = row(same)
        self.assertAlmostEqual(unchanged["ratio_b_over_a"], 1.0, places=9)
        self.assertEqual(unchanged["verdict"], "within noise")
        self.assertEqual(row(self.timed_rows()[-1])["verdict"], "only in A")
        self.assertIn("only in A", done.stdout)

    def test_repetitions_of_another_run_are_not_mixed_in(self):
        # A results file beside the repetitions of a different run (an interrupted write, two
        # runs on one --out): the repetitions are not used, and compare.py says so.
        slow = self.timed_rows()[0]
        self.write_variant("d.csv", {slow: 2.0})
        reps_path = self.path("d.repetitions.csv")
        reps = pd.read_csv(reps_path, dtype={"phase": str, "shape": str, "run_id": str})
        reps["run_id"] = "19990101T000000Z-1"
        reps.to_csv(reps_path, index=False)
        out = self.path("cmp3.csv")
        done = run_script("compare.py", self.csv, self.path("d.csv"), "--out", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("holds no repetitions of run", done.stderr)
        table = pd.read_csv(out, dtype={"phase": str, "shape": str})
        self.assertNotIn("mann-whitney", set(table["test"].dropna()))

    def test_machine_view_speedups_predictions_and_geomeans(self):
        # A second "machine": every row 2x faster, one row 4x, the roofline times of all halved
        # (its probe measured twice the peaks), one row not run there.
        rows = self.timed_rows()
        factors = {i: 0.5 for i in rows}
        factors[rows[0]] = 0.25
        self.write_variant("m2.csv", factors, drop_row=rows[-1])
        other = pd.read_csv(self.path("m2.csv"), dtype={"phase": str, "shape": str})
        other["machine"] = "other-machine-2c"
        other["t_roofline_s"] = other["t_roofline_s"] / 2
        other.to_csv(self.path("m2.csv"), index=False)
        out = self.path("machines.csv")
        done = run_script("compare.py", "--machines", self.csv, self.path("m2.csv"), "--out", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        table = pd.read_csv(out, dtype={"phase": str, "shape": str, "threads": str})
        self.assertEqual(set(table["machine"]), {"other-machine-2c"})
        timed = table[table["time_s"] > 0]
        self.assertEqual(len(timed), len(rows) - 1)
        first = self.df.loc[rows[0]]
        hit = timed[(timed["shape"] == first["shape"]) & (timed["backend"] == first["backend"]) &
                    (timed["workload"] == first["workload"]) &
                    (timed["threads"] == str(first["threads"]))].iloc[0]
        self.assertAlmostEqual(hit["speedup"], 4.0, places=5)
        self.assertAlmostEqual(hit["predicted_speedup"], 2.0, places=5)
        self.assertAlmostEqual(hit["speedup_over_predicted"], 2.0, places=5)
        self.assertEqual(hit["verdict"], "faster")
        self.assertTrue((timed["speedup"].round(6).isin([2.0, 4.0])).all())
        missing = self.df.loc[rows[-1]]
        gone = table[(table["shape"] == missing["shape"]) & (table["backend"] == missing["backend"]) &
                     (table["workload"] == missing["workload"]) &
                     (table["threads"] == str(missing["threads"]))].iloc[0]
        self.assertEqual(gone["verdict"], "not run on other-machine-2c")
        # Geometric means: per workload and overall, of measured and predicted speedups.
        means = table[table["shape"] == "(geomean)"].set_index("workload")
        self.assertEqual(set(means.index), set(timed["workload"]) | {"(all)"})
        n = len(timed)
        self.assertAlmostEqual(means.loc["(all)", "speedup"], 2.0 * 2 ** (1 / n), places=5)
        self.assertAlmostEqual(means.loc["(all)", "predicted_speedup"], 2.0, places=5)
        self.assertIn(f"{n} rows", means.loc["(all)", "verdict"])

    def test_machine_view_refuses_one_machine_twice_and_a_lone_csv(self):
        done = run_script("compare.py", "--machines", self.csv, self.csv, "--out", self.path("x.csv"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("each CSV must be a different machine's run", done.stderr)
        done = run_script("compare.py", "--machines", self.csv, "--out", self.path("x.csv"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("--machines needs a base CSV and at least one other", done.stderr)
        done = run_script("compare.py", self.csv, "--out", self.path("x.csv"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("two CSVs to compare", done.stderr)
        self.assertFalse(os.path.exists(self.path("x.csv")))

    def test_without_repetitions_the_ranges_decide(self):
        rows = self.timed_rows()
        self.write_variant("c.csv", {rows[0]: 0.25})
        os.remove(self.path("c.repetitions.csv"))
        out = self.path("cmp2.csv")
        done = run_script("compare.py", self.csv, self.path("c.csv"), "--out", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        table = pd.read_csv(out, dtype={"phase": str, "shape": str})
        r = self.df.loc[rows[0]]
        hit = table[(table["shape"] == r["shape"]) & (table["backend"] == r["backend"]) &
                    (table["threads"] == r["threads"]) & (table["workload"] == r["workload"])].iloc[0]
        self.assertEqual(hit["test"], "range overlap")
        self.assertAlmostEqual(hit["speedup_b_vs_a"], 4.0, places=5)
        self.assertEqual(hit["verdict"], "B faster")  # 4x faster: max(B) < min(A) for these timings
        self.assertTrue((table[table["test"] == "range overlap"].index.size) > 1)


if __name__ == "__main__":
    unittest.main()


class PeersTest(unittest.TestCase):
    """peers.py's refusals (running llama.cpp itself needs its build: scripts/bench.sh --peers)."""

    def refused(self, *args, says):
        r = run_script("peers.py", *args)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(says, r.stderr)
        self.assertTrue(r.stderr.startswith("peers: error: "))

    def test_bad_arguments_are_refused_by_name(self):
        self.refused("--rounds", "0", says="--rounds: 0 is out of range (valid: 1..100)")
        self.refused("--threads", "1,x", says="--threads: '1,x' is not a comma-separated list")
        self.refused("--threads", "0", says="--threads: 0 (valid: integers >= 1)")
        self.refused("--model", "/nonexistent.gguf", says="--model: /nonexistent.gguf is not a file")
        self.refused("--dtype", "iq2_xxs", says="--dtype: 'iq2_xxs' is not a dtype (valid: file, f32")


class Gpt2GgufTest(unittest.TestCase):
    """make_gpt2_gguf.py writes a file our reader (and llama.cpp) loads; bad arguments refused."""

    def test_a_written_file_generates_in_its_format_and_bad_arguments_are_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "tiny-q4_1.gguf")
            done = run_script("make_gpt2_gguf.py", "--config", "tiny", "--dtype", "q4_1",
                              "--out", path)
            self.assertEqual(done.returncode, 0, done.stderr)
            gen = subprocess.run([BIN, "generate", "--model", path, "--prompt-ids", "1,2,3",
                                  "--count", "3", "--dtype", "q4_1", "--backend", "simd"],
                                 capture_output=True, text=True, errors="replace")
            self.assertEqual(gen.returncode, 0, gen.stderr)
            self.assertIn("weights stored as q4_1", gen.stdout)
            self.assertIn("generated (3 tokens)", gen.stdout)
            for args, says in ((["--dtype", "q5_0"], "--dtype: 'q5_0' is not one of"),
                               (["--config", "gpt5"], "--config: 'gpt5' is not one of"),
                               (["--out", "/nonexistent/x.gguf"], "--out: the directory")):
                full = ["--out", path, *args] if args[0] != "--out" else args
                r = run_script("make_gpt2_gguf.py", *full)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(says, r.stderr)


class RealGgufFixturesTest(unittest.TestCase):
    """tests/data/gguf/real_files.json is what the gguf package reads and dequantizes from the
    real Q4_K_M files today (skipped where scripts/fetch_models.py has not assembled them)."""

    def test_the_committed_real_file_fixture_is_gguf_output(self):
        models = os.path.join(os.path.dirname(SCRIPTS), ".venv", "models")
        needed = ["gemma-3-270m-q4_k_m.gguf", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"]
        missing = [n for n in needed if not os.path.exists(os.path.join(models, n))]
        if missing:
            self.skipTest(f"not assembled: {', '.join(missing)}")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "real_files.json")
            done = run_script("make_real_gguf_fixtures.py", "--out", out)
            self.assertEqual(done.returncode, 0, done.stderr)
            committed = os.path.join(os.path.dirname(SCRIPTS), "tests", "data", "gguf",
                                     "real_files.json")
            with open(out) as a, open(committed) as b:
                self.assertEqual(json.load(a), json.load(b))


class QuantFixturesTest(unittest.TestCase):
    """The committed weight-format fixtures (tests/data/quants) are what the pinned `gguf`
    package's quantizers write today, so the C++ test that reads them checks our quantizers
    against gguf.quants, not against an old copy of ourselves."""

    def test_the_committed_fixtures_are_gguf_quants_output(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = run_script("make_quant_fixtures.py", "--out", tmp)
            self.assertEqual(done.returncode, 0, done.stderr)
            committed = os.path.join(os.path.dirname(SCRIPTS), "tests", "data", "quants")
            names = sorted(os.listdir(tmp))
            self.assertEqual(names, ["bf16.bin", "f16.bin", "q2_k.bin", "q3_k.bin", "q4_0.bin",
                                     "q4_1.bin", "q4_k.bin", "q5_0.bin", "q5_1.bin", "q5_k.bin",
                                     "q6_k.bin", "q8_0.bin"])
            for name in names:
                with open(os.path.join(tmp, name), "rb") as a, \
                        open(os.path.join(committed, name), "rb") as b:
                    self.assertEqual(a.read(), b.read(), name)
