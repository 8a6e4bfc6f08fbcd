"""What a worker process loads at start-up: its memory is most of a small server's."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.conftest import TEST_VAPID_KEY

# Starts fresh Python processes to see what is loaded.
pytestmark = pytest.mark.slow


def _loaded_at_start(*modules: str, env: dict[str, str] | None = None) -> list[str]:
    """Which of `modules` a worker has imported once it has built the application, as the
    server (api/server.py) builds it."""
    probe = (
        "import sys; from api.server import KernServer; from api.main import create_app; "
        f"create_app(); print(','.join(sorted({set(modules)!r} & set(sys.modules))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    return [name for name in done.stdout.strip().split(",") if name]


def test_a_worker_starts_without_the_stripe_sdk_and_its_http_libraries() -> None:
    # The SDK brings requests, httpx, rich and pygments (about 25 MiB); it is imported on first
    # use, and most requests never talk to Stripe.
    assert _loaded_at_start("stripe", "requests", "httpx", "rich") == []


def test_a_worker_starts_without_pillow() -> None:
    # Pillow is for cover uploads in the studio (api/media/images.py imports it on first use).
    assert _loaded_at_start("PIL") == []


def test_a_production_worker_measures_its_secret_key_without_loading_zxcvbn() -> None:
    # zxcvbn's word lists (about 13 MiB) are loaded by a short-lived child process only
    # (api/secret_strength.py, docs/performance.md#loaded-on-first-use).
    production = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "VAPID_PRIVATE_KEY": TEST_VAPID_KEY,
    }
    assert _loaded_at_start("zxcvbn", "api.secret_strength", env=production) == [
        "api.secret_strength"
    ]


def test_the_probe_sees_what_is_loaded() -> None:
    # Kern's own modules are loaded, so an empty answer above means "not loaded", not "broken".
    assert _loaded_at_start("api.main", "PIL") == ["api.main"]
