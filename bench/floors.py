"""The floors under the issue's ratios: steps a command cannot skip, each timed alone.

In one process, in order, each step's CPU seconds (`time.process_time`), printed as JSON:

- `start`: Python started, and notifier's command line and what reads the books imported;
- `parse`: every file of the books composed by PyYAML's C parser, nothing made of the nodes (what
  `check` with no cache cannot do without; the yardstick's own load makes Python values too);
- `validate`: every record of the books validated by its schema (pydantic), from its values as
  read (made untimed: what `parse` leaves out);
- `books`: the books read from `.cache/books`, as every command after the first reads them;
- `account`: the day's account of every client (what a build shows);
- `pages`: one page per invoice, the yardstick's own small page, rendered and written (a build
  writes at least that much);
- `reminders`: the account a run of reminders reads (`reminders_only`);
- `export`: polars imported, and the Stripe export read by it in 8 MiB chunks, every column as
  text, nothing done with the rows (the least a columnar reader does).

`make bench` runs it between runs of the yardstick and reads each step against them (see
`floors` in bench/run.py).

    python bench/floors.py BOOKS_DIR EXPORT.csv AS_OF
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(root: Path, export: Path, as_of: date) -> dict[str, float]:
    spent: dict[str, float] = {}
    last = 0.0

    def step(name: str) -> None:
        nonlocal last
        now = time.process_time()
        spent[name] = now - last
        last = now

    import yaml
    from pydantic import BaseModel

    from bench import yardstick
    from notifier import cli, speed
    from notifier.account import account_of
    from notifier.books import load
    from notifier.books.checks import check_books
    from notifier.books.yamlfile import read_yaml

    step("start")
    with speed.kept_until_exit():  # as the commands read the books: the collector paused
        for path in sorted((root / "data").rglob("*.yaml")):
            yaml.compose(path.read_bytes(), Loader=yaml.CSafeLoader)
    step("parse")
    values: list[tuple[type[BaseModel], object]] = []  # each record as read (not timed)
    for model, names in load._kinds(root).items():
        for name in names:
            found, _ = read_yaml(root / name, name)
            data = None if found is None else found.data
            if data is not None:
                values.extend(
                    (model, record) for record in (data if isinstance(data, list) else [data])
                )
    last = time.process_time()
    with speed.kept_until_exit():
        for model, record in values:
            model.model_validate(record)
    step("validate")
    speed.keep_compiled_texts(root / cli.TEXTS_CACHE)
    with speed.kept_until_exit():
        books, _ = check_books(root, root / cli.BOOKS_CACHE, spread=None, aside=None)
    step("books")
    with speed.kept_until_exit():  # as the commands make it
        account_of(books, as_of)
    step("account")
    with tempfile.TemporaryDirectory(dir=root.parent) as folder:
        out = Path(folder)
        for invoice in books.invoices.values():  # the yardstick's own page, from the records
            total = sum(line.unit_price * line.quantity for line in invoice.lines)
            html = yardstick.PAGE.render(
                number=invoice.number,
                client=invoice.client,
                issued=invoice.issue_date,
                lines=invoice.lines,
                total=total,
            )
            (out / f"{invoice.number}.html").write_text(html, encoding="utf-8")
        step("pages")
    with speed.kept_until_exit():
        account_of(books, as_of, reminders_only=True)
    step("reminders")
    import polars as pl

    with export.open("rb") as handle:
        handle.readline()  # the header
        while chunk := handle.read(8 << 20):
            chunk += handle.readline()  # to the end of the last record cut by the chunk
            pl.read_csv(chunk, has_header=False, infer_schema=False)
    step("export")
    return spent


if __name__ == "__main__":
    found = main(Path(sys.argv[1]), Path(sys.argv[2]), date.fromisoformat(sys.argv[3]))
    print(json.dumps(found))
