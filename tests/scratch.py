"""Small books built in code, for tests of the pure core."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from notifier.books import schema
from notifier.ledger.state import InvoiceState, invoice_state

BUSINESS: dict[str, Any] = {
    "business": {
        "name": "Test Studio",
        "email": "accounts@studio.example.com",
        "address": "1 Test Street, London",
        "country": "GB",
        "timezone": "Europe/London",
        "currency": "GBP",
        "locale": "en_GB",
        "portal_url": "https://pay.studio.example.com/",
    },
    "terms": {"net_days": 30},
    "plans": [{"id": "three-monthly", "name": "3 monthly instalments", "instalments": 3}],
    "policies": {
        "standard": [
            {"name": "courtesy", "day": -3, "text": "courtesy"},
            {"name": "friendly", "day": 1, "text": "friendly"},
            {"name": "follow-up", "day": 14, "text": "follow-up"},
            {"name": "call", "day": 30, "channel": "phone", "text": "call"},
            {"name": "final", "day": 45, "text": "final", "deadline_days": 14},
        ]
    },
}


def settings(policies: dict[str, Any] | None = None, **terms: Any) -> schema.Settings:
    found = {**BUSINESS, "terms": {"net_days": 30, **terms}}
    if policies is not None:
        found["policies"] = policies
    return schema.Settings.model_validate(found)


def client(**fields: Any) -> schema.Client:
    return schema.Client.model_validate(
        {"id": "acme", "name": "Acme Ltd", "contacts": [{"email": "ap@acme.example.com"}], **fields}
    )


def invoice(**fields: Any) -> schema.Invoice:
    base: dict[str, Any] = {
        "number": "INV-1",
        "client": "acme",
        "issue_date": date(2026, 9, 1),
        "due_date": date(2026, 10, 1),
        "lines": [{"description": "Design", "unit_price": "1000.00"}],
    }
    return schema.Invoice.model_validate({**base, **fields})


def payment(day: date, amount: str, **fields: Any) -> schema.Payment:
    return schema.Payment.model_validate(
        {
            "id": f"p-{day}-{amount}-{fields.get('kind', 'payment')}",
            "invoice": "INV-1",
            "date": day,
            "amount": amount,
            "currency": "GBP",
            **fields,
        }
    )


def state(
    inv: schema.Invoice,
    as_of: date,
    payments: Iterable[schema.Payment] = (),
    *,
    books: schema.Settings | None = None,
    who: schema.Client | None = None,
    sent: dict[str, dict[str, date]] | None = None,
) -> InvoiceState:
    return invoice_state(
        books or settings(), who or client(), inv, list(payments), sent or {}, as_of
    )


EXAMPLE = Path(__file__).resolve().parents[1]


def example_books(tmp: Path) -> Path:
    """A copy of the example books (data/, content/, site/) that a test may change and append to."""
    root = tmp / "books"
    for part in ("data", "content", "site"):
        shutil.copytree(EXAMPLE / part, root / part)
    return root
