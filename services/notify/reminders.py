"""Reminders before an event: due times kept in the database, queued by the relay's scheduler.

How it works. The registration service emits `event.scheduled` whenever a published
event's dates are set or change; each one updates `ScheduledEvent` unless a newer one was
already seen, so its `remind_at` (starts_at less REMINDER_HOURS) follows the latest dates.
Each registration message updates that person's `Registrant` row the same way. Once
`remind_at` has come, the relay's scheduler (`services.notify.scheduler`) queues one
`send_event_reminders(slug, remind_at)` message; when it runs, the database decides: a run
whose `remind_at` is no longer the event's (the event moved), or whose event is cancelled
or already reminded, does nothing. A current one writes one `event.reminder` message per
registrant who is *confirmed at that moment* to the notify outbox, in the same transaction
that marks the event reminded; those are then delivered like every other email, idempotent
by key (`event.reminder:<registration>:<starts_at>`, so a moved event is reminded again,
but no one is reminded twice for the same date). A run that Redis lost, or a worker never
ran, is queued again by the scheduler until the event is marked reminded.

Why this and not Dramatiq delayed messages (as before): a delayed message lives in a
worker's memory until it is due, and Dramatiq loses it there when the worker's Redis
connection fails (issue 18). The database stays the truth: nothing is planned in advance
but the due time, and the recipient list is read when the reminder goes out.

Limits, stated: people who register after the reminder went out get no reminder (their
confirmation is recent); the join link in a reminder is the newest one the registration
service put in a seated registrant's message (a link changed later is not announced to the
notify service by any message yet).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.notify.models import Registrant, ScheduledEvent
from shared.contracts.registration import SEATED
from shared.db import db, dialect_insert, insert_if_absent, utcnow
from shared.outbox import emit
from shared.web import settings

#: registration messages that say where a registration stands (event.reminder comes from us)
REGISTRATION_NEWS = frozenset({
    "registration.pending", "registration.confirmed", "registration.waitlisted",
    "registration.promoted", "registration.cancelled", "registration.updated", "event.message",
    "registration.pending_approval", "registration.approved", "registration.rejected",
})
#: a run this close to its time counts as due (the scheduler's and the worker's clocks differ)
EARLY_TOLERANCE = dt.timedelta(seconds=1)


def _aware(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment.astimezone(dt.timezone.utc)


def note_registration(envelope: dict[str, Any]) -> None:
    """Remember where a registration stands, unless newer news of it was already seen.

    One statement, as it runs for nearly every email. Flushes; the caller commits.
    """
    data = envelope["data"]
    as_of = _aware(envelope["occurred_at"])
    event = data["event"]
    values = {
        "registration_id": str(data["registration_id"]),
        "event_slug": event["slug"],
        "status": data["status"],
        "person": data["person"],
        "manage_url": data["manage_url"],
        "join_url": event.get("join_url") if data["status"] in SEATED else None,
        "as_of": as_of,
    }
    insert = dialect_insert(Registrant).values(**values)
    db.session.execute(insert.on_conflict_do_update(
        index_elements=["registration_id"],
        set_={name: insert.excluded[name] for name in values if name != "registration_id"},
        where=Registrant.as_of < insert.excluded.as_of,
    ))


def note_event(summary: dict[str, Any], as_of: dt.datetime, cancelled: bool | None = None) -> None:
    """Remember an event's dates as of `as_of` (older news changes nothing).

    `cancelled` is only known from `event.scheduled` messages. A moved reminder time is
    queued afresh when it comes. Flushes; the caller commits.
    """
    starts_at = _aware(summary["starts_at"])
    remind_at = starts_at - dt.timedelta(hours=settings().reminder_hours)
    values = {
        "slug": summary["slug"],
        "summary": {name: value for name, value in summary.items() if name != "join_url"},
        "starts_at": starts_at,
        "remind_at": remind_at,
        "as_of": as_of,
    }
    if cancelled is not None:
        values["cancelled"] = cancelled
    db.session.execute(insert_if_absent(ScheduledEvent, values, "slug"))
    event = _locked(ScheduledEvent, ScheduledEvent.slug == values["slug"])
    if as_of > event.as_of:
        if event.remind_at != remind_at:
            event.queued_at = None
        for name, value in values.items():
            setattr(event, name, value)


def remind_registrants(slug: str, remind_at: dt.datetime) -> None:
    """Queue a reminder for every confirmed registrant of `slug`, if this run is current and due.

    Flushes; the caller commits.
    """
    event = _locked(ScheduledEvent, ScheduledEvent.slug == slug, missing_ok=True)
    if event is None or event.cancelled or event.remind_at != remind_at or event.reminded_for == event.starts_at:
        return
    now = utcnow()
    if now < remind_at - EARLY_TOLERANCE or now >= event.starts_at:
        return
    registrants = db.session.scalars(
        sa.select(Registrant).where(Registrant.event_slug == slug, Registrant.status == "confirmed")
        .order_by(Registrant.registration_id)
    ).all()
    join_url = _newest_join_url(slug) if event.summary.get("online") else None
    for registrant in registrants:
        emit(
            "event.reminder",
            f"event.reminder:{registrant.registration_id}:{event.starts_at.isoformat()}",
            {
                "registration_id": registrant.registration_id,
                "status": registrant.status,
                "person": registrant.person,
                "event": {**event.summary, "join_url": join_url},
                "manage_url": registrant.manage_url,
            },
        )
    event.reminded_for = event.starts_at


def _newest_join_url(slug: str) -> str | None:
    return db.session.scalar(
        sa.select(Registrant.join_url)
        .where(Registrant.event_slug == slug, Registrant.join_url.is_not(None))
        .order_by(Registrant.as_of.desc())
        .limit(1)
    )


def _locked(model: type, condition: sa.ColumnElement[bool], missing_ok: bool = False) -> Any:
    result = db.session.execute(
        sa.select(model).where(condition).with_for_update().execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none() if missing_ok else result.scalar_one()
