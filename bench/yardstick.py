"""The machine's yardstick: issue 7's "minimal script", timed beside the real commands.

It loads the generated invoices with PyYAML's C loader and renders one small Jinja2 page per
invoice into a folder, in two forked processes (one per core), and nothing else: no checks, no
ledger, no PDFs, no QR codes. The issue measured it at about 6.5 s for 10,000 invoices on this
project's machine; the same 2 cores have since run it up to several times faster or slower from
one day to the next, so `make bench` times it too, and the other rows can be read against it.

    python bench/yardstick.py BOOKS_DIR OUT_DIR
"""

from __future__ import annotations

import multiprocessing
import sys
from decimal import Decimal
from pathlib import Path

import jinja2
import yaml

PAGE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {{ number }}</title></head>
<body><h1>Invoice {{ number }}</h1><p>{{ client }}, issued {{ issued }}</p>
<table>{% for line in lines %}<tr><td>{{ line.description }}</td><td>{{ line.quantity }}</td>
<td>{{ line.unit_price }}</td></tr>{% endfor %}</table><p>Total {{ total }}</p></body></html>
""",
    autoescape=True,
)


def render(paths: list[Path], out: Path) -> int:
    """Load `paths` and write one page per invoice into `out`; how many pages."""
    pages = 0
    for path in paths:
        invoices = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        for invoice in invoices:
            lines = invoice["lines"]
            total = sum(
                Decimal(str(line["unit_price"])) * line.get("quantity", 1) for line in lines
            )
            html = PAGE.render(
                number=invoice["number"],
                client=invoice["client"],
                issued=invoice["issue_date"],
                lines=lines,
                total=total,
            )
            (out / f"{invoice['number']}.html").write_text(html, encoding="utf-8")
            pages += 1
    return pages


def main(books: Path, out: Path, processes: int = 2) -> int:
    out.mkdir(parents=True, exist_ok=True)
    files = sorted((books / "data" / "invoices").glob("*.yaml"))
    shares = [(files[i::processes], out) for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return sum(pool.starmap(render, shares))


if __name__ == "__main__":
    print(main(Path(sys.argv[1]), Path(sys.argv[2])), "pages")
