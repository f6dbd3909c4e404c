"""The README's batched-decoding tables are the ones scripts/batch_table.py prints from the
committed CSVs they name: a figure typed by hand, or a CSV replaced without its table, fails."""
import os
import sys
import unittest

from readme_tables import ROOT, check_readme_tables


class BatchTableTest(unittest.TestCase):
    def test_each_readme_table_is_generated_from_the_csv_it_names(self):
        check_readme_tables(self, "batch_table.py", "/batch.csv")

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
