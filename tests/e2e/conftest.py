"""A real Kern server on a free port and a real Chromium (Debian's) driven by Playwright."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlmodel import Session, create_engine, select

from api import i18n
from api.accounts.models import User
from api.db import utcnow
from api.seed import DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD_INSTRUCTOR
from tests.conftest import IN_CI, TEST_SECRET_KEY
from tests.factories import PASSWORD
from tests.smtp import SmtpServer
from tests.stripe_server import StripeServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
LIVE_STRIPE_KEY = "sk_test_kern_live"
LIVE_WEBHOOK_SECRET = "whsec_kern_live"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    message = f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium`."
    if IN_CI:
        pytest.fail(f"Browser tests are required in CI. {message}")
    pytest.skip(message)  # only outside CI, where a missing Chromium is a set-up choice


@pytest.fixture(scope="session")
def mail_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback that receives what the live server sends."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def live_port() -> int:
    """The port the server under test listens on (known early: Stripe's webhook needs it)."""
    return _free_port()


@pytest.fixture(scope="session")
def live_stripe(live_port: int) -> Iterator[StripeServer]:
    """The Stripe test server the live Kern pays through; its /pay page delivers the events to
    Kern's webhook, as Stripe would."""
    with StripeServer() as server:
        server.webhook_url = f"http://127.0.0.1:{live_port}/stripe/webhook"
        server.webhook_secret = LIVE_WEBHOOK_SECRET
        yield server


@pytest.fixture(scope="session")
def server_env(
    tmp_path_factory: pytest.TempPathFactory, mail_server: SmtpServer, live_stripe: StripeServer
) -> dict[str, str]:
    """The environment of the server under test: its own SQLite file, SMTP and Stripe servers."""
    workdir = tmp_path_factory.mktemp("live")
    return {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": f"sqlite:///{workdir / 'kern.db'}",
        "SECRET_KEY": TEST_SECRET_KEY,
        "MEDIA_DIR": str(workdir / "media"),
        "SMTP_URL": mail_server.url,
        "STRIPE_SECRET_KEY": LIVE_STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": LIVE_WEBHOOK_SECRET,
        "STRIPE_API_BASE": live_stripe.url,
        "BASE_URL": "http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        # The server delivers its outbox itself, quickly, so a journey finds its mail at once.
        "MAIL_WORKER_IN_PROCESS": "true",
        "MAIL_POLL_SECONDS": "0.2",
    }


@pytest.fixture(scope="session")
def live_server(server_env: dict[str, str], live_port: int) -> Iterator[str]:
    """Migrate a fresh database, load the sample data and serve Kern on it, as `make run` does."""
    kern = [sys.executable, "-m", "api"]
    port = live_port
    env = {**server_env, "BASE_URL": server_env["BASE_URL"].format(port=port)}
    subprocess.run([*kern, "db", "upgrade"], env=env, check=True, cwd=ROOT)
    # The demo accounts and the sample courses from courses/, as a newcomer sees them.
    subprocess.run([*kern, "seed"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    process = subprocess.Popen(
        [*kern, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                pytest.fail("the Kern server exited during start-up")
            time.sleep(0.1)
        else:
            pytest.fail("the Kern server did not answer /healthz within 60 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright_instance(chromium_path: str) -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page in a fresh context, Dutch like most learners."""
    context = browser.new_context(
        locale="nl-NL", viewport={"width": 390, "height": 844}, device_scale_factor=1
    )
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Keep a picture of what the person saw, for review under var/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except PlaywrightError as error:
        # Now and then Chromium's compositor refuses a full-page capture on a busy machine
        # ("Unable to capture screenshot", a known upstream issue); the next one succeeds.
        if "Unable to capture screenshot" not in str(error):
            raise
        page.screenshot(path=str(path), full_page=True)
    return path


def nl(message: str) -> str:
    """The Dutch text she sees for an English msgid."""
    return str(i18n.translations("nl").ugettext(message))


def log_in(
    page: Page, live_server: str, email: str, password: str = PASSWORD, *, secret: str | None = None
) -> None:
    """Sign in from the Dutch login page, as a learner would; with `secret`, give the two-step
    code as an instructor does."""
    page.goto(live_server + "/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    if secret is not None:
        expect(page).to_have_url(re.compile(r"/login/two-factor"))
        page.get_by_label(nl("Code")).fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name=nl("Continue")).click()


def choose(page: Page, question: str, answer: str) -> None:
    """Tap an answer of a question, as she does with her thumb."""
    group = page.get_by_role("group", name=question)
    group.locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(answer)}\s*$")).click()


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px phone"


@pytest.fixture
def demo_instructor_secret(server_env: dict[str, str], live_server: str) -> Iterator[str]:
    """The seeded demo instructor with a second factor whose secret the test knows; what she had
    before is put back afterwards, so the journeys that set up her second factor themselves
    meet her as they expect."""
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == DEMO_INSTRUCTOR_EMAIL)).one()
        before: dict[str, Any] = {
            "totp_secret": user.totp_secret,
            "totp_enabled_at": user.totp_enabled_at,
            "totp_last_step": user.totp_last_step,
        }
        secret = pyotp.random_base32()
        user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, utcnow(), None
        session.add(user)
        session.commit()
        try:
            yield secret
        finally:
            for name, value in before.items():
                setattr(user, name, value)
            session.add(user)
            session.commit()
    engine.dispose()


def sign_in_demo_instructor(page: Page, live_server: str, secret: str) -> None:
    """Log in as the seeded demo instructor, with her password and a fresh code."""
    log_in(page, live_server, DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD_INSTRUCTOR, secret=secret)
