"""What the registration service shows of its events, read-only: an event's participants,
its counts and the places on its waiting list. The API views and the back office both ask
these, so a list, a count or a place reads the same through either door; nothing here writes.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, selectinload

from services.registration.models import SEATED, STATUSES, WAITLISTED, Event, Registration
from shared.db import db
from shared.pagination import Page, page_of

#: the waiting list's order: who joined the queue first (arrival, or demotion), then by id
WAITLIST_ORDER = (Registration.queued_at, Registration.id)


def _participants(event: Event, status: str | None, q: str | None) -> sa.Select:
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
    return statement


def participants(event: Event, status: str | None = None, q: str | None = None) -> list[Registration]:
    """The registrations of `event` in waiting-list order, of one `status` and matching the
    text `q` (in a name, the email or the organisation) when given."""
    return list(db.session.scalars(_participants(event, status, q)))


def participants_page(event: Event, status: str | None, q: str | None, number: int, per_page: int) -> Page[Registration]:
    """Page `number` of `participants(event, status, q)`."""
    return page_of(_participants(event, status, q), number, per_page)


def with_counts(event: Event) -> Event:
    """`event` with `status_counts` (status → registrations, every status there),
    `seats_taken` and `waitlisted` set: what the staff views show of it."""
    return all_with_counts([event])[0]


def all_with_counts(events: list[Event]) -> list[Event]:
    """`events`, each `with_counts`, in one query for them all."""
    counts: dict[int, dict[str, int]] = {event.id: dict.fromkeys(STATUSES, 0) for event in events}
    rows = db.session.execute(
        sa.select(Registration.event_id, Registration.status, sa.func.count())
        .where(Registration.event_id.in_(counts)).group_by(Registration.event_id, Registration.status)
    ) if counts else []
    for event_id, status, count in rows:
        counts[event_id][status] = count
    for event in events:
        event.status_counts = counts[event.id]
        event.seats_taken = sum(counts[event.id][status] for status in SEATED)
        event.waitlisted = counts[event.id][WAITLISTED]
    return events


def events_page(number: int, per_page: int) -> Page[Event]:
    """Page `number` of every event, published or not, the latest first, each `with_counts`
    (the staff's list)."""
    page = page_of(sa.select(Event).order_by(Event.starts_at.desc(), Event.id.desc()), number, per_page)
    all_with_counts(page.items)
    return page


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
