"""Which bank statement format a file is, from its first bytes: told without importing the
readers (ofxtools and mt-940 take a second to load, and every Stripe export is asked)."""

from __future__ import annotations

import re
from typing import Literal

Format = Literal["camt", "ofx", "mt940"]


def camt(head: bytes) -> bool:
    """Whether a file that starts with `head` is a CAMT.053 or CAMT.054 statement."""
    return b"<" in head[:200] and re.search(rb"camt\.05[34]\.001\.", head) is not None


def ofx(head: bytes) -> bool:
    """Whether a file that starts with `head` is an OFX statement (1.x header or 2.x XML)."""
    return b"OFXHEADER" in head[:400] or b"<OFX>" in head.upper()


def mt940(head: bytes) -> bool:
    """Whether a file that starts with `head` is an MT940 statement."""
    return re.search(rb"(^|\n|\{4:\r?\n):20:", head) is not None and b":25:" in head


def format_of(head: bytes) -> Format | None:
    """The format of a file that starts with `head`, None if it is none of these."""
    if camt(head):
        return "camt"
    if ofx(head):
        return "ofx"
    if mt940(head):
        return "mt940"
    return None
