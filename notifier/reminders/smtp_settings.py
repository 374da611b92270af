"""Where reminders are sent: `NOTIFIER_SMTP_URL`, read into settings, or a `SetupError` that says
what is wrong with it. No message ever shows the password, nor any part of the address that could
be a piece of it (a password with an unescaped `/`, `?` or `#` cuts the address short there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

VARIABLE = "NOTIFIER_SMTP_URL"
EXAMPLE = "smtp://user:password@mail.example.com:587"
OPTIONS = {"timeout": "a number of seconds", "attempts": "a whole number", "retry_delay": "seconds"}


class SetupError(Exception):
    """Sending cannot start, or cannot go on: a wrong address, TLS refused, the mail server out of
    reach, the login or the sender refused. Exit 2; what was not tried goes next run."""


@dataclass(frozen=True)
class SmtpSettings:
    scheme: Literal["smtp", "smtps"]
    host: str
    port: int
    username: str | None
    password: str | None
    timeout: float = 30.0
    attempts: int = 3
    retry_delay: float = 2.0  # doubled after each temporary failure

    def __repr__(self) -> str:  # never show the password in a traceback or a log
        return f"SmtpSettings({self.scheme}://{self.username or ''}@{self.host}:{self.port})"

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """`smtp://user:pass@host:587` (STARTTLS) or `smtps://user:pass@host:465` (TLS from the start),
    with optional query options `timeout`, `attempts`, `retry_delay`. `url` empty: not set."""
    if not url.strip():
        raise SetupError(
            f"{VARIABLE} is not set: sending needs the mail server's address, like {EXAMPLE}"
        )
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise SetupError(
            f"{VARIABLE} must start with smtp:// (STARTTLS) or smtps:// (TLS from the start), "
            f"like {EXAMPLE}"
        )
    if "@" in parts.path + parts.query + parts.fragment:
        raise SetupError(
            f"{VARIABLE}: the user or password holds a `/`, `?` or `#`; write it percent-encoded "
            "(%2F, %3F, %23)"
        )
    if not parts.hostname:
        raise SetupError(f"{VARIABLE} names no mail server: expected {EXAMPLE}")
    if parts.path not in ("", "/") or parts.fragment:
        raise SetupError(f"{VARIABLE}: nothing may follow the server but ?options, like {EXAMPLE}")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:  # the text is not shown: it could be a piece of the password
        raise SetupError(
            f"{VARIABLE}: the port is not a number from 1 to 65535, like {EXAMPLE}"
        ) from None
    options = _options(parts.query)
    return SmtpSettings(
        "smtps" if parts.scheme == "smtps" else "smtp",
        parts.hostname,
        port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        timeout=options.get("timeout", 30.0),
        attempts=int(options.get("attempts", 3)),
        retry_delay=options.get("retry_delay", 2.0),
    )


def _options(query: str) -> dict[str, float]:
    """The query's options, each checked (a value or a name after `?` is not secret)."""
    given = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
    for name in given:
        if name not in OPTIONS:
            raise SetupError(
                f"{VARIABLE}: unknown option `{name}` (the options are {', '.join(OPTIONS)})"
            )
    found: dict[str, float] = {}
    for name, text in given.items():
        try:
            value = int(text) if name == "attempts" else float(text)
        except ValueError:
            value = -1
        if value < 0 or (name == "attempts" and value < 1) or value != value:  # NaN too
            raise SetupError(f"{VARIABLE}: `{name}` must be {OPTIONS[name]}, not `{text}`")
        found[name] = value
    return found
