"""The README's collectives table is the one scripts/collectives_table.py prints from the
committed CSV it names."""
import unittest

from readme_tables import check_readme_tables


class CollectivesTableTest(unittest.TestCase):
    def test_each_readme_table_is_generated_from_the_csv_it_names(self):
        check_readme_tables(self, "collectives_table.py", "collectives.csv")


if __name__ == "__main__":
    unittest.main()
