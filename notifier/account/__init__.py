"""The account of the day: what each client owes on a date, how they may pay it, and what happens
next, worked out once per command from the books and the ledger. Every output (pages, PDFs,
payment links, emails, letters, task sheets, `status`, `report`) formats this account; none works
out an amount, a date or a next step of its own.

The value types the outputs read are named here too, so that they import the account, never the
ledger: `from notifier.account import Account, InvoiceAccount, Status`."""

from notifier.account.day import account_of
from notifier.account.model import (
    Account,
    ClientAccount,
    InvoiceAccount,
    Owed,
    PayLink,
    PayOption,
    Step,
)
from notifier.ledger.plans import FULL, Instalment, PlanOption, add_months
from notifier.ledger.reductions import CreditUse, Reduction
from notifier.ledger.state import (
    NOT_SENT,
    SENT,
    EarlyDiscount,
    History,
    InvoiceState,
    NextReminder,
    Status,
    history,
    not_sent,
    signed_minor,
)
from notifier.ledger.totals import Totals

__all__ = [
    "FULL",
    "NOT_SENT",
    "SENT",
    "Account",
    "ClientAccount",
    "CreditUse",
    "EarlyDiscount",
    "History",
    "Instalment",
    "InvoiceAccount",
    "InvoiceState",
    "NextReminder",
    "Owed",
    "PayLink",
    "PayOption",
    "PlanOption",
    "Reduction",
    "Status",
    "Step",
    "Totals",
    "account_of",
    "add_months",
    "history",
    "not_sent",
    "signed_minor",
]
