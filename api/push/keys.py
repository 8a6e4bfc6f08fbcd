"""The VAPID key pair Kern signs its pushes with (RFC 8292).

Production sets VAPID_PRIVATE_KEY (api/config.py refuses to start without it). A development
checkout makes one on first use and keeps it in var/, so a browser that subscribed keeps
receiving pushes after a restart; a test run makes one per process and keeps it in memory.
"""

import base64
import os
import secrets
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from api.config import VAR, Settings, vapid_public_key_of

DEVELOPMENT_KEY_FILE = VAR / "vapid-private-key"
_lock = threading.Lock()


@dataclass(frozen=True)
class VapidKeys:
    private_key: str  # raw 32 bytes, unpadded base64url
    public_key: str  # uncompressed point, 65 bytes, unpadded base64url: the browser's
    # applicationServerKey


def new_private_key() -> str:
    """A fresh P-256 private key as unpadded base64url (what VAPID_PRIVATE_KEY holds)."""
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415 (on first use)

    number = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


def _kept_in(path: Path) -> str:
    """The key in `path`, made there first if there is none; two processes starting at once
    both end up with the one that was linked into place first."""
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(new_private_key() + "\n")
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()


@lru_cache(maxsize=1)
def _for_this_process() -> str:
    return new_private_key()


def keys(settings: Settings, *, key_file: Path = DEVELOPMENT_KEY_FILE) -> VapidKeys:
    """The key pair for these settings: VAPID_PRIVATE_KEY, or else the development or test key."""
    if settings.vapid_private_key is not None and settings.vapid_private_key.get_secret_value():
        private = settings.vapid_private_key.get_secret_value().strip()
    elif settings.app_env == "development":
        private = _kept_in(key_file)
    elif settings.app_env == "test":
        private = _for_this_process()
    else:
        raise RuntimeError("VAPID_PRIVATE_KEY is not set (Settings.check refuses this)")
    return VapidKeys(private_key=private, public_key=_public(private))


@lru_cache(maxsize=8)
def _public(private: str) -> str:
    return vapid_public_key_of(private)
