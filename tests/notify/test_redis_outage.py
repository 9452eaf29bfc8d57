"""Redis killed, or hanging, while emails wait for a retry and reminders come due.

Real processes against the test's own Redis (never the shared one): the project's worker
command, `eupolnet relay` (which also runs the notify scheduler), and an aiosmtpd server.
Twenty confirmations are refused with a 4xx until Redis goes away, so they wait for a
retry; the event's reminder time falls inside the outage. Once Redis is back, without
anyone restarting a worker, every confirmation and every reminder arrives exactly once,
within a minute. And the relay stops within seconds of SIGTERM while Redis is away.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dramatiq
import pytest
import sqlalchemy as sa

from ops.redis_server import RedisServer
from shared.broker import SWEEP_INTERVAL, make_broker
from shared.outbox import OutboxMessage
from tests.notify.conftest import WorkerProcess, deliveries, enqueue, registration_envelope, wait_for

PEOPLE = 20
#: how long Redis stays dead (kill -9, then started again on its data) or hangs (SIGSTOP)
OUTAGE = 12.0
#: what the issue asks for
WITHIN = 60.0
#: seconds the relay may take to exit after SIGTERM: its Redis calls time out after 2 s
STOPS_WITHIN = 4.0


class RelayProcess:
    """`eupolnet relay notify`, as deployed."""

    def __init__(self, environ: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("eupolnet")), "relay", "notify", "--interval", "0.1"],
                env={**os.environ, **environ}, stdout=output, stderr=subprocess.STDOUT,
            )

    def started(self) -> bool:
        return "outbox relay for" in self.log.read_text()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)
        print(f"--- relay log ---\n{self.log.read_text()[-3000:]}")


def event_summary(slug: str, starts_at: dt.datetime) -> dict:
    return {
        "slug": slug, "kind": "webconference",
        "title": {"en": "Police and citizens: trust", "fr": "Police et citoyens : la confiance"},
        "starts_at": starts_at.isoformat(), "ends_at": (starts_at + dt.timedelta(hours=2)).isoformat(),
        "timezone": "Europe/Paris", "venue": None, "online": True, "join_url": "https://meet.example.org/j/9",
    }


@pytest.fixture
def own_redis(tmp_path):
    """A persistent Redis of this test's own (as `make run` and production run it)."""
    server = RedisServer(tmp_path / "own-redis", persistent=True).start()
    yield server
    if server.process and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


@pytest.mark.parametrize("fault", ["kill", "stop"])
def test_everything_sent_once_within_a_minute_of_redis_back(
    fault, own_redis, mailbox, notify_environ, notify_db, tmp_path,
):
    environ = {**notify_environ, "REDIS_URL": own_redis.url}
    worker = WorkerProcess(environ, tmp_path / "worker.log", processes=1, threads=4).start()
    relay = RelayProcess(environ, tmp_path / "relay.log")
    broker = make_broker(own_redis.url)
    addresses = [f"person{n:02d}@example.org" for n in range(PEOPLE)]
    try:
        # A message that waits in the worker's delay queue (as a Dramatiq retry does): a hang
        # kills that consumer thread in Dramatiq, which the watchdog must notice and repair.
        enqueue_delayed(broker, {"type": "person.erased", "version": 1, "key": "person.erased:nobody",
                                 "occurred_at": "2026-11-23T09:00:00+00:00",
                                 "data": {"email": "nobody@example.org", "registration_ids": []}})
        for address in addresses:
            mailbox.refuse[address] = "451 4.3.0 Try again later"
        starts_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=24, seconds=8)
        event = event_summary("outage-webinar", starts_at)
        enqueue(broker, {"type": "event.scheduled", "version": 1, "key": "event.scheduled:outage-webinar:1",
                         "occurred_at": "2026-11-23T09:00:00+00:00", "data": {"event": event, "cancelled": False}})
        for address in addresses:
            enqueue(broker, registration_envelope(email=address, event=event, registration_id=f"reg-{address}"))
        wait_for(lambda: len([r for r in deliveries(notify_db) if r["retries"] >= 1]) == PEOPLE)
        broker.close()

        # The outage: the twenty retries and the reminder time come due while it lasts.
        if fault == "kill":
            os.kill(own_redis.process.pid, signal.SIGKILL)
            own_redis.process.wait(10)
        else:
            os.kill(own_redis.process.pid, signal.SIGSTOP)
        time.sleep(OUTAGE)
        # Refused until now: an attempt the worker had fetched before the fault fails too.
        mailbox.refuse.clear()
        assert mailbox.messages == []
        if fault == "kill":
            own_redis.start()  # same port, same data directory
        else:
            os.kill(own_redis.process.pid, signal.SIGCONT)
        back = time.monotonic()

        expected = Counter({address: 2 for address in addresses})  # the confirmation and the reminder
        wait_for(lambda: received(mailbox) == expected, timeout=WITHIN)
        latency = time.monotonic() - back
        print(f"{fault}: {len(mailbox.received)} emails, all within {latency:.1f} s of Redis back")
        time.sleep(5)  # anything sent twice would have come by now
        assert received(mailbox) == expected
        rows = deliveries(notify_db)
        assert Counter(row["message_type"] for row in rows) == {"registration.confirmed": PEOPLE, "event.reminder": PEOPLE}
        assert {row["status"] for row in rows} == {"sent"}
        assert all(row["attempts"] >= 2 for row in rows if row["message_type"] == "registration.confirmed")
        assert worker.process.poll() is None, "the worker is still the same running command"
        if fault == "stop":
            log = worker.log.read_text()
            assert "reloading the workers" in log and log.count("Worker process is ready for action") == 2
    finally:
        relay.stop()
        worker.stop()


@pytest.mark.parametrize("fault", ["kill", "stop"])
def test_the_relay_stops_within_seconds_of_sigterm_while_redis_is_away(fault, own_redis, notify_environ, notify_db, tmp_path):
    """Every loop of the relay (outbox, scheduler, dead-worker sweep) notices SIGTERM while
    its Redis calls fail (Redis killed) or hang (Redis stopped): it exits in seconds, not
    after a series of socket timeouts."""
    relay = RelayProcess({**notify_environ, "REDIS_URL": own_redis.url}, tmp_path / "relay.log")
    try:
        wait_for(relay.started)
        os.kill(own_redis.process.pid, signal.SIGKILL if fault == "kill" else signal.SIGSTOP)
        with notify_db.begin() as connection:  # a message for the relay, which it cannot hand over
            envelope = registration_envelope(email="late@example.org")
            connection.execute(sa.insert(OutboxMessage.__table__).values(
                id="0" * 32, message_type=envelope["type"], idempotency_key=envelope["key"], envelope=envelope,
                created_at=dt.datetime.now(dt.timezone.utc), attempts=0,
            ))
        time.sleep(SWEEP_INTERVAL + 1.5)  # the sweep's first run meets the fault too (a hang: still in it)
        asked = time.monotonic()
        relay.process.terminate()
        relay.process.wait(15)
        took = time.monotonic() - asked
        print(f"{fault}: the relay exited {took:.1f} s after SIGTERM")
        assert took < STOPS_WITHIN
        assert "outbox relay: broker or database unavailable" in relay.log.read_text()
    finally:
        relay.stop()


def received(mailbox) -> Counter:
    return Counter(recipient for recipients, _ in mailbox.received for recipient in recipients)


def enqueue_delayed(broker: dramatiq.Broker, envelope: dict) -> None:
    from shared.contracts import CONTRACTS

    contract = CONTRACTS[envelope["type"]]
    broker.enqueue(dramatiq.Message(queue_name=contract.queue, actor_name=contract.actor_name, args=(envelope,),
                                    kwargs={}, options={}), delay=60_000)
