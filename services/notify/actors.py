"""Dramatiq actors of the notify service: one per message contract, plus the reminder timer.

Load them through the worker entry module, which sets the broker first and runs each
message in the notify app context: `dramatiq shared.worker services.notify.actors`.
Every actor is idempotent by the envelope's key (see `operations.deliver`). Temporary
failures (SMTP 4xx or unreachable, orders service unavailable, database errors) raise, and
Dramatiq retries with exponential backoff; when the retries are exhausted the delivery is
marked failed, for staff to see and resend.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from services.notify import operations, reminders, smtp
from shared.contracts import CONTRACTS, Contract
from shared.db import db

log = logging.getLogger(__name__)

QUEUE = "notify"
#: 1 s, 2 s, 4 s ... doubling (with jitter) up to an hour between tries: about a day in all
RETRIES: dict[str, Any] = {"max_retries": 40, "min_backoff": 1_000, "max_backoff": 3_600_000}


@dramatiq.actor(queue_name=QUEUE, **RETRIES)
def delivery_gave_up(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """Dramatiq's `on_retry_exhausted` target for the email actors."""
    operations.give_up(message["args"][0], retry_info["retries"])


@dramatiq.actor(queue_name=QUEUE, **RETRIES)
def send_event_reminders(slug: str, remind_at: str) -> None:
    """The reminder timer went off (see `reminders`); stale timers do nothing."""
    early = reminders.remind_registrants(slug, dt.datetime.fromisoformat(remind_at))
    db.session.commit()
    if early is not None:
        _queue_wakeup(early)


def _queue_wakeup(wakeup: reminders.Wakeup) -> None:
    send_event_reminders.send_with_options(
        args=(wakeup.slug, wakeup.remind_at.isoformat()), delay=wakeup.delay_ms()
    )


def event_scheduled(envelope: dict[str, Any]) -> None:
    """An event's dates were set or changed: plan its reminder again.

    The wake-up is queued after the commit and then recorded as queued. Were the queueing
    to fail, the message is retried and, the wake-up not being recorded, queues it then; a
    crash between the two queues a second one, which does nothing.
    """
    data = envelope["data"]
    as_of = dt.datetime.fromisoformat(envelope["occurred_at"])
    wakeup = reminders.note_event(data["event"], as_of, cancelled=bool(data.get("cancelled")))
    db.session.commit()
    if wakeup is not None:
        _queue_wakeup(wakeup)
        reminders.wakeup_queued(wakeup)
        db.session.commit()


def send_email(envelope: dict[str, Any]) -> None:
    """Send the email of one message, once per envelope key (the actor of each email type).

    Expected failures retry without a traceback in the log.
    """
    message = CurrentMessage.get_current_message()
    # The Redis broker names each copy in its queue; a copy it hands out again after a
    # worker died keeps its name, which is how that copy recognises its own claim.
    claimant = message.options.get("redis_message_id") or message.message_id
    try:
        operations.deliver(envelope, claimant)
    except operations.DeliveryInProgress:
        raise dramatiq.Retry() from None
    except (smtp.TemporaryDeliveryError, operations.DocumentUnavailable) as exc:
        log.warning("%s %s: %s; will retry", envelope["type"], envelope["key"], exc)
        raise dramatiq.Retry() from exc


def person_erased(envelope: dict[str, Any]) -> None:
    """Erase what notify holds about a person (safe to run twice: the second finds nothing)."""
    operations.erase_person(envelope["data"]["email"], envelope["data"]["registration_ids"])
    db.session.commit()


def _declare(contract: Contract) -> dramatiq.Actor:
    if contract.type == "event.scheduled":
        return dramatiq.actor(event_scheduled, actor_name=contract.actor_name, queue_name=QUEUE, **RETRIES)
    if contract.type == "person.erased":
        return dramatiq.actor(person_erased, actor_name=contract.actor_name, queue_name=QUEUE, **RETRIES)
    return dramatiq.actor(
        send_email, actor_name=contract.actor_name, queue_name=QUEUE,
        on_retry_exhausted=delivery_gave_up.actor_name, **RETRIES,
    )


#: message type -> its actor; the outbox relay addresses them by `Contract.actor_name`
ACTORS: dict[str, dramatiq.Actor] = {
    contract.type: _declare(contract) for contract in CONTRACTS.values() if contract.queue == QUEUE
}
