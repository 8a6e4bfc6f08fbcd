"""What a worker process loads at start-up: its memory is most of a small server's."""

import subprocess
import sys

import pytest

# Starts fresh Python processes to see what is loaded.
pytestmark = pytest.mark.slow


def _loaded_at_start(*modules: str) -> list[str]:
    """Which of `modules` a worker has imported once it has built the application, as the
    server (api/server.py) builds it."""
    probe = (
        "import sys; from api.server import KernServer; from api.main import create_app; "
        f"create_app(); print(','.join(sorted({set(modules)!r} & set(sys.modules))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return [name for name in done.stdout.strip().split(",") if name]


def test_a_worker_starts_without_the_stripe_sdk_and_its_http_libraries() -> None:
    # The SDK brings requests, httpx, rich and pygments (about 25 MiB); it is imported on first
    # use, and most requests never talk to Stripe.
    assert _loaded_at_start("stripe", "requests", "httpx", "rich") == []


def test_a_worker_starts_without_pillow() -> None:
    # Pillow is for cover uploads in the studio (api/media/images.py imports it on first use).
    assert _loaded_at_start("PIL") == []


def test_the_probe_sees_what_is_loaded() -> None:
    # Kern's own modules are loaded, so an empty answer above means "not loaded", not "broken".
    assert _loaded_at_start("api.main", "PIL") == ["api.main"]
