"""The README's "Measured on" lines are the ones scripts/machines_summary.py prints from the
committed quick runs, and each links a page of docs/measured/ that exists."""
import glob
import os
import re
import unittest

from script_runner import ROOT, run_script


class MachinesSummaryTest(unittest.TestCase):
    def test_the_readme_lines_are_the_scripts_output_on_every_quick_run(self):
        runs = sorted(p for p in glob.glob(os.path.join(ROOT, "results", "*", "quick.csv"))
                      if os.path.basename(os.path.dirname(p)) != "machines")
        self.assertGreater(len(runs), 0)
        done = run_script("machines_summary.py", *runs)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        lines = done.stdout.strip()
        self.assertEqual(len(lines.splitlines()), len(runs))
        self.assertIn(lines, readme, f"the README's machine lines differ; paste this:\n{lines}")

    def test_every_machine_page_linked_from_the_readme_exists(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        pages = re.findall(r"\]\((docs/[^)]+\.md)\)", readme)
        self.assertGreater(len(pages), 10)
        for page in pages:
            self.assertTrue(os.path.exists(os.path.join(ROOT, page)), page)

    def test_the_readme_is_a_front_door(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            self.assertLessEqual(len(f.read().splitlines()), 200)

    def test_a_file_that_is_not_a_results_csv_is_refused(self):
        done = run_script("machines_summary.py", os.path.join(ROOT, "README.md"))
        self.assertEqual(done.returncode, 2)


if __name__ == "__main__":
    unittest.main()
