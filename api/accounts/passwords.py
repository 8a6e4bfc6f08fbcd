"""Passwords: argon2id hashing and the checks a new password must pass."""

import unicodedata
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from api.i18n import gettext as _

MIN_LENGTH = 8
# A generous ceiling: long enough for passphrases and password managers, short enough that
# nobody can make the server hash megabytes per login attempt.
MAX_LENGTH = 128
# Shorter email local parts and names ("jan", "ad") would refuse too many good passwords.
MIN_PERSONAL_LENGTH = 4

# RFC 9106's second recommended profile (argon2id, t=3, m=64 MiB, p=4) is what argon2-cffi uses
# by default; naming it explicitly keeps the cost fixed if a library upgrade changes the
# defaults, and a deliberate change here makes needs_rehash() upgrade hashes on next login. The
# first profile (2 GiB per hash) would exhaust a small server under a handful of parallel logins.
_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def _normalise(password: str) -> str:
    # The same password can reach us as different code points: a composed or decomposed "é"
    # depending on the keyboard and OS, or full-width letters from an East Asian input method.
    # NFKC maps those to one form (as NIST SP 800-63B advises), so what the user sees as the same
    # password verifies. Spaces are characters like any other, so nothing is stripped.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An argon2id hash of the password, safe to store (never log or show it)."""
    return _hasher.hash(_normalise(password))


def verify_password(hashed: str, password: str) -> bool:
    """Whether the password matches the stored hash; False for a malformed hash."""
    try:
        return _hasher.verify(hashed, _normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """Whether the hash was made with other parameters than today's (or cannot be read)."""
    try:
        return _hasher.check_needs_rehash(hashed)
    except InvalidHashError:
        return True


@cache
def _common_passwords() -> frozenset[str]:
    # Imported here because the lists are megabytes of Python literals that only the
    # registration and password-change pages need; the set is built once per process.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # noqa: PLC0415

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """Whether the password is on zxcvbn's list of the 30,000 most used passwords."""
    return _normalise(password).casefold() in _common_passwords()


def _personal_words(*, email: str, name: str) -> tuple[list[str], list[str]]:
    """The email's local part and the name (whole and per word) long enough to check."""
    email = _normalise(email)
    local_part = email.rpartition("@")[0] if "@" in email else email
    emails = [local_part.strip().casefold()]
    whole_name = " ".join(_normalise(name).split()).casefold()
    names = [whole_name, whole_name.replace(" ", ""), *whole_name.split()]
    return (
        [word for word in emails if len(word) >= MIN_PERSONAL_LENGTH],
        list(dict.fromkeys(word for word in names if len(word) >= MIN_PERSONAL_LENGTH)),
    )


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """What is wrong with a new password, as messages for the user; empty when it is fine."""
    normalised = _normalise(password)
    problems: list[str] = []
    if len(normalised) < MIN_LENGTH:
        problems.append(_("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(normalised) > MAX_LENGTH:
        problems.append(_("Use at most %(n)s characters.", n=MAX_LENGTH))
    if is_common(normalised):
        problems.append(_("This password is too common. Choose one that is harder to guess."))
    folded = normalised.casefold()
    emails, names = _personal_words(email=email, name=name)
    if any(word in folded for word in emails):
        problems.append(_("Don't use your email address in your password."))
    if any(word in folded for word in names):
        problems.append(_("Don't use your name in your password."))
    return problems
