"""One SMTP connection per worker thread, kept across emails (services.notify.smtp).

A real aiosmtpd server that notes which connection each email came over, and can close
connections on its own (its idle timeout, a restart, a drop in the middle of DATA).
"""
from __future__ import annotations

import time
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from services.notify import smtp
from ops.redis_server import free_port


class Server:
    """Accepts everything; `received` holds (client port, recipient) per email."""

    def __init__(self, port: int, timeout: float = 300, drop_in_data: bool = False) -> None:
        self.received: list[tuple[int, str]] = []
        self.drop_in_data = drop_in_data
        self.controller = Controller(self, hostname="127.0.0.1", port=port, timeout=timeout)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        if self.drop_in_data:
            server.transport.close()  # the message may or may not have been taken: the client cannot tell
        self.received.append((session.peer[1], envelope.rcpt_tos[0]))
        return "250 OK"

    def stop(self) -> None:
        self.controller.stop()


def email(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "noreply@efus.eu", to, "Hello"
    message.set_content("Hello")
    return message


@pytest.fixture
def port() -> int:
    return free_port()


def test_emails_of_a_thread_share_one_connection(port):
    server = Server(port)
    try:
        settings = smtp.SmtpSettings(host="127.0.0.1", port=port)
        for n in range(3):
            smtp.deliver(email(f"p{n}@example.org"), settings)
        assert [to for _, to in server.received] == ["p0@example.org", "p1@example.org", "p2@example.org"]
        assert len({client for client, _ in server.received}) == 1
    finally:
        server.stop()


@pytest.mark.parametrize("closed_by", ["idle timeout", "restart"])
def test_a_connection_the_server_closed_is_replaced_and_the_email_sent_once(port, closed_by):
    server = Server(port, timeout=0.5)
    settings = smtp.SmtpSettings(host="127.0.0.1", port=port)
    try:
        smtp.deliver(email("first@example.org"), settings)
        if closed_by == "restart":
            server.stop()
            server = Server(port, timeout=0.5)
        else:
            time.sleep(1.5)  # the server says 421 and closes; the kept connection does not know yet
        smtp.deliver(email("second@example.org"), settings)
        assert [to for _, to in server.received][-1] == "second@example.org"
        assert sum(to == "second@example.org" for _, to in server.received) == 1
        if closed_by != "restart":
            assert len({client for client, _ in server.received}) == 2
    finally:
        server.stop()


def test_a_connection_lost_during_data_is_not_tried_again(port):
    """Once DATA has begun the server may have the email: no second try on a new
    connection, the attempt is temporary and the delivery log decides."""
    server = Server(port)
    settings = smtp.SmtpSettings(host="127.0.0.1", port=port)
    try:
        smtp.deliver(email("first@example.org"), settings)
        server.drop_in_data = True
        with pytest.raises(smtp.TemporaryDeliveryError):
            smtp.deliver(email("second@example.org"), settings)
        assert sum(to == "second@example.org" for _, to in server.received) == 1
        server.drop_in_data = False
        smtp.deliver(email("third@example.org"), settings)  # over a new connection
        assert [to for _, to in server.received][-1] == "third@example.org"
    finally:
        server.stop()
