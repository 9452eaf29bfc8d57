"""Emails per second through the notify actors, against a raw smtplib loop (the floor).

Both send the same registration confirmations (HTML, text and an ICS calendar) to the same
local SMTP sink, the one `make run` starts, which writes every email to a file.
- floor: a plain loop, one thread, one SMTP connection kept open: `compose()` each email
  (the only way to get these emails) and `smtplib.send_message` it. Nothing is logged,
  nothing survives a crash, a refused email is lost;
- ours: messages queued as the outbox relay queues them, drained by
  `dramatiq -p 2 -t 16 shared.worker services.notify.actors` (one process per core, as
  ops/processes.py runs them), each composed, noted, claimed in the delivery log, sent over
  its worker thread's SMTP connection (kept open across emails) and recorded as sent; timed
  from the first message queued until the last delivery is recorded as sent.
Also printed, not compared: the same loop with emails composed beforehand, i.e. what the
sink takes from one connection (composing costs more than sending; see the closing note).
Three rounds of each, in turn, compared by their medians so that the machine's noise hits
both alike. Goal: ours reaches at least 85% of the floor (issue 17). Exits 1 below the goal.

    python bench/email_bench.py      (BENCH_EMAILS=1000 by default)
"""
from __future__ import annotations

import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dramatiq
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Result, ratio_line  # noqa: E402
from ops.redis_server import RedisServer, free_port, port_is_open  # noqa: E402
from ops.testing import TestDatabases, backend, test_environment  # noqa: E402
from services.notify.emails import compose  # noqa: E402
from shared.broker import make_broker  # noqa: E402
from shared.contracts import CONTRACTS  # noqa: E402

EMAILS = int(os.environ.get("BENCH_EMAILS", "1000"))
ROUNDS = 3
GOAL = 0.85
MAIL_FROM = "EU-POLNET <noreply@efus.eu>"
BIN = Path(sys.executable).parent


def envelope(round_number: int, number: int) -> dict:
    """A web conference confirmation, as the registration service emits it."""
    key = f"registration.confirmed:bench-{round_number}-{number}:1"
    return {
        "type": "registration.confirmed", "version": 1, "key": key, "occurred_at": "2026-11-23T10:00:00+00:00",
        "data": {
            "registration_id": f"bench-{round_number}-{number}", "status": "confirmed",
            "person": {"first_name": "Ana", "last_name": f"Silva {number}", "email": f"ana{number}@example.org",
                       "language": "fr" if number % 2 else "en"},
            "event": {
                "slug": "bench-webinar", "kind": "webconference",
                "title": {"en": "Police and citizens: trust", "fr": "Police et citoyens : la confiance"},
                "starts_at": "2027-03-10T09:00:00+01:00", "ends_at": "2027-03-10T11:00:00+01:00",
                "timezone": "Europe/Paris", "venue": None, "online": True,
                "join_url": "https://meet.example.org/j/42",
            },
            "manage_url": "http://localhost:8001/manage/token", "verify_url": None, "waitlist_position": None,
        },
    }


def floor(port: int, round_number: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for n in range(EMAILS):
            connection.send_message(compose(envelope(round_number, n), mail_from=MAIL_FROM))
    return EMAILS / (time.perf_counter() - started)


def transport_only(port: int, round_number: int) -> float:
    messages = [compose(envelope(round_number, n), mail_from=MAIL_FROM) for n in range(EMAILS)]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for message in messages:
            connection.send_message(message)
    return EMAILS / (time.perf_counter() - started)


def ours(broker: dramatiq.Broker, engine: sa.Engine, round_number: int) -> float:
    contract = CONTRACTS["registration.confirmed"]
    started = time.perf_counter()
    for n in range(EMAILS):
        data = envelope(round_number, n)
        broker.enqueue(dramatiq.Message(
            queue_name=contract.queue, actor_name=contract.actor_name, args=(data,), kwargs={}, options={},
            message_id=f"bench{round_number}x{n}",
        ))
    query = sa.text("SELECT count(*) FROM delivery WHERE status = 'sent' AND idempotency_key LIKE :prefix")
    while True:
        with engine.connect() as connection:
            sent = connection.execute(query, {"prefix": f"registration.confirmed:bench-{round_number}-%"}).scalar()
        if sent == EMAILS:
            return EMAILS / (time.perf_counter() - started)
        if time.perf_counter() - started > 300:
            raise RuntimeError(f"only {sent} of {EMAILS} emails sent after 300 s")
        time.sleep(0.02)


def start(command: list[str], environ: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as output:
        return subprocess.Popen(command, env={**os.environ, **environ}, stdout=output, stderr=subprocess.STDOUT)


def main() -> int:
    kind = backend()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        redis_server = RedisServer(tmp_path / "redis").start()
        databases = TestDatabases(kind, tmp_path, tag=f"bench{os.getpid()}").create()
        port = free_port()
        environ = test_environment(databases, redis_server.url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), MAIL_FROM=MAIL_FROM)
        sink = start([sys.executable, "-m", "ops.mailsink", "--quiet", "--host", "127.0.0.1",
                      "--port", str(port), "--directory", str(tmp_path / "mail")], environ, tmp_path / "sink.log")
        worker = start([str(BIN / "dramatiq"), "--processes", "2", "--threads", "16", "shared.worker",
                        "services.notify.actors", "--queues", "notify"], environ, tmp_path / "worker.log")
        broker = make_broker(redis_server.url)
        engine = sa.create_engine(databases.urls["notify"])
        try:
            deadline = time.monotonic() + 30
            while not port_is_open(port) or (tmp_path / "worker.log").read_text().count("ready for action") < 2:
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise RuntimeError((tmp_path / "worker.log").read_text())
                time.sleep(0.1)
            floor(port, -1), ours(broker, engine, -1)  # warm-up: imports, connections, caches
            floors, ourses, transports = [], [], []
            for round_number in range(ROUNDS):
                floors.append(floor(port, round_number))
                ourses.append(ours(broker, engine, round_number))
                transports.append(transport_only(port, ROUNDS + round_number))
        finally:
            for process in (worker, sink):
                process.terminate()
                process.wait(30)
            engine.dispose()
            broker.close()
            databases.drop()
            redis_server.stop()
    results = [
        Result("floor: compose + smtplib loop, 1 connection", statistics.median(floors)),
        Result("ours: actors -p 2 -t 16, logged, once", statistics.median(ourses)),
    ]
    print(f"Emails to a local SMTP sink on {kind}, {EMAILS} per round, median of {ROUNDS} rounds:")
    for result in results:
        print(result.line())
    print(Result("(sink alone: pre-composed, 1 connection)", statistics.median(transports)).line())
    print(f"  rounds: floor {', '.join(f'{r:.0f}' for r in floors)}; ours {', '.join(f'{r:.0f}' for r in ourses)}")
    print(ratio_line(results[1], results[0], GOAL))
    return 0 if results[1].per_second >= GOAL * results[0].per_second else 1


if __name__ == "__main__":
    sys.exit(main())
