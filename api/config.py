"""Kern's settings: one typed object read from the environment and an optional `.env`."""

import base64
import subprocess
from decimal import Decimal
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api import secret_strength

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"

# The value a development checkout starts with. Anything that looks like it must never reach
# production: the key signs sessions and links, so a guessable one hands out accounts.
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 (refused in production)
# Words, not letters: a marker as short as "xxx" turns up in about one random key in 500
# (`secrets.token_urlsafe(48)` refused by chance); a key of x's fails the strength check anyway.
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "insecure", "placeholder", "secret-key")
MIN_SECRET_KEY_LENGTH = 32
# Listening on every address names none a browser could open.
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 (compared, not bound)
_MAKE_KEY = "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"


def local_base_url(host: str, port: int) -> str:
    """The address of a server listening on host:port, as a browser on this machine opens it."""
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}"


class SettingsError(Exception):
    """The configuration cannot be used; the message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{VAR / 'kern.db'}"
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    # Where `kern serve` listens (its --host and --port, which it hands on to the server).
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Whose X-Forwarded-For (the visitor's address, for rate limits) and X-Forwarded-Proto
    # `kern serve` believes: comma-separated addresses of the proxy in front of it. `*` only
    # where nothing but that proxy can reach Kern (docker-compose.yml).
    forwarded_allow_ips: str = "127.0.0.1"
    # The public address in mails and Stripe's return links. Unset: http://HOST:PORT, so
    # `PORT=8101 make run` mails links to port 8101 (a wildcard host becomes 127.0.0.1).
    base_url: str = ""
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str = "https://api.stripe.com"
    # Stripe Tax: Checkout computes the VAT of the buyer's country (automatic_tax) and invoices
    # show what it computed. Off: prices include VAT_RATE_PERCENT, split out by Kern.
    stripe_tax: bool = False
    # The VAT rate course prices include (21: the Dutch standard rate for online courses).
    vat_rate_percent: Decimal = Field(default=Decimal(21), ge=0, le=100, decimal_places=2)
    # Days a payment plan's failed instalment leaves her access open before it pauses.
    plan_grace_days: int = Field(default=7, ge=0, le=60)
    smtp_url: str | None = None
    mail_from: str = "Kern <noreply@kern.localhost>"
    mail_dir: Path = VAR / "mail"
    # Whether the web server also runs the mail worker on a thread. Unset: only in development,
    # so `make run` sends mail by itself; deployments run `kern worker` as its own process.
    mail_worker_in_process: bool | None = None
    # Seconds between the worker's rounds: how long a queued message waits at most.
    mail_poll_seconds: float = Field(default=3.0, gt=0, le=600)
    media_dir: Path = VAR / "media"
    # Where media is stored (api/media/storage.py): `local`, the folder MEDIA_DIR; or `s3`, a
    # bucket of S3-compatible object storage that several Kern servers share.
    media_storage: Literal["local", "s3"] = "local"
    # Empty: AWS itself (with MEDIA_S3_REGION); else e.g. http://seaweedfs:8333.
    media_s3_endpoint_url: str = ""
    media_s3_bucket: str = ""
    media_s3_region: str = "us-east-1"
    # Empty: boto3's own credentials (its environment variables, an instance role).
    media_s3_access_key: str = ""
    media_s3_secret_key: SecretStr | None = None
    # Keys start with this (e.g. `kern/`), so one bucket can hold more than Kern's media.
    media_s3_prefix: str = ""
    # How long a signed URL to a stored object works, in seconds.
    media_s3_url_seconds: int = Field(default=300, ge=10, le=3600)
    # The largest video file an instructor may upload, in MB of 1024 × 1024 bytes.
    media_max_video_mb: int = Field(default=500, ge=1, le=100_000)
    log_level: str = "INFO"
    # Connections per worker process at most; PostgreSQL's max_connections must allow workers ×
    # this. Each connection is a PostgreSQL process of about 10 MiB: only request_slots of them
    # stay open (api/db.py make_engine). Two requests at once per worker (half
    # the pool) keep its core busy, one running Python while the other waits for the database;
    # at 100,000 learners 4 served as many requests as 8 or 16.
    # See docs/performance.md#the-connection-pool.
    db_pool_size: int = Field(default=4, ge=2, le=200)
    # The longest one PostgreSQL statement may take, a wait for a lock included, in seconds. The
    # busiest pages read on the event loop, where a statement that waits holds up the whole
    # worker (docs/performance.md#pages-on-the-event-loop); no statement of a request needs
    # more than a fraction of a second.
    db_statement_timeout: float = Field(default=10, gt=0, le=600)
    session_idle_minutes: int = Field(default=60 * 24 * 7, ge=5)
    session_max_days: int = Field(default=30, ge=1)
    # Web Push (VAPID, RFC 8292): the key pair that signs every push, as unpadded base64url (the
    # raw 32-byte private key; the 65-byte public key is derived from it when not given). Unset
    # outside production, api/push/keys.py makes one (kept in var/ in development).
    vapid_private_key: SecretStr | None = None
    vapid_public_key: str | None = None
    # Who push services can contact about Kern's pushes: a mailto: or https: address. Unset, the
    # address of MAIL_FROM.
    vapid_subject: str = ""

    @model_validator(mode="after")
    def _base_url_from_host_and_port(self) -> "Settings":
        if not self.base_url:
            self.base_url = local_base_url(self.host, self.port)
        if not self.vapid_subject:
            self.vapid_subject = "mailto:" + parseaddr(self.mail_from)[1]
        return self

    @property
    def request_slots(self) -> int:
        """Requests a worker runs at once (api.middleware.RequestSlots): half the pool, so one
        that opens a second session (the upload guard) still finds a connection."""
        return max(1, self.db_pool_size // 2)

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def runs_mail_worker(self) -> bool:
        """Whether the web server runs the mail worker itself (see mail_worker_in_process)."""
        if self.mail_worker_in_process is None:
            return self.app_env == "development"
        return self.mail_worker_in_process

    @property
    def stripe_configured(self) -> bool:
        """A Stripe API key is set (the webhook also needs STRIPE_WEBHOOK_SECRET)."""
        return bool(self.stripe_secret_key and self.stripe_secret_key.get_secret_value())

    @property
    def demo_checkout(self) -> bool:
        """Without Stripe, development runs a marked demo checkout; production never does."""
        return not self.stripe_configured and not self.is_production

    @property
    def payments_available(self) -> bool:
        """Whether a paid course can be bought right now."""
        return self.stripe_configured or self.demo_checkout

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check(self) -> "Settings":
        """Refuse a configuration that is unsafe for its environment."""
        if self.is_production:
            _check_secret_key(self.secret_key.get_secret_value())
            _check_vapid(self)
        if self.media_storage == "s3" and not self.media_s3_bucket:
            raise SettingsError("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET: the bucket to store in.")
        return self


def _check_secret_key(key: str) -> None:
    """Refuse a missing, placeholder, short or guessable key (api/secret_strength.py)."""
    lowered = key.lower()
    if (
        not key
        or key == DEV_SECRET_KEY
        or len(key) < MIN_SECRET_KEY_LENGTH
        or any(marker in lowered for marker in _PLACEHOLDER_MARKERS)
    ):
        raise SettingsError(
            "SECRET_KEY is missing or a placeholder: in production set it to a random "
            f"value of at least {MIN_SECRET_KEY_LENGTH} characters, e.g. the output of {_MAKE_KEY}."
        )
    try:
        bits = secret_strength.measured_bits(key)
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        raise SettingsError(f"SECRET_KEY's strength could not be measured: {error}") from None
    if bits < secret_strength.MIN_BITS:
        raise SettingsError(
            f"SECRET_KEY is too easy to guess (about {bits:.0f} bits; at least "
            f"{secret_strength.MIN_BITS} needed): set it to a random value, e.g. the output of "
            f"{_MAKE_KEY}."
        )


def _check_vapid(settings: Settings) -> None:
    """Refuse production without a usable VAPID key pair and contact address: every push is
    signed with the key, and browsers tie a subscription to its public half."""
    key = settings.vapid_private_key.get_secret_value() if settings.vapid_private_key else ""
    if not key:
        raise SettingsError(
            "VAPID_PRIVATE_KEY is missing: in production set it to a key made by "
            "`kern push-keys` (keep it: a new key ends every device's notifications)."
        )
    try:
        public = vapid_public_key_of(key)
    except ValueError as error:
        raise SettingsError(f"VAPID_PRIVATE_KEY cannot be read: {error}") from None
    if settings.vapid_public_key and settings.vapid_public_key.rstrip("=") != public:
        raise SettingsError("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY.")
    subject = settings.vapid_subject
    if not subject.startswith(("mailto:", "https://")) or subject in ("mailto:", "https://"):
        raise SettingsError(
            "VAPID_SUBJECT must be a mailto: or https: address where push services can reach "
            "the owner, e.g. mailto:praktijk@example.nl."
        )


def vapid_public_key_of(private_key: str) -> str:
    """The public key (65 bytes, unpadded base64url) of a raw base64url P-256 private key."""
    # Loaded on first use: a web worker that never checks or sends a push does without it.
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: PLC0415

    try:
        raw = base64.urlsafe_b64decode(private_key.strip() + "=" * (-len(private_key.strip()) % 4))
    except ValueError:
        raise ValueError("not base64url") from None
    if len(raw) != 32:
        raise ValueError("expected the raw 32-byte P-256 private key in base64url")
    try:
        secret = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError:
        raise ValueError("not a P-256 private key") from None
    public = secret.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(public).rstrip(b"=").decode()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once and checked."""
    return Settings().check()
