"""report.py on the committed results of two machines: the page holds each run's machine, build,
probe ceilings, figures and rows, and the machine comparison; headless Chromium (Debian's
`chromium`, which scripts/setup.sh installs) loads it without a script error and decodes every
figure. Bad arguments exit 2 and write nothing.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import pandas as pd

from script_runner import ROOT, run_script

RESULTS = os.path.join(ROOT, "results")
BASE = os.path.join(RESULTS, "amd-epyc-zen5-2c-avx3", "quick.csv")
OTHER = os.path.join(RESULTS, "intel-xeon-emr-2c-avx3", "quick.csv")


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="aigc_report_test_")
        cls.page_path = os.path.join(cls.dir, "report.html")
        done = run_script("report.py", BASE, OTHER, "--out", cls.page_path)
        if done.returncode != 0:
            raise RuntimeError(f"report.py failed: {done.stdout}\n{done.stderr}")
        cls.stdout = done.stdout
        with open(cls.page_path, encoding="utf-8") as f:
            cls.page = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_the_page_holds_every_run_its_probe_rows_and_the_comparison(self):
        for machine in ("amd-epyc-zen5-2c-avx3", "intel-xeon-emr-2c-avx3"):
            self.assertIn(f"{machine}/probe.json", self.page)
            self.assertIn(f"<h2>{machine} · {machine}/quick.csv</h2>", self.page)
        self.assertIn("Machines compared (base: amd-epyc-zen5-2c-avx3)", self.page)
        self.assertIn("read bandwidth, 1024MiB working set", self.page)
        rows = sum(len(pd.read_csv(p)) for p in (BASE, OTHER))
        # One summary line per results row, each run's table after its header line.
        self.assertEqual(self.page.count('<tr><td class="">'), rows)
        figures = self.page.count('<img class="figure"')
        self.assertGreaterEqual(figures, 10)
        self.assertIn(f"{figures} figure(s)", self.stdout)
        self.assertNotIn('src="file:', self.page)  # self-contained: figures embedded
        self.assertEqual(self.page.count('src="data:image/png;base64,'), figures)

    def test_headless_chromium_loads_it_and_shows_every_figure(self):
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser is None:
            self.skipTest("chromium is not installed (scripts/setup.sh installs Debian's chromium)")
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000",
             "--dump-dom", "file://" + self.page_path], capture_output=True, text=True, timeout=180)
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        check = re.search(r'<p id="check">([^<]*)</p>', done.stdout)
        self.assertIsNotNone(check, done.stdout[-2000:])
        figures = self.page.count('<img class="figure"')
        self.assertEqual(check.group(1), f"figures shown: {figures} of {figures}; errors: 0")

    def test_a_row_above_its_roofline_is_flagged(self):
        df = pd.read_csv(OTHER, dtype={"phase": str, "shape": str})
        i = df["roofline_fraction"].first_valid_index()
        df.loc[i, "roofline_fraction"] = 1.5
        csv = os.path.join(self.dir, "above.csv")
        df.to_csv(csv, index=False)
        out = os.path.join(self.dir, "above.html")
        done = run_script("report.py", csv, "--out", out, "--probe",
                          os.path.join(RESULTS, "intel-xeon-emr-2c-avx3", "probe.json"))
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(out, encoding="utf-8") as f:
            page = f.read()
        above = int((df["roofline_fraction"] > 1).sum())
        self.assertIn(f"{above} row(s) ran faster than their roofline", page)
        self.assertIn('<td class="num above">150% !</td>', page)
        self.assertNotIn("Machines compared", page)  # one run: nothing to compare

    def test_bad_arguments_exit_2_and_write_nothing(self):
        out = os.path.join(self.dir, "bad.html")
        done = run_script("report.py", os.path.join(self.dir, "missing.csv"), "--out", out)
        self.assertEqual(done.returncode, 2)
        self.assertIn("no such file", done.stderr)
        done = run_script("report.py", BASE, "--out", os.path.join(self.dir, "no", "such", "r.html"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("no such folder", done.stderr)
        done = run_script("report.py", BASE, "--out", out, "--probe", os.path.join(self.dir, "nope.json"))
        self.assertEqual(done.returncode, 2)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([f for f in os.listdir(self.dir) if f.startswith(".report-")], [])


if __name__ == "__main__":
    unittest.main()
