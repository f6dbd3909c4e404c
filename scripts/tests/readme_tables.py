"""The check the generated-table tests share: every table a page of the manual (README.md and
docs/**/*.md) shows after naming its CSV is exactly what the script prints from that committed
CSV. The tables live on their topic's page; the check follows them there."""
import glob
import os
import re

from script_runner import ROOT, run_script


def manual_pages():
    """README.md and every page under docs/, as (path relative to the root, text)."""
    paths = [os.path.join(ROOT, "README.md")]
    paths += sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))
    pages = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            pages.append((os.path.relpath(path, ROOT), f.read()))
    return pages


def check_readme_tables(test, script, csv_suffix):
    """Runs scripts/<script> on each CSV a page names as "(`results/<name><csv_suffix>`" (the
    paragraph before its table) and asserts its output stands on that page verbatim."""
    checked = 0
    for page, text in manual_pages():
        named = re.findall(r"\(`(results/[^`]+" + re.escape(csv_suffix) + r")`", text)
        for path in named:
            done = run_script(script, os.path.join(ROOT, path))
            test.assertEqual(done.returncode, 0, done.stderr)
            table = done.stdout.strip()
            test.assertGreater(len(table.splitlines()), 3)  # the header, its rule, and rows
            test.assertTrue(table in text, f"{page}'s table differs from {script}'s output on "
                            f"{path}; paste this:\n{table}")
            checked += 1
    test.assertGreater(checked, 0, f"no page of the manual names a {csv_suffix} CSV")
