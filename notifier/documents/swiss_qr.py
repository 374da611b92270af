"""The Swiss QR-bill's payment part for an invoice in francs (CHF, or EUR to a Swiss account is
not offered): made by the `qrbill` package, which checks the IBAN, the addresses, the amount and
the reference by the Swiss Implementation Guidelines, and draws the payment part as SVG."""

from __future__ import annotations

import io
from decimal import Decimal

from notifier.books import schema

CURRENCIES = ("CHF",)
SWISS_IBAN = ("CH", "LI")


def qr_bill_svg(
    business: schema.Business,
    bank: schema.BankAccount,
    client: schema.Client,
    amount: Decimal,
    currency: str,
    reference: str,
    language: str,
) -> str | None:
    """The payment part (receipt and payment slip, 210 by 105 mm) as SVG; None when the invoice
    cannot have one: not in francs, no Swiss IBAN, or what the guidelines refuse (qrbill's own
    checks: an address it cannot place, an amount out of range)."""
    iban = "".join((bank.iban or "").split()).upper()
    if currency not in CURRENCIES or not iban.startswith(SWISS_IBAN):
        return None
    from qrbill import QRBill  # here: only a franc invoice needs it

    creditor = _address(
        bank.account_name or business.legal_name or business.name,
        business.address,
        business.country,
    )
    debtor = _address(client.name, client.address or "", client.country) if client.country else None
    # A structured creditor reference (RF...) goes where banks read it; any other reference is
    # the payment's message.
    structured = reference.upper().startswith("RF")
    try:
        bill = QRBill(
            account=iban,
            creditor=creditor,
            debtor=debtor,
            amount=str(amount),
            currency=currency,
            reference_number=reference if structured else None,
            additional_information="" if structured else reference,
            language=language if language in ("en", "de", "fr", "it") else "en",
            top_line=True,
        )
        out = io.StringIO()
        bill.as_svg(out, full_page=False)
    except ValueError:
        return None
    return out.getvalue()


def _address(name: str, address: str, country: str | None) -> dict[str, str]:
    """A combined address: the name, the street line and the postcode-and-town line."""
    lines = [line.strip() for line in address.strip().splitlines() if line.strip()]
    return {
        "name": name[:70],
        "line1": lines[0][:70] if len(lines) > 1 else "",
        "line2": (lines[1] if len(lines) > 1 else lines[0] if lines else "")[:70],
        "country": country or "",
    }
