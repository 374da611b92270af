"""Instalment plans: the schedule each plan option gives an invoice."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from notifier import money
from notifier.books import schema
from notifier.books.translated import Translated

FULL = "full"
# Paying in full is named by the theme's words (its own translations), not by the books.
PAY_IN_FULL = Translated.plain("Pay in full")


@dataclass(frozen=True)
class Instalment:
    number: int
    due_date: date
    amount: int


@dataclass(frozen=True)
class PlanOption:
    """A way to pay an invoice: `full` (one instalment on the due date) or an instalment plan."""

    id: str
    name: Translated  # shown in the reader's language (`formatting.name`)
    instalments: tuple[Instalment, ...]


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it is shorter (31 Jan → 28 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@cache
def instalment_dates(first: date, count: int, every: str) -> tuple[date, ...]:
    """Kept by its arguments: thousands of invoices fall due on the same few hundred days, and
    working out a month's length was most of what a plan's schedule cost."""
    if every == "month":
        return tuple(add_months(first, i) for i in range(count))
    step = timedelta(days=7 if every == "week" else 14)
    return tuple(first + i * step for i in range(count))


def plan_options(
    invoice: schema.Invoice,
    plans: dict[str, schema.Plan],
    plan_ids: tuple[str, ...],
    due_date: date,
    to_pay: int,
    currency: str,
) -> tuple[PlanOption, ...]:
    """Pay in full, then each offered plan (unknown ids are left to `check`), then a custom plan."""
    options = [PlanOption(FULL, PAY_IN_FULL, (Instalment(1, due_date, to_pay),))]
    for plan_id in plan_ids:
        plan = plans.get(plan_id)
        if plan is None or plan_id == FULL:
            continue
        dates = instalment_dates(due_date, plan.instalments, plan.every)
        amounts = money.split_evenly(to_pay, plan.instalments)
        options.append(
            PlanOption(
                plan.id,
                plan.name,
                tuple(map(Instalment, range(1, plan.instalments + 1), dates, amounts)),
            )
        )
    custom = invoice.custom_plan
    if custom is not None:
        options.append(
            PlanOption(
                custom.id,
                custom.name,
                tuple(
                    Instalment(i + 1, part.due_date, money.to_minor(part.amount, currency))
                    for i, part in enumerate(custom.instalments)
                ),
            )
        )
    return tuple(options)
