"""Where outbox rows go: one small class per kind of destination, each with ``send()``.

The outbox row's ``sink`` names the destination: ``events`` (the OOI events API), a
webhook URL, ``mailto:<address>`` (e-mail over SMTP) or ``chat:<webhook URL>`` (a chat
incoming webhook: Slack, Mattermost, Rocket.Chat). ``Sinks.post`` picks the class; every
failure is a DeliveryError, so the outbox rules (ooi_status.monitor.delivery) hold for all:

- SMTP 5xx (a refused sender, recipient or message) is the message's fault: permanent,
  dead after MAX_STATUS_POST_FAILURES, kept;
- SMTP 4xx (try again later), a refused login or a demand for TLS or authentication (530,
  534, 535, 538: our settings, not the message), a server that is down or times out: the
  destination is unavailable; retried with backoff, never lost, nothing dead.

A message carries its ``message_id`` as the e-mail's Message-ID and as the chat POST's
``X-Message-Id`` header: retries repeat it, so that receivers can drop duplicates.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from ooi_status.config import Settings
from ooi_status.model.monitor import CHAT_PREFIX, EMAIL_PREFIX
from ooi_status.monitor.delivery import DeliveryError, EventsClient, display_url

#: Answers about our set-up, not the message (authentication or TLS required, login refused):
#: retried like a server that is down, so that a wrong setting never makes messages dead.
_SETUP_CODES = (530, 534, 535, 538)


def smtp_error(exc: Exception, server: str) -> DeliveryError:
    """The one place where an SMTP failure becomes an error kind."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        return DeliveryError(f"SMTP {server} refused the recipient ({codes})", permanent=permanent,
                             unreachable=not permanent)  # fmt: skip
    if isinstance(exc, smtplib.SMTPResponseException):
        if isinstance(exc, smtplib.SMTPAuthenticationError) or exc.smtp_code in _SETUP_CODES:
            return DeliveryError(
                f"SMTP {server} refused the login or needs TLS ({exc.smtp_code})", unreachable=True
            )
        text = f"SMTP {exc.smtp_code} from {server}"
        if exc.smtp_code >= 500:
            return DeliveryError(text, permanent=True)
        return DeliveryError(text, unreachable=True)
    return DeliveryError(f"SMTP {server} unavailable: {type(exc).__name__}", unreachable=True)


class EmailSink:
    """Sends one e-mail per message over a new SMTP connection (SMTP_* settings)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = f"{settings.SMTP_HOST}:{settings.SMTP_PORT}"

    def build(self, address: str, message: dict[str, Any]) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.EMAIL_FROM
        mail["To"] = address
        mail["Subject"] = message["subject"]
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = f"<{message['message_id']}>"
        mail.set_content(message["text"])
        if message.get("html"):
            mail.add_alternative(message["html"], subtype="html")
        return mail

    def send(self, address: str, message: dict[str, Any]) -> None:
        settings = self.settings
        try:
            mail = self.build(address, message)
            with self._connect() as smtp:
                if settings.SMTP_SECURITY == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if settings.SMTP_USERNAME:
                    smtp.login(settings.SMTP_USERNAME, settings.SMTP_PASSWORD or "")
                smtp.send_message(mail, from_addr=settings.EMAIL_FROM, to_addrs=[address])
        except (smtplib.SMTPException, OSError) as exc:
            raise smtp_error(exc, self.server) from exc
        except (KeyError, TypeError, ValueError) as exc:  # a malformed row or address: the message's fault
            raise DeliveryError(f"e-mail message cannot be built: {exc}", permanent=True) from exc

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        host, port, timeout = settings.SMTP_HOST, settings.SMTP_PORT, settings.NOTIFY_TIMEOUT
        if settings.SMTP_SECURITY == "tls":
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        return smtplib.SMTP(host, port, timeout=timeout)


class ChatSink:
    """POSTs ``{"text": ...}`` to a chat incoming webhook (any 2xx is an acknowledgement)."""

    def __init__(self, client: EventsClient) -> None:
        self.client = client

    def send(self, url: str, message: dict[str, Any]) -> None:
        headers = {"X-Message-Id": str(message.get("message_id", ""))}
        self.client.post_json(url, {"text": message.get("text", "")}, display_url(url), headers=headers)


class Sinks:
    """Every kind of destination behind the one ``post`` the delivery round calls."""

    def __init__(self, settings: Settings) -> None:
        self.events = EventsClient(settings)
        self.email = EmailSink(settings)
        self.chat = ChatSink(self.events)

    def post(self, sink: str, asset_uid: str, message: dict[str, Any]) -> None:
        if sink.startswith(EMAIL_PREFIX):
            self.email.send(sink[len(EMAIL_PREFIX) :], message)
        elif sink.startswith(CHAT_PREFIX):
            self.chat.send(sink[len(CHAT_PREFIX) :], message)
        else:
            self.events.post(sink, asset_uid, message)

    def display_sink(self, sink: str) -> str:
        if sink.startswith(EMAIL_PREFIX):
            return f"e-mail via {self.email.server}"
        if sink.startswith(CHAT_PREFIX):
            return "chat " + display_url(sink[len(CHAT_PREFIX) :])
        return self.events.display_sink(sink)

    def close(self) -> None:
        self.events.close()
