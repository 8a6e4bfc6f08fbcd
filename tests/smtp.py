"""A real SMTP server on the loopback interface for tests, as a pytest plugin (`smtp_server`)."""

import asyncio
import re
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session as DbSession

from api import db
from api.accounts import requests as account_requests
from api.config import Settings
from api.mail import outbox

# Stops at whitespace, quotes and brackets, so a link written "(see https://…)" or in an HTML
# attribute is found without its surroundings.
_URL = re.compile(r"""https?://[^\s<>"'()\[\]]+""")
_SENTENCE_PUNCTUATION = ".,;:!?"


@dataclass(frozen=True)
class Delivery:
    """One message as the server received it, with its envelope."""

    message: EmailMessage
    mail_from: str
    recipients: tuple[str, ...]
    login: str | None
    tls: bool


class _Controller(Controller):
    """An aiosmtpd controller that can listen on port 0, so the OS picks a free port."""

    def _trigger_server(self) -> None:
        # The base class checks readiness by connecting to self.port, so it must be the real port
        # before that check; asking for a port and closing it first would race other processes.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpServer:
    """An SMTP server on 127.0.0.1 that records every message it accepts."""

    def __init__(
        self, *, tls_context: ssl.SSLContext | None = None, implicit_tls: bool = False
    ) -> None:
        """Plain SMTP; STARTTLS with a `tls_context`, or TLS from the first byte if implicit."""
        # Logins the server accepts; a client that does not log in is accepted too.
        self.accounts: dict[str, str] = {}
        self.implicit_tls = implicit_tls
        self._deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        self._controller = _Controller(
            self,
            hostname="127.0.0.1",
            port=0,
            # A fixed name spares the server a DNS lookup for its own FQDN.
            server_hostname="kern-test-smtp",
            ssl_context=tls_context if implicit_tls else None,
            tls_context=None if implicit_tls else tls_context,
            authenticator=self._authenticate,
            # Tests log in over plain connections; production code still uses STARTTLS when offered.
            auth_require_tls=False,
        )

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def url(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def deliveries(self) -> list[Delivery]:
        with self._arrived:
            return list(self._deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        return [delivery.message for delivery in self.deliveries]

    def clear(self) -> None:
        """Forget every message received so far."""
        with self._arrived:
            self._deliveries.clear()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages received, once there are at least `count` of them."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._deliveries) >= count, timeout):
                subjects = [str(delivery.message["Subject"]) for delivery in self._deliveries]
                raise AssertionError(
                    f"expected at least {count} message(s) within {timeout}s, "
                    f"received {len(subjects)}: {subjects}"
                )
            return [delivery.message for delivery in self._deliveries]

    def wait_for_mail_to(self, address: str, timeout: float = 5.0) -> EmailMessage:
        """The newest message to `address`, once one has arrived (other mail may come too)."""

        def mine() -> list[EmailMessage]:
            return [d.message for d in self._deliveries if d.message["To"] == address]

        with self._arrived:
            if not self._arrived.wait_for(lambda: bool(mine()), timeout):
                raise AssertionError(f"no message to {address} within {timeout}s")
            return mine()[-1]

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        """Record a message; aiosmtpd calls this in its own thread once DATA is complete."""
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        delivery = Delivery(
            # Lines arrive ending in CRLF, as SMTP requires; store them the way a mailbox on disk
            # would, so a decoded body compares equal to the text that was sent.
            message=message_from_bytes(
                (envelope.original_content or b"").replace(b"\r\n", b"\n"), policy=policy.default
            ),
            mail_from=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            login=login,
            # The transport is the TLS one after STARTTLS as well as with implicit TLS.
            tls=server.transport is not None
            and server.transport.get_extra_info("ssl_object") is not None,
        )
        with self._arrived:
            self._deliveries.append(delivery)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: object,
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        accepted = login in self.accounts and self.accounts[login] == password
        return AuthResult(success=accepted, handled=False, auth_data=auth_data)


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    if body is None:
        raise AssertionError(f"message {message['Subject']!r} has no text/{subtype} part")
    content = body.get_content()
    assert isinstance(content, str)
    return content


def text_of(message: EmailMessage) -> str:
    """The plain-text part of a message."""
    return _part(message, "plain")


def html_of(message: EmailMessage) -> str:
    """The HTML part of a message."""
    return _part(message, "html")


def links_in(message: EmailMessage) -> list[str]:
    """Every http(s) URL in a message's plain-text body, in order."""
    return [match.rstrip(_SENTENCE_PUNCTUATION) for match in _URL.findall(text_of(message))]


def link_path(message: EmailMessage) -> str:
    """The path of the one link in a message, to open with a test client."""
    [link] = links_in(message)
    return urlsplit(link).path


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A fresh SMTP server per test, so no test sees another's mail; starting one takes ~2 ms."""
    with SmtpServer() as server:
        yield server


class Mailbox:
    """The SMTP server as a learner's mailbox: reading it first lets the mail worker answer and
    deliver what the test's transaction queued, as `kern worker` would a moment later."""

    def __init__(self, server: SmtpServer, factory: sessionmaker[DbSession], settings: Settings):
        self.server = server
        self.settings = settings
        self._factory = factory

    @property
    def url(self) -> str:
        return self.server.url

    def deliver(self, now: datetime | None = None) -> outbox.Report:
        """One worker run over everything due (at `now`): the account requests it answers
        (sign-up, reset and sign-in links), then the outbox."""
        account_requests.answer_waiting(self._factory, self.settings)
        return outbox.deliver_all(self._factory, self.settings, now=now)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        self.deliver()
        return self.server.wait_for(count, timeout)

    @property
    def deliveries(self) -> list[Delivery]:
        self.deliver()
        return self.server.deliveries

    @property
    def messages(self) -> list[EmailMessage]:
        return [delivery.message for delivery in self.deliveries]

    def clear(self) -> None:
        self.deliver()
        self.server.clear()


@pytest.fixture
def outbox_sessions(connection: Connection) -> sessionmaker[DbSession]:
    """Sessions for the outbox worker inside the test's transaction."""
    return db.make_sessionmaker(connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def mailbox(
    settings: Settings, smtp_server: SmtpServer, outbox_sessions: sessionmaker[DbSession]
) -> Mailbox:
    """Mail goes to a real SMTP server, delivered from the outbox of the test's transaction."""
    settings.smtp_url = smtp_server.url
    return Mailbox(smtp_server, outbox_sessions, settings)
