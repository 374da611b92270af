"""Payment Links: which link each invoice has, and which ones `notifier links` must create, replace
or turn off. Pure: the Stripe calls are in `stripe_api`, the writing in `apply_links`.

A link pays one `target` of an invoice: `full`, or `PLAN#N` (instalment N of plan PLAN). Its
Payment Intent carries the metadata keys `invoice` and `instalment` (the target, when it is an
instalment), so payments through it reach the Payments export already matched. A client with
several invoices open in a currency also has a link for all of them, `statement:CLIENT:CUR`,
whose payments carry the key `statement` (the client) and are spread over those invoices as a
bank transfer of the statement is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from notifier import money
from notifier.account import FULL, ClientAccount, InvoiceAccount, InvoiceState, account_of
from notifier.addresses import Secret, absolute, client_page, client_token
from notifier.books import schema
from notifier.books.load import PAYMENT_LINKS_FILE, Books
from notifier.books.payment_links import (
    Link,
    current_links,
    parse_target,
    statement_links,
    statement_target,
)
from notifier.books.records import append_records

# Planning ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRequest:
    """A Payment Link to create: everything Stripe needs, and the key that makes a retry safe."""

    invoice: str  # empty for a client's statement (target `statement:CLIENT:CUR`)
    target: str
    amount: int
    currency: str
    name: str
    description: str
    metadata: dict[str, str]
    redirect: str
    payment_methods: tuple[str, ...]
    idempotency_key: str


@dataclass(frozen=True)
class LinkPlan:
    """What `notifier links` will do: create `create`, and turn off `deactivate` (each with why)."""

    create: tuple[LinkRequest, ...]
    deactivate: tuple[tuple[Link, str], ...]

    @property
    def empty(self) -> bool:
        return not self.create and not self.deactivate


def wanted_links(invoice: InvoiceAccount) -> dict[str, int]:
    """The links an invoice should have, by target, with the amount each charges: one per way to
    pay its account offers today, for exactly what that way asks (`full`: what settles the
    invoice today, fees and interest included, less the early-payment discount while it lasts;
    a plan offered: `PLAN#1`, its first instalment; the plan chosen: `PLAN#N`, what is due on it
    now). When what a way asks changes, its link is replaced."""
    wanted: dict[str, int] = {}
    for way in invoice.ways:
        if way.id == FULL:
            wanted[FULL] = way.amount
        elif way.chosen:
            first = invoice.due_instalments[0].number if invoice.due_instalments else 1
            wanted[f"{way.id}#{first}"] = way.amount
        else:
            wanted[f"{way.id}#1"] = way.amount
    return {target: amount for target, amount in wanted.items() if amount > 0}


def plan_links(books: Books, as_of: date, secret: Secret) -> LinkPlan:
    """The links to create for every way to pay that lacks one, and the links to turn off: those
    whose amount no longer matches, and those an invoice no longer needs."""
    assert books.settings is not None
    settings = books.settings
    have = current_links(books)
    create: list[LinkRequest] = []
    deactivate: list[tuple[Link, str]] = []
    account = account_of(books, as_of)
    for number, invoice in account.invoices.items():
        state = invoice.state
        wanted = wanted_links(invoice)
        existing = have.get(number, {})
        for target, link in sorted(existing.items()):
            if link.id is None or link.amount is None:
                continue  # written by hand without an id or amount: not the tool's to manage
            if target not in wanted:
                why = f"invoice {number} is {state.status.value}"
                if state.status.is_open:
                    why = f"invoice {number} no longer offers it"
                deactivate.append((link, why))
            elif link.amount != wanted[target]:
                was = money.format_plain(link.amount, state.currency)
                now = money.format_plain(wanted[target], state.currency)
                deactivate.append((link, f"the amount changed from {was} to {now}"))
        for target, amount in wanted.items():
            link_now = existing.get(target)
            if link_now is not None and (link_now.amount in (None, amount)):
                continue
            create.append(_request(settings, state, target, amount, secret))
    for client in account.clients.values():
        statement = _statement_plan(settings, client, statement_links(books), secret)
        create += statement.create
        deactivate += statement.deactivate
    return LinkPlan(tuple(create), tuple(deactivate))


def _statement_plan(
    settings: schema.Settings,
    client: ClientAccount,
    have: dict[tuple[str, str], Link],
    secret: Secret,
) -> LinkPlan:
    """The link of the client's statement in each currency in which several invoices are open,
    for what paying them all at once asks today (`ClientAccount.statement_totals`): created,
    replaced when that changes, turned off when the statement no longer offers it."""
    ident = client.client.id
    wanted = dict(client.statement_totals)
    deactivate: list[tuple[Link, str]] = []
    create: list[LinkRequest] = []
    for (whose, currency), link in sorted(have.items()):
        if whose != ident or link.id is None or link.amount is None:
            continue
        if currency not in wanted:
            why = f"client {ident} no longer has several invoices open in {currency}"
            deactivate.append((link, why))
        elif link.amount != wanted[currency]:
            was = money.format_plain(link.amount, currency)
            now = money.format_plain(wanted[currency], currency)
            deactivate.append((link, f"the amount changed from {was} to {now}"))
    for currency, amount in sorted(wanted.items()):
        link_now = have.get((ident, currency))
        if link_now is not None and link_now.amount in (None, amount):
            continue
        numbers = [i.number for i in client.invoices if i.status.is_open and i.currency == currency]
        target = statement_target(ident, currency)
        name = f"Invoices {', '.join(numbers)}"
        key = hashlib.sha256(
            "\0".join((target, str(amount), currency)).encode("utf-8")
        ).hexdigest()[:32]
        page = client_page(client_token(secret, ident, client.client.page_rotation))
        create.append(
            LinkRequest(
                invoice="",
                target=target,
                amount=amount,
                currency=currency,
                name=name,
                description=f"{name} from {settings.business.name}",
                metadata={"statement": ident},
                redirect=absolute(str(settings.business.portal_url), page),
                payment_methods=tuple(settings.payments.payment_methods),
                idempotency_key=f"notifier-link-{key}",
            )
        )
    return LinkPlan(tuple(create), tuple(deactivate))


def _request(
    settings: schema.Settings, state: InvoiceState, target: str, amount: int, secret: Secret
) -> LinkRequest:
    number = state.invoice.number
    plan, instalment = parse_target(target)
    if plan is None:
        name = f"Invoice {number}"
        metadata = {"invoice": number}
    else:
        count = next(len(o.instalments) for o in state.plans if o.id == plan)
        name = f"Invoice {number}, instalment {instalment} of {count}"
        metadata = {"invoice": number, "instalment": target}
    page = client_page(client_token(secret, state.client.id, state.client.page_rotation))
    key = hashlib.sha256(
        "\0".join((number, target, str(amount), state.currency)).encode("utf-8")
    ).hexdigest()[:32]
    return LinkRequest(
        invoice=number,
        target=target,
        amount=amount,
        currency=state.currency,
        name=name,
        description=f"{name} from {settings.business.name}",
        metadata=metadata,
        redirect=absolute(str(settings.business.portal_url), page),
        payment_methods=tuple(settings.payments.payment_methods),
        idempotency_key=f"notifier-link-{key}",
    )


class ProviderProblem(Exception):
    """The payment provider refused a request or could not be reached."""


class LinkMaker(Protocol):
    """What creates and turns off links at the provider (`stripe_api.StripeLinks`)."""

    def create_link(self, request: LinkRequest) -> tuple[str, str]: ...

    def deactivate_link(self, link_id: str) -> None: ...


@dataclass
class LinkRun:
    """What `carry_out` did: links created (request, id, url), links turned off, and the problem
    that stopped it, if one did."""

    created: list[tuple[LinkRequest, str, str]] = field(default_factory=list)
    deactivated: list[Link] = field(default_factory=list)
    problem: str | None = None


def carry_out(plan: LinkPlan, maker: LinkMaker) -> LinkRun:
    """Create the new links first, then turn off the old ones, so an invoice is never left without
    one; stop at the first refusal and say what was done until then."""
    run = LinkRun()
    try:
        for request in plan.create:
            ident, url = maker.create_link(request)
            run.created.append((request, ident, url))
        for link, _ in plan.deactivate:
            assert link.id is not None
            maker.deactivate_link(link.id)
            run.deactivated.append(link)
    except ProviderProblem as exc:
        run.problem = str(exc)
    return run


def record_links(
    root: Path,
    created: Iterable[tuple[LinkRequest, str, str]],
    deactivated: Iterable[Link],
    at: datetime,
) -> int:
    """Write each created link (request, id, url) and each link turned off to the records, in one
    atomic append; how many lines."""
    return append_records(root / PAYMENT_LINKS_FILE, link_records(created, deactivated, at))


def link_records(
    created: Iterable[tuple[LinkRequest, str, str]], deactivated: Iterable[Link], at: datetime
) -> list[schema.PaymentLinkRecord]:
    """The records of the links turned off, then of those created."""
    records = [
        schema.PaymentLinkRecord(
            invoice=link.invoice or None,  # none for a statement's link
            target=link.target,
            id=link.id or "",
            url=link.url,
            amount=money.to_major(link.amount or 0, link.currency or ""),
            currency=link.currency or "",
            at=at,
            status="deactivated",
        )
        for link in deactivated
    ]
    records += [
        schema.PaymentLinkRecord(
            invoice=request.invoice or None,
            target=request.target,
            id=ident,
            url=url,
            amount=money.to_major(request.amount, request.currency),
            currency=request.currency,
            at=at,
        )
        for request, ident, url in created
    ]
    return records
