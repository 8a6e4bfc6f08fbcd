"""Her devices that receive push notifications, and the pushes queued for them.

A push is queued like a mail: in the outbox, in the transaction of the occasion, one row per
device with the occasion's key, so it goes out once per occasion and device, is retried when
the push service fails, and never leaves a rolled-back transaction. What a push says can be
read on a lock screen: a title and one line that name no body part, complaint or course.
"""

import ipaddress
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Table, delete
from sqlmodel import Session, col, select

from api import i18n
from api.accounts import devices
from api.accounts.models import User
from api.config import Settings
from api.db import upsert
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.mail.models import OutboxMessage
from api.mail.outbox import enqueue
from api.mail.service import Message
from api.push.models import PushSubscription

TABLE: Table = PushSubscription.__table__  # type: ignore[attr-defined]
# A person rarely has more than a phone and a computer or two; an 11th device replaces the
# oldest, so forgotten browsers do not pile up.
MAX_DEVICES = 10
TITLE = "Kern"
# What a renewed subscription takes from the browser's latest word (all but the endpoint).
RENEWED = ("user_id", "p256dh", "auth", "user_agent", "created_at")


def _local_host(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def check_endpoint(settings: Settings, endpoint: str) -> None:
    """Refuse an address Kern should not post to: the worker posts to whatever a browser sent,
    so only https to a named public host, and plain http on loopback outside production (the
    test push service)."""
    refused = FormError({"endpoint": _("This browser's push address cannot be used.")})
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError:
        raise refused from None
    loopback_for_tests = (
        not settings.is_production
        and parts.scheme in ("http", "https")
        and host in ("127.0.0.1", "localhost", "::1")
    )
    public = parts.scheme == "https" and bool(host) and not _local_host(host)
    if not (public or loopback_for_tests) or parts.username or parts.password:
        raise refused


def subscribe(
    session: Session,
    settings: Settings,
    *,
    user: User,
    endpoint: str,
    p256dh: str,
    auth: str,
    user_agent: str,
    now: datetime,
) -> PushSubscription:
    """Keep (or renew) this browser's subscription as hers, as her newest device; a browser
    another person used before becomes hers alone."""
    check_endpoint(settings, endpoint)
    values = {
        "user_id": id_of(user),
        "endpoint": endpoint,
        "p256dh": p256dh,
        "auth": auth,
        "user_agent": user_agent[:200],
        "created_at": now,
    }
    row = upsert(
        session,
        TABLE,
        values,
        keys=["endpoint"],
        update=lambda _table, excluded: {
            name: excluded[name]
            for name in ("user_id", "p256dh", "auth", "user_agent", "created_at")
        },
    )
    if row is None:  # an upsert with an update always returns its row
        raise RuntimeError("the push subscription was not stored")
    # The upsert bypassed the ORM: a copy loaded before is read again.
    loaded = session.identity_map.get(session.identity_key(PushSubscription, row.id))
    if loaded is not None:
        session.expire(loaded)
    kept = list_devices(session, user=user)
    for stale in kept[MAX_DEVICES:]:
        session.delete(stale)
    session.flush()
    return next(device for device in kept if device.id == row.id)


def list_devices(session: Session, *, user: User) -> list[PushSubscription]:
    """Her subscribed devices, newest first."""
    return list(
        session.exec(
            select(PushSubscription)
            .where(col(PushSubscription.user_id) == user.id)
            .order_by(col(PushSubscription.created_at).desc(), col(PushSubscription.id).desc())
        ).all()
    )


def device_name(subscription: PushSubscription) -> str:
    """The browser and system in her words ("Chrome op Android")."""
    return devices.describe(subscription.user_agent)


def remove(session: Session, *, user: User, subscription_id: int) -> bool:
    """Stop pushes to one of her devices (the pushes waiting for it go too); False when she
    has no such device."""
    result = session.execute(
        delete(PushSubscription).where(
            col(PushSubscription.id) == subscription_id,
            col(PushSubscription.user_id) == user.id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def queue(
    session: Session,
    *,
    user: User,
    kind: str,
    body: str,
    path: str,
    key: str,
    now: datetime | None = None,
) -> int:
    """Queue one push per device of hers for this occasion (`body` a msgid, said in her
    language; `path` where tapping it leads); how many were new."""
    subscriptions = session.exec(
        select(PushSubscription.id).where(col(PushSubscription.user_id) == user.id)
    ).all()
    if not subscriptions:
        return 0
    token = i18n.current_locale.set(user.language)
    try:
        payload = json.dumps({"title": TITLE, "body": _(body), "url": path}, ensure_ascii=False)
    finally:
        i18n.current_locale.reset(token)
    message = Message(to="", subject=TITLE, text=payload)
    return sum(
        enqueue(
            session,
            message,
            kind=f"push:{kind}",
            user_id=user.id,
            key=f"{key}:push:{subscription_id}",
            now=now,
            push_subscription_id=subscription_id,
        )
        for subscription_id in subscriptions
    )


def export(session: Session, *, user: User) -> list[Mapping[str, Any]]:
    """Her devices with notifications (the browser, since when) and the pushes queued for each
    (when, what kind); not the push address, the keys or the text."""
    pushes: dict[int | None, list[dict[str, str]]] = {}
    for row in session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.user_id) == user.id, col(OutboxMessage.push_subscription_id) > 0)
        .order_by(col(OutboxMessage.id))
    ):
        kind = row.kind.removeprefix("push:")
        date = (row.sent_at or row.created_at).isoformat()
        pushes.setdefault(row.push_subscription_id, []).append({"date": date, "kind": kind})
    return [
        {
            "device": device_name(row),
            "user_agent": row.user_agent,
            "since": row.created_at.isoformat(),
            "notifications": pushes.get(row.id, []),
        }
        for row in list_devices(session, user=user)
    ]


def erase(session: Session, *, user: User) -> None:
    """Forget her devices (their waiting pushes go with them)."""
    session.execute(delete(PushSubscription).where(col(PushSubscription.user_id) == user.id))
