"""Handing one push to the push service of her browser (RFC 8030), encrypted for that browser
(RFC 8291) and signed with Kern's VAPID key (RFC 8292). The outbox calls this for a queued push
as it calls SMTP for a mail, and retries the same way."""

import logging
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from api.config import Settings
from api.db import WRITE_INTENT
from api.mail.service import MailError
from api.push import keys
from api.push.models import PushSubscription

if TYPE_CHECKING:
    from py_vapid import Vapid

log = logging.getLogger("kern.push")

TIMEOUT_SECONDS = 10
# How long the push service keeps a push for a phone that is off (its TTL header), and how late
# a retried push may still go out: a reminder is stale after the practice hour, the rest in a day.
KEEP = {"practice_reminder": timedelta(hours=2)}
KEEP_OTHERS = timedelta(days=1)
# The push service says the subscription is gone: she unsubscribed or the browser dropped it.
GONE = frozenset({404, 410})
# Worth trying again: the service is busy or broken for now.
TRY_AGAIN = frozenset({408, 425, 429})


@lru_cache(maxsize=4)
def _signer(private_key: str) -> "Vapid":
    from py_vapid import Vapid  # noqa: PLC0415 (see send)

    return Vapid.from_raw(private_key.encode())


def _forget(factory: sessionmaker[Session], subscription_id: int) -> None:
    """Remove a subscription the push service no longer knows, with its waiting pushes."""
    with factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
        session.execute(delete(PushSubscription).where(col(PushSubscription.id) == subscription_id))


def send(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    kind: str,
    subscription_id: int,
    payload: str,
    queued_at: datetime,
    now: datetime,
) -> None:
    """Deliver one push, or raise MailError (`permanent` when trying again cannot help)."""
    # pywebpush brings requests and aiohttp: loaded by the worker when it first sends a push,
    # never by a web worker (tests/test_startup.py).
    from pywebpush import WebPushException, webpush  # noqa: PLC0415

    keep = KEEP.get(kind.removeprefix("push:"), KEEP_OTHERS)
    if now - queued_at > keep:
        raise MailError("too late for this push", permanent=True)
    with factory() as session:
        subscription = session.get(PushSubscription, subscription_id)
        if subscription is None:
            raise MailError("the device no longer takes notifications", permanent=True)
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
    try:
        webpush(
            info,
            data=payload,
            vapid_private_key=_signer(keys.keys(settings).private_key),
            # webpush adds the audience and expiry to the claims: a fresh dict every time.
            vapid_claims={"sub": settings.vapid_subject},
            ttl=int(keep.total_seconds()),
            headers={"Urgency": "normal"},
            timeout=TIMEOUT_SECONDS,
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in GONE:
            _forget(factory, subscription_id)
            gone = f"push service answered {status}: subscription removed"
            raise MailError(gone, permanent=True) from None
        again = status is None or status >= 500 or status in TRY_AGAIN
        raise MailError(f"push service answered {status}", permanent=not again) from None
    except OSError as error:  # requests' errors (no connection, a timeout) are OSErrors
        raise MailError(f"push service not reached: {type(error).__name__}") from None
