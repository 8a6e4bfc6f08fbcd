"""SMTP servers that misbehave on purpose: busy, refusing, or slow."""

import asyncio

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.smtp import SmtpServer

BUSY = "451 4.3.0 Mailbox busy, try again later"
NO_SUCH_USER = "550 5.1.1 No such user here"


class TroubledServer(SmtpServer):
    """A loopback SMTP server that answers the first `failures` messages with `data_reply`,
    refuses every recipient with `rcpt_reply` when set, and takes `delay` seconds per message."""

    def __init__(
        self,
        *,
        failures: int = 0,
        data_reply: str = BUSY,
        rcpt_reply: str | None = None,
        delay: float = 0.0,
    ) -> None:
        super().__init__()
        self.failures = failures
        self.data_reply = data_reply
        self.rcpt_reply = rcpt_reply
        self.delay = delay
        # Every DATA the server was offered, accepted or not.
        self.attempts = 0

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        # aiosmtpd runs every hook on its one event loop, so the counters need no lock.
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            return self.data_reply
        if self.delay:
            # Holding this connection while others are served makes workers overlap.
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)
