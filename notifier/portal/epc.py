"""The EPC QR code of a SEPA credit transfer, as an invoice page shows it: what a banking app reads
to fill in the transfer (the European Payments Council's guidelines EPC069-12, version 002), drawn
as inline SVG.

zxing-cpp encodes the code (error correction level M, as the guidelines require; the mask pattern
of lowest penalty, as ISO/IEC 18004 requires) in about half a millisecond, where segno took about
12 ms, most of it choosing that mask in pure Python: a cold build draws thousands of codes."""

from __future__ import annotations

import re
from decimal import Decimal

from markupsafe import escape
from stdnum import iso11649

# The character sets the guidelines allow, numbered 1 to 8 in the payload's third line.
CHARACTER_SETS = (
    "utf-8",
    "iso-8859-1",
    "iso-8859-2",
    "iso-8859-4",
    "iso-8859-5",
    "iso-8859-7",
    "iso-8859-10",
    "iso-8859-15",
)
MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")
MAX_BYTES = 331  # the guidelines' largest payload
MAX_VERSION = 13  # the guidelines' largest QR code (73 by 73 modules)
SCALE = 4  # pixels a module
QUIET_ZONE = 4  # light modules around the code, as ISO/IEC 18004 asks
_DARK_RUN = re.compile(b"\x00+")


def payload(
    name: str, iban: str, amount: Decimal, remittance: str, bic: str | None = None
) -> bytes:
    """The code's content: a credit transfer of `amount` euros to `name` (at most 70 characters),
    `iban` and `bic`, with `remittance`: an ISO 11649 creditor reference (`RF` and check digits
    that hold) in the structured-reference field, anything else as unstructured text (at most
    140) — the guidelines allow one or the other, never both. Written in the first character set
    of ISO 8859 that can write it, else UTF-8 (the set's number on the third line).

    Raises ValueError for what the guidelines do not allow."""
    name, remittance, bic = name.strip(), remittance.strip(), (bic or "").strip()
    if not 0 < len(name) <= 70:
        raise ValueError(f"an EPC QR code's name is 1 to 70 characters, not {len(name)}")
    if not 0 < len(remittance) <= 140:
        raise ValueError(
            f"an EPC QR code's remittance text is 1 to 140 characters, not {len(remittance)}"
        )
    if not 4 < len(iban) <= 34:
        raise ValueError(f"an IBAN is 5 to 34 characters, not {len(iban)}")
    if bic and len(bic) not in (8, 11):
        raise ValueError(f"a BIC is 8 or 11 characters, not {len(bic)}")
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise ValueError(f"an EPC QR code's amount is 0.01 to 999999999.99 euros, not {amount}")
    figure = f"{amount:.2f}".rstrip("0").rstrip(".")  # EUR12.5, EUR3000: no trailing zeros
    structured = remittance.startswith("RF") and iso11649.is_valid(remittance)
    reference, text = (iso11649.compact(remittance), "") if structured else ("", remittance)
    lines = ["BCD", "002", "", "SCT", bic, name, iban, f"EUR{figure}", "", reference, text]
    content = "\n".join(lines)
    number = next(
        (n for n, charset in enumerate(CHARACTER_SETS[1:], 2) if _writes(charset, content)), 1
    )
    lines[2] = str(number)
    # The guidelines let a payload end after its last field with content.
    data = "\n".join(lines).rstrip("\n").encode(CHARACTER_SETS[number - 1])
    if len(data) > MAX_BYTES:
        raise ValueError(f"an EPC QR code holds at most {MAX_BYTES} bytes, not {len(data)}")
    return data


def _writes(charset: str, text: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def modules(data: bytes) -> tuple[int, bytes]:
    """The QR code of `data` (level M, binary: no ECI, which some banking apps do not read): its
    size in modules and its modules row by row, one byte each, 0 for dark."""
    import zxingcpp  # here: most builds find every code in the cache

    code = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = code.to_image(scale=1, add_quiet_zones=False)
    size: int = image.shape[0]
    if (size - 17) // 4 > MAX_VERSION:  # pragma: no cover (331 bytes fit in version 13)
        raise ValueError(f"an EPC QR code is at most version {MAX_VERSION}")
    # The image has the buffer protocol (its stub does not say so): one byte a module.
    return size, memoryview(image).tobytes()  # type: ignore[arg-type]


def svg(size: int, dark: bytes, title: str) -> str:
    """Inline SVG of a code of `size` by `size` `dark` modules (see `modules`): one path of
    horizontal strokes, with a quiet zone and `title` as its accessible name; it scales with the
    box the page gives it (a view box)."""
    strokes = []
    for y in range(size):
        row = dark[y * size : (y + 1) * size]
        for run in _DARK_RUN.finditer(row):
            strokes.append(
                f"M{run.start() + QUIET_ZONE} {y + QUIET_ZONE}.5h{run.end() - run.start()}"
            )
    side = (size + 2 * QUIET_ZONE) * SCALE
    return (
        f'<svg width="{side}" height="{side}" viewBox="0 0 {side} {side}" class="qr">'
        f"<title>{escape(title)}</title>"
        f'<path transform="scale({SCALE})" stroke="#000" d="{"".join(strokes)}"/></svg>'
    )
