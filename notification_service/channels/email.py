"""Email channel: the notification as a plain-text message over SMTP (aiosmtplib)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from notification_service.channels.base import PermanentDeliveryError, RetryableDeliveryError
from notification_service.model import StoredNotification
from notification_service.preferences import OutgoingChannel, Preferences


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to send mail."""

    host: str
    port: int = 587
    sender: str = "notifications@localhost"
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # implicit TLS (port 465)
    start_tls: bool | None = None  # None: upgrade when the server offers STARTTLS
    timeout_seconds: float = 10.0


def compose(notification: StoredNotification, sender: str, recipient: str) -> EmailMessage:
    """The message for one notification (subject = title, text = body and details)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    prefix = "[Critical] " if notification.critical else ""
    message["Subject"] = prefix + notification.title
    message["Message-ID"] = make_msgid(idstring=notification.id.hex)
    message["X-Notification-Id"] = str(notification.id)
    lines = (
        [notification.title, "", notification.body] if notification.body else [notification.title]
    )
    if notification.data:
        lines += ["", *(f"{key}: {value}" for key, value in sorted(notification.data.items()))]
    lines += ["", f"Sent {notification.created_at:%Y-%m-%d %H:%M:%S %Z}."]
    message.set_content("\n".join(lines))
    return message


class EmailChannel:
    """Sends over SMTP; a refused recipient is permanent, anything else is retried."""

    name = OutgoingChannel.EMAIL

    def __init__(self, server: SmtpServer):
        self._server = server

    async def send(self, notification: StoredNotification, preferences: Preferences) -> None:
        if not preferences.email_address:
            raise PermanentDeliveryError("no email address configured")
        message = compose(notification, self._server.sender, preferences.email_address)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._server.host,
                port=self._server.port,
                username=self._server.username,
                password=self._server.password,
                use_tls=self._server.use_tls,
                start_tls=self._server.start_tls,
                timeout=self._server.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise PermanentDeliveryError(f"recipient refused: {error}") from error
        except aiosmtplib.SMTPResponseException as error:
            reason = f"SMTP {error.code}: {error.message}"
            if 500 <= error.code < 600:
                raise PermanentDeliveryError(reason) from error
            raise RetryableDeliveryError(reason) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise RetryableDeliveryError(
                f"SMTP unavailable: {type(error).__name__}: {error}"
            ) from error

    async def close(self) -> None:
        return None
