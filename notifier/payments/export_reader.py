"""Read one Stripe export and write its rows to stdout, for `exports.read_export` in the process
that started this one: `python -m notifier.payments.export_reader FILE SHOWN ZONE`.

A large export takes seconds to read; read here, on another processor, it costs the process that
imports it only the time to take the rows in. Rows go out as pickles of `(rows, problem)`: a list
of plain tuples (a StripeRow's values; quicker to pass than StripeRows), then the problem that
followed them, if any, as a tuple of a RowProblem's values; or, with a fourth argument `compact`,
`(paid, None)`, `paid` being a `PaidRows`' values as a tuple, its `others` plain tuples too.
"""

from __future__ import annotations

import gc
import pickle
import sys
from dataclasses import astuple
from pathlib import Path
from zoneinfo import ZoneInfo

from notifier.payments.exports import PaidRows, RowProblem, read_here

BATCH = 500  # rows a message


def main(argv: list[str] | None = None) -> int:
    path, shown, zone, *mode = argv if argv is not None else sys.argv[1:]
    gc.disable()  # nothing here makes reference cycles; rows come and go a million times
    out = sys.stdout.buffer
    rows: list[tuple[object, ...]] = []
    for item in read_here(Path(path), shown, ZoneInfo(zone), compact=mode == ["compact"]):
        if isinstance(item, PaidRows):
            if rows:
                pickle.dump((rows, None), out, protocol=pickle.HIGHEST_PROTOCOL)
                rows = []
            others = [(before, tuple(row)) for before, row in item.others]
            paid = (*item[:-2], others, item.unmoved)
            pickle.dump((paid, None), out, protocol=pickle.HIGHEST_PROTOCOL)
        elif isinstance(item, RowProblem):
            pickle.dump((rows, astuple(item)), out, protocol=pickle.HIGHEST_PROTOCOL)
            rows = []
        else:
            rows.append(tuple(item))
            if len(rows) == BATCH:
                pickle.dump((rows, None), out, protocol=pickle.HIGHEST_PROTOCOL)
                rows = []
    if rows:
        pickle.dump((rows, None), out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
