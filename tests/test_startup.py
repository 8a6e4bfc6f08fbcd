"""What a worker process loads at start-up: its memory is most of a small server's."""

import subprocess
import sys


def test_a_worker_starts_without_the_stripe_sdk_and_its_http_libraries() -> None:
    # The SDK brings requests, httpx, rich and pygments (about 25 MiB); it is imported on first
    # use, and most requests never talk to Stripe.
    probe = (
        "import sys; from api.main import create_app; create_app(); "
        "print(sorted({'stripe', 'requests', 'httpx', 'rich'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_worker_starts_without_pillow() -> None:
    # Pillow is for cover uploads in the studio (api/media/images.py imports it on first use).
    probe = (
        "import sys; from api.server import KernServer; from api.main import create_app; "
        "create_app(); print('PIL' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"
