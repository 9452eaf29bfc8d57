"""Real parts for the notify tests: an SMTP server, Dramatiq worker processes, the relay.

Workers are real `dramatiq shared.worker services.notify.actors` processes against the
test Redis and database, sending to an aiosmtpd server run by the test.
"""
from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable, Iterator

import dramatiq
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from werkzeug.serving import make_server

from ops.redis_server import free_port
from services.notify.scheduler import queue_due
from shared.broker import make_broker
from shared.config import load_settings
from shared.contracts import CONTRACTS
from shared.outbox import run_relay

@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> None:
    """Every notify test that uses a database or Redis starts from empty ones; the tests of
    email composition use neither and are spared the clean-up."""
    if {"databases", "redis_server"} & set(request.fixturenames):
        request.getfixturevalue("clean")


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {condition.__doc__ or condition}")
        time.sleep(interval)


class Mailbox:
    """An aiosmtpd server that keeps what it accepts, and can misbehave on request.

    `refuse` maps recipient addresses to an SMTP reply for RCPT TO, `refuse_subjects` words of
    a subject to an SMTP reply for DATA; `hold_after(n)` makes
    every DATA after the n-th wait (connection open, message not yet accepted) until
    `release()`. A client that disconnects while held has delivered nothing.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse: dict[str, str] = {}
        self.refuse_subjects: dict[str, str] = {}
        self.held = 0
        self._hold_after: int | None = None
        self._gate: asyncio.Event | None = None
        self._controller: Controller | None = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address: str, options: list[str]) -> str:  # noqa: ANN001
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        if self._hold_after is not None and len(self.received) >= self._hold_after:
            self.held += 1
            try:
                await self._gate.wait()
            finally:
                self.held -= 1
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        for words, reply in list(self.refuse_subjects.items()):
            if words in str(message["Subject"]):
                return reply
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> "Mailbox":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        self._gate = asyncio.Event()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def hold_after(self, count: int) -> None:
        self._hold_after = count

    def release(self) -> None:
        self._hold_after = None
        self._controller.loop.call_soon_threadsafe(self._gate.set)

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, message in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.received if address in recipients]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def registration_url(registration_app) -> Iterator[str]:
    """The registration service over HTTP (it serves the attendance certificates)."""
    url, stop = serve(registration_app)
    yield url
    stop()


@pytest.fixture(scope="session")
def orders_url(environ: dict[str, str], registration_url: str) -> Iterator[str]:
    """The orders service over HTTP (it serves the invoice PDFs), asking the registration
    service's member directory, also over HTTP."""
    from services.orders import create_app

    url, stop_orders = serve(create_app(load_settings({**environ, "REGISTRATION_URL": registration_url})))
    yield url
    stop_orders()


@pytest.fixture
def notify_environ(environ: dict[str, str], mailbox: Mailbox, orders_url: str, registration_url: str) -> dict[str, str]:
    return {**environ, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mailbox.port), "ORDERS_URL": orders_url,
            "REGISTRATION_URL": registration_url, "MAIL_FROM": "EU-POLNET <noreply@efus.eu>"}


class WorkerProcess:
    """`dramatiq shared.worker services.notify.actors` in its own process group."""

    def __init__(self, environ: dict[str, str], log: Path, processes: int = 1, threads: int = 4) -> None:
        self.environ = environ
        self.log = log
        self.command = [
            str(Path(sys.executable).with_name("dramatiq")), "--processes", str(processes), "--threads", str(threads),
            "shared.worker", "services.notify.actors", "--queues", "notify",
        ]
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> "WorkerProcess":
        self.log.write_text("")
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.command, env={**os.environ, **self.environ}, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while "ready for action" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log.read_text()}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, no requeue, as in a crash."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """End of test: no need to hand unfinished messages back (Redis is emptied next)."""
        if self.process is not None and self.process.poll() is None:
            self.kill()
        print(f"--- worker log ---\n{self.log.read_text()[-5000:]}")


@pytest.fixture
def start_worker(notify_environ, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    workers: list[WorkerProcess] = []

    def start(**options: Any) -> WorkerProcess:
        worker = WorkerProcess(notify_environ, tmp_path / f"worker-{len(workers)}.log", **options).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def broker(redis_server) -> Iterator[dramatiq.Broker]:
    """A broker for the test's own use (not Dramatiq's global one)."""
    broker = make_broker(redis_server.url)
    yield broker
    broker.close()


def enqueue(broker: dramatiq.Broker, envelope: dict, message_id: str | None = None) -> dramatiq.Message:
    """Queue an envelope exactly as the outbox relay does."""
    contract = CONTRACTS[envelope["type"]]
    return broker.enqueue(dramatiq.Message(
        queue_name=contract.queue, actor_name=contract.actor_name, args=(envelope,), kwargs={}, options={},
        message_id=message_id or envelope["key"].replace(":", "-")[:32],
    ))


def drained(broker: dramatiq.Broker) -> bool:
    """No message left in the notify queue: none waiting, being processed or due for a retry."""
    return broker.client.hlen("dramatiq:notify.msgs") + broker.client.hlen("dramatiq:notify.DQ.msgs") == 0


@pytest.fixture
def notify_db(databases) -> Iterator[sa.Engine]:
    engine = sa.create_engine(databases.urls["notify"])
    yield engine
    engine.dispose()


def deliveries(engine: sa.Engine, **where: Any) -> list[dict[str, Any]]:
    """Rows of the delivery log, oldest first, as dicts."""
    query = "SELECT * FROM delivery"
    if where:
        query += " WHERE " + " AND ".join(f"{name} = :{name}" for name in where)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.text(query + " ORDER BY id"), where)]


@pytest.fixture
def relay(databases, redis_server) -> Iterator[None]:
    """The outbox relay of every service and the notify scheduler, as `eupolnet relay` runs them."""
    engines = {service: sa.create_engine(url) for service, url in databases.urls.items()}
    stop = threading.Event()
    thread = threading.Thread(
        target=run_relay, args=(engines, make_broker(redis_server.url), stop),
        kwargs={"poll_interval": 0.05, "due_work": {"notify": queue_due}, "due_interval": 0.2}, daemon=True,
    )
    thread.start()
    yield
    stop.set()
    thread.join(10)
    for engine in engines.values():
        engine.dispose()


def serve(app: Flask) -> tuple[str, Callable[[], None]]:
    """Serve `app` over real HTTP from a thread; returns its URL and how to stop it."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server.shutdown


@pytest.fixture(scope="session")
def notify_app(environ: dict[str, str], registration_url: str):
    """The notify app; it asks the registration service over HTTP about staff tokens."""
    from services.notify import create_app

    return create_app(load_settings({**environ, "REGISTRATION_URL": registration_url}))


@pytest.fixture
def notify_client(notify_app):
    return notify_app.test_client()


JOIN_URL = "https://meet.example.org/j/42?pwd=s3cret"


def registration_envelope(
    kind: str = "registration.confirmed", email: str = "ana@madrid.es", lang: str = "en", key: str | None = None, **data: Any
) -> dict:
    """A web conference registration message as the registration service emits it."""
    envelope = {
        "type": kind,
        "version": 1,
        "key": key or f"{kind}:{email}:1",
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "data": {
            "registration_id": f"reg-{email}",
            "status": "confirmed",
            "person": {"first_name": "Ana", "last_name": "López", "email": email, "language": lang},
            "event": {
                "slug": "trust-2027", "kind": "webconference",
                "title": {"en": "Police and citizens: trust", "fr": "Police et citoyens : la confiance"},
                "starts_at": "2027-03-10T09:00:00+01:00", "ends_at": "2027-03-10T11:00:00+01:00",
                "timezone": "Europe/Paris", "venue": None, "online": True, "join_url": JOIN_URL,
            },
            "manage_url": "http://localhost:8001/manage/tok",
            "verify_url": None,
            "waitlist_position": None,
        },
    }
    envelope["data"].update(data)
    return envelope


def order_envelope(kind: str = "invoice.issued", email: str = "luc@lyon.fr", lang: str = "fr", **data: Any) -> dict:
    """An orders message as the orders service emits it (order 12, invoice 2026-00001)."""
    envelope = {
        "type": kind,
        "version": 1,
        "key": f"{kind}:12",
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "data": {
            "order": {
                "id": 12, "number": "O-2026-00012", "status": "invoiced", "member": True,
                "organisation": "Ville de Lyon", "currency": "EUR", "total_cents": 1600,
                "lines": [{
                    "publication": "police-population-relations",
                    "title": {"en": "Police-Population Relations", "fr": "Relations police-population"},
                    "copies": 5, "free_copies": 3, "paid_copies": 2, "postage_cents": 1600,
                }],
            },
            "person": {"first_name": "Luc", "last_name": "Martin", "email": email, "language": lang},
            "document": {"kind": "invoice", "number": "2026-00001", "total_cents": 1600, "refers_to": None},
        },
    }
    envelope["data"].update(data)
    return envelope


def staff_headers(staff_token: Callable[..., str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token(role, email=f'{role}-{time.monotonic_ns()}@efus.eu')}"}
