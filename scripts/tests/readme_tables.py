"""The check the README-table tests share: every table the README shows after naming its CSV
is exactly what the script prints from that committed CSV."""
import os
import re

from script_runner import ROOT, run_script


def check_readme_tables(test, script, csv_suffix):
    """Runs scripts/<script> on each CSV the README names as "(`results/<name><csv_suffix>`"
    (the paragraph before its table) and asserts its output stands in the README verbatim."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    named = re.findall(r"\(`(results/[^`]+" + re.escape(csv_suffix) + r")`", readme)
    test.assertGreater(len(named), 0, f"the README names no {csv_suffix} CSV")
    for path in named:
        done = run_script(script, os.path.join(ROOT, path))
        test.assertEqual(done.returncode, 0, done.stderr)
        table = done.stdout.strip()
        test.assertGreater(len(table.splitlines()), 3)  # the header, its rule, and rows
        test.assertTrue(table in readme, f"the README's table differs from {script}'s output on "
                        f"{path}; paste this:\n{table}")
