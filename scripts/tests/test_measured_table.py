"""The README's "Measured" tables are the ones scripts/measured_table.py prints from the committed
CSVs they name (quick and full runs): a figure typed by hand, or a CSV replaced without its
table, fails."""
import os
import sys
import unittest

from readme_tables import ROOT, check_readme_tables


class MeasuredTableTest(unittest.TestCase):
    def test_each_quick_run_table_is_generated_from_the_csv_it_names(self):
        check_readme_tables(self, "measured_table.py", "/quick.csv")

    def test_each_full_run_table_is_generated_from_the_csv_it_names(self):
        check_readme_tables(self, "measured_table.py", "/full.csv")

    def test_a_target_without_its_rows_is_left_out_and_a_failed_peer_reads_as_a_dash(self):
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        import measured_table
        import pandas as pd

        def row(shape, backend, threads, t, status="ok"):
            return {"workload": "matmul", "shape": shape, "backend": backend, "threads": threads,
                    "status": status, "time_median_s": t, "roofline_fraction": 0.5,
                    "tokens_per_s": float("nan"), "machine": "m"}
        df = pd.DataFrame([row("M=1024,N=1024,K=1024", "simd", 1, 0.010),
                           row("M=1024,N=1024,K=1024", "onednn", 1, 0.008),
                           row("M=2048,N=2048,K=2048", "simd", 1, 0.080),
                           row("M=2048,N=2048,K=2048", "onednn", 1, float("nan"), "error: x")])
        lines = measured_table.table(df).splitlines()
        self.assertEqual(lines[2], "| matmul `simd` vs `onednn`, 1 thread, 1024³ | 80.0% of oneDNN "
                                   "(10.00 vs 8.00 ms) | ≥ 85% |")
        self.assertEqual(lines[3], "| matmul `simd` vs `onednn`, 1 thread, 2048³ | — | ≥ 85% |")
        self.assertEqual(len(lines), 5)  # the 2-thread 2048³ target: in the file, but no rows ran
        self.assertIn("2 threads, 2048³ | — |", lines[4])


if __name__ == "__main__":
    unittest.main()
