from datetime import date

from notifier import addresses, formatting
from notifier.addresses import Secret

SECRET = Secret(b"correct horse battery staple", demo=False)


def test_a_client_address_is_stable_long_and_rotatable():
    token = addresses.client_token(SECRET, "kessler")
    assert token == addresses.client_token(SECRET, "kessler")
    assert len(token) == 32  # 160 bits in base32
    assert token.isalnum()
    assert token.islower()
    assert addresses.client_token(SECRET, "kessler", rotation=1) != token
    assert addresses.client_token(SECRET, "tanaka") != token
    other = Secret(b"another secret", demo=False)
    assert addresses.client_token(other, "kessler") != token
    assert addresses.invoice_page(token, "HP-2026-028") == f"p/{token}/HP-2026-028.html"
    assert addresses.absolute("https://pay.example.com/", addresses.client_page(token)) == (
        f"https://pay.example.com/p/{token}/"
    )


def test_no_secret_means_no_pages_unless_demo_is_asked_for():
    assert Secret.from_environment("", demo=False) is None
    demo = Secret.from_environment(None, demo=True)
    assert demo is not None
    assert demo.demo
    real = Secret.from_environment("s3cret", demo=True)
    assert real is not None
    assert not real.demo


def test_amounts_and_dates_follow_the_client_locale():
    assert formatting.amount(125000, "EUR", "de_DE") == "1.250,00\xa0€"
    assert formatting.amount(125000, "GBP", "en_GB") == "£1,250.00"
    assert formatting.amount(1250000, "JPY", "en") == "¥1,250,000"
    assert formatting.amount(1234, "BHD", "en") == "BHD1.234"  # three places, as CLDR has it
    assert formatting.day(date(2026, 11, 23), "de_DE") == "23. November 2026"
    assert formatting.day(date(2026, 11, 23), "fr_FR") == "23 novembre 2026"
    assert formatting.language("de_CH") == "de"
