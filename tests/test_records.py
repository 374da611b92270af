from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.books.checks import check_books
from notifier.books.load import PAYMENTS_FILE, load_books
from notifier.books.records import append_records, record_line
from notifier.books.schema import Message, Payment
from notifier.books.yamlfile import read_yaml
from notifier.problems import errors
from tests.scratch import example_books


def test_a_payment_is_one_readable_line():
    payment = Payment(
        id="ch_3Pq",
        invoice="HP-2026-022",
        date=date(2026, 11, 20),
        amount=Decimal("1250.50"),
        currency="EUR",
        method="stripe",
        note="Paid: thanks, Jana",
    )
    assert record_line(payment) == (
        "- {id: ch_3Pq, invoice: HP-2026-022, date: 2026-11-20, amount: 1250.50, currency: EUR, "
        "kind: payment, method: stripe, note: 'Paid: thanks, Jana'}\n"
    )


def test_appending_keeps_what_was_there_and_adds_whole_lines(tmp_path):
    path = tmp_path / "data" / "records" / "messages.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(
        "# the record\n- {id: m-0, at: 2026-11-01T09:00:00Z, client: acme, stage: friendly, channel: email, items: [A-1], status: sent}"
    )
    message = Message(
        id="m-1",
        at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        client="acme",
        stage="call",
        channel="phone",
        items=["A-1", "A-2#2"],
        status="task",
    )
    assert append_records(path, [message]) == 1
    lines = path.read_text().splitlines()
    assert lines[0] == "# the record"
    assert lines[2] == (
        "- {id: m-1, at: '2026-11-23T09:30:00Z', client: acme, stage: call, channel: phone, "
        "items: [A-1, A-2#2], status: task, to: []}"
    )
    assert list(tmp_path.rglob("*.tmp")) == []


texts = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool)
)


@given(
    st.builds(
        Payment,
        id=texts,
        invoice=st.from_regex(r"[A-Z]{2}-20[0-9]{2}-[0-9]{3}", fullmatch=True),
        date=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
        amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**9), places=2),
        currency=st.sampled_from(["EUR", "GBP", "USD"]),
        kind=st.sampled_from(["payment", "refund", "chargeback"]),
        method=st.sampled_from(["stripe", "bank"]),
        reference=st.none() | texts,
        note=st.none() | texts,
    )
)
@settings(max_examples=200, deadline=None)
def test_whatever_is_written_loads_back_the_same(tmp_path_factory, payment):
    root = tmp_path_factory.mktemp("books")
    path = root / PAYMENTS_FILE
    append_records(path, [payment])
    file, problems = read_yaml(path, PAYMENTS_FILE)
    assert problems == []
    assert file is not None
    assert [Payment.model_validate(raw) for raw in file.data] == [payment]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1


def test_the_example_payments_survive_a_rewrite(tmp_path):
    root = Path(__file__).resolve().parents[1]
    books, _ = load_books(root)
    path = tmp_path / PAYMENTS_FILE
    append_records(path, books.payments)
    file, problems = read_yaml(path, PAYMENTS_FILE)
    assert problems == []
    assert file is not None
    assert [Payment.model_validate(raw) for raw in file.data] == books.payments


# Each records file whose lines name a record by its id: its last line in the example books,
# written again (as two runs at once did), and what `check` says. imports.yaml is not here: an
# import has no id, only the second it ran at, which two quick imports may share.
WRITTEN_TWICE = {
    "payments.yaml": "data/records/payments.yaml:9: id: payment `bank-20261112-tanaka` is "
    "already recorded at data/records/payments.yaml:8",
    "messages.yaml": "data/records/messages.yaml:21: id: message `20261119-kessler-friendly` is "
    "already recorded as `sent` at data/records/messages.yaml:20",
    "payment-links.yaml": "data/records/payment-links.yaml:22: id: payment link "
    "`plink_DEMO_statement_northfield_USD` is already recorded as `active` at "
    "data/records/payment-links.yaml:21",
}


@pytest.mark.parametrize(("name", "problem"), WRITTEN_TWICE.items(), ids=WRITTEN_TWICE.keys())
def test_a_record_written_twice_is_a_problem_naming_both_lines(tmp_path, name, problem):
    root = example_books(tmp_path)
    path = root / "data" / "records" / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines, lines[-1]]), encoding="utf-8")
    _, problems = check_books(root)
    assert [str(p) for p in errors(problems)] == [problem]
