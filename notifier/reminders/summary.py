"""The lines a person reads after `remind`: what went (or would go), the tasks, what waits, and
what needs a person's eye. Text only; the command line prints it."""

from __future__ import annotations

from notifier.reminders.deliver import Report
from notifier.reminders.placeholders import phone_line

MODES = {
    "dry-run": "dry run: nothing is sent or recorded",
    "outbox": "outbox: messages written as files, nothing sent or recorded",
    "send": "sending",
}


def summary_lines(report: Report, mode: str) -> list[str]:
    plan = report.plan
    lines = [f"Reminders as of {plan.as_of} ({MODES[mode]})"]
    outcome = {id(composed): delivery for composed, delivery in report.deliveries}
    for composed in report.composed:
        email = composed.email
        delivery = outcome.get(id(composed))
        status: str = "email" if delivery is None else delivery.status
        if mode == "send" and delivery is None:
            status = "waiting"  # not tried: the run stopped before it (the server, the login)
        items = ", ".join([i.target for i in email.items] + [r.payment.id for r in email.receipts])
        line = (
            f"{status:<9} {email.client.id:<14} {email.stage_name:<13} "
            f"to {', '.join(composed.to)}: {composed.subject} [{items}]"
        )
        if delivery is not None and delivery.detail:
            line += f" ({delivery.detail})"
        lines.append(line)
    for sheet in report.tasks:
        task = sheet.task
        items = ", ".join(i.target for i in task.items)
        extra = phone_line(task.client)
        if task.channel in ("collections", "legal"):
            bundle = next((str(p) for p in report.written if p.name == f"{task.id}.zip"), "")
            extra = f"bundle {bundle}" if bundle else "bundle written when sent for real"
        lines.append(f"task      {task.client.id:<14} {task.stage.name:<13} {items}: {extra}")
    for waiting in plan.waiting:
        lines.append(f"waiting   {waiting.client.id:<14} {waiting.stage:<13} {waiting.reason}")
    for message in plan.unresolved:
        lines.append(
            f"check     {message.client:<14} {message.stage:<13} `{message.id}` was being sent "
            f"on {message.at.date()} when a run stopped: it may have gone. {_settle(message.id)}"
        )
    for composed, delivery in report.deliveries:
        if delivery.status == "uncertain":
            lines.append(
                f"check     {composed.email.client.id:<14} {composed.email.stage_name:<13} "
                f"`{composed.email.id}`: the connection was lost after the message went: it may "
                f"have gone. {_settle(composed.email.id)}"
            )
    lines.extend(f"problem   {problem}" for problem in report.problems)
    emails, tasks = len(report.composed), len(report.tasks)
    counts = [
        f"{emails} email{'s' if emails != 1 else ''}",
        f"{tasks} task{'s' if tasks != 1 else ''}",
    ]
    if report.deliveries:
        counts.append(f"{report.count('sent')} sent")
        for status in ("deferred", "failed", "uncertain"):
            if report.count(status):
                counts.append(f"{report.count(status)} {status}")
    if plan.waiting:
        counts.append(f"{len(plan.waiting)} waiting")
    lines.append(", ".join(counts))
    return lines


def _settle(message_id: str) -> str:
    """How a person settles a message in doubt."""
    return (
        "Check the sent mail, then record what became of it: "
        f"`notifier remind --resolve {message_id} sent` if it went, `unsent` if not (its "
        "reminder goes again at the next run). Until then it is never resent, and its invoices "
        "get nothing more."
    )
