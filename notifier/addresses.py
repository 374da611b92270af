"""Unguessable page addresses: an HMAC of the client's id under NOTIFIER_SECRET.

The address is stable across builds (the same secret and client give the same address) and can be
rotated for one client by raising its `page_rotation`. 160 bits of the HMAC are kept, so an address
cannot be guessed or derived from the client's id without the secret. Without a secret, only the
explicit demo mode builds, with a public, well-known key, and every page says so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

DEMO_SECRET = b"notifier demo mode: these addresses are public"
TOKEN_BYTES = 20  # 160 bits


@dataclass(frozen=True)
class Secret:
    key: bytes
    demo: bool

    @classmethod
    def from_environment(cls, value: str | None, *, demo: bool) -> Secret | None:
        """The key from NOTIFIER_SECRET's `value`; without one, the demo key if `demo` is asked."""
        if value:
            return cls(value.encode("utf-8"), demo=False)
        return cls(DEMO_SECRET, demo=True) if demo else None


def _token(secret: Secret, purpose: str, *parts: str) -> str:
    message = "\0".join((purpose, *parts)).encode("utf-8")
    digest = hmac.new(secret.key, message, hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.b32encode(digest).decode("ascii").lower()


def client_token(secret: Secret, client_id: str, rotation: int = 0) -> str:
    """The 32-character token naming a client's private folder."""
    return _token(secret, "client-page", client_id, str(rotation))


def dashboard_token(secret: Secret) -> str:
    """The token naming the business's own private dashboard."""
    return _token(secret, "dashboard")


def client_page(token: str) -> str:
    """A client's page, relative to the portal's root."""
    return f"p/{token}/"


def invoice_page(token: str, number: str) -> str:
    """An invoice's page, relative to the portal's root."""
    return f"p/{token}/{number}.html"


def dashboard_page(token: str) -> str:
    """The business's dashboard, relative to the portal's root."""
    return f"b/{token}/"


def absolute(portal_url: str, relative: str) -> str:
    """`relative` as an address under the portal's root (as given in the books)."""
    return portal_url.rstrip("/") + "/" + relative
