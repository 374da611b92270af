"""The shape of the books: what each YAML file may say, field by field.

Every model forbids unknown keys and is frozen. Amounts are Decimal in major units as written in the
YAML (the loader never makes floats); `notifier.books.load` turns them into minor units once the
currency is known. docs/books.md documents every field here; a test keeps the two in step.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from notifier import brand, money
from notifier.books import bounds
from notifier.books.translated import Translated, translated


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        str_strip_whitespace=True,
        defer_build=True,
    )


# Field types ------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _email(value: str) -> str:
    """pydantic's EmailStr check (email-validator, same errors), remembered: the books repeat the
    same few thousand addresses in every message record."""
    # Here, as the two checks below: only books read afresh are checked, not those from the cache.
    from pydantic.networks import validate_email

    address = validate_email(value)[1]
    local = address.rpartition("@")[0]
    if not local.isascii():
        # Such an address needs SMTPUTF8 mail end to end; notifier sends plain SMTP, so it would
        # stop `remind` with the email already due.
        raise ValueError(
            f"`{address}` has letters beyond ASCII before the @, which plain email cannot carry; "
            "ask the client for an address without them"
        )
    return address


Email = Annotated[str, AfterValidator(_email)]


def _currency(value: str) -> str:
    money.exponent(value)  # raises CurrencyError (a ValueError) with a message naming the code
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"`{value}` is not a time zone name (for example Europe/Berlin)") from None
    return value


def _locale(value: str) -> str:
    value = value.replace("-", "_")
    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"`{value}` is not a locale (for example en_GB or de_DE)") from None
    return value


def _percent(value: Any) -> Any:
    """`8%`, `8` and `8.5` all mean a percentage; the sign is optional in the YAML."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return value.strip()[:-1].strip()
    return value


def _country(value: str) -> str:
    if value not in Locale("en").territories or not value.isalpha():
        raise ValueError(f"`{value}` is not a two-letter country code (ISO 3166, for example DE)")
    return value


def _iban(value: str) -> str:
    from stdnum import iban as stdnum_iban

    if not stdnum_iban.is_valid(value):
        raise ValueError(f"`{value}` is not a valid IBAN (the check digits do not match)")
    return str(stdnum_iban.compact(value))


def _bic(value: str) -> str:
    from stdnum import bic as stdnum_bic

    if not stdnum_bic.is_valid(value):
        raise ValueError(f"`{value}` is not a valid BIC (8 or 11 letters and digits)")
    return str(stdnum_bic.compact(value))


NAME_PATTERN = r"[a-z0-9][a-z0-9_-]*"
NUMBER_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]*"
STATEMENT_TARGET = "statement:"  # a Payment Link's target for a client's whole statement

Currency = Annotated[str, AfterValidator(_currency)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
LocaleName = Annotated[str, AfterValidator(_locale)]
Country = Annotated[str, AfterValidator(_country)]
Percent = Annotated[Decimal, BeforeValidator(_percent), Field(ge=0, le=100)]
Amount = Annotated[Decimal, Field(ge=0, lt=bounds.AMOUNT_LIMIT, allow_inf_nan=False)]
PositiveAmount = Annotated[Decimal, Field(gt=0, lt=bounds.AMOUNT_LIMIT, allow_inf_nan=False)]
Quantity = Annotated[Decimal, Field(gt=0, lt=bounds.QUANTITY_LIMIT, allow_inf_nan=False)]
Name = Annotated[str, Field(pattern=f"^{NAME_PATTERN}$", max_length=64)]
InvoiceNumber = Annotated[str, Field(pattern=f"^{NUMBER_PATTERN}$", max_length=64)]
Iban = Annotated[str, AfterValidator(_iban)]
Bic = Annotated[str, AfterValidator(_bic)]
Text = Annotated[str, Field(min_length=1)]
Colour = Annotated[str, AfterValidator(brand.colour)]  # `#rrggbb`, legible against white
LogoPath = Annotated[str, AfterValidator(brand.logo_path)]  # an .svg or .png within site/
# Text, or text per language (`{en: ..., de: ...}`): each reader sees it in their language.
TranslatedText = Annotated[Translated, PlainValidator(translated)]


def _in_range(value: date) -> date:
    problem = bounds.out_of_range(value.date() if isinstance(value, datetime) else value)
    if problem is not None:
        raise ValueError(problem)
    return value


Day = Annotated[date, AfterValidator(_in_range)]
Moment = Annotated[datetime, AfterValidator(_in_range)]
# `true` or `false` only: pydantic would also take `yes`, `on`, `1` and `"true"`, which the YAML
# reads as text or a number (docs/books.md).
YesNo = Annotated[bool, Field(strict=True)]


# The business -----------------------------------------------------------------------------------


class BankAccount(Model):
    """Where a client can send a bank transfer; shown for invoices in `currency`, or all if unset."""

    currency: Currency | None = None
    account_name: Text
    bank_name: str | None = None
    iban: Iban | None = None
    bic: Bic | None = None
    sort_code: str | None = None
    account_number: str | None = None
    routing_number: str | None = None
    bank_address: str | None = None
    note: str | None = None


class Business(Model):
    name: Text
    legal_name: str | None = None
    email: Email
    reply_to: Email | None = None
    owner_email: Email | None = None  # where the owner's daily email goes; default: `email`
    phone: str | None = None
    address: Text
    country: Country
    tax_id: str | None = None
    website: HttpUrl | None = None
    timezone: TimeZone
    currency: Currency
    locale: LocaleName
    portal_url: HttpUrl
    bank_accounts: list[BankAccount] = []
    logo: LogoPath | None = None
    accent: Colour | None = None


class EarlyPaymentDiscount(Model):
    """`percent` off when the invoice is paid in full within `days` of its issue date."""

    percent: Annotated[Percent, Field(gt=0)]
    days: Annotated[int, Field(ge=1)]


LateRegime = Literal["none", "contractual", "uk_statutory", "eu_statutory"]


class LatePayment(Model):
    """What lateness costs. `contractual`: a fixed `fee` (per currency) and/or simple
    `annual_interest`. `uk_statutory` / `eu_statutory`: `reference_rate` plus 8 points, and the
    statutory fixed compensation."""

    regime: LateRegime = "none"
    fee: dict[Currency, Amount] = {}
    annual_interest: Percent | None = None
    reference_rate: Annotated[Decimal, BeforeValidator(_percent), Field(ge=-10, le=100)] | None = (
        None
    )
    reference_rate_note: str | None = None
    grace_days: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _fits_regime(self) -> LatePayment:
        statutory = self.regime in ("uk_statutory", "eu_statutory")
        if statutory and self.reference_rate is None:
            raise ValueError(
                f"the {self.regime} regime needs `reference_rate` (the central bank rate)"
            )
        if self.regime == "contractual" and not self.fee and self.annual_interest is None:
            raise ValueError("the contractual regime needs a `fee`, an `annual_interest`, or both")
        if self.regime != "contractual" and (self.fee or self.annual_interest is not None):
            raise ValueError("`fee` and `annual_interest` are for `regime: contractual`")
        if not statutory and self.reference_rate is not None:
            raise ValueError("`reference_rate` is for the uk_statutory and eu_statutory regimes")
        return self


class Terms(Model):
    net_days: Annotated[int, Field(ge=0, le=365)] = 30
    late_payment: LatePayment = LatePayment()
    early_payment_discount: EarlyPaymentDiscount | None = None
    plans: list[Name] = []
    due_soon_days: Annotated[int, Field(ge=0, le=60)] = 7
    # Per currency: an invoice owing less than this gets no reminders (its page still says it).
    not_chased_below: dict[Currency, PositiveAmount] = {}


class TermsOverride(Model):
    """Terms for one client: any field given here replaces the business's default."""

    net_days: Annotated[int, Field(ge=0, le=365)] | None = None
    late_payment: LatePayment | None = None
    early_payment_discount: EarlyPaymentDiscount | None = None
    plans: list[Name] | None = None


class Plan(Model):
    """An instalment plan: `instalments` equal parts, the first on the due date, then one each `every`."""

    id: Name
    name: TranslatedText
    instalments: Annotated[int, Field(ge=2, le=36)]
    every: Literal["week", "fortnight", "month"] = "month"


Channel = Literal["email", "phone", "collections", "legal"]


# The stage that sends the invoice itself goes on its issue date, not a number of days from its due.
ISSUED: Literal["issued"] = "issued"


def _stage_day(value: Any) -> Any:
    """A stage's `day` as written: a whole number, or `issued`; anything else said plainly (the
    union's own errors name both of its halves at once)."""
    if isinstance(value, str) and value.strip() != ISSUED:
        try:
            return int(value.strip())
        except ValueError:
            raise ValueError(
                "expected days after the due date (negative: before it) or `issued`, "
                f"got `{value.strip()}`"
            ) from None
    return value


StageDay = Annotated[
    Annotated[int, Field(ge=-90, le=730)] | Literal["issued"], BeforeValidator(_stage_day)
]


class Stage(Model):
    """One step of an escalation policy, `day` days after the due date (negative: before it), or,
    with `day: issued`, the invoice itself sent on its issue date."""

    name: Name
    day: StageDay
    channel: Channel = "email"
    text: Name
    deadline_days: Annotated[int, Field(ge=1, le=90)] | None = None

    @model_validator(mode="after")
    def _deadline_by_email(self) -> Stage:
        if self.deadline_days is not None and self.channel != "email":
            raise ValueError("`deadline_days` is for a final notice sent by email")
        if self.day == ISSUED and (self.channel != "email" or self.deadline_days is not None):
            raise ValueError("the `issued` stage sends the invoice by email, with no deadline_days")
        return self

    @property
    def issued(self) -> bool:
        """The stage sends the invoice itself, on its issue date."""
        return self.day == ISSUED

    @property
    def order(self) -> int:
        """Where the stage comes in a policy, by day: the invoice's own email before any other."""
        return -1000 if isinstance(self.day, str) else self.day

    def date_for(self, issue_date: date, due_date: date) -> date:
        """The day the stage falls on for an invoice (or instalment) issued and due so."""
        if isinstance(self.day, str):
            return issue_date
        return due_date + timedelta(days=self.day)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# When a run emails the owner what it did and what needs a person: after every run (at most once a
# day), only when it did something or needs someone, or never.
OwnerEmail = Literal["always", "on-action", "never"]


class Reminders(Model):
    """How reminders go out: the default policy, the weekdays (in each client's time zone) on which
    emails may go, the most emails one run sends, how recent a payment must be to be thanked, and
    from which issue date invoices are sent by the `issued` stage."""

    policy: Name = "standard"
    sending_days: Annotated[list[Weekday], Field(min_length=1)] = list(WEEKDAYS)
    per_run: Annotated[int, Field(ge=1, le=10000)] = 100
    thanks_within_days: Annotated[int, Field(ge=0, le=90)] = 7
    # Invoices issued before this day are not sent by the `issued` stage (they went before the
    # tool did); unset: the day the first invoice email was recorded, else the run's own day.
    send_invoices_from: Day | None = None
    owner_email: OwnerEmail = "on-action"


# Where imported payments come from: Stripe (exports or the API) or the business's bank statements.
PaymentSource = Literal["stripe", "bank"]


class BankCsvColumns(Model):
    """The header of each column of the bank's CSV statement that notifier reads."""

    date: Annotated[str, Field(min_length=1)]
    amount: Annotated[str, Field(min_length=1)]
    currency: Annotated[str, Field(min_length=1)]
    remittance: Annotated[str, Field(min_length=1)]
    counterparty: Annotated[str, Field(min_length=1)] | None = None
    id: Annotated[str, Field(min_length=1)] | None = None
    account: Annotated[str, Field(min_length=1)] | None = None


class BankCsv(Model):
    """How to read the business's bank's CSV statement (`payments.bank_csv`), mapped once."""

    columns: BankCsvColumns
    date_format: Annotated[str, Field(min_length=2)] = "%Y-%m-%d"
    decimal: Literal[".", ","] = "."
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    encoding: str = "utf-8"


class PaymentSettings(Model):
    """How payments reach the books. `sources`: where they are imported from; reminders are not
    sent unless every one of them was imported within `stale_after_days` (null: no imports are
    expected, payments are recorded by hand)."""

    sources: Annotated[list[PaymentSource], Field(min_length=1)] = ["stripe"]
    stale_after_days: Annotated[int, Field(ge=1, le=60)] | None = 3
    # Stripe's payment method types (`card`, `sepa_debit`, ...) offered on the Payment Links that
    # `notifier links` creates; empty: the ones turned on in Stripe's dashboard.
    payment_methods: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]] = []
    # What a client writes on a bank transfer: an ISO 11649 `RF` reference made from the invoice
    # number (the EPC QR code carries it as a structured reference), or the invoice number itself.
    creditor_reference: Literal["rf", "invoice-number"] = "rf"
    # One transfer for several items is spread oldest due first; with this, every item's fees and
    # interest are paid before any principal (only if the business's terms say so).
    charges_first: YesNo = False
    bank_csv: BankCsv | None = None


class Settings(Model):
    """`data/business.yaml`."""

    business: Business
    terms: Terms = Terms()
    plans: list[Plan] = []
    policies: dict[Name, list[Stage]]
    reminders: Reminders = Reminders()
    payments: PaymentSettings = PaymentSettings()


# Clients ----------------------------------------------------------------------------------------


class Contact(Model):
    name: str | None = None
    email: Email | None = None
    phone: str | None = None
    role: str | None = None


class Pause(Model):
    """Reminders to this client are held until `until` (inclusive), for `reason`."""

    until: Day
    reason: Text


class Client(Model):
    id: Name
    name: Text
    contacts: list[Contact] = []
    address: str | None = None
    country: Country | None = None
    tax_id: str | None = None
    locale: LocaleName | None = None
    currency: Currency | None = None
    timezone: TimeZone | None = None
    policy: Name | None = None
    terms: TermsOverride | None = None
    pause: Pause | None = None
    notes: str | None = None
    page_rotation: Annotated[int, Field(ge=0)] = 0


# Invoices ---------------------------------------------------------------------------------------


class Line(Model):
    description: Text
    quantity: Quantity = Decimal(1)
    unit: str | None = None
    unit_price: Amount
    tax_rate: Percent = Decimal(0)


class Discount(Model):
    """A discount on the whole invoice, before tax: a `percent` or an `amount`, not both."""

    percent: Annotated[Percent, Field(gt=0)] | None = None
    amount: PositiveAmount | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Discount:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("give either `percent` or `amount`")
        return self


class Deposit(Model):
    """An advance the client paid before the invoice; it counts as paid."""

    amount: PositiveAmount
    date: Day
    reference: str | None = None


class CustomInstalment(Model):
    due_date: Day
    amount: PositiveAmount


class CustomPlan(Model):
    """A plan agreed for this invoice alone, with its own dates and amounts."""

    id: Name = "custom"
    name: TranslatedText
    instalments: Annotated[list[CustomInstalment], Field(min_length=2)]


class Void(Model):
    date: Day
    reason: Text


class Dispute(Model):
    since: Day
    reason: Text


class Promise(Model):
    """The client promised to pay by `by`; reminders wait until then."""

    by: Day
    made: Day | None = None
    note: str | None = None


class PaymentLink(Model):
    """A Stripe Payment Link; `target` is `full` or `PLAN#N` (instalment N of a plan)."""

    target: Annotated[str, Field(pattern=rf"^(full|{NAME_PATTERN}#[1-9][0-9]?)$")]
    url: HttpUrl
    id: str | None = None
    amount: Amount | None = None


class CreditNote(Model):
    """A document with its own `number` that reduces the invoice it is written in, from `date`:
    by `amount` (tax included) or by the total of its `lines`, not both, for `reason`."""

    number: InvoiceNumber
    date: Day
    amount: PositiveAmount | None = None
    lines: Annotated[list[Line], Field(min_length=1)] | None = None
    reason: Text

    @model_validator(mode="after")
    def _amount_or_lines(self) -> CreditNote:
        if (self.amount is None) == (self.lines is None):
            raise ValueError("give either `amount` or `lines`")
        return self


_POSITIVE_AMOUNT: TypeAdapter[Decimal] = TypeAdapter(PositiveAmount)


def _amount_or_rest(value: Any) -> Decimal | Literal["rest"]:
    if value == "rest":
        return "rest"
    if isinstance(value, str) and not value.replace(".", "", 1).isdigit():
        raise ValueError(f"give an amount like 25.00, or `rest`, not `{value}`")
    try:
        return _POSITIVE_AMOUNT.validate_python(value)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"].lower()) from None


class WriteOff(Model):
    """What the business gave up collecting on `date`, for `reason`: an `amount`, or `rest` (what
    remains of the invoice amount that day; fees and interest are then no longer claimed)."""

    date: Day
    amount: Annotated[Decimal | Literal["rest"], PlainValidator(_amount_or_rest)]
    reason: Text


class Invoice(Model):
    number: InvoiceNumber
    client: Name
    issue_date: Day
    due_date: Day | None = None
    net_days: Annotated[int, Field(ge=0, le=365)] | None = None
    currency: Currency | None = None
    lines: Annotated[list[Line], Field(min_length=1)]
    discount: Discount | None = None
    deposit: Deposit | None = None
    notes: str | None = None
    plans: list[Name] | None = None
    custom_plan: CustomPlan | None = None
    early_payment_discount: EarlyPaymentDiscount | None = None
    payment_links: list[PaymentLink] = []
    draft: YesNo = False
    void: Void | None = None
    dispute: Dispute | None = None
    promise: Promise | None = None
    waive_fees: YesNo = False
    purchase_order: str | None = None
    credit_notes: list[CreditNote] = []
    write_off: WriteOff | None = None

    @model_validator(mode="after")
    def _due_or_net(self) -> Invoice:
        if self.due_date is not None and self.net_days is not None:
            raise ValueError("give `due_date` or `net_days`, not both")
        return self


# Records the tool writes ------------------------------------------------------------------------


class Payment(Model):
    """Money in (`payment`) or back out (`refund`, `chargeback`) for one invoice; `id` is the
    provider's id (or the business's own reference for a bank transfer) and is never reused."""

    id: Annotated[str, Field(min_length=1, max_length=255)]
    invoice: InvoiceNumber
    date: Day
    amount: PositiveAmount
    currency: Currency
    kind: Literal["payment", "refund", "chargeback"] = "payment"
    method: Literal["stripe", "bank", "card", "cash", "cheque", "other"] = "bank"
    plan: Name | None = None
    instalment: Annotated[int, Field(ge=1, le=36)] | None = None
    reference: str | None = None
    note: str | None = None
    recorded: Moment | None = None

    @model_validator(mode="after")
    def _instalment_names_plan(self) -> Payment:
        if (self.plan is None) != (self.instalment is None):
            raise ValueError("`plan` and `instalment` go together")
        return self


class Message(Model):
    """A reminder or task, recorded before sending (`sending`) and again after (`sent`, `failed`,
    `deferred`: refused for the time being; `unsent`: a person found it never went), so one `id`
    appears once per status. `items` name what it was about: an invoice number, or `NUMBER#N` for
    instalment N."""

    id: Annotated[str, Field(min_length=1)]
    at: Moment
    client: Name
    stage: Name
    channel: Channel | Literal["thanks", "owner"]
    items: list[Annotated[str, Field(pattern=rf"^{NUMBER_PATTERN}(#[1-9][0-9]?)?$")]] = []
    status: Literal["sending", "sent", "failed", "deferred", "unsent", "task", "done"]
    to: list[Email] = []
    subject: str | None = None
    note: str | None = None
    payments: list[Annotated[str, Field(min_length=1, max_length=255)]] | None = None

    @model_validator(mode="after")
    def _about_something(self) -> Message:
        if self.channel == OWNER and (self.client, self.stage) != (OWNER, OWNER):
            raise ValueError("the owner's email is recorded with `client: owner, stage: owner`")
        if self.channel != OWNER and not self.items:
            raise ValueError("items: name at least one invoice")
        return self


# The owner's daily email is recorded in messages.yaml with this channel, client and stage.
OWNER = "owner"


class ReviewRecord(Model):
    """A payment an import could not match, waiting for a person (`open`), one line each in
    `data/records/review.yaml`; a second line `resolved` once a later import matched it.
    `candidates`: invoice numbers it might be for, the likeliest first."""

    id: Annotated[str, Field(min_length=1, max_length=255)]
    at: Moment
    source: Annotated[str, Field(min_length=1)]
    amount: Annotated[str, Field(min_length=1)]
    reason: Annotated[str, Field(min_length=1)]
    candidates: list[InvoiceNumber] = []
    status: Literal["open", "resolved"] = "open"


class Import(Model):
    """One run of `notifier reconcile`: when, from where, the newest payment it saw, and counts."""

    at: Moment
    source: Annotated[str, Field(min_length=1)]
    via: PaymentSource = "stripe"
    newest: Day | None = None
    rows: Annotated[int, Field(ge=0)] = 0
    applied: Annotated[int, Field(ge=0)] = 0
    review: Annotated[int, Field(ge=0)] = 0


class PaymentLinkRecord(Model):
    """A Stripe Payment Link that `notifier links` created (`active`) or turned off
    (`deactivated`), one line each, in `data/records/payment-links.yaml`. The latest line for an
    invoice's `target` is the link its page shows and reconcile matches. A link for a client's
    whole statement in one currency (`statement:CLIENT:CUR`) names no invoice."""

    invoice: InvoiceNumber | None = None
    target: Annotated[
        str,
        Field(pattern=rf"^(full|{NAME_PATTERN}#[1-9][0-9]?|statement:{NAME_PATTERN}:[A-Z]{{3}})$"),
    ]
    id: Annotated[str, Field(min_length=1, max_length=255)]
    url: HttpUrl
    amount: PositiveAmount
    currency: Currency
    at: Moment
    status: Literal["active", "deactivated"] = "active"

    @model_validator(mode="after")
    def _invoice_or_statement(self) -> PaymentLinkRecord:
        if self.target.startswith(STATEMENT_TARGET):
            if self.invoice is not None:
                raise ValueError("a link for a client's statement names no `invoice`")
            named = self.target.rpartition(":")[2]
            if named != self.currency:
                raise ValueError(f"the target is for {named}, but `currency` is {self.currency}")
        elif self.invoice is None:
            raise ValueError(
                "give the `invoice` the link pays (only a `statement:` target has none)"
            )
        return self
