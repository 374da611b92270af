"""The days and amounts the books may hold, and an import or `--as-of` may bring: light, so that
the command line and the export readers can check them without loading the schema."""

from __future__ import annotations

from datetime import date

# Any sum of such a day with a term, a plan, a stage or a preview stays a date (Python's end at
# 9999-12-31), and no business has an invoice of another millennium.
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
# Every sum, fee and interest of an invoice stays within exact arithmetic (28 digits) and what
# Babel formats: an amount is less than a trillion in major units, a quantity less than a billion.
AMOUNT_LIMIT = 10**12
QUANTITY_LIMIT = 10**9


def out_of_range(day: date) -> str | None:
    """Why `day` cannot be used, or None if it can."""
    if EARLIEST <= day <= LATEST:
        return None
    return f"{day} is out of range: dates in the books are from {EARLIEST} to {LATEST}"
