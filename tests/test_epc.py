"""The EPC QR code: the payload a banking app reads (EPC069-12, version 002) and the code drawn."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.portal import epc
from tests.qr import read_svg

IBAN = "DE89370400440532013000"


def test_the_payload_is_the_guidelines_lines_in_order() -> None:
    data = epc.payload(
        "Harbour & Pine Studio Ltd", IBAN, Decimal("3000.00"), "HP-2026-029", "COBADEFFXXX"
    )
    assert data == (
        b"BCD\n002\n2\nSCT\nCOBADEFFXXX\nHarbour & Pine Studio Ltd\nDE89370400440532013000\n"
        b"EUR3000\n\n\nHP-2026-029"
    )


def test_amounts_drop_trailing_zeros_and_the_bic_may_be_left_out() -> None:
    data = epc.payload("Atelier", IBAN, Decimal("12.50"), "BN-1")
    assert data.split(b"\n")[4] == b""
    assert data.split(b"\n")[7] == b"EUR12.5"
    assert epc.payload("Atelier", IBAN, Decimal("0.01"), "BN-1").split(b"\n")[7] == b"EUR0.01"


def test_the_character_set_is_the_first_that_writes_the_payload() -> None:
    latin = epc.payload("Atelier Mörel", IBAN, Decimal("1"), "BN-1")
    assert latin.split(b"\n")[2] == b"2"  # ISO 8859-1
    assert b"M\xf6rel" in latin
    polish = epc.payload("Łódź Sp. z o.o.", IBAN, Decimal("1"), "BN-1")
    assert polish.split(b"\n")[2] == b"3"  # ISO 8859-2
    mixed = epc.payload("Łódź & Αθήνα", IBAN, Decimal("1"), "BN-1")
    assert mixed.split(b"\n")[2] == b"1"  # no ISO 8859 set writes both: UTF-8
    assert "Łódź & Αθήνα".encode() in mixed


@pytest.mark.parametrize(
    ("name", "iban", "amount", "text", "bic", "message"),
    [
        ("", IBAN, "1", "BN-1", None, "an EPC QR code's name is 1 to 70 characters, not 0"),
        ("x" * 71, IBAN, "1", "BN-1", None, "an EPC QR code's name is 1 to 70 characters, not 71"),
        ("A", IBAN, "1", "x" * 141, None, "an EPC QR code's remittance text is 1 to 140 characters, not 141"),
        ("A", "DE89", "1", "BN-1", None, "an IBAN is 5 to 34 characters, not 4"),
        ("A", IBAN, "1", "BN-1", "COBADE", "a BIC is 8 or 11 characters, not 6"),
        ("A", IBAN, "0.00", "BN-1", None, "an EPC QR code's amount is 0.01 to 999999999.99 euros, not 0.00"),
        ("A", IBAN, "1000000000", "BN-1", None, "an EPC QR code's amount is 0.01 to 999999999.99 euros, not 1000000000"),
    ],
)  # fmt: skip
def test_what_the_guidelines_do_not_allow_is_refused(
    name: str, iban: str, amount: str, text: str, bic: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(") + "$"):
        epc.payload(name, iban, Decimal(amount), text, bic)


def read(data: bytes) -> tuple[bytes, dict[str, object], str]:
    found = read_svg(epc.svg(*epc.modules(data), "EPC QR code"))
    extra = found.extra
    assert isinstance(extra, dict)
    return found.bytes, extra, found.symbology_identifier


def test_a_banking_app_reads_the_payload_back_from_the_drawn_code() -> None:
    data = epc.payload("Atelier Mörel", IBAN, Decimal("1234.56"), "BN-2026-000001", "COBADEFFXXX")
    content, extra, symbology = read(data)
    assert content == data
    assert extra["ECLevel"] == "M"  # as the guidelines require
    assert symbology == "]Q1"  # no ECI: the character set is the payload's third line


def test_the_largest_payload_fits_in_the_largest_code_the_guidelines_allow() -> None:
    data = epc.payload(
        "Ä" * 70,
        "MT84MALT011000012345MTLCAST001S",
        Decimal("999999999.99"),
        "é" * 140,
        "COBADEFFXXX",
    )
    assert data.split(b"\n")[2] == b"2"
    content, extra, _ = read(data)
    assert content == data
    assert int(str(extra["Version"])) <= epc.MAX_VERSION


def test_the_drawing_has_its_title_a_quiet_zone_and_scales_with_its_box() -> None:
    size, dark = epc.modules(epc.payload("A", IBAN, Decimal("1"), "BN-1"))
    drawn = epc.svg(size, dark, "Code <für> SEPA")
    side = (size + 8) * 4
    assert drawn.startswith(
        f'<svg width="{side}" height="{side}" viewBox="0 0 {side} {side}" class="qr">'
    )
    assert "<title>Code &lt;für&gt; SEPA</title>" in drawn
    assert ' d="M4 4.5h7' in drawn  # the top-left finder, four modules in


@settings(max_examples=40, deadline=None)
@given(
    name=st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs"]), min_size=1, max_size=70).filter(str.strip),
    minor=st.integers(1, 99_999_999_999),
    number=st.from_regex(r"[A-Z]{2}-20[0-9]{2}-[0-9]{3,6}", fullmatch=True),
)  # fmt: skip
def test_any_transfer_reads_back_as_its_payload(name: str, minor: int, number: str) -> None:
    data = epc.payload(name, IBAN, Decimal(minor).scaleb(-2), number, "COBADEFFXXX")
    assert read(data)[0] == data
