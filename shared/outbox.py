"""Transactional outbox.

`emit()` writes a message in the same database transaction as the change that causes it.
The relay (`relay_pending`, run by `eupolnet relay`) hands unsent messages to Dramatiq and
marks them sent. A crash or a Redis outage between the commit and the hand-over loses
nothing: the message stays in the table until Redis takes it. A message may reach the
queue twice (Redis took it, the relay died before marking it): consumers are idempotent
by the message's key.

The relay also runs each service's `DueWork`, if it has any, about once a second: what a
service must do later (retries, reminders) is a due time in its database, and that task
queues what has come due (see `services.notify.scheduler`).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from typing import Callable, Iterable

import dramatiq
import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.contracts import CONTRACTS, make_envelope
from shared.db import UTCDateTime, db, utcnow
from shared.observability import REQUEST_ID

log = logging.getLogger(__name__)

#: a service's periodic task: queue on the broker what has come due in its database, and
#: return how many messages it queued
DueWork = Callable[[Session, dramatiq.Broker], int]


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_unsent", "sent_at", "created_at"),)

    #: also the Dramatiq message id, so every copy of a message carries the same id
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    message_type: Mapped[str] = mapped_column(sa.String(64))
    #: stable per state change; consumers ignore a key they have already processed
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    envelope: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[object] = mapped_column(UTCDateTime())
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


def emit(message_type: str, key: str, data: dict) -> OutboxMessage:
    """Add a message to the current transaction; it is sent only if the transaction commits."""
    message = OutboxMessage(**outbox_row(message_type, key, data))
    db.session.add(message)
    return message


def outbox_row(message_type: str, key: str, data: dict, message_id: str | None = None) -> dict:
    """The columns of the outbox row of a message, for `emit` or for a statement that
    writes the row itself (the registration hot path). The id of the request (or message)
    being handled travels in the envelope (shared.observability)."""
    now = utcnow()
    envelope = make_envelope(message_type, key, data, now)
    if (request_id := REQUEST_ID.get()) is not None:
        envelope["request_id"] = request_id
    return {"id": message_id or uuid.uuid4().hex, "message_type": message_type, "idempotency_key": key,
            "envelope": envelope, "created_at": now, "attempts": 0}


def relay_pending(session: Session, broker: dramatiq.Broker, limit: int = 200) -> int:
    """Hand up to `limit` unsent messages to the broker; returns how many were sent.

    Rows are locked with SKIP LOCKED, so several relays can run side by side on PostgreSQL.
    When the broker fails mid-batch, what was already handed over is still marked sent and
    the error propagates to the caller, which retries later.
    """
    rows = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    try:
        for row in rows:
            contract = CONTRACTS[row.message_type]
            row.attempts += 1
            broker.enqueue(
                dramatiq.Message(
                    queue_name=contract.queue,
                    actor_name=contract.actor_name,
                    args=(row.envelope,),
                    kwargs={},
                    options={},
                    message_id=row.id,
                )
            )
            row.sent_at = utcnow()
            row.last_error = None
            sent += 1
    except Exception as error:
        for row in rows[sent:]:
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
        raise
    finally:
        session.commit()
    return sent


def run_relay(
    engines: dict[str, sa.Engine],
    broker: dramatiq.Broker,
    stop: threading.Event,
    poll_interval: float = 0.2,
    max_backoff: float = 5.0,
    due_work: dict[str, DueWork] | None = None,
    due_interval: float = 1.0,
) -> None:
    """Relay every service's outbox, and run their `due_work` every `due_interval`
    seconds, until `stop` is set; back off while the broker is down."""
    backoff = poll_interval
    due_next = time.monotonic()
    while not stop.is_set():
        busy = False
        try:
            for engine in engines.values():
                with Session(engine, expire_on_commit=False) as session:
                    if relay_pending(session, broker) > 0:
                        busy = True
            if due_work and time.monotonic() >= due_next:
                due_next = time.monotonic() + due_interval
                for service, work in due_work.items():
                    with Session(engines[service], expire_on_commit=False) as session:
                        if work(session, broker) > 0:
                            busy = True
            backoff = poll_interval
        except Exception:
            log.warning("outbox relay: broker or database unavailable, retrying in %.1fs", backoff, exc_info=True)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        if not busy:
            stop.wait(poll_interval)


def pending_count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))) or 0


def oldest_pending_age(session: Session) -> float:
    """Seconds the oldest unsent message has waited (0 when none waits): the relay's lag."""
    oldest = session.scalar(sa.select(sa.func.min(OutboxMessage.created_at)).where(OutboxMessage.sent_at.is_(None)))
    return max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0


def purge_sent(before: dt.datetime) -> int:
    """Delete the messages relayed before `before`: once consumed they are only history, and
    they hold the personal data they carried (run by the retention job)."""
    return db.session.execute(
        sa.delete(OutboxMessage).where(OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < before)
    ).rowcount


def outbox_metrics() -> Iterable[Metric]:
    """What `GET /metrics` reports of this service's outbox: messages waiting, and for how long."""
    pending = GaugeMetricFamily("eupolnet_outbox_pending_messages", "Outbox messages not yet handed to the broker")
    lag = GaugeMetricFamily("eupolnet_outbox_lag_seconds", "Age of the oldest outbox message not yet handed to the broker")
    pending.add_metric([], pending_count(db.session))
    lag.add_metric([], oldest_pending_age(db.session))
    db.session.rollback()
    return [pending, lag]
