"""The one module that speaks SMTP. One connection for the run (reconnected if the server drops
it), STARTTLS (`smtp://`) or TLS from the start (`smtps://`), login when the address has a user.

What the server answers about one message affects that message only; each delivery says exactly
how far it got, because the record depends on it:
- `sent`: the server took the message (for every recipient, or for some: `refused` names the
  others, with the server's reply);
- `deferred`: a temporary refusal (4xx) of the message or of every recipient, on each try: it
  did not go, and may go next run;
- `failed`: a permanent refusal (5xx) of the message or of every recipient: it did not go, and
  never will as it is;
- `uncertain`: the message's bytes went out but no reply came back: it may have been delivered.
The caller's `before_data` runs just before the first byte of the message goes out, at most once
a delivery: that is where the intent is recorded.

What concerns every message stops the run with a `SetupError`, and the messages not yet tried go
next run: the server cannot be reached (or keeps dropping the connection, or answers 421, before a
message goes), TLS or the login fails, or the sender's address is refused.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from notifier.reminders.smtp_settings import SetupError, SmtpSettings, parse_smtp_url

__all__ = ["Delivery", "Sender", "SetupError", "SmtpSettings", "parse_smtp_url"]

DeliveryStatus = Literal["sent", "deferred", "failed", "uncertain"]
CLOSING = 421  # the server is closing the connection: its state, not the message's


@dataclass(frozen=True)
class Delivery:
    status: DeliveryStatus
    detail: str = ""  # the server's reply, or what went wrong
    refused: dict[str, str] = field(default_factory=dict)  # recipients refused while others took it


class _Refused(Exception):
    """The server refused this message or all its recipients: 4xx (temporary) or 5xx."""

    def __init__(self, detail: str, *, temporary: bool) -> None:
        super().__init__(detail)
        self.temporary = temporary


class _Lost(Exception):
    """The connection could not be made, or was lost, before the message went."""


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

    def deliver(
        self,
        sender: str,
        recipients: tuple[str, ...],
        payload: bytes,
        before_data: Callable[[], None],
    ) -> Delivery:
        """Send `payload` (CRLF line ends, ASCII) to `recipients`; see the module for outcomes.
        A temporary refusal or a lost connection before the message went is tried again, up to
        `attempts` times in all; SetupError if the connection is still what fails."""
        delay = self.settings.retry_delay
        last: _Refused | _Lost = _Lost("no attempt was made")
        for attempt in range(self.settings.attempts):
            if attempt:
                self.sleep(delay)
                delay *= 2
            try:
                return self._attempt(sender, recipients, payload, before_data)
            except _Refused as refusal:
                self._reset()
                if not refusal.temporary:
                    return Delivery("failed", str(refusal))
                last = refusal
            except _Lost as lost:
                self._drop()
                last = lost
        if isinstance(last, _Lost):
            raise SetupError(str(last))
        return Delivery("deferred", str(last))

    def _attempt(
        self,
        sender: str,
        recipients: tuple[str, ...],
        payload: bytes,
        before_data: Callable[[], None],
    ) -> Delivery:
        """One try. Raises _Refused or _Lost only before the message went, so before the intent."""
        smtp = self._connection()
        try:
            refused = self._envelope(smtp, sender, recipients)
            code, reply = smtp.docmd("DATA")
        except (smtplib.SMTPException, OSError) as error:
            raise _Lost(
                f"the connection to {self.settings.server} was lost: {_why(error)}"
            ) from None
        _check(code, reply, self.settings.server)
        if code != 354:
            raise _Refused(f"{code} {_text(reply)}", temporary=False)
        before_data()
        try:
            smtp.send(_dot_stuffed(payload))
            code, reply = smtp.getreply()
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            return Delivery("uncertain", f"connection lost after the message went: {_why(error)}")
        answer = f"{code} {_text(reply)}"
        if 200 <= code < 300:
            note = "; ".join(f"not accepted by {r}: {why}" for r, why in refused.items())
            return Delivery("sent", note, refused)
        if code == -1:  # a reply that makes no sense: nobody knows whether it was taken
            self._drop()
            return Delivery("uncertain", f"no sensible reply after the message went: {answer}")
        self._reset()
        if code == CLOSING:
            self._drop()
        return Delivery("deferred" if 400 <= code < 500 else "failed", answer)

    def _envelope(
        self, smtp: smtplib.SMTP, sender: str, recipients: tuple[str, ...]
    ) -> dict[str, str]:
        """MAIL FROM and RCPT TO; the recipients refused, if at least one is accepted."""
        code, reply = smtp.mail(sender)
        if code != CLOSING and 400 <= code < 600:  # the same sender goes on every message
            refusal = (
                f"the mail server {self.settings.server} refused the sender address {sender}: "
                f"{code} {_text(reply)}"
            )
            if code >= 500:
                raise SetupError(refusal)
            raise _Lost(refusal)  # tried again, and then the run stops
        _check(code, reply, self.settings.server)
        refused: dict[str, str] = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code != CLOSING and 400 <= code < 600:
                refused[recipient] = f"{code} {_text(reply)}"
            else:
                _check(code, reply, self.settings.server)
        if len(refused) == len(recipients):
            temporary = any(why.startswith("4") for why in refused.values())
            detail = "; ".join(f"refused {r}: {why}" for r, why in refused.items())
            raise _Refused(detail, temporary=temporary)
        return refused

    def _connection(self) -> smtplib.SMTP:
        """The session's connection, made and logged in to if there is none. _Lost if the server
        cannot be reached; SetupError for what no retry fixes (TLS, the login)."""
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        try:
            smtp = self._connect()
        except ssl.SSLError as error:
            raise SetupError(f"TLS with {s.server} failed: {error}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise _Lost(f"could not connect to {s.server}: {_why(error)}") from None
        if s.username:
            try:
                smtp.login(s.username, s.password or "")
            except smtplib.SMTPAuthenticationError as error:
                smtp.close()
                raise SetupError(
                    f"the mail server {s.server} refused the login for user {s.username}: "
                    f"{error.smtp_code} {_text(error.smtp_error)}"
                ) from None
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                smtp.close()
                raise _Lost(f"could not connect to {s.server}: {_why(error)}") from None
            except smtplib.SMTPException as error:  # no AUTH, or no method in common
                smtp.close()
                raise SetupError(
                    f"could not log in to {s.server} as {s.username}: {error}"
                ) from None
        self._smtp = smtp
        return smtp

    def _connect(self) -> smtplib.SMTP:
        """A connection with TLS, greeted; not yet logged in."""
        s = self.settings
        if s.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=self.context
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            _greet(smtp)
            if not smtp.has_extn("starttls"):
                smtp.close()
                raise SetupError(
                    f"{s.server} does not offer STARTTLS; refusing to send in clear "
                    "(use smtps:// if it takes TLS from the start)"
                )
            smtp.starttls(context=self.context)
        _greet(smtp)
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


def _greet(smtp: smtplib.SMTP) -> None:
    code, reply = smtp.ehlo()
    if code != 250:
        smtp.close()
        raise smtplib.SMTPResponseException(code, reply)


def _check(code: int, reply: bytes, server: str) -> None:
    """Raise for a refusal of the message (_Refused) or a connection going away (_Lost)."""
    if code == CLOSING or code == -1:
        raise _Lost(f"the connection to {server} was lost: {code} {_text(reply)}")
    if 400 <= code < 600:
        raise _Refused(f"{code} {_text(reply)}", temporary=code < 500)


def _why(error: BaseException) -> str:
    """An error in words: the server's code and reply, or the system's message."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return str(error) or type(error).__name__


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())


def _dot_stuffed(payload: bytes) -> bytes:
    """The DATA body: CRLF line ends, a leading dot doubled, and the ending `.` line."""
    body = re.sub(rb"(?:\r\n|\n|\r)", b"\r\n", payload)
    body = re.sub(rb"(?m)^\.", b"..", body)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"
