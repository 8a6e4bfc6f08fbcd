"""Password hashing and the rules for a new password."""

import pytest
from argon2 import PasswordHasher
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from api.accounts import passwords
from api.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)

GOOD = "kalm bekken 7 maart"


def test_hash_is_argon2id_and_verifies_the_same_password() -> None:
    hashed = hash_password(GOOD)
    assert hashed.startswith("$argon2id$")
    assert GOOD not in hashed
    assert verify_password(hashed, GOOD)


def test_each_hash_has_its_own_salt() -> None:
    assert hash_password(GOOD) != hash_password(GOOD)


def test_wrong_password_does_not_verify() -> None:
    hashed = hash_password(GOOD)
    assert not verify_password(hashed, GOOD + "!")
    assert not verify_password(hashed, GOOD.upper())


def test_spaces_are_part_of_the_password() -> None:
    assert not verify_password(hash_password(GOOD), f" {GOOD} ")


@pytest.mark.parametrize("garbage", ["", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$xx$yy"])
def test_garbage_hash_does_not_verify(garbage: str) -> None:
    assert verify_password(garbage, GOOD) is False


def test_fresh_hash_needs_no_rehash() -> None:
    assert not needs_rehash(hash_password(GOOD))


def test_hash_made_with_other_parameters_needs_rehash() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(GOOD)
    assert verify_password(old, GOOD)
    assert needs_rehash(old)


def test_full_width_form_verifies_against_the_normal_form() -> None:
    hashed = hash_password("Bekken2024")
    assert verify_password(hashed, "Ｂｅｋｋｅｎ２０２４")


def test_decomposed_accent_verifies_against_the_composed_one() -> None:
    hashed = hash_password("café-bekken")  # composed é (U+00E9)
    assert verify_password(hashed, "cafe\u0301-bekken")


def test_seven_characters_are_too_short() -> None:
    assert MIN_LENGTH == 8
    assert len(password_problems("kx7#vqz")) == 1


@pytest.mark.parametrize("length", [8, 64, 128])
def test_lengths_from_eight_to_128_are_accepted(length: int) -> None:
    assert password_problems(("kx7#vqz9" * 16)[:length]) == []


def test_129_characters_are_too_long() -> None:
    assert MAX_LENGTH == 128
    assert len(password_problems("kx7#vqz9" * 16 + "a")) == 1


def test_no_composition_rules() -> None:
    assert password_problems("onlylowercaseletters") == []


@pytest.mark.parametrize("common", ["password123", "qwertyuiop", "PassWord123"])
def test_common_password_is_refused(common: str) -> None:
    assert common.lower() in FREQUENCY_LISTS["passwords"]
    assert len(password_problems(common)) == 1


def test_common_password_list_is_built_once() -> None:
    assert passwords._common_passwords() is passwords._common_passwords()


def test_email_local_part_in_the_password_is_refused() -> None:
    assert len(password_problems("Alice.Jansen", email="alice.jansen@example.nl")) == 1
    assert len(password_problems("xx-alice.jansen-99", email="alice.jansen@example.nl")) == 1


def test_short_email_local_part_is_not_checked() -> None:
    assert password_problems("bobby-tables-9", email="bob@example.nl") == []


def test_name_in_the_password_is_refused() -> None:
    assert len(password_problems("CharlieDeVries!", name="Charlie de Vries")) == 1
    assert len(password_problems("mijn naam is charlie", name="Charlie de Vries")) == 1


def test_several_problems_are_all_reported() -> None:
    assert len(password_problems("alice", email="alice@example.nl")) == 2
