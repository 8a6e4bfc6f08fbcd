"""Two-factor codes, the enrolment QR code and recovery codes."""

import base64
import re
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest

from api.accounts.totp import (
    hash_recovery_code,
    new_recovery_codes,
    new_secret,
    normalise_recovery_code,
    provisioning_uri,
    qr_svg,
    verify,
)

NOW = 1_750_000_015.0  # 15 seconds into a 30-second step
STEP = int(NOW // 30)
# A fixed secret keeps the tests deterministic: with a random one, a code from two steps away
# would match the current window about once in a million runs.
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OTHER_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"


@pytest.fixture
def secret() -> str:
    return SECRET


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * 30)


def test_new_secret_is_base32_of_160_bits() -> None:
    secret = new_secret()
    assert len(base64.b32decode(secret)) == 20
    assert new_secret() != secret


def test_provisioning_uri_names_issuer_and_account(secret: str) -> None:
    uri = provisioning_uri(secret, account="alice@example.nl")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth"
    assert parsed.netloc == "totp"
    assert unquote(parsed.path) == "/Kern:alice@example.nl"
    assert parse_qs(parsed.query)["secret"] == [secret]
    assert parse_qs(parsed.query)["issuer"] == ["Kern"]


def test_qr_svg_is_inline_svg_of_about_200_pixels(secret: str) -> None:
    svg = qr_svg(provisioning_uri(secret, account="alice@example.nl"))
    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    width = re.search(r'width="([\d.]+)"', svg)
    assert width
    assert 180 <= float(width.group(1)) <= 220
    assert "#000" in svg
    assert "#fff" in svg


def test_code_for_now_verifies_and_returns_the_step(secret: str) -> None:
    assert verify(secret, code_at(secret, STEP), last_used_step=None, now=NOW) == STEP


def test_code_without_now_uses_the_clock(secret: str) -> None:
    assert verify(secret, pyotp.TOTP(secret).now(), last_used_step=None) is not None


def test_typed_spaces_and_dashes_are_ignored(secret: str) -> None:
    code = code_at(secret, STEP)
    typed = f" {code[:3]} - {code[3:]} "
    assert verify(secret, typed, last_used_step=None, now=NOW) == STEP


@pytest.mark.parametrize("offset", [-1, 1])
def test_code_from_neighbouring_step_is_accepted(secret: str, offset: int) -> None:
    code = code_at(secret, STEP + offset)
    assert verify(secret, code, last_used_step=None, now=NOW) == STEP + offset


@pytest.mark.parametrize("offset", [-2, 2])
def test_code_from_two_steps_away_is_refused(secret: str, offset: int) -> None:
    code = code_at(secret, STEP + offset)
    assert verify(secret, code, last_used_step=None, now=NOW) is None


def test_same_step_used_twice_is_refused(secret: str) -> None:
    code = code_at(secret, STEP)
    used = verify(secret, code, last_used_step=None, now=NOW)
    assert used == STEP
    assert verify(secret, code, last_used_step=used, now=NOW + 5) is None


def test_older_step_after_a_newer_one_is_refused(secret: str) -> None:
    code = code_at(secret, STEP - 1)
    assert verify(secret, code, last_used_step=STEP, now=NOW) is None


def test_next_step_after_the_last_used_one_is_accepted(secret: str) -> None:
    code = code_at(secret, STEP + 1)
    assert verify(secret, code, last_used_step=STEP, now=NOW + 30) == STEP + 1


@pytest.mark.parametrize("typed", ["", "abcdef", "12345", "1234567", "12345x", "١٢٣٤٥٦"])
def test_input_that_is_not_six_digits_is_refused(secret: str, typed: str) -> None:
    assert verify(secret, typed, last_used_step=None, now=NOW) is None


def test_code_for_another_secret_is_refused(secret: str) -> None:
    assert verify(secret, code_at(OTHER_SECRET, STEP), last_used_step=None, now=NOW) is None


def test_recovery_codes_are_unique_and_readable() -> None:
    codes = new_recovery_codes()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    shape = re.compile(r"[2-9a-hjkmnp-z]{4}(-[2-9a-hjkmnp-z]{4}){3}")
    for code in codes:
        assert shape.fullmatch(code), code
        assert not set(code) & set("01oli")


def test_recovery_codes_count_can_be_chosen() -> None:
    assert len(new_recovery_codes(count=3)) == 3


def test_recovery_codes_differ_between_calls() -> None:
    assert not set(new_recovery_codes()) & set(new_recovery_codes())


def test_recovery_code_normalises_dashes_spaces_and_case() -> None:
    assert normalise_recovery_code(" K7QM-4xta p2nd-8FZR ") == "k7qm4xtap2nd8fzr"


def test_recovery_code_hash_ignores_how_it_was_typed() -> None:
    code = new_recovery_codes(count=1)[0]
    hashed = hash_recovery_code(code)
    assert re.fullmatch(r"[0-9a-f]{64}", hashed)
    assert hash_recovery_code(code.upper().replace("-", " ")) == hashed
    assert hash_recovery_code(code.replace("-", "")) == hashed
    assert code not in hashed


def test_different_recovery_codes_hash_differently() -> None:
    first, second = new_recovery_codes(count=2)
    assert hash_recovery_code(first) != hash_recovery_code(second)
