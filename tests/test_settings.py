"""Settings come from the environment; production refuses an unsafe secret key."""

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from api.config import DEV_SECRET_KEY, Settings, SettingsError


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASE_URL", "https://kern.example")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111")
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2525")
    settings = Settings()
    assert settings.base_url == "https://kern.example"
    assert settings.stripe_api_base == "http://127.0.0.1:12111"
    assert settings.smtp_url == "smtp://127.0.0.1:2525"


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


def test_production_accepts_a_long_random_key() -> None:
    key = "Zq3v9TfK2mWc8rLp1xYh6NbD4sGj7aEu0oRi5kQw"
    assert Settings(app_env="production", secret_key=key).check().is_production


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
