"""Hand a composed email to the SMTP server, and say whether a failure is worth retrying.

Each worker thread keeps one SMTP connection open and sends its emails over it, one after
another (connecting, greeting, TLS and login cost more than an email: issue 17). A
connection that the server closed meanwhile (its idle timeout, a restart) is found out at
the first command of the next email, before any of it was sent: that email goes again
over a new connection at once. Once DATA has begun nothing is sent again here, since the
server may have accepted the email; that attempt fails as temporary and the delivery log
decides (`operations.deliver`), as before. After any error the connection is dropped.
"""

import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

TlsMode = Literal["none", "starttls", "ssl"]  # the values of SMTP_TLS

#: seconds a kept connection may have been idle and still be used; an older one is closed
#: and a new one opened (servers close idle connections after about 5 minutes, RFC 5321
#: 4.5.3.2.7, and some far sooner)
IDLE_REUSE = 30.0


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


class _Stale(Exception):
    """A kept connection failed before DATA: the server has nothing of this email."""


class _Connection:
    """One open SMTP session, and whether the current email's DATA has begun on it."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        if settings.tls == "ssl":
            self.smtp = _SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  context=ssl.create_default_context())
        else:
            self.smtp = _SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.tls == "starttls":
                self.smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                self.smtp.login(settings.user, settings.password or "")
        except BaseException:
            self.close()
            raise
        self.used_at = time.monotonic()
        self.sent = 0

    def send(self, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        self.smtp.data_begun = False
        try:
            refused = self.smtp.send_message(message)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPSenderRefused, OSError) as exc:
            # On a connection used before, a failure before DATA (a closed connection, or
            # 421 "closing" in answer to MAIL) means it went stale while kept.
            closing = not isinstance(exc, smtplib.SMTPSenderRefused) or exc.smtp_code == 421
            if self.sent and closing and not self.smtp.data_begun:
                raise _Stale() from exc
            raise
        self.used_at = time.monotonic()
        self.sent += 1
        return refused

    def close(self) -> None:
        """Drop the connection without QUIT: nothing waits on a goodbye (the server ends
        the session when the socket closes), so an accepted email never waits on one."""
        self.smtp.close()


class _DataMarker:
    """Notes when DATA begins: from then on the server may have accepted the email."""

    data_begun = False

    def data(self, msg):  # noqa: ANN001, ANN201 (smtplib's signature)
        self.data_begun = True
        return super().data(msg)


class _SMTP(_DataMarker, smtplib.SMTP):
    pass


class _SMTP_SSL(_DataMarker, smtplib.SMTP_SSL):
    pass


#: this thread's open connection, if any
_kept = threading.local()


def deliver(message: EmailMessage, settings: SmtpSettings) -> None:
    """Send ``message`` to the recipients named in its headers, over this thread's open
    connection (a new one if it has none, for other settings, or one idle too long).

    Returns once the server accepted it for every recipient. Raises TemporaryDeliveryError
    or PermanentDeliveryError otherwise.
    """
    try:
        try:
            refused = _send(message, settings)
        except _Stale:
            refused = _send(message, settings)
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refusal(exc.recipients) from exc
    except smtplib.SMTPResponseException as exc:  # sender refused, data, login and greeting errors
        raise _by_code(exc.smtp_code, exc.smtp_error) from exc
    except smtplib.SMTPServerDisconnected as exc:  # closed on us before it answered
        raise TemporaryDeliveryError(str(exc) or type(exc).__name__) from exc
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, no SMTPUTF8 for a non-ASCII address...
        raise PermanentDeliveryError(str(exc)) from exc
    except OSError as exc:  # refused, reset, timed out, TLS handshake, dropped connection
        raise TemporaryDeliveryError(str(exc) or type(exc).__name__) from exc
    if refused:  # accepted for the other recipients: a retry would send it to them twice
        raise PermanentDeliveryError("; ".join(
            f"{address}: {code} {reply.decode(errors='replace')}" for address, (code, reply) in refused.items()
        ))


def _send(message: EmailMessage, settings: SmtpSettings) -> dict[str, tuple[int, bytes]]:
    """One try on this thread's connection; after any error it is dropped (a _Stale one
    too, so the next try connects anew)."""
    connection: _Connection | None = getattr(_kept, "connection", None)
    if connection is not None and (
        connection.settings != settings or time.monotonic() - connection.used_at > IDLE_REUSE
    ):
        _kept.connection = None
        connection.close()
        connection = None
    if connection is None:
        connection = _Connection(settings)
    try:
        refused = connection.send(message)
    except BaseException:
        _kept.connection = None
        connection.close()
        raise
    _kept.connection = connection
    return refused


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
