"""migrate_results_layout.py on a flat results/ folder: every file goes to its machine's folder
(renamed experiments included), cross-machine files to machines/ and model/, the pages' paths
follow, and a second run finds nothing to move."""
import os
import shutil
import tempfile
import unittest

from script_runner import run_script

FLAT = ["probe-m1-2c-avx3.json", "probe-m1-2c-avx3-avx2.json", "m1-2c-avx3-quick.csv",
        "m1-2c-avx3-quick.repetitions.csv", "m1-2c-avx3-tp.csv", "m1-2c-avx3-op.csv",
        "probe-m2.json", "m2-batch-interleaved-1.json", "machines-quick.csv", "model-gpt2-shm.csv",
        "figures/m1-2c-avx3-quick/roofline.png", "figures/machines-quick/machines.png",
        "figures/model/gpt2-shm.png"]
MOVED = ["m1-2c-avx3/probe.json", "m1-2c-avx3/probe-avx2.json", "m1-2c-avx3/quick.csv",
         "m1-2c-avx3/quick.repetitions.csv", "m1-2c-avx3/tp-target.csv", "m1-2c-avx3/op-cases.csv",
         "m2/probe.json", "m2/batch-interleaved-1.json", "machines/quick.csv",
         "model/gpt2-shm.csv", "m1-2c-avx3/figures/quick/roofline.png",
         "machines/figures/quick/machines.png", "model/figures/gpt2-shm.png"]


class MigrateResultsLayoutTest(unittest.TestCase):
    def test_a_flat_folder_moves_per_machine_and_the_pages_follow(self):
        root = tempfile.mkdtemp(prefix="aigc_migrate_")
        self.addCleanup(shutil.rmtree, root)
        for name in FLAT:
            path = os.path.join(root, "results", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
        os.makedirs(os.path.join(root, "docs"))
        with open(os.path.join(root, "docs", "page.md"), "w") as f:
            f.write("From `results/m1-2c-avx3-quick.csv` and "
                    "![r](../results/figures/m1-2c-avx3-quick/roofline.png).\n")
        done = run_script("migrate_results_layout.py", "--root", root)
        self.assertEqual(done.returncode, 0, done.stderr)
        for name in MOVED:
            self.assertTrue(os.path.exists(os.path.join(root, "results", name)), name)
        self.assertEqual(sorted(os.listdir(os.path.join(root, "results"))),
                         ["m1-2c-avx3", "m2", "machines", "model"])
        with open(os.path.join(root, "docs", "page.md")) as f:
            self.assertEqual(f.read(), "From `results/m1-2c-avx3/quick.csv` and "
                             "![r](../results/m1-2c-avx3/figures/quick/roofline.png).\n")
        again = run_script("migrate_results_layout.py", "--root", root)
        self.assertIn("nothing to move", again.stdout)


if __name__ == "__main__":
    unittest.main()
