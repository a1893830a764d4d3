"""The e-mail sink against real SMTP servers on loopback: STARTTLS, TLS from the start, login,
and how each refusal counts (the message's fault, or our set-up's)."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.fake_smtp import FakeSmtpServer
from ooi_status.monitor.delivery import DeliveryError
from ooi_status.monitor.sinks import EmailSink

MESSAGE = {
    "message_id": "m1@ooi_status",
    "subject": "[ooi_status] x",
    "text": "body\n",
    "html": "<p>body</p>",
}


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, trusted by the default context (SSL_CERT_FILE)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def authenticator(logins: list[tuple[str, str]]) -> Any:
    def check(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"right")

    return check


@pytest.fixture
def logins() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def starttls_server(certificate, logins) -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(tls_context=certificate, require_starttls=True, authenticator=authenticator(logins),
                        auth_required=True) as server:  # fmt: skip
        yield server


def test_starttls_and_login(starttls_server, logins, settings):
    sink = EmailSink(starttls_server.settings_for(settings).replace(
        SMTP_SECURITY="starttls", SMTP_USERNAME="ops", SMTP_PASSWORD="right"))  # fmt: skip
    sink.send("ops@example.org", MESSAGE)
    assert logins == [("ops", "right")]
    (mail,) = starttls_server.messages
    assert mail["Message-ID"] == "<m1@ooi_status>" and mail["From"] == "ooi_status@localhost"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]


def test_a_refused_login_or_missing_tls_is_our_set_up_retried_never_dead(starttls_server, settings):
    base = starttls_server.settings_for(settings)
    wrong = EmailSink(base.replace(SMTP_SECURITY="starttls", SMTP_USERNAME="ops", SMTP_PASSWORD="wrong"))
    plain = EmailSink(base)  # the server demands STARTTLS first (530)
    for sink in (wrong, plain):
        with pytest.raises(DeliveryError) as caught:
            sink.send("ops@example.org", MESSAGE)
        assert caught.value.unreachable and not caught.value.permanent
    assert starttls_server.messages == []


def test_tls_from_the_start(certificate, settings):
    with FakeSmtpServer(ssl_context=certificate) as server:
        EmailSink(server.settings_for(settings).replace(SMTP_SECURITY="tls")).send("ops@example.org", MESSAGE)
        assert len(server.messages) == 1


@pytest.mark.parametrize(
    ("answer", "permanent", "unreachable"),
    [("554 5.7.1 rejected", True, False), ("452 4.3.1 out of storage", False, True)],
)
def test_a_refused_message_5xx_is_its_fault_4xx_is_not(smtp_server, settings, answer, permanent, unreachable):
    smtp_server.answers = [answer]
    with pytest.raises(DeliveryError) as caught:
        EmailSink(smtp_server.settings_for(settings)).send("ops@example.org", MESSAGE)
    assert (caught.value.permanent, caught.value.unreachable) == (permanent, unreachable)
    assert answer.split()[0] in str(caught.value)
