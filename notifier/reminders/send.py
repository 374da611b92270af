"""The one module that speaks SMTP. One connection for the run (reconnected if the server drops
it), STARTTLS (`smtp://`) or TLS from the start (`smtps://`), login when the address has a user.

Each delivery says exactly how far it got, because the record depends on it:
- nothing left the building before DATA was accepted: `unsent` (safe to try again later), or
  `failed` when the server refused for good (5xx);
- the message's bytes went out but no reply came back: `uncertain` (it may have been delivered);
- the server answered the message: `sent`, or `failed` (5xx, or 4xx after every retry).
The caller's `before_data` runs once, just before the first byte of the message goes out: that is
where the intent is recorded.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

DeliveryStatus = Literal["sent", "failed", "unsent", "uncertain"]


class SetupError(Exception):
    """Sending cannot start: a wrong address, TLS refused, a bad login. Exit 2."""


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


def parse_smtp_url(url: str) -> SmtpSettings:
    """NOTIFIER_SMTP_URL: `smtp://user:pass@host:587` (STARTTLS) or `smtps://user:pass@host:465`.
    Optional query: `timeout`, `attempts`, `retry_delay` (seconds). SetupError if it is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise SetupError("NOTIFIER_SMTP_URL must start with smtp:// (STARTTLS) or smtps://")
    if not parts.hostname:
        raise SetupError("NOTIFIER_SMTP_URL has no host (smtp://user:password@host:587)")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"timeout", "attempts", "retry_delay"}
        if unknown:
            raise SetupError(f"NOTIFIER_SMTP_URL: unknown option {sorted(unknown)[0]!r}")
        return SmtpSettings(
            "smtps" if parts.scheme == "smtps" else "smtp",
            parts.hostname,
            port,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            timeout=float(query.get("timeout", 30)),
            attempts=max(1, int(query.get("attempts", 3))),
            retry_delay=float(query.get("retry_delay", 2)),
        )
    except ValueError as error:
        raise SetupError(f"NOTIFIER_SMTP_URL: {error}") from None


@dataclass(frozen=True)
class Delivery:
    status: DeliveryStatus
    detail: str = ""
    refused: dict[str, str] = field(default_factory=dict)  # recipients refused for good


class _Temporary(Exception):
    """A 4xx answer or a dropped connection before the message went out: worth another try."""


class _Permanent(Exception):
    """A 5xx answer: trying again will not help."""


class Sender:
    """An SMTP session for one run. Use as a context manager; `deliver` each message."""

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        context: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.context = context or ssl.create_default_context()
        self.sleep = sleep
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def connect(self) -> None:
        """Open the connection now (SetupError for a problem no retry fixes)."""
        self._connection()

    def deliver(
        self,
        sender: str,
        recipients: tuple[str, ...],
        payload: bytes,
        before_data: Callable[[], None],
    ) -> Delivery:
        """Send `payload` (CRLF line ends, ASCII) to `recipients`; see the module for outcomes."""
        wrote_intent = False
        delay = self.settings.retry_delay
        last = ""
        for attempt in range(self.settings.attempts):
            if attempt:
                self.sleep(delay)
                delay *= 2
            went_out = False
            try:
                smtp = self._connection()
                refused = self._envelope(smtp, sender, recipients)
                code, reply = smtp.docmd("DATA")
                _check(code, reply)
                if code != 354:
                    raise _Permanent(f"{code} {_text(reply)}")
                if not wrote_intent:
                    before_data()
                    wrote_intent = True
                went_out = True
                smtp.send(_dot_stuffed(payload))
                code, reply = smtp.getreply()
                _check(code, reply)
                note = "; ".join(f"refused {r}: {why}" for r, why in refused.items())
                return Delivery("sent", note, refused)
            except _Permanent as error:
                self._reset()
                return Delivery("failed", str(error))
            except _Temporary as error:
                last = str(error)
                self._reset()
            except (smtplib.SMTPException, OSError) as error:
                self._drop()
                if went_out:
                    return Delivery("uncertain", f"connection lost after the message went: {error}")
                last = f"connection lost: {error or type(error).__name__}"
        if wrote_intent:  # the server answered 4xx to the message itself each time
            return Delivery("failed", f"still failing after {self.settings.attempts} tries: {last}")
        return Delivery("unsent", last)

    def _envelope(
        self, smtp: smtplib.SMTP, sender: str, recipients: tuple[str, ...]
    ) -> dict[str, str]:
        """MAIL FROM and RCPT TO; the recipients refused for good, if at least one is accepted."""
        code, reply = smtp.mail(sender)
        _check(code, reply)
        refused: dict[str, str] = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if 500 <= code < 600:
                refused[recipient] = f"{code} {_text(reply)}"
            else:
                _check(code, reply)
        if len(refused) == len(recipients):
            raise _Permanent("; ".join(f"refused {r}: {why}" for r, why in refused.items()))
        return refused

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        try:
            if s.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=self.context
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    smtp.close()
                    raise SetupError(
                        f"{s.host}:{s.port} does not offer STARTTLS; refusing to send in clear "
                        "(use smtps:// if it takes TLS from the start)"
                    )
                smtp.starttls(context=self.context)
            smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except ssl.SSLError as error:
            raise SetupError(f"TLS with {s.host}:{s.port} failed: {error}") from None
        except smtplib.SMTPAuthenticationError as error:
            raise SetupError(f"{s.host}:{s.port} refused the login: {error.smtp_code}") from None
        except smtplib.SMTPNotSupportedError as error:
            raise SetupError(f"{s.host}:{s.port}: {error}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise _Temporary(f"cannot reach {s.host}:{s.port}: {error}") from None
        self._smtp = smtp
        return smtp

    def _reset(self) -> None:
        """Forget the half-done transaction, keeping the connection if it still works."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _check(code: int, reply: bytes) -> None:
    if 400 <= code < 500 or code == -1:
        raise _Temporary(f"{code} {_text(reply)}")
    if code >= 500:
        raise _Permanent(f"{code} {_text(reply)}")


def _text(reply: bytes) -> str:
    return " ".join(reply.decode("utf-8", "replace").split())


def _dot_stuffed(payload: bytes) -> bytes:
    """The DATA body: CRLF line ends, a leading dot doubled, and the ending `.` line."""
    body = re.sub(rb"(?:\r\n|\n|\r)", b"\r\n", payload)
    body = re.sub(rb"(?m)^\.", b"..", body)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"
