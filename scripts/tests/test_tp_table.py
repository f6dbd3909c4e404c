"""The README's tensor-parallel table is the one scripts/tp_table.py prints from the committed
CSV it names (scripts/tp_target.sh's rounds)."""
import unittest

from readme_tables import check_readme_tables


class TpTableTest(unittest.TestCase):
    def test_each_readme_table_is_generated_from_the_csv_it_names(self):
        check_readme_tables(self, "tp_table.py", "/tp-target.csv")


if __name__ == "__main__":
    unittest.main()
