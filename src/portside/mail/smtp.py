"""Sending email through a store's own SMTP server, with aiosmtplib."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from portside.domain.mail import MailSendError, SmtpServer


class SmtpTransport:
    """One connection per email: replies by email are few and far between, and each store
    has its own server, so there is nothing worth keeping open."""

    async def send(self, server: SmtpServer, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username or None,
                password=server.password if server.username else None,
                use_tls=server.security == "tls",
                # "none" must not upgrade on its own: aiosmtplib would when offered.
                start_tls=server.security == "starttls",
                timeout=server.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise MailSendError(
                f"The mail server refused the address: {text}",
                temporary=all(400 <= code < 500 for code in codes),
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise MailSendError(
                f"The mail server answered {exc.code} {exc.message}",
                temporary=400 <= exc.code < 500,
            ) from exc
        except (
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPTimeoutError,
            aiosmtplib.SMTPServerDisconnected,
            OSError,
        ) as exc:
            raise MailSendError(
                f"The mail server {server.host}:{server.port} could not be reached: {exc}",
                temporary=True,
            ) from exc
        except aiosmtplib.SMTPException as exc:
            # Such as a server that does not offer the STARTTLS the settings ask for.
            raise MailSendError(
                f"The mail server could not take it: {exc}", temporary=False
            ) from exc
