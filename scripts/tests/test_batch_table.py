"""The README's batched-decoding tables are the ones scripts/batch_table.py prints from the
committed CSVs they name: a figure typed by hand, or a CSV replaced without its table, fails."""
import os
import re
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "batch_table.py")


class BatchTableTest(unittest.TestCase):
    def test_each_readme_table_is_generated_from_the_csv_it_names(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        # The paragraph before each table names its CSV: "(`results/<machine>-batch.csv`".
        named = re.findall(r"\(`(results/[^`]+-batch\.csv)`", readme)
        self.assertGreater(len(named), 0, "the README names no batch CSV")
        for path in named:
            done = subprocess.run([sys.executable, SCRIPT, os.path.join(ROOT, path)],
                                  capture_output=True, text=True)
            self.assertEqual(done.returncode, 0, done.stderr)
            table = done.stdout.strip()
            self.assertGreater(len(table.splitlines()), 2)
            self.assertTrue(table in readme, "the README's batch table differs from the "
                            f"script's output on {path}; paste this:\n{table}")

    def test_a_missing_row_reads_as_a_dash_and_the_ratio_needs_both_rows(self):
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        import batch_table
        import pandas as pd

        def row(batch, tokens, status="ok"):
            shape = "cfg=tiny,prompt=8,gen=4" + (f",batch={batch}" if batch > 1 else "")
            return {"workload": "decoder", "phase": "decode", "status": status, "shape": shape,
                    "threads": 1, "tokens_per_s": tokens, "ms_per_token": 1000.0 * batch / tokens,
                    "knee_batch": 12.4, "achieved_flops": 3e9, "peak_flops": 1e10}
        df = pd.DataFrame([row(1, 100.0), row(16, 800.0, "error: x"), row(64, 1600.0)])
        lines = batch_table.table(df).splitlines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[2], "| tiny, f32 | 1 | 100, 10.0 ms | — | — | 1600, 40.0 ms | — | "
                                   "12 | 30% |")


if __name__ == "__main__":
    unittest.main()
