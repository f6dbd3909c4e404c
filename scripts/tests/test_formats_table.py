"""The README's weight-formats table is the one scripts/formats_table.py prints from the committed
CSV it names: a figure typed by hand, or a CSV replaced without the table, fails here."""
import os
import sys
import unittest

from readme_tables import ROOT, check_readme_tables


class FormatsTableTest(unittest.TestCase):
    def test_the_readme_table_is_generated_from_the_csv_it_names(self):
        check_readme_tables(self, "formats_table.py", "/formats.csv")

    def test_a_missing_row_reads_as_a_dash_not_a_number(self):
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        import formats_table
        import pandas as pd
        df = pd.DataFrame([
            {"workload": "decoder", "status": "ok", "shape": "cfg=tiny,prompt=8,gen=4",
             "threads": 1, "bytes": 4e6, "tokens_per_s": 100.0, "roofline_fraction": 0.5,
             "format_speedup": float("nan"), "format_speedup_pred": float("nan"),
             "perplexity": float("nan"), "greedy_agreement": float("nan")},
            {"workload": "decoder", "status": "skipped: no", "shape": "cfg=tiny,prompt=8",
             "threads": 1, "bytes": 1.0, "tokens_per_s": 5.0, "roofline_fraction": 0.1,
             "format_speedup": 1.0, "format_speedup_pred": 1.0, "perplexity": 1.0,
             "greedy_agreement": 1.0}])
        lines = formats_table.table(df).splitlines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[2], "| tiny | `f32` | 1 | 100 | 50% | — | — | — | — |")


if __name__ == "__main__":
    unittest.main()
