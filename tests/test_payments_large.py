"""A large Stripe export: streamed, read a batch at a time (or by a helper process) exactly as one
row at a time, written exactly as `record_line` writes each payment, and summed for the summary
without changing what the ledger says."""

from __future__ import annotations

import csv
import functools
import io
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.books.checks import check_books
from notifier.books.records import PendingLines, append_lines, record_line
from notifier.ledger.state import ledger
from notifier.payments import apply, exports
from notifier.payments.apply import Entry, _day_sums, payment_lines, reconcile
from notifier.payments.exports import (
    RowProblem,
    StripeRow,
    read_compact,
    read_export,
    recognise,
)

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 11, 23)
HEADER = [
    "id",
    "Created date (UTC)",
    "Amount",
    "Amount Refunded",
    "Currency",
    "Captured",
    "Description",
    "Status",
    "Refunded date (UTC)",
    "Payment Link ID",
    "Disputed Amount",
    "Dispute Status",
    "Dispute Date (UTC)",
    "invoice (metadata)",
    "instalment (metadata)",
]


def one_by_one(path: Path, zone: ZoneInfo) -> Iterator[StripeRow | RowProblem]:
    """A Payments export read as it was before batches: csv.reader, then each row by itself."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        header = next(reader)
        layout = recognise(header)
        assert not isinstance(layout, str)
        line = reader.line_num + 1
        rows = exports._Reader(
            str(path.name), layout, len(header), exports._Days(zone), line, compact=False
        )
        for values in reader:
            if any(values):
                padded = rows._padded(values, line)
                yield padded if isinstance(padded, RowProblem) else rows._payment_row(padded, line)
            line = reader.line_num + 1


# Values that repeat, as an export's do (so the batch reads most of them from what it has seen),
# and values each with something wrong or unusual.
USUAL = {
    "Created date (UTC)": [
        f"2026-11-0{d} 0{h}:{m}:00" for d in (1, 2) for h in (0, 9) for m in (15, 45)
    ],
    "Amount": ["10.00", "25.50", "1320.00", "7"],
    "Amount Refunded": ["0.00", "", "5.00"],
    "Currency": ["gbp", "eur", "jpy", "bhd"],
    "Captured": ["true", "false", ""],
    "Description": ["Invoice HP-2026-026", "Thanks", ""],
    "Status": ["Paid", "Refunded", "Failed", "Pending"],
    "Refunded date (UTC)": ["", "", "2026-11-22 12:00:00"],
    "Payment Link ID": ["", "", "plink_1"],
    "Disputed Amount": ["", "", "10.00"],
    "Dispute Status": ["", "lost", "Won"],
    "Dispute Date (UTC)": ["", "2026-11-15 10:00:00"],
    "invoice (metadata)": ["", "HP-2026-026", " HP-2026-033 "],
    "instalment (metadata)": ["", "three-monthly#1"],
}
ODD = [
    "",
    " ",
    "x",
    " 10.00 ",
    "1.320,00",
    "-5.00",
    "0.005",
    "1e3",
    "1000000000000",
    " gbp",
    "xxx",
    "2026-13-01 00:00:00",
    "9999-12-31 23:59:59",
    "2026-11-01",
    "2026-11-01 09:15",
    "2026-11-01T09:15:00Z",
    "multi\nline",
    'a "quote"',
    "a,b",
    "é",
    "TRUE",
    "false ",
]


@st.composite
def exports_text(draw: st.DrawFn) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(HEADER)
    for index in range(draw(st.integers(0, 40))):
        row = [f"ch_{index % 30}"]
        row += [draw(st.sampled_from(USUAL[name])) for name in HEADER[1:]]
        if draw(st.integers(0, 9)) == 0:
            row[draw(st.integers(0, len(row) - 1))] = draw(st.sampled_from(ODD))
        shape = draw(st.integers(0, 29))
        if shape == 0:
            row = row[: draw(st.integers(0, len(row)))]  # short, or blank
        elif shape == 1:
            row = [""] * len(row)
        elif shape == 2:
            row.append("extra")
        writer.writerow(row)
    return out.getvalue()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=exports_text(), batch=st.integers(1, 12))
def test_a_batch_reads_exactly_as_one_row_at_a_time(tmp_path, monkeypatch, text, batch):
    monkeypatch.setattr(exports, "CHUNK", batch * 40)
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    assert list(read_export(path, "export.csv", LONDON)) == list(one_by_one(path, LONDON))


def test_a_file_read_in_many_chunks_reads_as_one_read_whole(tmp_path, monkeypatch):
    lines = ["id,Created date (UTC),Amount,Currency,Status,invoice (metadata)"]
    lines += [
        f"ch_{n},2026-11-0{n % 9 + 1} 10:00:00,{n}.50,gbp,Paid,HP-2026-026" for n in range(1200)
    ]
    lines[700] = "ch_bad,2026-11-02 10:00:00,abc,gbp,Paid,"
    (tmp_path / "large.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths = [*sorted(FIXTURES.glob("*.csv")), tmp_path / "large.csv", tmp_path / "missing.csv"]
    whole = {path: list(read_export(path, path.name, LONDON)) for path in paths}
    monkeypatch.setattr(exports, "CHUNK", 1000)
    for path in paths:
        assert list(read_export(path, path.name, LONDON)) == whole[path]
    found = whole[tmp_path / "large.csv"]
    assert len(found) == 1200
    assert [str(row) for row in found if isinstance(row, RowProblem)] == [
        "large.csv:701:3: Amount: `abc` is not an amount (major units with a `.` decimal point, "
        "as 1250.00)"
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_rows_are_streamed_not_read_whole(tmp_path):
    """The first rows come out while the rest of the file is still being written."""
    pipe = tmp_path / "export.csv"
    os.mkfifo(pipe)
    seen = threading.Event()
    waited: list[bool] = []

    def write() -> None:
        with pipe.open("w", encoding="utf-8") as out:
            out.write("id,Created date (UTC),Amount,Currency,Status\n")
            out.writelines(f"ch_{n},2026-11-20 10:00:00,1.00,gbp,Paid\n" for n in range(3000))
            out.flush()
            waited.append(seen.wait(timeout=20))
            out.write("ch_last,2026-11-20 10:00:00,1.00,gbp,Paid\n")

    writer = threading.Thread(target=write)
    writer.start()
    rows = []
    for row in read_export(pipe, "export.csv", LONDON):
        seen.set()
        rows.append(row)
    writer.join()
    assert waited == [True]
    assert len(rows) == 3001
    assert isinstance(rows[-1], StripeRow)
    assert rows[-1].id == "ch_last"


def test_an_id_longer_than_stripe_makes_is_a_problem(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "id,Created date (UTC),Amount,Currency,Status\n"
        f"ch_{'x' * 300},2026-11-20 10:00:00,1.00,gbp,Paid\n",
        encoding="utf-8",
    )
    assert [str(row) for row in read_export(path, "long.csv", LONDON)] == [
        "long.csv:2:1: id: `ch_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...` is longer than a Stripe id"
    ]


def test_a_paid_row_of_nothing_is_ignored_not_recorded(tmp_path):
    books, _ = check_books(REPO)
    path = tmp_path / "zero.csv"
    path.write_text(
        "id,Created date (UTC),Amount,Currency,Status,invoice (metadata)\n"
        "ch_zero,2026-11-20 10:00:00,0.00,gbp,Paid,HP-2026-033\n",
        encoding="utf-8",
    )
    outcome = reconcile(books, read_export(path, "zero.csv", LONDON), "zero.csv", TODAY)
    assert (outcome.entries, dict(outcome.ignored)) == (
        [],
        {"an amount of 0 (no money moved)": 1},
    )


# Writing ------------------------------------------------------------------------------------------

names = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)
ids = st.one_of(
    st.from_regex(r"(ch|py)_[A-Za-z0-9]{1,24}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_./#-]{0,30}", fullmatch=True),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool),
)
entries = st.builds(
    Entry,
    id=ids,
    invoice=st.one_of(
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True),
        st.sampled_from(["true", "null", "1e3", "0.5", "2026-11-01", "Yes"]),
    ),
    day=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    # Up to what the books hold: less than a trillion in major units (bounds.AMOUNT_LIMIT).
    minor=st.one_of(st.integers(1, 10**7), st.integers(1, 10**12 - 1)),
    currency=st.sampled_from(["GBP", "EUR", "JPY", "BHD", "NOK", "YER", "CLF"]),
    kind=st.sampled_from(["payment", "refund", "chargeback"]),
    plan=st.none(),
    instalment=st.none(),
    reference=st.one_of(st.none(), ids),
    note=st.one_of(st.none(), st.sampled_from(["dispute lost", "ok"])),
)


@st.composite
def with_plans(draw: st.DrawFn) -> Entry:
    entry = draw(entries)
    if draw(st.booleans()):
        entry = entry._replace(plan=draw(names), instalment=draw(st.integers(1, 36)))
    return entry


@settings(max_examples=300, deadline=None)
@given(st.lists(with_plans(), max_size=30))
def test_payments_are_written_as_record_line_writes_them(found):
    assert list(payment_lines(found)) == [record_line(entry.payment()) for entry in found]


def test_lines_are_appended_whole_or_not_at_all(tmp_path):
    path = tmp_path / "payments.yaml"
    path.write_text("# Payments\n- {id: a}", encoding="utf-8")

    def failing() -> Iterator[str]:
        yield from (f"- {{id: b{n}}}\n" for n in range(25_000))
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        append_lines(path, failing())
    assert path.read_text(encoding="utf-8") == "# Payments\n- {id: a}"
    assert list(tmp_path.glob("*.tmp")) == []
    assert append_lines(path, (f"- {{id: c{n}}}\n" for n in range(25_000))) == 25_000
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["# Payments", "- {id: a}", "- {id: c0}"]
    assert len(lines) == 25_002


# The summary --------------------------------------------------------------------------------------

payments_rows = st.lists(
    st.tuples(
        st.sampled_from(
            [
                ("HP-2026-026", "gbp", ""),
                ("HP-2026-027", "gbp", ""),
                ("HP-2026-024", "usd", ""),
                ("HP-2026-022", "jpy", ""),
                ("HP-2026-028", "eur", "three-monthly#1"),
                ("HP-2026-028", "eur", "three-monthly#2"),
                ("HP-2026-029", "eur", "three-monthly#3"),
            ]
        ),
        st.dates(date(2026, 9, 1), date(2026, 11, 30)),
        st.integers(1, 200_000),
        st.sampled_from(["", "refund", "lost", "won"]),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=payments_rows)
def test_the_summary_sums_per_day_without_changing_what_the_ledger_says(tmp_path, rows):
    books, _ = check_books(REPO)
    lines = [
        "id,Created date (UTC),Amount,Amount Refunded,Currency,Status,Refunded date (UTC),"
        "Disputed Amount,Dispute Status,Dispute Date (UTC),invoice (metadata),instalment (metadata)"
    ]
    for n, ((invoice, currency, instalment), day, minor, event) in enumerate(rows):
        amount = str(minor) if currency == "jpy" else f"{minor // 100}.{minor % 100:02d}"
        refunded = amount if event == "refund" else "0"
        disputed = amount if event in ("lost", "won") else ""
        lines.append(
            f"ch_{n},{day} 10:00:00,{amount},{refunded},{currency},Paid,"
            f"{'2026-11-22 09:00:00' if event == 'refund' else ''},{disputed},{event if disputed else ''},"
            f"{'2026-11-21 09:00:00' if disputed else ''},{invoice},{instalment}"
        )
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = reconcile(books, read_export(path, "export.csv", LONDON), "export.csv", TODAY)
    assert outcome.problems == []
    touched = {payment.invoice for payment in outcome.applied}
    some = replace(books, invoices={n: i for n, i in books.invoices.items() if n in touched})
    every = ledger(replace(some, payments=[*books.payments, *outcome.applied]), TODAY)
    summed = ledger(some, TODAY, added=_day_sums(outcome))
    assert summed == every


def test_the_changes_told_are_the_same_when_a_forked_process_tells_of_half_the_invoices(
    tmp_path, monkeypatch
):
    books = example_books()
    lines = ["id,Created date (UTC),Amount,Currency,Status,invoice (metadata)"]
    paid = [
        (number, state)
        for number, state in ledger(books, TODAY).items()
        if state.balance > 0 and state.currency != "JPY"
    ]
    assert len(paid) >= 3
    for n, (number, state) in enumerate(paid):
        part = state.balance // (n + 1)  # the first paid in full, the others in part
        lines.append(
            f"ch_{n},2026-11-20 10:00:00,{part // 100}.{part % 100:02d},{state.currency},Paid,{number}"
        )
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = reconcile(books, read_export(path, "export.csv", LONDON), "export.csv", TODAY)
    assert outcome.problems == []
    alone = apply.invoice_changes(books, outcome, TODAY)
    monkeypatch.setattr(apply, "CHANGES_SHARED_FROM", 0)
    shared = apply.invoice_changes(books, outcome, TODAY)
    assert shared == alone
    assert len(alone) == len(paid)
    assert any(" → paid" in line for line in alone)


# Written as it goes ---------------------------------------------------------------------------


def imported(books, path: Path, pending_at: Path | None):
    """`reconcile` of the export at `path` as the command line runs it (compact batches, lines
    written to a PendingLines as they come) if `pending_at`, else row by row, entries kept."""
    if pending_at is None:
        return reconcile(books, read_export(path, "export.csv", LONDON), "export.csv", TODAY), None
    pending_at.write_text("# Payments\n", encoding="utf-8")
    with PendingLines(pending_at) as pending:
        rows = read_compact(path, "export.csv", LONDON)
        outcome = reconcile(books, rows, "export.csv", TODAY, pending)
        assert pending_at.read_text(encoding="utf-8") == "# Payments\n"  # not yet replaced
        if not outcome.problems:  # as `write_outcome`: else the file is left as it was
            pending.commit()
    return outcome, pending_at.read_text(encoding="utf-8")


@functools.cache
def example_books():
    books, _ = check_books(REPO)
    return books


def same_import(books, tmp_path: Path, text: str) -> None:
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    kept, _ = imported(books, path, None)
    streamed, written = imported(books, path, tmp_path / "payments.yaml")
    assert [str(p) for p in streamed.problems] == [str(p) for p in kept.problems]
    assert streamed.summary() == kept.summary()
    assert (streamed.rows, streamed.newest, streamed.count) == (kept.rows, kept.newest, kept.count)
    assert streamed.review == kept.review
    if kept.problems:
        assert written == "# Payments\n"
        return
    for outcome in (kept, streamed):  # every row read is counted once
        assert outcome.rows == (
            outcome.applied_rows
            + outcome.review_rows
            + sum(outcome.ignored.values())
            + outcome.already
        )
    assert (streamed.applied_rows, streamed.review_rows, streamed.already) == (
        kept.applied_rows,
        kept.review_rows,
        kept.already,
    )
    assert written == "# Payments\n" + "".join(payment_lines(kept.entries))
    assert _day_sums(streamed).keys() == _day_sums(kept).keys()
    touched = [books.invoices[number] for number in sorted(_day_sums(kept))]
    assert ledger(books, TODAY, touched, added=_day_sums(streamed)) == ledger(
        books, TODAY, touched, added=_day_sums(kept)
    )


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=exports_text(), batch=st.integers(1, 12), shown=st.integers(0, 3))
def test_compact_batches_written_as_they_come_import_what_rows_one_at_a_time_do(
    tmp_path, monkeypatch, text, batch, shown
):
    """Ids met again (`ch_N` repeats), refunds, disputes, plans, rows for review, rows ignored
    and problems: the command line's way (batches of paid rows, most taken at once, lines written
    as they come, ids held as fingerprints) adds what taking each row by itself adds."""
    books = example_books()
    monkeypatch.setattr(exports, "CHUNK", batch * 40)
    monkeypatch.setattr(apply, "SHOWN", shown)  # so that batches are taken at once
    same_import(books, tmp_path, text)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=exports_text(), read_back=st.integers(0, 3))
def test_ids_that_share_a_fingerprint_are_told_apart(tmp_path, monkeypatch, text, read_back):
    """With every id's fingerprint one of three, nearly every id seems held already: reading
    back the lines written tells which are (and after `_READ_BACK` times, the ids are held as
    they are)."""
    books = example_books()
    monkeypatch.setattr(exports, "CHUNK", 200)
    monkeypatch.setattr(apply, "SHOWN", 0)
    monkeypatch.setattr(apply, "hash", lambda ident: len(ident) % 3, raising=False)
    monkeypatch.setattr(apply, "_READ_BACK", read_back)
    same_import(books, tmp_path, text)


def test_a_large_import_keeps_neither_its_entries_nor_their_ids(tmp_path, monkeypatch):
    """Written as they come, the entries are counted, the first few kept for the summary; the
    import's own ids are fingerprints, not strings."""
    books, _ = check_books(REPO)
    lines = ["id,Created date (UTC),Amount,Currency,Status,invoice (metadata)"]
    lines += [f"ch_{n},2026-11-20 10:00:00,1.00,gbp,Paid,HP-2026-026" for n in range(3000)]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    held: list[apply._Ledger] = []

    def kept_ledger(*args: Any) -> apply._Ledger:
        held.append(apply_ledger(*args))
        return held[-1]

    monkeypatch.setattr(apply, "_Ledger", kept_ledger)
    outcome, written = imported(books, path, tmp_path / "payments.yaml")
    assert outcome.count == 3000
    assert len(outcome.entries) == apply.SHOWN
    assert written is not None
    assert written.count("\n- {id: ch_") == 3000
    assert held[0].known.keys() == {payment.id for payment in books.payments}
    fingerprints = held[0].added
    assert fingerprints is not None
    assert len(fingerprints.hashes) == 3000


apply_ledger = apply._Ledger


def test_pending_lines_replace_the_file_only_when_committed(tmp_path):
    path = tmp_path / "payments.yaml"
    path.write_text("# Payments\n- {id: a}", encoding="utf-8")
    with PendingLines(path) as pending:
        pending.write("- {id: b, x: 1}\n- {id: c, x: 2}\n", 2)
        assert pending.find("- {id: c, ") == "- {id: c, x: 2}\n"
        assert pending.find("- {id: a") is None  # only what was added
    assert path.read_text(encoding="utf-8") == "# Payments\n- {id: a}"

    def stopped() -> None:
        with PendingLines(path) as pending:
            pending.write("- {id: d}\n")
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        stopped()
    assert path.read_text(encoding="utf-8") == "# Payments\n- {id: a}"
    with PendingLines(path) as pending:
        pending.write("- {id: e}\n")
        pending.commit()
    assert path.read_text(encoding="utf-8") == "# Payments\n- {id: a}\n- {id: e}\n"
    assert list(tmp_path.glob("*.tmp")) == []


@given(
    st.lists(
        st.tuples(st.sampled_from(["JPY", "EUR", "BHD", "CLF"]), st.integers(1, 10**18 - 1)),
        min_size=1,
        max_size=50,
    )
)
def test_a_batch_writes_each_amount_as_money_major_text_does(rows):
    # The paid rows' amounts are made by polars a batch at a time; they must read as the amounts
    # of the rows written one at a time (`money.major_text`), to the last minor unit.
    import polars as pl

    from notifier import money

    paid = pl.DataFrame(
        {"Currency": [c for c, _ in rows], "Amount": [m for _, m in rows]},
        schema={"Currency": pl.String, "Amount": pl.Int64},
    )
    texts = exports._Reader._amount_texts(None, paid).to_list()  # type: ignore[arg-type]
    assert texts == [money.major_text(m, money.exponent(c)) for c, m in rows]
