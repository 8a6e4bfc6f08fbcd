"""Signed links that stop one kind of mail without logging in.

A link names the person and the kind of mail, signed with SECRET_KEY (HMAC-SHA256 from the
standard library: the whole need is one keyed hash and a constant-time compare). It does not
expire, because mail is read late; it only ever turns mail off, or on again, for that person.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from api.config import Settings

_PURPOSE = b"kern-unsubscribe:"


class Topic(StrEnum):
    reminders = "reminders"  # practice reminders
    modules = "modules"  # a drip module has opened
    enrolments = "enrolments"  # (instructors) someone enrolled in a course
    messages = "messages"  # a new message in a conversation (never its text)
    attention = "attention"  # (instructors) the weekly count of the attention list


@dataclass(frozen=True)
class Unsubscribe:
    user_id: int
    topic: Topic


def _signature(settings: Settings, payload: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, _PURPOSE + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(settings: Settings, *, user_id: int, topic: Topic) -> str:
    payload = f"{user_id}.{topic.value}"
    return f"{payload}.{_signature(settings, payload)}"


def make_link(settings: Settings, *, user_id: int, topic: Topic) -> str:
    """The absolute URL of the page that stops this kind of mail for this person."""
    return f"{settings.base_url}/unsubscribe/{make_token(settings, user_id=user_id, topic=topic)}"


def read_token(settings: Settings, token: str) -> Unsubscribe | None:
    """Who and what a token is for, or None when it was not made by this Kern."""
    user_part, _, rest = token.partition(".")
    topic_part, _, signature = rest.partition(".")
    if not (user_part.isascii() and user_part.isdigit() and len(user_part) <= 18):
        return None
    try:
        topic = Topic(topic_part)
    except ValueError:
        return None
    expected = _signature(settings, f"{user_part}.{topic_part}")
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    return Unsubscribe(user_id=int(user_part), topic=topic)
