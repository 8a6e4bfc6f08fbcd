"""Outgoing mail for every domain: one message type, sent over SMTP or written to a directory."""

import ipaddress
import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from api.config import Settings

log = logging.getLogger("kern.mail")

SMTP_TIMEOUT_SECONDS = 10
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_FALLBACK_MSGID_DOMAIN = "kern.localhost"


class MailError(Exception):
    """A message could not be built, delivered or stored; `permanent` when trying again
    cannot help (the server refused the recipient or the message itself)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Attachment:
    """A file sent along (an invoice): its name as the mail program shows it, and its bytes, or
    the reference of a file made when the mail is sent (api/mail/attachments.py)."""

    filename: str
    content: bytes = b""
    mime_type: str = "application/pdf"
    ref: str | None = None


@dataclass(frozen=True)
class Message:
    """One email to one recipient: plain text, optionally with an HTML alternative."""

    to: str
    subject: str
    text: str
    html: str | None = None
    # A signed link that stops this kind of message, for the mail program's own button.
    unsubscribe_url: str | None = None
    # An iCalendar file (RFC 5545) attached as invite.ics: an appointment for her calendar.
    calendar: str | None = None
    attachment: Attachment | None = None


def send(settings: Settings, message: Message) -> None:
    """Deliver a message over SMTP, or write it to the mail directory when no server is set."""
    email = _build(settings, message)
    if settings.smtp_url is None:
        path = _write_to_dir(settings.mail_dir, email)
        log.info("mail to %s written to %s", message.to, path)
    else:
        _deliver(settings.smtp_url, email)


def read_outbox_dir(mail_dir: Path) -> list[EmailMessage]:
    """The messages written to a mail directory, oldest first."""
    if not mail_dir.is_dir():
        return []
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(mail_dir.glob("*.eml"))
    ]


def _build(settings: Settings, message: Message) -> EmailMessage:
    """The MIME message for a Message, from the configured sender."""
    email = EmailMessage()
    # The policy refuses line breaks in header values, so a subject or address that reached
    # us from a form cannot smuggle in a Bcc header.
    try:
        email["From"] = settings.mail_from
    except (ValueError, MessageError) as error:
        # Kern's own configuration: once MAIL_FROM is fixed the message can go out.
        raise MailError("MAIL_FROM is not a valid sender") from error
    try:
        email["To"] = message.to
        email["Subject"] = message.subject
    except (ValueError, MessageError) as error:
        raise MailError(
            "the message has an invalid recipient or subject", permanent=True
        ) from error
    if message.unsubscribe_url is not None:
        # RFC 2369 and RFC 8058: mail programs show an unsubscribe button that POSTs to the link.
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = make_msgid(domain=_msgid_domain(settings.mail_from))
    # Quoted-printable keeps every line 7-bit and short, so Dutch text survives servers without
    # 8BITMIME and long HTML lines are never cut by a relay.
    email.set_content(message.text, charset="utf-8", cte="quoted-printable")
    if message.html is not None:
        email.add_alternative(message.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if message.calendar is not None:
        email.add_attachment(
            message.calendar.encode(), maintype="text", subtype="calendar", filename="invite.ics"
        )
    if message.attachment is not None:
        maintype, _, subtype = message.attachment.mime_type.partition("/")
        email.add_attachment(
            message.attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=message.attachment.filename,
        )
    return email


def _msgid_domain(mail_from: str) -> str:
    """The sender's domain, for Message-IDs that look like they come from where the mail does."""
    # make_msgid would otherwise ask for the host's FQDN, a DNS lookup that can stall a request.
    _, address = parseaddr(mail_from)
    _, _, domain = address.rpartition("@")
    return domain or _FALLBACK_MSGID_DOMAIN


def _write_to_dir(mail_dir: Path, email: EmailMessage) -> Path:
    """Store a message as a new .eml file and return its path."""
    # The name is a timestamp and random suffix only: nothing from the message can steer the
    # path, and the names sort in the order the messages were written.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = mail_dir / f"{stamp}-{secrets.token_hex(4)}.eml"
    try:
        mail_dir.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as file:
            file.write(email.as_bytes())
    except OSError as error:
        raise MailError(f"could not write mail to {mail_dir}") from error
    return path


def _deliver(smtp_url: str, email: EmailMessage) -> None:
    """Hand a message to the SMTP server the URL names."""
    url = _parse_smtp_url(smtp_url)
    host = url.hostname or ""
    port = url.port or _DEFAULT_PORTS[url.scheme]
    user = unquote(url.username) if url.username else None
    password = unquote(url.password or "")
    # smtplib encodes credentials as ASCII; say so instead of failing with a UnicodeEncodeError.
    if user is not None and not (user + password).isascii():
        raise MailError("the SMTP user name and password in SMTP_URL must be ASCII")
    context = ssl.create_default_context()
    try:
        client = (
            smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
            if url.scheme == "smtps"
            else smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
        )
        with client:
            client.ehlo()
            encrypted = url.scheme == "smtps"
            if url.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
                encrypted = True
            # Someone between Kern and a remote relay could strip the STARTTLS offer to read the
            # password; only a server on this machine may receive it unencrypted.
            if user is not None and not encrypted and not _is_loopback(host):
                raise MailError(f"{host} offers no TLS; refusing to send the SMTP password")
            if user is not None:
                client.login(user, password)
            client.send_message(email)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(
            f"could not send mail through {host}:{port}: {error}", permanent=_refused(error)
        ) from error


def _refused(error: Exception) -> bool:
    """Whether the server refused the recipient or the message for good (a 5xx reply).

    A refused sender or login is left out: that is Kern's configuration, and once it is fixed
    the same message goes through.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _reply in error.recipients.values())
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_smtp_url(smtp_url: str) -> SplitResult:
    """Split SMTP_URL, refusing anything but smtp:// and smtps:// with a host and valid port."""
    url = urlsplit(smtp_url)
    try:
        # Reading .port validates it; a typo like :25x should fail here, not as a refused socket.
        valid = url.scheme in _DEFAULT_PORTS and bool(url.hostname) and url.port != 0
    except ValueError:
        valid = False
    if not valid:
        # The URL may hold a password, so the message does not repeat it.
        raise MailError("SMTP_URL must look like smtp://user:password@host:port or smtps://…")
    return url
