"""The one module that talks to Stripe, through the `stripe` package's StripeClient.

Everything else works on plain values: `LinkRequest`s go in, link ids and addresses come out;
PaymentIntents and Checkout Sessions come out as the same `StripeRow`s an export gives, so the API
and the CSV exports share one import. Tests pass their own `stripe.HTTPClient` (the package's own
seam) or point `base` at a local server. The one setting read from the environment is
STRIPE_API_BASE, the address of a local stand-in for Stripe (localstripe, stripe-mock) to use
instead of Stripe's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

import stripe

from notifier import money
from notifier.payments.exports import METADATA_KEYS, StripeRow
from notifier.payments.links import LinkRequest, ProviderProblem

SOURCE = "the Stripe API"
BASE_VARIABLE = "STRIPE_API_BASE"
SESSION_LIFETIME = 24 * 60 * 60  # the longest a Checkout Session stays open, in seconds
# Stripe counts these currencies in whole units or thousandths, and every other in hundredths,
# whatever ISO 4217 says; amounts are converted between the two at this edge only.
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


class StripeProblem(ProviderProblem):
    """Stripe refused a request or could not be reached; the message says which and why."""


def make_client(
    api_key: str, *, http_client: stripe.HTTPClient | None = None, base: str | None = None
) -> stripe.StripeClient:
    """A StripeClient for `api_key`, reaching Stripe at `base`, else at STRIPE_API_BASE when that
    is set (a stand-in such as localstripe on `http://127.0.0.1:8420`), else at Stripe's own
    address; `http_client` is for tests."""
    base = base or os.environ.get(BASE_VARIABLE, "").strip().rstrip("/") or None
    return stripe.StripeClient(
        api_key,
        http_client=http_client,
        base_addresses={"api": base} if base else None,
        max_network_retries=2,  # safe: every write carries an idempotency key
    )


def _stripe_places(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def to_stripe_units(minor: int, currency: str) -> int:
    """An amount in ISO 4217 minor units as Stripe's integer amount."""
    return _rescale(minor, money.exponent(currency), _stripe_places(currency))


def from_stripe_units(amount: int, currency: str) -> int:
    """Stripe's integer amount as ISO 4217 minor units."""
    return _rescale(amount, _stripe_places(currency), money.exponent(currency))


def _rescale(amount: int, places: int, wanted: int) -> int:
    if wanted >= places:
        return amount * int(10 ** (wanted - places))
    whole, rest = divmod(amount, int(10 ** (places - wanted)))
    if rest:
        raise StripeProblem(f"{amount} cannot be written with {wanted} decimal places")
    return whole


def _field(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a Stripe object, or `default` when Stripe left it out."""
    return getattr(obj, name, default)


def _plain(obj: Any) -> dict[str, Any]:
    """A Stripe object (such as `metadata`) as a plain dict; empty when absent."""
    if obj is None:
        return {}
    return dict(obj.to_dict()) if hasattr(obj, "to_dict") else dict(obj)


def _fail(exc: stripe.StripeError) -> StripeProblem:
    status = f" (HTTP {exc.http_status})" if exc.http_status else ""
    message = exc.user_message or str(exc) or type(exc).__name__
    message = " ".join(message.split())  # one line: it goes in a summary and an email's list
    return StripeProblem(f"Stripe said{status}: {message}")


# Payment Links ----------------------------------------------------------------------------------


def link_params(request: LinkRequest) -> dict[str, Any]:
    """The form of a Payment Link create request, as the stripe package takes it."""
    params: dict[str, Any] = {
        "line_items": [
            {
                "price_data": {
                    "currency": request.currency.lower(),
                    "product_data": {"name": request.name},
                    "unit_amount": to_stripe_units(request.amount, request.currency),
                },
                "quantity": 1,
            }
        ],
        "metadata": dict(request.metadata),
        "payment_intent_data": {
            "description": request.description,
            "metadata": dict(request.metadata),
        },
        "restrictions": {"completed_sessions": {"limit": 1}},
        "after_completion": {"type": "redirect", "redirect": {"url": request.redirect}},
    }
    if request.payment_methods:
        params["payment_method_types"] = list(request.payment_methods)
    return params


class StripeLinks:
    """Creates and turns off Payment Links (the `LinkMaker` that `notifier links` uses)."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    def create_link(self, request: LinkRequest) -> tuple[str, str]:
        """Create the link; its id and address. The idempotency key makes a retry safe."""
        try:
            link = self.client.v1.payment_links.create(
                cast(Any, link_params(request)),
                {"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _fail(exc) from None
        return str(link.id), str(link.url)

    def deactivate_link(self, link_id: str) -> None:
        try:
            self.client.v1.payment_links.update(
                link_id,
                {"active": False},
                {"idempotency_key": f"notifier-deactivate-{link_id}"},
            )
        except stripe.StripeError as exc:
            raise _fail(exc) from None


# Payments ---------------------------------------------------------------------------------------


def payment_rows(
    client: stripe.StripeClient,
    since: date | None,
    zone: ZoneInfo,
    *,
    checkout_sessions: bool = True,
) -> Iterator[StripeRow]:
    """Every PaymentIntent created on or after `since` (all if None), as rows for `reconcile`:
    the charge's id, its amount and refunds, the PaymentIntent's metadata and description, and
    from its Checkout Session the Client Reference ID and Payment Link."""
    created: dict[str, Any] = {}
    opened: dict[str, Any] = {}
    if since is not None:
        start = int(datetime.combine(since, time(), tzinfo=zone).astimezone(UTC).timestamp())
        created = {"created": {"gte": start}}
        # A PaymentIntent is made when its Checkout Session is paid, which can be up to a day
        # after the Session was opened (they expire after 24 hours at most).
        opened = {"created": {"gte": start - SESSION_LIFETIME}}
    try:
        sessions = _sessions(client, opened) if checkout_sessions else {}
        intents = client.v1.payment_intents.list(cast(Any, {"limit": 100, **created}))
        for line, intent in enumerate(intents.auto_paging_iter(), start=1):
            yield _intent_row(client, intent, line, zone, sessions)
    except stripe.StripeError as exc:
        raise _fail(exc) from None


def _sessions(client: stripe.StripeClient, opened: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The Client Reference ID and Payment Link of each PaymentIntent paid through Checkout. A
    stand-in for Stripe that has no Checkout (localstripe answers 404) has none to give."""
    sessions: dict[str, tuple[str, str]] = {}
    try:
        listed = client.v1.checkout.sessions.list(cast(Any, {"limit": 100, **opened}))
    except stripe.StripeError as exc:
        if exc.http_status == 404:
            return sessions
        raise
    for session in listed.auto_paging_iter():
        intent = _field(session, "payment_intent")
        if intent:
            sessions[str(intent)] = (
                str(_field(session, "client_reference_id") or ""),
                str(_field(session, "payment_link") or ""),
            )
    return sessions


def _intent_row(
    client: stripe.StripeClient,
    intent: Any,
    line: int,
    zone: ZoneInfo,
    sessions: dict[str, tuple[str, str]],
) -> StripeRow:
    currency = str(intent.currency).upper()
    status = str(intent.status)
    charge_id = _field(intent, "latest_charge")
    if status != "succeeded" or not charge_id:
        return StripeRow(SOURCE, line, "payments", "", date.min, status, currency, 0)
    # Stripe gives the charge's id unless asked to expand it; some servers expand it anyway.
    charge = charge_id if _field(charge_id, "id") else client.v1.charges.retrieve(str(charge_id))
    day = datetime.fromtimestamp(int(charge.created), UTC).astimezone(zone).date()
    reference, payment_link = sessions.get(str(intent.id), ("", ""))
    metadata = {
        key: str(value)
        for key, value in _plain(_field(intent, "metadata")).items()
        if key in METADATA_KEYS
    }
    disputed, dispute_status, disputed_on = 0, "", None
    if _field(charge, "disputed"):
        for dispute in client.v1.disputes.list({"charge": str(charge.id)}).auto_paging_iter():
            disputed = from_stripe_units(int(dispute.amount), currency)
            dispute_status = str(dispute.status)
            disputed_on = datetime.fromtimestamp(int(dispute.created), UTC).astimezone(zone).date()
    captured = bool(_field(charge, "captured", True))
    received = (
        _field(intent, "amount_received")
        or _field(charge, "amount_captured")
        or (_field(charge, "amount") if captured else 0)
    )
    return StripeRow(
        source=SOURCE,
        line=line,
        export="payments",
        id=str(charge.id),
        day=day,
        status="succeeded" if captured else "uncaptured",
        currency=currency,
        amount=from_stripe_units(int(received), currency),
        refunded=from_stripe_units(int(_field(charge, "amount_refunded") or 0), currency),
        description=str(_field(intent, "description") or _field(charge, "description") or ""),
        metadata=metadata,
        payment_link=payment_link,
        client_reference=reference,
        payment_intent=str(intent.id),
        disputed=disputed,
        dispute_status=dispute_status,
        disputed_on=disputed_on,
    )
