"""Reading Stripe's exports: recognised by their header row, amounts exact, problems with file:line:column."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notifier.payments.exports import RowProblem, StripeRow, read_export, recognise

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
LONDON = ZoneInfo("Europe/London")


def rows(name: str, zone: ZoneInfo = LONDON) -> list[StripeRow]:
    found = list(read_export(FIXTURES / name, name, zone))
    assert all(isinstance(row, StripeRow) for row in found), found
    return [row for row in found if isinstance(row, StripeRow)]


def test_the_default_export_is_read_despite_its_bom_and_crlf():
    raw = (FIXTURES / "payments-default.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,Created date (UTC),Amount,Amount Refunded,Currency,")
    assert b"\r\n" in raw
    found = rows("payments-default.csv")
    assert [row.line for row in found] == list(range(2, 11))
    first = found[0]
    assert (first.id, first.day, first.amount, first.currency, first.status) == (
        "ch_3TEST0default01",
        date(2026, 11, 20),
        132000,
        "GBP",
        "Paid",
    )
    assert first.metadata == {"invoice": "HP-2026-033"}


def test_a_payment_converted_on_settlement_keeps_the_currency_the_client_paid_in():
    euro = rows("payments-default.csv")[1]
    assert (euro.amount, euro.currency) == (300000, "EUR")
    assert euro.metadata == {"invoice": "HP-2026-029", "instalment": "three-monthly#2"}


def test_jpy_has_no_minor_unit():
    yen = rows("payments-default.csv")[5]
    assert (yen.amount, yen.currency) == (1250000, "JPY")


def test_refunds_and_statuses_are_read_as_written():
    found = {row.id: row for row in rows("payments-default.csv")}
    assert found["ch_3TEST0default06"].status == "Refunded"
    assert found["ch_3TEST0default06"].refunded == 50000
    assert found["ch_3TEST0default06"].refunded_on == date(2026, 11, 19)
    assert found["ch_3TEST0default07"].refunded == 25000
    assert found["py_3TEST0default03"].status == "Pending"
    assert found["ch_3TEST0default04"].captured is False
    assert found[""].status == "requires_payment_method"


def test_the_all_columns_export_gives_links_references_and_disputes():
    link, reference, disputed, _ = rows("payments-all-columns.csv")
    assert link.payment_link == "plink_DEMO_HP-2026-028_full"
    assert link.payment_intent == "pi_3TEST0all01"
    assert reference.client_reference == "HP-2026-030"
    assert (disputed.disputed, disputed.dispute_status, disputed.disputed_on) == (
        168000,
        "lost",
        date(2026, 11, 15),
    )


def test_the_older_export_dates_in_minutes_in_the_business_time_zone():
    (row,) = rows("payments-older.csv")
    assert (row.id, row.day, row.amount, row.currency) == (
        "ch_3TEST0old01",
        date(2026, 11, 22),
        680000,
        "USD",
    )
    (in_los_angeles,) = rows("payments-older.csv", ZoneInfo("America/Los_Angeles"))
    assert in_los_angeles.day == date(2026, 11, 21)  # 00:38 UTC is the evening before there


def test_balance_history_uses_the_customer_facing_amount():
    found = rows("balance-history.csv")
    # `id` is the Source: for a refund, the payment it refunds; the entry's own id is apart.
    assert [(row.kind, row.id, row.transaction) for row in found] == [
        ("charge", "ch_3TEST0default01", "txn_3TEST0bal01"),
        ("charge", "ch_3TEST0bal02", "txn_3TEST0bal02"),
        ("refund", "ch_3TEST0default01", "txn_3TEST0bal03"),
        ("payout", "po_3TEST0bal04", "txn_3TEST0bal04"),
        ("stripe_fee", "", "txn_3TEST0bal05"),
    ]
    assert (found[1].amount, found[1].currency) == (190000, "EUR")
    assert (found[2].amount, found[2].currency) == (-25000, "GBP")


def test_a_malformed_amount_names_file_line_and_column():
    found = list(read_export(FIXTURES / "malformed-amount.csv", "bad.csv", LONDON))
    problems = [str(row) for row in found if isinstance(row, RowProblem)]
    assert problems == [
        "bad.csv:3:3: Amount: `1.320,00` is not an amount (major units with a `.` decimal point, as 1250.00)",
        "bad.csv:4:3: Amount: 1250000.5 is finer than JPY allows (no decimal places)",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("id,Created date (UTC),Amount,Currency,Status", "payments"),
        ("id,Created (UTC),Amount,Currency,Status", "payments"),
        ("id,Type,Source,Amount,Currency,Created (UTC),Available On (UTC)", "balance"),
        (
            "id,Amount,Currency,Status",
            "a Payments export without the column `Created date (UTC)`",
        ),
        (
            "Date,Amount,Payee",
            "not a Stripe export this tool reads: expected the header of the Payments export "
            "(`id,Created date (UTC),Amount,...,Status,...`) or of Balance history "
            "(`id,Type,Source,Amount,...`)",
        ),
    ],
)
def test_exports_are_recognised_by_their_header(header, expected):
    layout = recognise(header.split(","))
    assert (layout if isinstance(layout, str) else layout.export) == expected


def test_columns_may_come_in_any_order(tmp_path):
    export = tmp_path / "shuffled.csv"
    export.write_text(
        "Status,invoice (metadata),Currency,Amount,id,Created date (UTC)\n"
        "Paid,HP-1,eur,10.50,ch_1,2026-01-02 03:04:05\n",
        encoding="utf-8",
    )
    (row,) = list(read_export(export, "shuffled.csv", LONDON))
    assert isinstance(row, StripeRow)
    assert (row.id, row.amount, row.currency, row.metadata) == (
        "ch_1",
        1050,
        "EUR",
        {"invoice": "HP-1"},
    )


def test_a_file_that_is_not_utf8_is_a_problem(tmp_path):
    export = tmp_path / "latin1.csv"
    export.write_bytes(
        b"id,Created date (UTC),Amount,Currency,Status,Description\n"
        b"ch_1,2026-01-02 03:04:05,10.00,eur,Paid,Caf\xe9\n"
    )
    found = [str(row) for row in read_export(export, "latin1.csv", LONDON)]
    assert found == [
        "latin1.csv:1:1: the file is not UTF-8 text (export it again from Stripe, unchanged)"
    ]
