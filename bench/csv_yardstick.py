"""The reconcile yardstick: the minimal streamed `csv` script the issue measures `reconcile` against.

It reads a Payments export row by row with Python's csv module (streamed: memory stays flat),
parses each amount as a Decimal and matches the row to an invoice by its `invoice (metadata)`
column in a dict, and nothing else: no checks, no ledger, nothing written. On this project's
machine it took about 5 s for 1,000,000 rows of 25 columns (FIELD-NOTES.md).

    python bench/csv_yardstick.py EXPORT.csv
"""

from __future__ import annotations

import csv
import sys
from decimal import Decimal
from pathlib import Path


def main(path: Path) -> int:
    """How many rows of the export at `path` name an invoice (and the total they paid)."""
    matched: dict[str, Decimal] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        amount, invoice = header.index("Amount"), header.index("invoice (metadata)")
        for row in reader:
            number = row[invoice]
            if number:
                matched[number] = matched.get(number, Decimal(0)) + Decimal(row[amount])
    print(len(matched), "invoices,", sum(matched.values()), "paid")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
