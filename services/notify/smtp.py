"""Hand a composed email to the SMTP server, and say whether a failure is worth retrying."""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

TlsMode = Literal["none", "starttls", "ssl"]  # the values of SMTP_TLS


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    tls: TlsMode = "none"  # "starttls" upgrades a plain connection (587); "ssl" is TLS from the start (465)
    user: str | None = None  # log in only when set
    password: str | None = None
    timeout: float = 30.0  # seconds, for connecting and for each reply

    def __post_init__(self) -> None:
        if self.tls not in ("none", "starttls", "ssl"):
            raise ValueError(f"SMTP TLS mode must be none, starttls or ssl, not {self.tls!r}")


class DeliveryError(Exception):
    """The SMTP server did not take the message; ``code`` is its reply code, if it gave one."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(f"{code} {reason}" if code else reason)
        self.code = code


class TemporaryDeliveryError(DeliveryError):
    """Worth retrying later: server unreachable, timed out, or a 4xx reply."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: a 5xx reply (unknown recipient, rejected message, bad login)."""


def deliver(message: EmailMessage, settings: SmtpSettings) -> None:
    """Send ``message`` to the recipients named in its headers, over a fresh connection.

    Returns once the server accepted it for every recipient. Raises TemporaryDeliveryError
    or PermanentDeliveryError otherwise.
    """
    try:
        if settings.tls == "ssl":
            connection = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.tls == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if settings.user:
                connection.login(settings.user, settings.password or "")
            refused = connection.send_message(message)
        finally:
            _quit(connection)
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refusal(exc.recipients) from exc
    except smtplib.SMTPResponseException as exc:  # sender refused, data, login and greeting errors
        raise _by_code(exc.smtp_code, exc.smtp_error) from exc
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, no SMTPUTF8 for a non-ASCII address...
        raise PermanentDeliveryError(str(exc)) from exc
    except OSError as exc:  # refused, reset, timed out, TLS handshake, dropped connection
        raise TemporaryDeliveryError(str(exc) or type(exc).__name__) from exc
    if refused:  # accepted for the other recipients: a retry would send it to them twice
        raise PermanentDeliveryError("; ".join(
            f"{address}: {code} {reply.decode(errors='replace')}" for address, (code, reply) in refused.items()
        ))


def _quit(connection: smtplib.SMTP) -> None:
    """Say goodbye, but never let a failing QUIT turn an accepted message into an error."""
    try:
        connection.quit()
    except OSError:
        connection.close()


def _by_code(code: int, reply: bytes | str) -> DeliveryError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    error = PermanentDeliveryError if 500 <= code < 600 else TemporaryDeliveryError
    return error(text, code)


def _refusal(refused: dict[str, tuple[int, bytes]]) -> DeliveryError:
    """All recipients refused: permanent if any refusal is, since retrying cannot change that."""
    errors = [
        _by_code(code, f"{address}: {reply.decode(errors='replace')}") for address, (code, reply) in refused.items()
    ]
    return next((error for error in errors if isinstance(error, PermanentDeliveryError)), errors[0])
