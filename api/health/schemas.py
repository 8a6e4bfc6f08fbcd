"""What the readiness check answers."""

from pydantic import BaseModel


class ReadyPublic(BaseModel):
    """Ready: the database answers; `payments` says how Stripe stands, in words."""

    status: str
    database: str
    payments: str


class NotReadyPublic(BaseModel):
    """Not ready, and why."""

    status: str
    reason: str
