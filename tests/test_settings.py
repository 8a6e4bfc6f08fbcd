"""Settings come from the environment; production refuses a missing, short or guessable key."""

import base64
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from api.config import (
    DEV_SECRET_KEY,
    MIN_SECRET_KEY_LENGTH,
    Settings,
    SettingsError,
    vapid_public_key_of,
)
from api.push.keys import keys, new_private_key
from api.secret_strength import MIN_BITS, estimated_bits
from tests.conftest import TEST_VAPID_KEY


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASE_URL", "https://kern.example")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111")
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2525")
    settings = Settings()
    assert settings.base_url == "https://kern.example"
    assert settings.stripe_api_base == "http://127.0.0.1:12111"
    assert settings.smtp_url == "smtp://127.0.0.1:2525"


@pytest.fixture
def without_address(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No BASE_URL, HOST or PORT in the environment."""
    for name in ("BASE_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_base_url_follows_the_port_when_it_is_not_set(without_address: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).base_url == "http://127.0.0.1:8000"
    without_address.setenv("PORT", "8101")
    assert Settings(_env_file=None).base_url == "http://127.0.0.1:8101"


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8101"),  # noqa: S104 (a setting, nothing is bound)
        ("::", "http://127.0.0.1:8101"),
        ("::1", "http://[::1]:8101"),
        ("kern.local", "http://kern.local:8101"),
    ],
)
def test_base_url_follows_the_host_a_browser_can_open(
    without_address: pytest.MonkeyPatch, host: str, base_url: str
) -> None:
    without_address.setenv("HOST", host)
    without_address.setenv("PORT", "8101")
    assert Settings(_env_file=None).base_url == base_url


def test_a_base_url_that_is_set_wins_over_host_and_port(
    without_address: pytest.MonkeyPatch,
) -> None:
    without_address.setenv("PORT", "8101")
    without_address.setenv("BASE_URL", "https://kern.example")
    assert Settings(_env_file=None).base_url == "https://kern.example"


def test_development_runs_with_the_built_in_key() -> None:
    settings = Settings(app_env="development").check()
    assert settings.secret_key.get_secret_value() == DEV_SECRET_KEY


@pytest.mark.parametrize(
    "key",
    ["", DEV_SECRET_KEY, "too-short", "please-change-me-" + "a" * 40, "x" * 31],
)
def test_production_refuses_a_missing_or_placeholder_key(key: str) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings(app_env="production", secret_key=key).check()


def production(**values: Any) -> Settings:
    """Production settings with a VAPID key unless the test gives its own values."""
    return Settings.model_validate(
        {"app_env": "production", "vapid_private_key": TEST_VAPID_KEY, **values}
    )


def test_production_accepts_a_long_random_key() -> None:
    key = "Zq3v9TfK2mWc8rLp1xYh6NbD4sGj7aEu0oRi5kQw"
    assert production(secret_key=key).check().is_production


def test_a_random_key_with_three_xs_in_it_is_no_placeholder() -> None:
    """token_urlsafe(48) holds "xxx" (any case) in about one key of 500; such a key is fine."""
    key = "Zq3v9TfK2mWc8rLp1XxXh6NbD4sGj7aEu0oRi5kQwT8yUe2"
    assert production(secret_key=key).check().is_production


def test_a_key_of_xs_is_refused_by_its_strength() -> None:
    with pytest.raises(SettingsError, match="too easy to guess"):
        Settings(app_env="production", secret_key="x" * 40).check()


@pytest.mark.parametrize(
    "make",
    [lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32)],
    ids=["urlsafe", "hex"],
)
def test_production_accepts_the_keys_the_documentation_suggests(make: Callable[[], str]) -> None:
    for _ in range(5):
        assert production(secret_key=make()).check().is_production


@pytest.mark.parametrize(
    "key",
    [
        "a" * 32,
        "Zq3v9TfK2mWc8rLp" * 2,  # a random-looking part typed twice
        "abcd1234" * 4,
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "qwertyuiopasdfghjklzxcvbnm1234567890",
        "correct horse battery staple pass",
        "this is the production key for kern in 2026",
        "Kern-Productie-Sleutel-2026-Kern-Productie",
    ],
)
def test_production_refuses_a_long_key_that_is_easy_to_guess(key: str) -> None:
    assert len(key) >= MIN_SECRET_KEY_LENGTH
    with pytest.raises(SettingsError, match=r"^SECRET_KEY is too easy to guess \(about \d+ bits"):
        Settings(app_env="production", secret_key=key).check()


def test_a_key_is_judged_by_guesses_not_by_length() -> None:
    """Twice as long but a repeat: no stronger than the random half."""
    half = secrets.token_urlsafe(24)
    assert estimated_bits(half + half) < estimated_bits(half) + 8
    assert estimated_bits(secrets.token_urlsafe(48)) >= MIN_BITS


def test_serve_in_production_with_a_guessable_key_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "Zq3v9TfK2mWc8rLp" * 2)
    result = CliRunner().invoke(cli, ["serve", "--port", "8999"])
    assert result.exit_code == 2
    message = result.output.strip()
    assert message.startswith("kern: SECRET_KEY is too easy to guess")
    assert "\n" not in message


def test_secret_key_is_not_shown_in_the_settings_repr() -> None:
    key = "Zq3v9TfK2mWc8rLp1xYh6NbD4sGj7aEu0oRi5kQw"
    assert key not in repr(Settings(secret_key=key))


def test_serve_in_production_without_a_key_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--port", "8999"])
    assert result.exit_code == 2
    message = result.output.strip()
    assert message.startswith("kern: SECRET_KEY is missing or a placeholder")
    assert "\n" not in message


def test_production_refuses_to_start_without_a_usable_vapid_key() -> None:
    key = "Zq3v9TfK2mWc8rLp1xYh6NbD4sGj7aEu0oRi5kQw"
    with pytest.raises(SettingsError, match="VAPID_PRIVATE_KEY is missing"):
        production(secret_key=key, vapid_private_key=None).check()
    with pytest.raises(SettingsError, match="VAPID_PRIVATE_KEY cannot be read"):
        production(secret_key=key, vapid_private_key="not-a-key").check()
    with pytest.raises(SettingsError, match="does not belong"):
        production(secret_key=key, vapid_public_key=vapid_public_key_of(new_private_key())).check()
    with pytest.raises(SettingsError, match="VAPID_SUBJECT"):
        production(secret_key=key, vapid_subject="praktijk@example.nl").check()
    settings = production(secret_key=key, vapid_public_key=vapid_public_key_of(TEST_VAPID_KEY))
    assert settings.check().vapid_subject == "mailto:noreply@kern.localhost"  # from MAIL_FROM


def test_development_keeps_the_vapid_key_it_made_in_var(tmp_path: Path) -> None:
    development = Settings(app_env="development", vapid_private_key=None)
    made = keys(development, key_file=tmp_path / "vapid-private-key")
    again = keys(development, key_file=tmp_path / "vapid-private-key")

    assert made == again
    assert (tmp_path / "vapid-private-key").stat().st_mode & 0o077 == 0
    assert vapid_public_key_of(made.private_key) == made.public_key
    assert len(base64.urlsafe_b64decode(made.public_key + "=")) == 65
