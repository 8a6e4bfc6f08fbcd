"""Mail leaves Kern over a real SMTP server, or lands in a directory when none is configured."""

import logging
import re
import shutil
import ssl
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from api.config import Settings
from api.mail.service import MailError, Message, read_outbox_dir, send
from tests.smtp import SmtpServer, links_in

SENDER = "Kern <noreply@kern.example>"
CONFIRM_URL = "https://kern.example/account/confirm/abc123"
WELCOME = Message(
    to="Anna de Vries <anna@example.nl>",
    subject="Welkom bij Kern",
    text=f"Hallo Anna,\n\nBevestig je e-mailadres: {CONFIRM_URL}.\n\nTot ziens!\n",
    html=f'<p>Hallo Anna,</p><p><a href="{CONFIRM_URL}">Bevestig je e-mailadres</a></p>',
)


def _settings(tmp_path: Path, smtp_url: str | None = None) -> Settings:
    return Settings(app_env="test", smtp_url=smtp_url, mail_from=SENDER, mail_dir=tmp_path / "mail")


def _unused_port() -> int:
    """A loopback port nothing listens on: bound for a moment, then released."""
    with SmtpServer() as server:
        port = server.port
    return port


# --- over SMTP --------------------------------------------------------------------------------


def test_message_is_delivered_with_sender_recipient_and_subject(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    send(_settings(tmp_path, smtp_server.url), WELCOME)

    [message] = smtp_server.wait_for()
    assert message["From"] == SENDER
    assert message["To"] == "Anna de Vries <anna@example.nl>"
    assert message["Subject"] == "Welkom bij Kern"
    assert not (tmp_path / "mail").exists()


def test_envelope_goes_from_the_sender_address_to_the_recipient_address(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    send(_settings(tmp_path, smtp_server.url), WELCOME)

    [delivery] = smtp_server.deliveries
    assert delivery.mail_from == "noreply@kern.example"
    assert delivery.recipients == ("anna@example.nl",)


def test_html_is_sent_as_an_alternative_to_the_plain_text(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    send(_settings(tmp_path, smtp_server.url), WELCOME)

    [message] = smtp_server.wait_for()
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content() == WELCOME.text
    assert html.get_content().rstrip("\n") == WELCOME.html
    assert links_in(message) == [CONFIRM_URL]


def test_message_without_html_is_plain_text_only(smtp_server: SmtpServer, tmp_path: Path) -> None:
    send(
        _settings(tmp_path, smtp_server.url),
        Message(to="bob@example.nl", subject="Hoi", text="Hoi"),
    )

    [message] = smtp_server.wait_for()
    assert message.get_content_type() == "text/plain"
    assert message.get_content().rstrip("\n") == "Hoi"


def test_dutch_text_with_accents_and_euro_sign_arrives_intact(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    subject = "Één cursus, geëindigd: terugbetaling van € 49,95"
    text = "Beste Chloë,\n\nWe hebben € 49,95 teruggestort voor ‘Bekkenbodem & houding’.\n"
    html = "<p>Beste Chloë,</p><p>We hebben € 49,95 teruggestort.</p>"
    send(
        _settings(tmp_path, smtp_server.url),
        Message(to="Chloë <chloe@example.nl>", subject=subject, text=text, html=html),
    )

    [message] = smtp_server.wait_for()
    assert message["Subject"] == subject
    assert message["To"] == "Chloë <chloe@example.nl>"
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert rich is not None
    assert plain.get_content() == text
    assert rich.get_content().rstrip("\n") == html
    # Every line on the wire is 7-bit, so relays without 8BITMIME cannot damage the text.
    assert message.as_bytes().isascii()


def test_each_message_has_a_date_and_its_own_message_id(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, smtp_server.url)
    send(settings, WELCOME)
    send(settings, WELCOME)

    first, second = smtp_server.wait_for(2)
    assert first["Date"] is not None
    assert first["Date"].datetime is not None
    assert first["Message-ID"] != second["Message-ID"]
    assert str(first["Message-ID"]).endswith("@kern.example>")


def test_credentials_in_the_url_are_percent_decoded_and_used_to_log_in(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    user, password = "mailer@kern.example", "geheim/w8:woord@%"
    smtp_server.accounts[user] = password
    url = f"smtp://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{smtp_server.port}"

    send(_settings(tmp_path, url), WELCOME)

    [delivery] = smtp_server.deliveries
    assert delivery.login == user


def test_without_credentials_no_login_is_attempted(smtp_server: SmtpServer, tmp_path: Path) -> None:
    send(_settings(tmp_path, smtp_server.url), WELCOME)

    [delivery] = smtp_server.deliveries
    assert delivery.login is None


def test_wrong_smtp_password_raises_mail_error_and_sends_nothing(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    smtp_server.accounts["mailer"] = "right"
    url = f"smtp://mailer:wrong@127.0.0.1:{smtp_server.port}"

    with pytest.raises(MailError, match="could not send mail"):
        send(_settings(tmp_path, url), WELCOME)
    assert smtp_server.messages == []


def test_non_ascii_smtp_password_raises_mail_error(tmp_path: Path) -> None:
    url = f"smtp://mailer:{quote('wachtwoord€')}@127.0.0.1:{_unused_port()}"

    with pytest.raises(MailError, match="must be ASCII"):
        send(_settings(tmp_path, url), WELCOME)


def test_unreachable_smtp_server_raises_mail_error(tmp_path: Path) -> None:
    url = f"smtp://127.0.0.1:{_unused_port()}"

    with pytest.raises(MailError, match=r"could not send mail through 127\.0\.0\.1") as caught:
        send(_settings(tmp_path, url), WELCOME)
    assert isinstance(caught.value.__cause__, OSError)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:s3cret-pw@mail.example:25",
        "smtp://user:s3cret-pw@:25",
        "smtp://user:s3cret-pw@mail.example:25x",
        "mail.example:25",
    ],
)
def test_malformed_smtp_url_raises_mail_error_without_the_password(
    tmp_path: Path, url: str
) -> None:
    with pytest.raises(MailError, match="SMTP_URL must look like") as caught:
        send(_settings(tmp_path, url), WELCOME)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    "message",
    [
        Message(to="anna@example.nl\r\nBcc: everyone@example.nl", subject="Hoi", text="Hoi"),
        Message(to="anna@example.nl", subject="Hoi\nBcc: everyone@example.nl", text="Hoi"),
    ],
)
def test_line_break_in_a_header_is_refused(
    smtp_server: SmtpServer, tmp_path: Path, message: Message
) -> None:
    with pytest.raises(MailError, match="invalid recipient or subject") as caught:
        send(_settings(tmp_path, smtp_server.url), message)
    assert caught.value.permanent  # the outbox gives up on it instead of retrying for days
    assert smtp_server.messages == []


def test_smtp_server_fixture_starts_empty_and_can_be_cleared(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    assert smtp_server.messages == []
    send(_settings(tmp_path, smtp_server.url), WELCOME)
    smtp_server.wait_for()

    smtp_server.clear()

    assert smtp_server.messages == []
    with pytest.raises(AssertionError, match="expected at least 1 message"):
        smtp_server.wait_for(timeout=0.05)


def test_links_in_finds_every_link_without_trailing_punctuation(tmp_path: Path) -> None:
    text = "Zie https://kern.example/a, (http://kern.example/b?x=1) en https://kern.example/c."
    settings = _settings(tmp_path)
    send(settings, Message(to="anna@example.nl", subject="Links", text=text))

    [message] = read_outbox_dir(settings.mail_dir)
    assert links_in(message) == [
        "https://kern.example/a",
        "http://kern.example/b?x=1",
        "https://kern.example/c",
    ]


# --- over TLS ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "the openssl command is needed to make a test certificate"
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def trust_certificate(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the test certificate the only one the client trusts, as a real CA would be."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.mark.usefixtures("trust_certificate")
def test_starttls_is_used_before_logging_in_when_the_server_offers_it(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    with SmtpServer(tls_context=_server_context(certificate)) as server:
        server.accounts["mailer"] = "geheim"
        send(_settings(tmp_path, f"smtp://mailer:geheim@127.0.0.1:{server.port}"), WELCOME)

        [delivery] = server.deliveries
    assert delivery.tls
    assert delivery.login == "mailer"


@pytest.mark.usefixtures("trust_certificate")
def test_smtps_url_uses_tls_from_the_first_byte(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    with SmtpServer(tls_context=_server_context(certificate), implicit_tls=True) as server:
        send(_settings(tmp_path, server.url), WELCOME)

        [delivery] = server.deliveries
    assert server.url.startswith("smtps://")
    assert delivery.tls


def test_untrusted_starttls_certificate_is_refused_rather_than_sent_in_the_clear(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    with SmtpServer(tls_context=_server_context(certificate)) as server:
        with pytest.raises(MailError) as caught:
            send(_settings(tmp_path, server.url), WELCOME)

        assert server.messages == []
    assert isinstance(caught.value.__cause__, ssl.SSLError)


# --- into the mail directory ------------------------------------------------------------------


def test_without_smtp_url_the_message_is_written_to_mail_dir_and_reads_back(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)

    send(settings, WELCOME)

    [path] = (tmp_path / "mail").iterdir()
    assert path.suffix == ".eml"
    [message] = read_outbox_dir(settings.mail_dir)
    assert message["From"] == SENDER
    assert message["To"] == WELCOME.to
    assert message["Subject"] == WELCOME.subject
    assert links_in(message) == [CONFIRM_URL]
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert html.get_content().rstrip("\n") == WELCOME.html


def test_written_mail_is_logged_with_recipient_and_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kern.mail"):
        send(_settings(tmp_path), WELCOME)

    [path] = (tmp_path / "mail").iterdir()
    assert f"mail to {WELCOME.to} written to {path}" in caplog.messages


def test_file_name_never_comes_from_the_message(tmp_path: Path) -> None:
    send(_settings(tmp_path), Message(to="../../evil@example.nl", subject="../x", text="Hoi"))

    [path] = (tmp_path / "mail").iterdir()
    assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{8}\.eml", path.name)


def test_outbox_reads_back_in_the_order_written(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    for number in range(1, 4):
        send(settings, Message(to="anna@example.nl", subject=f"Les {number}", text="Hoi"))

    subjects = [message["Subject"] for message in read_outbox_dir(settings.mail_dir)]
    assert subjects == ["Les 1", "Les 2", "Les 3"]


def test_outbox_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    assert read_outbox_dir(tmp_path / "nothing-here") == []


def test_unwritable_mail_dir_raises_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "mail"
    blocker.write_text("a file where the directory should be")

    with pytest.raises(MailError, match="could not write mail"):
        send(_settings(tmp_path), WELCOME)
