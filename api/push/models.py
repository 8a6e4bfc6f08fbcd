"""Her devices that receive push notifications: one Web Push subscription each."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow

# Push services' addresses are a few hundred characters (FCM, Mozilla, Apple); 1000 is ample.
MAX_ENDPOINT = 1000


class PushSubscription(SQLModel, table=True):
    """Where a push service takes Kern's pushes for one browser of hers, and the keys that only
    that browser can decrypt them with (RFC 8291)."""

    __tablename__ = "push_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    # The push service's address for this browser: a capability, so unique and never shown.
    endpoint: str = Field(sa_column=Column(String(MAX_ENDPOINT), nullable=False, unique=True))
    # The browser's P-256 public key (65 bytes) and its 16-byte auth secret, base64url.
    p256dh: str = Field(max_length=100)
    auth: str = Field(max_length=40)
    # The browser it came from, named for her list as her sessions are (api/accounts/devices).
    user_agent: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
