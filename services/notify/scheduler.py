"""What the notify service must do later, queued when it is due: run by `eupolnet relay`.

Retries of deliveries, reminder runs and webhook posts are due times in the notify database
(`Delivery.due_at`, `ScheduledEvent.remind_at`, `WebhookDelivery.due_at`), never delayed messages in a worker's
memory. Every second the relay calls `queue_due`, which queues one Dramatiq message per
due row, taken with SELECT ... FOR UPDATE SKIP LOCKED (several relays may run side by
side), and notes when it did so; the row then waits `REQUEUE_AFTER` for that message to be
handled before it is queued again (Redis may have lost it: restarted without its data,
killed between receiving it and writing it to disk). Extra copies are harmless: an
attempt carries the `queued_at` it was queued with and only the latest one may claim the
delivery; a reminder run does nothing once the event is reminded.
"""
from __future__ import annotations

import datetime as dt

import dramatiq
import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.notify.models import QUEUED, Delivery, ScheduledEvent, WebhookDelivery
from shared.db import utcnow

QUEUE = "notify"
#: the actors the messages are for (declared in services.notify.actors)
ATTEMPT_ACTOR, REMINDERS_ACTOR, WEBHOOK_ACTOR = "attempt_delivery", "send_event_reminders", "attempt_webhook"
#: a queued message not handled by then is queued again: far above the queue's usual wait,
#: well below the minute within which work is back after a Redis outage
REQUEUE_AFTER = dt.timedelta(seconds=30)
#: rows taken per call, per kind
BATCH = 200


def queue_due(session: Session, broker: dramatiq.Broker, now: dt.datetime | None = None) -> int:
    """Queue an attempt at every delivery and webhook post, and a run of every reminder, whose time has come.

    Returns how many messages were queued. What the broker took is committed even when it
    fails midway (the error propagates: the relay tries again later).
    """
    now = now or utcnow()
    queued = 0
    deliveries = session.scalars(
        sa.select(Delivery).where(Delivery.status == QUEUED, Delivery.due_at <= now)
        .order_by(Delivery.due_at).limit(BATCH).with_for_update(skip_locked=True)
    ).all()
    try:
        for delivery in deliveries:
            _enqueue(broker, ATTEMPT_ACTOR, delivery.id, now.isoformat())
            delivery.queued_at, delivery.due_at = now, now + REQUEUE_AFTER
            queued += 1
        session.commit()
        events = session.scalars(
            sa.select(ScheduledEvent).where(
                ScheduledEvent.cancelled.is_(False), ScheduledEvent.remind_at <= now, ScheduledEvent.starts_at > now,
                sa.or_(ScheduledEvent.reminded_for.is_(None), ScheduledEvent.reminded_for != ScheduledEvent.starts_at),
                sa.or_(ScheduledEvent.queued_at.is_(None), ScheduledEvent.queued_at <= now - REQUEUE_AFTER),
            ).order_by(ScheduledEvent.remind_at).limit(BATCH).with_for_update(skip_locked=True)
        ).all()
        for event in events:
            _enqueue(broker, REMINDERS_ACTOR, event.slug, event.remind_at.isoformat())
            event.queued_at = now
            queued += 1
        session.commit()
        webhooks = session.scalars(
            sa.select(WebhookDelivery).where(WebhookDelivery.status == QUEUED, WebhookDelivery.due_at <= now)
            .order_by(WebhookDelivery.due_at).limit(BATCH).with_for_update(skip_locked=True)
        ).all()
        for webhook in webhooks:
            _enqueue(broker, WEBHOOK_ACTOR, webhook.id, now.isoformat())
            webhook.queued_at, webhook.due_at = now, now + REQUEUE_AFTER
            queued += 1
    finally:
        session.commit()
    return queued


def _enqueue(broker: dramatiq.Broker, actor_name: str, *args: object) -> None:
    broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name=actor_name, args=args, kwargs={}, options={}))
