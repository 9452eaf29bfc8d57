"""Dramatiq actors of the notify service: one per message contract (each also notes the
webhook posts its message makes: `webhooks.fan_out`), plus the three the relay's scheduler
queues (`services.notify.scheduler`): another attempt at a delivery, a webhook post, and a
reminder run.

Load them through the worker entry module, which sets the broker first and runs each
message in the notify app context: `dramatiq shared.worker services.notify.actors`.
Every actor is idempotent by the envelope's key (see `operations.deliver`). A temporary
failure of an email (SMTP 4xx or unreachable, orders service unavailable) is recorded with
its retry time in the delivery log, and the scheduler queues the retry; when the retries
are exhausted the delivery is marked failed, for staff to see and resend. Only an error
before the delivery is recorded (the database unreachable) raises, for Dramatiq to retry
the message.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from services.notify import operations, reminders, webhooks
from services.notify.scheduler import ATTEMPT_ACTOR, QUEUE, REMINDERS_ACTOR, WEBHOOK_ACTOR
from shared.contracts import CONTRACTS, Contract
from shared.db import db

#: for errors before anything is recorded: 1 s, 2 s, 4 s ... doubling (with jitter) up to
#: an hour between tries, about a day in all
RETRIES: dict[str, Any] = {"max_retries": 40, "min_backoff": 1_000, "max_backoff": 3_600_000}


def _claimant() -> str:
    """This copy of the message: the Redis broker names each copy in its queue, and a copy
    it hands out again after a worker died keeps its name, which is how that copy
    recognises its own claim."""
    message = CurrentMessage.get_current_message()
    return message.options.get("redis_message_id") or message.message_id


@dramatiq.actor(actor_name=ATTEMPT_ACTOR, queue_name=QUEUE, **RETRIES)
def attempt_delivery(delivery_id: int, queued_at: str) -> None:
    """The scheduler found a delivery due (a retry, a resend, or a claim whose lease ran out)."""
    operations.attempt(delivery_id, dt.datetime.fromisoformat(queued_at), _claimant())


@dramatiq.actor(actor_name=WEBHOOK_ACTOR, queue_name=QUEUE, **RETRIES)
def attempt_webhook(delivery_id: int, queued_at: str) -> None:
    """The scheduler found a webhook post due (the first, a retry or a resend)."""
    webhooks.attempt(delivery_id, dt.datetime.fromisoformat(queued_at))


@dramatiq.actor(actor_name=REMINDERS_ACTOR, queue_name=QUEUE, **RETRIES)
def send_event_reminders(slug: str, remind_at: str) -> None:
    """An event's reminder time came (see `reminders`); stale runs do nothing."""
    reminders.remind_registrants(slug, dt.datetime.fromisoformat(remind_at))
    db.session.commit()


def event_scheduled(envelope: dict[str, Any]) -> None:
    """An event's dates were set or changed: note them; the scheduler queues the reminders."""
    data = envelope["data"]
    as_of = dt.datetime.fromisoformat(envelope["occurred_at"])
    reminders.note_event(data["event"], as_of, cancelled=bool(data.get("cancelled")))
    db.session.commit()


def send_email(envelope: dict[str, Any]) -> None:
    """Send the email of one message, once per envelope key (the actor of each email type)."""
    operations.deliver(envelope, _claimant())


def person_erased(envelope: dict[str, Any]) -> None:
    """Erase what notify holds about a person (safe to run twice: the second finds nothing)."""
    operations.erase_person(envelope["data"]["email"], envelope["data"]["registration_ids"])
    db.session.commit()


def _declare(contract: Contract) -> dramatiq.Actor:
    handler = {"event.scheduled": event_scheduled, "person.erased": person_erased}.get(contract.type, send_email)

    def handle(envelope: dict[str, Any]) -> None:
        """Note the webhook posts this message makes (committed first: idempotent), then handle it."""
        if webhooks.fan_out(envelope):
            db.session.commit()
        handler(envelope)

    return dramatiq.actor(handle, actor_name=contract.actor_name, queue_name=QUEUE, **RETRIES)


#: message type -> its actor; the outbox relay addresses them by `Contract.actor_name`
ACTORS: dict[str, dramatiq.Actor] = {
    contract.type: _declare(contract) for contract in CONTRACTS.values() if contract.queue == QUEUE
}
