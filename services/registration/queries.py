"""What the registration service shows of its events, read-only: an event's participants,
its counts and the places on its waiting list. The API views and the back office both ask
these, so a list, a count or a place reads the same through either door; nothing here writes.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, selectinload

from services.registration.models import SEATED, WAITLISTED, Event, Registration
from shared.db import db

#: the waiting list's order: who joined the queue first (arrival, or demotion), then by id
WAITLIST_ORDER = (Registration.queued_at, Registration.id)


def participants(event: Event, status: str | None = None, q: str | None = None) -> list[Registration]:
    """The registrations of `event` in waiting-list order, of one `status` and matching the
    text `q` (in a name, the email or the organisation) when given."""
    statement = (
        sa.select(Registration).where(Registration.event_id == event.id).order_by(*WAITLIST_ORDER)
        # `event` is already loaded, and the organisations are few: one query for them all
        .options(lazyload(Registration.event), selectinload(Registration.member_organisation))
    )
    if status:
        statement = statement.where(Registration.status == status)
    if q:
        pattern = f"%{q.lower()}%"
        statement = statement.where(
            sa.or_(
                sa.func.lower(Registration.first_name).like(pattern),
                sa.func.lower(Registration.last_name).like(pattern),
                Registration.email.like(pattern),
                sa.func.lower(Registration.organisation).like(pattern),
            )
        )
    return list(db.session.scalars(statement))


def with_counts(event: Event) -> Event:
    """`event` with `seats_taken` and `waitlisted` set (what the staff views show of it)."""
    counts = dict(
        db.session.execute(
            sa.select(Registration.status, sa.func.count()).where(Registration.event_id == event.id).group_by(Registration.status)
        ).all()
    )
    event.seats_taken = sum(counts.get(status, 0) for status in SEATED)
    event.waitlisted = counts.get(WAITLISTED, 0)
    return event


def _places(event_id: int) -> sa.Subquery:
    """Each waitlisted registration of the event and its place (1 is next in line): the one
    way a place is computed. During a rush, people still registering are not counted."""
    return (
        sa.select(Registration.id, sa.func.row_number().over(order_by=WAITLIST_ORDER).label("place"))
        .where(Registration.event_id == event_id, Registration.status == WAITLISTED)
        .subquery()
    )


def waitlist_positions(event: Event) -> dict[int, int]:
    """The place of every waitlisted registration of `event`, by registration id."""
    places = _places(event.id)
    return dict(db.session.execute(sa.select(places.c.id, places.c.place)).all())


def waitlist_position(registration: Registration) -> int | None:
    """The registration's place on the waiting list (None unless waitlisted), kept on it
    for the rest of the request."""
    if registration.status != WAITLISTED:
        return None
    if registration.waitlist_position is None:
        places = _places(registration.event_id)
        registration.waitlist_position = db.session.scalar(sa.select(places.c.place).where(places.c.id == registration.id))
    return registration.waitlist_position
