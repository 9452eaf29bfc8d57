"""Registration rules: one place each for the window, capacity, waiting list and caps.

Functions flush but never commit: the request (or command) that calls them owns the
transaction, so the change and its outbox messages are committed together or not at all.
Seats are rows (see "seats" below); on SQLite every transaction is `BEGIN IMMEDIATE`, so
there all seat decisions are taken one at a time anyway.

Lock order on PostgreSQL, the same on every path (a path may skip a step, never swap two):
1. the event row, `FOR NO KEY UPDATE` (`lock_event`: changes that may free seats). Not
   `FOR UPDATE`: inserting a registration takes `FOR KEY SHARE` on its event for the
   foreign key, and must not wait behind a lock that only guards the event's other columns;
2. the event's seats advisory lock, exclusive (`lock_event`) or shared (`register`,
   `verify_email`);
3. the member organisation row (`_check_organisation_cap`);
4. seat and registration rows.
Should PostgreSQL still abort a transaction for a lock conflict, the whole request runs
again (`shared.db.retry_on_lock_conflict`), as does a registration that lost a race
(`RunAgain`, see `register`).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from itsdangerous import BadSignature, Signer, URLSafeSerializer
from marshmallow import ValidationError
from sqlalchemy.orm import make_transient_to_detached

from services.registration.forms import clean_answers, validate_extra_field_definitions
from services.registration.members import MEMBER_ORGANISATION_ID, member_parameters
from services.registration.models import (
    ACTIVE, ATTENDED, CANCELLED, CONFIRMED, ENDED, PENDING, PENDING_APPROVAL, REJECTED, SEATED, TRANSITIONS, WAITLISTED, Event,
    MemberOrganisation, Registration, RegistrationGroup, Seat,
)
from services.registration.queries import WAITLIST_ORDER
from shared.db import RunAgain, db, utcnow
from shared.errors import ApiError, Conflict, Forbidden, NotFound, Problem, current_status, plural_problem, problem
from shared.outbox import OutboxMessage, emit, outbox_row
from shared.web import settings

MANAGE_SALT = "registration-manage"
GROUP_SALT = "registration-group"
TICKET_SALT = "registration-ticket"
#: fields a registrant may correct through the self-service link
CORRECTABLE = ("first_name", "last_name", "organisation", "position", "city", "country", "language", "answers")


# --- events ----------------------------------------------------------------------------

def get_event(slug: str, *, published_only: bool = True) -> Event:
    event = db.session.scalar(sa.select(Event).where(Event.slug == slug))
    if event is None or (published_only and not event.published):
        raise NotFound(problem("unknown_event", "No event '%(slug)s'.", slug=slug), {"slug": [problem("unknown_event", "Unknown event.")]})
    return event


def lock_event(event: Event) -> Event:
    """Re-read `event` with a row lock held until the transaction ends; this also takes the
    exclusive seats lock, as every change made under it may free seats (steps 1 and 2 of
    the lock order)."""
    event = db.session.execute(
        sa.select(Event).where(Event.id == event.id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE
        .execution_options(populate_existing=True)
    ).scalar_one()
    lock_seats(event, exclusive=True)
    return event


def create_event(data: dict[str, Any]) -> Event:
    if db.session.scalar(sa.select(Event.id).where(Event.slug == data["slug"])) is not None:
        raise Conflict(problem("slug_taken", "An event '%(slug)s' already exists.", slug=data["slug"]),
                       {"slug": [problem("slug_taken", "Already used.")]})
    validate_extra_field_definitions(data.get("extra_fields") or [])
    event = Event(**data)
    _check_dates(event)
    db.session.add(event)
    db.session.flush()
    set_seats(event, event.capacity)
    if event.published:
        _emit_scheduled(event)
    return event


def update_event(event: Event, changes: dict[str, Any]) -> Event:
    """Apply staff changes; a raised capacity promotes waitlisted people at once."""
    event = lock_event(event)
    if "slug" in changes and changes["slug"] != event.slug:
        raise Conflict(problem("slug_fixed", "The slug of an event cannot change (embedded forms use it)."),
                       {"slug": [problem("slug_fixed", "Cannot be changed.")]})
    if "extra_fields" in changes:
        validate_extra_field_definitions(changes["extra_fields"] or [])
    if "capacity" in changes and changes["capacity"] != event.capacity:
        set_seats(event, changes["capacity"])
    was_published = event.published
    schedule_changed = any(name in changes and changes[name] != getattr(event, name) for name in SCHEDULE_FIELDS)
    for name, value in changes.items():
        setattr(event, name, value)
    _check_dates(event)
    db.session.flush()
    fill_free_seats(event)
    if schedule_changed and (event.published or was_published):
        _emit_scheduled(event)
    return event


def _check_dates(event: Event) -> None:
    errors: dict[str, list[str]] = {}
    if event.ends_at < event.starts_at:
        errors["ends_at"] = [problem("ends_before_start", "The end must not be before the start.")]
    if event.registration_opens_at and event.registration_closes_at and event.registration_closes_at < event.registration_opens_at:
        errors["registration_closes_at"] = [problem("closes_before_opening", "Registration must not close before it opens.")]
    if errors:
        raise ValidationError(errors)


def registration_closed_reason(event: Event, now: dt.datetime) -> Problem | None:
    """Why `event` does not take registrations at `now`, or None when it does."""
    if event.registration_opens_at and now < event.registration_opens_at:
        return problem("registration_not_open", "Registration opens on %(date)s.", date=local_iso(event.registration_opens_at, event.timezone))
    closes_at = event.registration_closes_at or event.starts_at
    if now >= closes_at:
        return problem("registration_closed", "Registration for this event is closed.")
    return None


# --- seats -----------------------------------------------------------------------------
#
# An event with a capacity has one Seat row per seat. Confirmed and attended registrations
# hold a seat; nobody else does. Taking a seat skips seats other requests are taking, so a
# rush is not serialised. Whoever frees a seat holds the event's seats lock exclusively,
# while a request that found no seat holds it shared until it has joined the waiting list:
# a seat therefore never becomes free while someone is about to queue unseen.

def free_seats(event: Event) -> int | None:
    """Seats left (None: unlimited)."""
    if event.capacity is None:
        return None
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Seat).where(Seat.event_id == event.id, Seat.holder.is_(None))
    ) or 0


def set_seats(event: Event, capacity: int | None) -> None:
    """Make the seat rows match `capacity`. Call with the event locked exclusively."""
    if capacity is None:
        db.session.execute(sa.delete(Seat).where(Seat.event_id == event.id))
        return
    seated = list(db.session.scalars(
        sa.select(Registration.public_id).where(Registration.event_id == event.id, Registration.status.in_(SEATED))
    ))
    if capacity < len(seated):
        raise Conflict(
            problem("capacity_too_low", "%(count)s people already hold a seat; cancel or demote some before lowering the capacity.",
                    count=len(seated)),
            {"capacity": [problem("capacity_too_low", "At least %(min)s.", min=len(seated))]},
        )
    db.session.execute(sa.delete(Seat).where(Seat.event_id == event.id))
    db.session.flush()
    db.session.add_all(
        Seat(event_id=event.id, number=number, holder=seated[number - 1] if number <= len(seated) else None)
        for number in range(1, capacity + 1)
    )
    db.session.flush()


#: first key of the PostgreSQL advisory locks on an event's seats (the second key is a hash
#: of its slug, which never changes); a hash collision only makes two requests wait for
#: each other
SEATS_LOCK = 1

# Statements of the registration path are built once: building a statement costs more
# Python time than PostgreSQL takes to run it.
def _take_seat_statement(*conditions: sa.ColumnElement[bool]) -> sa.Update:
    """UPDATE of the first free seat of event `seat_event` that nobody else is taking,
    giving it to `seat_holder`; returns the seat's id (no row: no free seat). `conditions`
    (on parameters) can rule out looking for a seat at all: then no seat row is locked."""
    seats = Seat.__table__
    return (
        sa.update(seats)
        .where(seats.c.id == (
            sa.select(seats.c.id).where(*conditions, seats.c.event_id == sa.bindparam("seat_event"), seats.c.holder.is_(None))
            .order_by(seats.c.number).limit(1).with_for_update(skip_locked=True).scalar_subquery()
        ))
        .values(holder=sa.bindparam("seat_holder"))
        .returning(seats.c.id)
    )


TAKE_SEAT = _take_seat_statement()
SEATS_LOCKS = {
    exclusive: sa.select(lock(SEATS_LOCK, sa.func.hashtext(sa.bindparam("slug"))))
    for exclusive, lock in ((True, sa.func.pg_advisory_xact_lock), (False, sa.func.pg_advisory_xact_lock_shared))
}


def _take_seat(event: Event, registration: Registration) -> bool:
    """Put `registration` in a free seat if there is one; True when it got one."""
    if event.capacity is None:
        return True
    taken = db.session.execute(TAKE_SEAT, {"seat_event": event.id, "seat_holder": registration.public_id}).first()
    return taken is not None


def _leave_seat(registration: Registration) -> None:
    db.session.execute(
        sa.update(Seat).where(Seat.holder == registration.public_id).values(holder=None),
        execution_options={"synchronize_session": False},
    )


def on_postgresql() -> bool:
    """Whether advisory locks are needed: SQLite runs one writing transaction at a time."""
    return db.session.get_bind().dialect.name == "postgresql"


def lock_seats(event: Event, *, exclusive: bool) -> None:
    """Exclusive: about to free seats. Shared: may take a seat or join the waiting list.

    A PostgreSQL advisory lock held until commit: it lives in memory, unlike a row lock,
    which writes to the row.
    """
    if on_postgresql():
        db.session.execute(SEATS_LOCKS[exclusive], {"slug": event.slug})


def waitlist(event: Event, limit: int | None = None) -> list[Registration]:
    query = (
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status == WAITLISTED)
        .order_by(*WAITLIST_ORDER)
    )
    return list(db.session.scalars(query.limit(limit) if limit is not None else query))


def _seat_or_queue(event: Event, registration: Registration, now: dt.datetime) -> None:
    """Confirm when a seat is free, otherwise put at the end of the waiting list.
    Call with the seats lock held (shared is enough); on PostgreSQL, `event_version` is
    the `xmin` of the event row the decision read (see `register`)."""
    registration.queued_at = now
    registration.waitlist_position = None
    if _take_seat(event, registration):
        registration.status = CONFIRMED
        registration.confirmed_at = now
    else:
        registration.status = WAITLISTED


def fill_free_seats(event: Event) -> list[Registration]:
    """Promote waitlisted people, first come first served, while seats are free.

    Call with the event locked exclusively.
    """
    promoted = []
    for registration in waitlist(event, limit=free_seats(event)):
        if not _take_seat(event, registration):
            break
        registration.status = CONFIRMED
        registration.confirmed_at = utcnow()
        _changed(registration, "registration.promoted")
        promoted.append(registration)
    return promoted


# --- registrations ---------------------------------------------------------------------

#: the event `slug`, the active registration of `email` for it, and the member organisation of `email`
REGISTRATION_CONTEXT = sa.select(
    Event,
    sa.select(Registration.id).where(
        Registration.event_id == Event.id, Registration.email == sa.bindparam("email"), Registration.status.in_(ACTIVE)
    ).scalar_subquery(),
    MEMBER_ORGANISATION_ID,
).where(Event.slug == sa.bindparam("slug"), Event.published.is_(True))
#: PostgreSQL: the same, also taking the event's seats lock (shared) and reading the
#: version of the event row (`xmin`, which every UPDATE of the row changes)
LOCKING_REGISTRATION_CONTEXT = REGISTRATION_CONTEXT.add_columns(
    sa.func.pg_advisory_xact_lock_shared(SEATS_LOCK, sa.func.hashtext(sa.bindparam("slug"))),
    sa.cast(sa.literal_column("event.xmin"), sa.Text),
)


def register(slug: str, data: dict[str, Any], group_id: int | None = None) -> tuple[Registration, bool]:
    """Register a person for the event `slug`; returns the registration and whether it is new.
    `group_id`: the group it is part of, when its contact registered it (`register_group`).

    A second submission for the same email returns the existing active registration.
    Raises NotFound, Conflict (closed, organisation cap) or Forbidden (members only).

    On PostgreSQL one round trip reads what the decision needs (the event, an earlier
    registration of this email, the member organisation of the address) and takes the
    seats lock; one more writes (`_add_registration`). What was read may predate the lock
    (the statement's snapshot is taken before it waits), so the write checks it: it is
    refused when the event row changed since (a staff change holds the seats lock
    exclusively), and the unique index of active registrations refuses a second one for the
    email (simultaneous submissions of one address). Either way the request runs again
    (`RunAgain`) and decides on what the winner committed.
    """
    email = data["email"].strip().lower()
    parameters = {"slug": slug, **member_parameters(email)}
    if on_postgresql():
        found = db.session.execute(LOCKING_REGISTRATION_CONTEXT, parameters).first()
        event_version = found[-1] if found else None
    else:
        found, event_version = db.session.execute(REGISTRATION_CONTEXT, parameters).first(), None
    if found is None:
        raise NotFound(problem("unknown_event", "No event '%(slug)s'.", slug=slug), {"slug": [problem("unknown_event", "Unknown event.")]})
    event, existing_id, organisation_id = found[:3]
    now = utcnow()
    reason = registration_closed_reason(event, now)
    if reason:
        raise Conflict(reason, {"event": [reason]})
    answers = clean_answers(event.extra_fields or [], data.pop("answers", None) or {})
    if existing_id is not None:
        return db.session.get(Registration, existing_id), False
    if event.members_only and organisation_id is None:
        contact = settings().contact_email
        message = problem("members_only", "This event is reserved for Efus members. To take part, please contact %(contact)s.", contact=contact)
        raise Forbidden(message, {"email": [problem("not_member", "Not an address of an Efus member organisation; contact %(contact)s.",
                                                    contact=contact)]})
    if event.max_per_organisation is not None and organisation_id is not None:
        _check_organisation_cap(event, db.session.get(MemberOrganisation, organisation_id))
    registration = Registration(
        public_id=uuid.uuid4().hex,
        event_id=event.id,
        event=event,
        email=email,
        answers=answers,
        consent_version=settings().consent_version,
        consented_at=now,
        member_organisation_id=organisation_id,
        created_at=now,
        revision=1,
        cancelled_at=None,
        checked_in_at=None,
        decided_at=None,
        certificate_sent_at=None,
        anonymised_at=None,
        group_id=group_id,
        **{name: data.get(name) for name in ("first_name", "last_name", "organisation", "position", "city", "country", "language")},
    )
    _add_registration(event, registration, utcnow(), event_version)
    return registration, True


def register_group(slug: str, contact: dict[str, Any], participants: list[dict[str, Any]]) -> tuple[RegistrationGroup, list[tuple[Registration, bool]]]:
    """Register several participants for the event `slug` in one submission by their
    contact; returns the group and, per participant, the registration and whether it is new.

    Each participant goes through `register`, in the order given and in one transaction, so
    the window, members-only rule, per-organisation cap, capacity and waiting list apply to
    each as if they had registered alone. Either every participant is placed (confirmed,
    waitlisted or pending, as the event decides), or the refusal names each participant
    refused (`participants.INDEX.FIELD`) and the caller's rollback registers nobody. An
    email already registered answers with its registration, which stays its own: it does
    not join the group.
    """
    event = get_event(slug)
    reason = registration_closed_reason(event, utcnow())
    if reason:
        raise Conflict(reason, {"event": [reason]})
    group = RegistrationGroup(
        public_id=uuid.uuid4().hex, event_id=event.id, event=event, email=contact["email"].strip().lower(),
        first_name=contact["first_name"], last_name=contact["last_name"], organisation=contact.get("organisation"),
        language=contact["language"], consent_version=settings().consent_version, created_at=utcnow(),
    )
    db.session.add(group)
    db.session.flush()
    placed: list[tuple[Registration, bool]] = []
    invalid: dict[int, Any] = {}
    refused: dict[str, list] = {}
    first_refusal: ApiError | None = None
    for index, data in enumerate(participants):
        try:
            placed.append(register(slug, dict(data), group_id=group.id))
        except ValidationError as error:
            invalid[index] = error.messages
        except ApiError as error:
            first_refusal = first_refusal or error
            refused.update({f"participants.{index}.{field}": messages for field, messages in error.errors.items()}
                           or {f"participants.{index}": [error.message]})
    if invalid:
        raise ValidationError({"participants": invalid})
    if first_refusal is not None:
        count = len({key.split(".")[1] for key in refused})
        raise ApiError(
            plural_problem("group_refused", "%(num)d participant cannot be registered, so nobody was: see each one's reason.",
                           "%(num)d participants cannot be registered, so nobody was: see each one's reason.", count),
            refused, status=first_refusal.status,
        )
    emit("group.registered", f"group.registered:{group.public_id}", group_message(group, [r for r, created in placed if created]))
    return group, placed


def cancel_in_group(group: RegistrationGroup, public_id: str) -> Registration:
    """The contact cancels one participant of their group."""
    registration = db.session.scalar(sa.select(Registration).where(Registration.public_id == public_id,
                                                                    Registration.group_id == group.id))
    if registration is None or registration.anonymised_at is not None:
        raise NotFound(problem("unknown_registration", "This registration no longer exists."),
                       {"participant": [problem("unknown_registration", "Unknown registration.")]})
    return cancel(registration)


# A new registration is written with Core statements built once, not through the ORM's
# unit of work: on PostgreSQL the seat, the registration and its outbox row are one
# statement (one round trip), on SQLite three.
_REGISTRATION, _OUTBOX = Registration.__table__, OutboxMessage.__table__
#: columns of a new registration that do not depend on whether it got a seat
_REGISTRATION_COLUMNS = tuple(column.name for column in _REGISTRATION.columns if column.name not in ("id", "status", "confirmed_at"))
#: the unique index of active registrations (one per email and event)
ACTIVE_EMAIL_INDEX = "uq_registration_active_email"
_OUTBOX_COLUMNS = ("id", "message_type", "idempotency_key", "envelope", "created_at", "attempts")
#: what differs between the two outcomes, seated or queued (parameters `NAME_seated`, `NAME_queued`)
_OUTCOME_COLUMNS = {"status": _REGISTRATION.c.status, "confirmed_at": _REGISTRATION.c.confirmed_at,
                    "message_type": _OUTBOX.c.message_type, "idempotency_key": _OUTBOX.c.idempotency_key,
                    "envelope": _OUTBOX.c.envelope}


def _insert_registration_statement() -> sa.Select:
    """PostgreSQL: take a seat when `take_seat` (and one is free), insert the registration
    with the seated or the queued outcome, and its outbox row, in one statement. (The
    registration's columns are parameters `new_NAME`.)"""
    seat = _take_seat_statement(sa.bindparam("take_seat", type_=sa.Boolean)).cte("taken_seat")
    events = Event.__table__
    # no row (nothing inserted) when the event row is no longer the version `event_version`
    decision = sa.select(sa.exists(sa.select(seat.c.id)).label("seated")).where(
        events.c.id == sa.bindparam("seat_event"), sa.cast(sa.literal_column("event.xmin"), sa.Text) == sa.bindparam("event_version"),
    ).cte("decision")

    def outcome(name: str) -> sa.Case:
        column = _OUTCOME_COLUMNS[name]
        return sa.case((decision.c.seated, sa.bindparam(f"{name}_seated", type_=column.type)),
                       else_=sa.bindparam(f"{name}_queued", type_=column.type))

    registration = sa.insert(_REGISTRATION).from_select(
        [*_REGISTRATION_COLUMNS, "status", "confirmed_at"],
        sa.select(*(sa.bindparam(f"new_{name}", type_=_REGISTRATION.c[name].type) for name in _REGISTRATION_COLUMNS),
                  outcome("status"), outcome("confirmed_at")).select_from(decision),
    ).returning(_REGISTRATION.c.id, _REGISTRATION.c.status).cte("new_registration")
    outbox = sa.insert(_OUTBOX).from_select(
        list(_OUTBOX_COLUMNS),
        sa.select(sa.bindparam("message_id", type_=_OUTBOX.c.id.type), outcome("message_type"), outcome("idempotency_key"),
                  outcome("envelope"), sa.bindparam("message_created_at", type_=_OUTBOX.c.created_at.type),
                  sa.literal(0)).select_from(decision),
    ).cte("new_message")
    return sa.select(registration.c.id, registration.c.status).add_cte(outbox)


INSERT_REGISTRATION = _insert_registration_statement()
INSERT_REGISTRATION_ROW = sa.insert(_REGISTRATION).returning(_REGISTRATION.c.id)
INSERT_OUTBOX_ROW = sa.insert(_OUTBOX)


def _add_registration(event: Event, registration: Registration, now: dt.datetime, event_version: str | None) -> None:
    """The rule for a new registration: pending until the email is verified (double
    opt-in); else pending approval at a moderated event; otherwise confirmed when a seat is
    free (or the event has no capacity), else at the end of the waiting list. Writes it and its announcement in the same transaction.
    Call with the seats lock held (shared is enough); on PostgreSQL, `event_version` is
    the `xmin` of the event row the decision read (see `register`)."""
    registration.queued_at = now
    if event.double_opt_in:
        take_seat, seated, queued = False, None, PENDING
    elif event.requires_approval:
        take_seat, seated, queued = False, None, PENDING_APPROVAL
    elif event.capacity is None:
        take_seat, seated, queued = False, None, CONFIRMED
    else:
        take_seat, seated, queued = True, CONFIRMED, WAITLISTED
    message_id = uuid.uuid4().hex
    outcomes = {"queued": _outcome(registration, queued, now, message_id)}
    outcomes["seated"] = _seated_outcome(registration, outcomes["queued"], now) if seated else outcomes["queued"]
    values = {name: getattr(registration, name) for name in _REGISTRATION_COLUMNS}
    if on_postgresql():
        # (parameters named after a column of a table the statement writes would be taken as its values)
        parameters = {**{f"new_{name}": value for name, value in values.items()}, "take_seat": take_seat, "seat_event": event.id,
                      "seat_holder": registration.public_id, "event_version": event_version,
                      "message_id": message_id, "message_created_at": outcomes["queued"]["created_at"]}
        for outcome, columns in outcomes.items():
            parameters.update({f"{name}_{outcome}": columns[name] for name in _OUTCOME_COLUMNS})
        try:
            written = db.session.execute(INSERT_REGISTRATION, parameters).first()
        except sa.exc.IntegrityError as error:
            if getattr(getattr(error.orig, "diag", None), "constraint_name", None) == ACTIVE_EMAIL_INDEX:
                raise RunAgain() from error  # a simultaneous submission of this email won
            raise
        if written is None:
            raise RunAgain()  # the event changed after it was read
        registration.id, status = written
        columns = outcomes["seated" if status == outcomes["seated"]["status"] else "queued"]
    else:
        got_seat = take_seat and db.session.execute(TAKE_SEAT, {"seat_event": event.id, "seat_holder": registration.public_id}).first() is not None
        columns = outcomes["seated" if got_seat else "queued"]
        registration.id = db.session.execute(INSERT_REGISTRATION_ROW, {**values, "status": columns["status"],
                                                                          "confirmed_at": columns["confirmed_at"]}).scalar_one()
        db.session.execute(INSERT_OUTBOX_ROW, {name: columns[name] for name in _OUTBOX_COLUMNS})
    registration.status, registration.confirmed_at = columns["status"], columns["confirmed_at"]
    # The row is written: the session knows it as if it had loaded it, without a query.
    make_transient_to_detached(registration)
    db.session.add(registration)


def _outcome(registration: Registration, status: str, now: dt.datetime, message_id: str) -> dict[str, Any]:
    """The status-dependent columns of `registration` and of its announcement, for `status`."""
    registration.status = status
    registration.confirmed_at = now if status == CONFIRMED else None
    message_type = f"registration.{status}"
    row = outbox_row(message_type, _message_key(registration, message_type), registration_message(registration), message_id)
    return {**row, "status": status, "confirmed_at": registration.confirmed_at}


def _seated_outcome(registration: Registration, queued: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """`_outcome` for CONFIRMED, made from the WAITLISTED one (`queued`) whose message was
    checked against its contract: both messages have the same contract, and a seat only
    changes the status, the join link and the ticket, values of the same types. The
    contract is checked once per registration, not once per possible outcome."""
    registration.status, registration.confirmed_at = CONFIRMED, now
    message_type = f"registration.{CONFIRMED}"
    seated, checked = registration_message(registration), queued["envelope"]["data"]
    data = {**checked, "status": seated["status"], "ticket": seated["ticket"],
            "event": {**checked["event"], "join_url": seated["event"]["join_url"]}}
    key = _message_key(registration, message_type)
    envelope = {**queued["envelope"], "type": message_type, "key": key, "data": data}
    return {**queued, "message_type": message_type, "idempotency_key": key, "envelope": envelope,
            "status": CONFIRMED, "confirmed_at": now}


def _check_organisation_cap(event: Event, organisation: MemberOrganisation) -> None:
    """Refuse one participant too many; the organisation's row is locked so that its
    registrations are counted one at a time."""
    db.session.execute(sa.select(MemberOrganisation.id).where(MemberOrganisation.id == organisation.id).with_for_update())
    taken = db.session.scalar(
        sa.select(sa.func.count()).select_from(Registration).where(
            Registration.event_id == event.id,
            Registration.member_organisation_id == organisation.id,
            Registration.status.in_(ACTIVE),
        )
    ) or 0
    if taken >= event.max_per_organisation:
        raise Conflict(
            problem("organisation_cap", "%(organisation)s already has the maximum number of participants for this event (%(count)s).",
                    organisation=organisation.name, count=taken),
            {"email": [problem("organisation_cap", "At most %(max)s participants per member organisation.", max=event.max_per_organisation)]},
        )


def _may(registration: Registration, change: str) -> bool:
    """Whether `change` (a key of TRANSITIONS) may start from the registration's status."""
    return registration.status in TRANSITIONS[change][0]


def verify_email(registration: Registration) -> Registration:
    """The person clicked the link in the verification email: now they get a place, or at
    a moderated event their registration goes to staff for approval."""
    if not _may(registration, "verify"):
        return registration
    reason = registration_closed_reason(registration.event, utcnow())
    if reason:
        raise Conflict(reason, {"event": [reason]})
    if registration.event.requires_approval:
        registration.status = PENDING_APPROVAL
    else:
        lock_seats(registration.event, exclusive=False)
        _seat_or_queue(registration.event, registration, utcnow())
    _changed(registration, f"registration.{registration.status}")
    return registration


def approve(registration: Registration, reason: str | None = None) -> Registration:
    """Staff accept a registration for a moderated event: it takes a free seat, else joins
    the end of the waiting list, as a registration for an open event does. `reason` goes
    into the email. Staff may decide after registration has closed, until the event ends."""
    _check_decision(registration, "approve")
    lock_seats(registration.event, exclusive=False)
    _seat_or_queue(registration.event, registration, utcnow())
    registration.decided_at = utcnow()
    _changed(registration, "registration.approved", reason=reason)
    return registration


def reject(registration: Registration, reason: str | None = None) -> Registration:
    """Staff refuse a registration for a moderated event; `reason` goes into the email.
    The address may register again (a rejected registration, like a cancelled one, has ended)."""
    _check_decision(registration, "reject")
    registration.status = REJECTED
    registration.decided_at = utcnow()
    _changed(registration, "registration.rejected", reason=reason)
    return registration


def _check_decision(registration: Registration, change: str) -> None:
    if not _may(registration, change):
        raise Conflict(problem("not_pending_approval", "Only a registration awaiting approval can be approved or rejected."),
                       {"status": [current_status(registration.status)]})
    if utcnow() >= registration.event.ends_at:
        raise Conflict(problem("event_over", "The event is over."), {"event": [problem("event_over", "The event is over.")]})


def cancel(registration: Registration) -> Registration:
    """Cancel; a freed seat goes to the first person on the waiting list."""
    if registration.status in ENDED:
        return registration
    if not _may(registration, "cancel"):
        raise Conflict(problem("already_attended", "An attended registration cannot be cancelled."),
                       {"status": [problem("already_attended", "Already attended.")]})
    event = lock_event(registration.event)
    had_seat = registration.status in SEATED
    registration.status = CANCELLED
    registration.cancelled_at = utcnow()
    _changed(registration, "registration.cancelled")
    if had_seat:
        _leave_seat(registration)
        fill_free_seats(event)
    return registration


def correct(registration: Registration, changes: dict[str, Any]) -> Registration:
    """Self-service correction of the registrant's own details."""
    if registration.status in ENDED:
        raise Conflict(problem("registration_cancelled", "This registration is cancelled."),
                       {"status": [problem("registration_cancelled", "Cancelled.")]})
    if "answers" in changes:
        changes["answers"] = clean_answers(registration.event.extra_fields or [], changes["answers"] or {})
    changed = False
    for name in CORRECTABLE:
        if name in changes and changes[name] != getattr(registration, name):
            setattr(registration, name, changes[name])
            changed = True
    if changed:
        _changed(registration, "registration.updated")
    return registration


def promote(registration: Registration, add_seat: bool = False) -> Registration:
    """Staff move a waitlisted person to confirmed: into a free seat or, with `add_seat`,
    into a seat added for them (the capacity grows by one)."""
    if not _may(registration, "promote"):
        raise Conflict(problem("not_waitlisted", "Only a waitlisted registration can be promoted."), {"status": [current_status(registration.status)]})
    event = lock_event(registration.event)
    if add_seat and event.capacity is not None and free_seats(event) == 0:
        event.capacity += 1
        set_seats(event, event.capacity)
    if not _take_seat(event, registration):
        raise Conflict(problem("event_full", "The event is full: raise the capacity or demote someone first."),
                       {"capacity": [problem("event_full", "No free seat.")]})
    registration.status = CONFIRMED
    registration.confirmed_at = utcnow()
    _changed(registration, "registration.promoted")
    return registration


def promote_over_capacity(registration: Registration) -> Registration:
    """Staff promote a waitlisted person even though the event is full: a seat is added."""
    return promote(registration, add_seat=True)


def demote(registration: Registration) -> Registration:
    """Staff move a confirmed person to the end of the waiting list; the seat goes to the next in line."""
    if not _may(registration, "demote"):
        raise Conflict(problem("not_confirmed", "Only a confirmed registration can be moved to the waiting list."), {"status": [current_status(registration.status)]})
    event = lock_event(registration.event)
    registration.status = WAITLISTED
    registration.confirmed_at = None
    registration.queued_at = utcnow()
    registration.waitlist_position = None
    _leave_seat(registration)
    _changed(registration, "registration.waitlisted")
    fill_free_seats(event)
    return registration


def check_in_not_open_reason(event: Event) -> Problem | None:
    """Why check-in at `event` is not open yet, or None when it is. It opens on the event's
    first day in the event's time zone: a ticket scanned weeks before is a mistake (and would
    make its holder "attended"); staff may still check in earlier on purpose (`admit`'s override)."""
    zone = ZoneInfo(event.timezone)
    first_day = event.starts_at.astimezone(zone).date()
    if dt.datetime.now(zone).date() < first_day:
        return problem("check_in_not_open", "Check-in opens on the day of the event, %(date)s.", date=first_day.isoformat())
    return None


def admit(registration: Registration, override: bool = False) -> str:
    """Check a confirmed person in: one conditional UPDATE, so two staff checking the same
    person in at the same moment (two phones at the door) do it once. Returns the status it
    found: `confirmed` when this call checked the person in; any other leaves it unchanged.
    Before the event's day only with `override` (409 `check_in_not_open` otherwise)."""
    not_open = None if override else check_in_not_open_reason(registration.event)
    if not_open:
        raise Conflict(not_open, {"override": [not_open]})
    result = db.session.execute(
        sa.update(Registration)
        .where(Registration.id == registration.id, Registration.status.in_(TRANSITIONS["check-in"][0]))
        .values(status=ATTENDED, checked_in_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    found = CONFIRMED if result.rowcount == 1 else None
    db.session.refresh(registration)
    return found or registration.status


def check_in(registration: Registration) -> Registration:
    """Mark a confirmed person as attended; checking in twice changes nothing."""
    if admit(registration) not in (CONFIRMED, ATTENDED):
        raise Conflict(problem("not_confirmed", "Only confirmed people can be checked in."), {"status": [current_status(registration.status)]})
    return registration


def message_registrants(event: Event, subject: str, body: str, statuses: tuple[str, ...] = (CONFIRMED, WAITLISTED, ATTENDED)) -> int:
    """Queue a staff message for every registrant of `event` in `statuses`."""
    key = uuid.uuid4().hex
    count = 0
    for registration in db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id, Registration.status.in_(statuses))
    ):
        data = registration_message(registration)
        data.update(subject=subject, body=body)
        emit("event.message", f"event.message:{key}:{registration.public_id}", data)
        count += 1
    return count


# --- self-service tokens and messages --------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return _manage_serializer(settings().secret_key)


@functools.lru_cache(maxsize=4)
def _manage_serializer(secret_key: str) -> URLSafeSerializer:
    """One per key: building one derives its signing key, a cost paid once."""
    return URLSafeSerializer(secret_key, salt=MANAGE_SALT)


def manage_token(registration: Registration) -> str:
    return _manage_token(settings().secret_key, registration.public_id)


@functools.lru_cache(maxsize=256)
def _manage_token(secret_key: str, public_id: str) -> str:
    """A registration's token never changes: a registration announces its link several
    times in one request (message, answer), signed once."""
    return _manage_serializer(secret_key).dumps(public_id)


def _ticket_signer() -> Signer:
    return _ticket_signer_for(settings().secret_key)


@functools.lru_cache(maxsize=4)
def _ticket_signer_for(secret_key: str) -> Signer:
    return Signer(secret_key, salt=TICKET_SALT, digest_method=hashlib.sha256)


def has_ticket(event: Event) -> bool:
    """People come to the door of events in a room; a web conference has no door, nor tickets."""
    return not event.online


def ticket_code(registration: Registration) -> str:
    """What the QR code of the registration's ticket holds: `PUBLICID.SIGNATURE` (services/registration/tickets.py)."""
    return _ticket_signer().sign(registration.public_id).decode()


def ticket_of(registration: Registration) -> str | None:
    """The code of the registration's ticket while it lets its holder in (confirmed, at an
    event in a room); None otherwise."""
    return ticket_code(registration) if registration.status == CONFIRMED and has_ticket(registration.event) else None


def ticket_public_id(code: str) -> str | None:
    """The public id a ticket's code names; None when the code is not one we signed."""
    try:
        return _ticket_signer().unsign(code.strip()).decode()
    except (BadSignature, UnicodeError):
        return None


def group_url(group: RegistrationGroup) -> str:
    """The address of the group's page, for its contact (a signed link, like `manage_url`)."""
    return f"{settings().public_base_url}/groups/{_group_serializer(settings().secret_key).dumps(group.public_id)}"


@functools.lru_cache(maxsize=4)
def _group_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=GROUP_SALT)


def invalid_link() -> NotFound:
    """The refusal of a signed link that is altered, or whose registration or group is gone."""
    return NotFound(problem("invalid_link", "This link is not valid."), {"token": [problem("invalid_link", "Invalid or altered link.")]})


def group_for_token(token: str) -> RegistrationGroup:
    try:
        public_id = _group_serializer(settings().secret_key).loads(token)
    except BadSignature:
        raise invalid_link() from None
    group = db.session.scalar(sa.select(RegistrationGroup).where(RegistrationGroup.public_id == public_id))
    if group is None or group.anonymised_at is not None:
        raise invalid_link()
    return group


def group_message(group: RegistrationGroup, registrations: list[Registration]) -> dict[str, Any]:
    """The data of the message to a group's contact: where each new participant stands."""
    return {
        "group_id": group.public_id,
        "person": {"first_name": group.first_name, "last_name": group.last_name, "email": group.email, "language": group.language},
        "event": event_summary(group.event),
        "manage_url": group_url(group),
        "participants": [{"first_name": r.first_name, "last_name": r.last_name, "status": r.status} for r in registrations],
    }


def manage_url(registration: Registration) -> str:
    return f"{settings().public_base_url}/manage/{manage_token(registration)}"


def registration_for_token(token: str) -> Registration:
    try:
        public_id = _serializer().loads(token)
    except BadSignature:
        raise invalid_link() from None
    return registration_by_public_id(public_id, "token")


def registration_by_public_id(public_id: str, field: str) -> Registration:
    """The registration `public_id`; 404 naming `field` when it is unknown or anonymised."""
    registration = db.session.scalar(sa.select(Registration).where(Registration.public_id == public_id))
    if registration is None or registration.anonymised_at is not None:
        raise NotFound(problem("unknown_registration", "This registration no longer exists."),
                       {field: [problem("unknown_registration", "Unknown registration.")]})
    return registration


def event_summary(event: Event, *, with_join_url: bool = False) -> dict[str, Any]:
    return {
        "slug": event.slug,
        "kind": event.kind,
        "title": event.title,
        "description": event.description or {},
        "starts_at": local_iso(event.starts_at, event.timezone),
        "ends_at": local_iso(event.ends_at, event.timezone),
        "timezone": event.timezone,
        "venue": event.venue,
        "online": event.online,
        "join_url": event.join_url if with_join_url and event.online else None,
    }


def local_iso(moment: dt.datetime, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(timezone)).isoformat()


def registration_message(registration: Registration) -> dict[str, Any]:
    """The data of a registration message; the join link only for people holding a seat."""
    return {
        "registration_id": registration.public_id,
        "status": registration.status,
        "person": {
            "first_name": registration.first_name,
            "last_name": registration.last_name,
            "email": registration.email,
            "language": registration.language,
        },
        "event": event_summary(registration.event, with_join_url=registration.status in SEATED),
        "manage_url": manage_url(registration),
        "verify_url": manage_url(registration) if registration.status == PENDING else None,
        "ticket": ticket_of(registration),
        "revision": registration.revision,
    }


def _message_key(registration: Registration, message_type: str) -> str:
    return f"{message_type}:{registration.public_id}:{registration.revision}"


def _changed(registration: Registration, message_type: str, **extra: Any) -> None:
    """Record a change the person is told about, and announce it (`extra`: more data for
    the message, e.g. the reason of a decision)."""
    registration.revision += 1
    db.session.flush()
    emit(message_type, _message_key(registration, message_type), {**registration_message(registration), **extra})


#: what reminders show: a change to any of these is sent to the notify service
SCHEDULE_FIELDS = ("starts_at", "ends_at", "published", "timezone", "title", "venue", "kind")


def _emit_scheduled(event: Event) -> None:
    """Tell the notify service when and what the event is; unpublished counts as cancelled."""
    emit(
        "event.scheduled",
        f"event.scheduled:{event.slug}:{uuid.uuid4().hex}",
        {"event": event_summary(event), "cancelled": not event.published},
    )
