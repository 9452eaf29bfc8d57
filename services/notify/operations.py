"""Delivery rules: one email per message key, what counts as failed, and staff resends.

`deliver` sends each email at most once per envelope key, however many copies of its
message arrive, and at least once however workers crash or Redis fails:
1. one INSERT ... ON CONFLICT DO UPDATE ... WHERE creates the `Delivery` row under the
   envelope's unique key already claimed for this copy of the message, or claims the
   existing row when this copy may: it already holds the claim (a worker died and Dramatiq
   handed the copy out again), or it is the attempt the scheduler queued last (its
   `queued_at`) and no other copy holds the row, or the other copy's claim is older than
   `CLAIM_LEASE` (taken over); then it commits. Any other copy stops there: the row is sent,
   failed, or in the hands of the claim holder or the scheduler.
   A copy that claims the row of an email while an earlier email of its thread (the same
   order or registration, `thread_of`) is still queued lets it go again, due
   `WAIT_FOR_EARLIER` later (this is no attempt and no retry), so that a person's emails
   about one thing go out in the order of the events that caused them (a "shipped" waits
   for its "received" that is still being retried). The relays hand messages over in the order they were written; what
   this cannot see is an earlier message another worker is still composing (its row is
   written once its email is built, e.g. after fetching an invoice's PDF);
2. the email goes to SMTP, no transaction open; then, whatever happened (sent, refused,
   temporary failure, or any other error), a `finally` records the outcome and lets the
   claim go, in its own short transaction that is retried on its own when the database
   drops the connection (`_settle`). A temporary failure sets the row's `due_at` (backoff).

What must happen later lives in the database, never only in a worker or in Redis: while a
row is queued its `due_at` says when the relay's scheduler (`services.notify.scheduler`)
queues the next attempt: the retry time after a temporary failure, or, while a copy holds
the claim, the end of its lease (so a claim whose worker vanished is taken over). A queued
attempt that Redis lost is queued again `scheduler.REQUEUE_AFTER` later.

The one remaining duplicate window is between the SMTP server accepting an email (its 250
reply to DATA) and the commit that records it as sent, a few milliseconds normally: a crash
there, or a database that refuses that commit for longer than `_settle`'s retries (about
15 s), leaves the row queued and claimed although the email went out, and it is sent again
when the copy comes back or the lease has run out. SMTP has no idempotency token that could
close it; the Message-ID, derived from the key, stays the same, so mail clients can tell.
(Also outside our hands: a worker frozen for longer than the heartbeat timeout (15 s,
`shared.broker`) is taken for dead and its messages handed out again while it may still be
sending; an attempt that takes longer than `CLAIM_LEASE`, twenty times the SMTP timeout,
is taken over.)
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import requests
import sqlalchemy as sa

from services.notify import reminders, smtp
from services.notify.emails import EVENT_TYPES, ORDER_TYPES, InvalidMessage, compose
from services.notify.models import FAILED, QUEUED, SENT, Delivery, Registrant, ScheduledEvent
from shared.auth import Staff, issue_service_token
from shared.db import db, dialect_insert, utcnow
from shared.errors import Conflict, Forbidden, NotFound, current_status, problem
from shared.web import settings

log = logging.getLogger(__name__)

#: how long a claim holds: longer than any SMTP conversation (each step has a 30 s timeout)
CLAIM_LEASE = dt.timedelta(minutes=10)
#: temporary failures before a delivery is failed: 1 s, 2 s, 4 s ... doubling up to an hour
#: between tries (less up to a quarter, so that retries spread out): about a day in all
MAX_RETRIES = 40
MIN_BACKOFF, MAX_BACKOFF = dt.timedelta(seconds=1), dt.timedelta(hours=1)
#: pauses between the tries of recording an outcome when the database connection fails
SETTLE_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
#: how long an email waits before it looks again whether the earlier ones of its thread went
WAIT_FOR_EARLIER = dt.timedelta(seconds=1)

#: what stands for the recipient of an erased or expired delivery
ERASED = "erased"

#: which staff role looks after which emails (admins look after all)
ROLE_OF_TYPES = {"events": EVENT_TYPES, "publications": ORDER_TYPES}
#: seconds to connect to, and to read from, the orders service
DOCUMENT_TIMEOUT = (5, 30)


class DocumentUnavailable(Exception):
    """The service that issued a PDF could not hand it over just now; worth retrying."""


# --- delivery --------------------------------------------------------------------------

def smtp_settings() -> smtp.SmtpSettings:
    config = settings()
    return smtp.SmtpSettings(
        host=config.smtp_host, port=config.smtp_port, tls=config.smtp_tls,
        user=config.smtp_user or None, password=config.smtp_password or None,
    )


def deliver(envelope: dict[str, Any], claimant: str, queued_at: dt.datetime | None = None) -> None:
    """Send the email for `envelope` if this copy of its message may (see above).

    `claimant` names this copy in the queue; `queued_at` is given by the attempts the
    scheduler queues (`attempt`), None for the message itself. A permanent SMTP refusal, or
    an envelope that cannot become an email, marks the delivery failed; a temporary failure
    (SMTP 4xx or unreachable, document service unavailable) sets the retry time. A
    registration message also tells the reminders where that registration stands, in the
    transaction that claims the delivery. Commits: the SMTP conversation sits between the
    claim and the outcome, each committed on its own.
    """
    key = str(envelope["key"])
    outcome = FAILED
    try:
        message: EmailMessage | None = compose(
            envelope, mail_from=settings().mail_from, attachments=document_attachments(envelope)
        )
        problem = None
    except InvalidMessage as exc:
        message, problem = None, f"invalid message: {exc}"
    except DocumentUnavailable as exc:
        message, problem, outcome = None, str(exc), QUEUED
    if envelope["type"] in reminders.REGISTRATION_NEWS:
        reminders.note_registration(envelope)
    retries = _claim(envelope, message, claimant, queued_at)
    if retries is not None and message is not None and _earlier_queued(envelope):
        _wait_for_earlier(key, claimant)
        retries = None
    db.session.commit()
    if retries is None:
        return  # sent, failed, waiting for an earlier email, or someone else's to send
    if message is None:
        return _settle(key, claimant, outcome, problem, retries)
    status, error = QUEUED, "interrupted before the SMTP server answered"
    try:
        smtp.deliver(message, smtp_settings())
        status, error = SENT, None
    except smtp.PermanentDeliveryError as exc:
        status, error = FAILED, str(exc)
    except smtp.TemporaryDeliveryError as exc:
        error = str(exc)
    finally:
        _settle(key, claimant, status, error, retries)


def attempt(delivery_id: int, queued_at: dt.datetime, claimant: str) -> None:
    """The scheduler queued another attempt at a delivery: make it, if it is still the
    latest one queued and the delivery still waits (else this copy is stale). Commits."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.status != QUEUED or delivery.queued_at != queued_at or not delivery.envelope:
        db.session.commit()
        return
    envelope = delivery.envelope
    db.session.commit()
    deliver(envelope, claimant, queued_at)


def backoff(retries: int) -> dt.timedelta:
    """How long to wait after the `retries`-th temporary failure in a row (counting from 0)."""
    wait = min(MIN_BACKOFF * 2 ** min(retries, 32), MAX_BACKOFF)
    return wait * random.uniform(0.75, 1.0)


def thread_of(envelope: dict[str, Any]) -> str | None:
    """What the email of `envelope` is about, for keeping its thread in order: its order, or
    its registration; None when it names neither."""
    data = envelope.get("data") if isinstance(envelope.get("data"), dict) else {}
    order = data.get("order") if isinstance(data.get("order"), dict) else {}
    if envelope.get("type") in ORDER_TYPES and order.get("id") is not None:
        return f"order:{order['id']}"[:100]
    if envelope.get("type") in EVENT_TYPES and data.get("registration_id"):
        return f"registration:{data['registration_id']}"[:100]
    return None


def _occurred_at(envelope: dict[str, Any]) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(envelope.get("occurred_at")))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _earlier_queued(envelope: dict[str, Any]) -> bool:
    """Whether an email of the same thread caused by an earlier event (ties: by key) still waits."""
    thread, occurred_at, key = thread_of(envelope), _occurred_at(envelope), str(envelope["key"])
    if thread is None or occurred_at is None:
        return False
    earlier = sa.or_(Delivery.occurred_at < occurred_at,
                     sa.and_(Delivery.occurred_at == occurred_at, Delivery.idempotency_key < key))
    found = db.session.execute(
        sa.select(Delivery.id).where(Delivery.thread == thread, Delivery.status == QUEUED, earlier).limit(1)
    )
    return found.first() is not None


def _wait_for_earlier(key: str, claimant: str) -> None:
    """Let the delivery go again unsent, due WAIT_FOR_EARLIER from now (the scheduler then
    queues an attempt); the attempt `_claim` counted was not one."""
    db.session.execute(
        sa.update(Delivery.__table__).where(Delivery.idempotency_key == key, Delivery.claimed_by == claimant)
        .values(claimed_by=None, claimed_at=None, due_at=utcnow() + WAIT_FOR_EARLIER, attempts=Delivery.attempts - 1)
    )


def _new_delivery(envelope: dict[str, Any], message: EmailMessage | None, **values: Any) -> Any:
    """An INSERT of the delivery row of `envelope` (the dialect's, for its ON CONFLICT)."""
    kind = str(envelope.get("type"))
    if message is not None:
        recipient = message["To"].addresses[0].addr_spec
        language = str(message["Content-Language"])
    else:
        person = (envelope.get("data") or {}).get("person") or {}
        recipient, language = str(person.get("email") or "")[:254], str(person.get("language") or "")[:8]
    return dialect_insert(Delivery).values(
        idempotency_key=str(envelope["key"]), message_type=kind, recipient=recipient.lower(),
        template=f"notify/{language}/{kind}", language=language, envelope=envelope, status=QUEUED,
        thread=thread_of(envelope), occurred_at=_occurred_at(envelope), **values,
    )


def _claim(
    envelope: dict[str, Any], message: EmailMessage | None, claimant: str, queued_at: dt.datetime | None,
) -> int | None:
    """Create the delivery claimed by `claimant`, or claim the existing one if this copy
    may (see above): one statement. Counts an attempt when there is an email to send.
    Returns the delivery's temporary failures so far, or None when it was not claimed."""
    attempt = int(message is not None)
    now = utcnow()
    free = sa.or_(
        Delivery.claimed_by.is_(None), Delivery.claimed_at.is_(None), Delivery.claimed_at < now - CLAIM_LEASE
    )
    may_claim = Delivery.claimed_by == claimant
    if queued_at is not None:
        may_claim = sa.or_(may_claim, sa.and_(Delivery.queued_at == queued_at, free))
    claimed = db.session.execute(
        _new_delivery(
            envelope, message, claimed_by=claimant, claimed_at=now, attempts=attempt, due_at=now + CLAIM_LEASE
        ).on_conflict_do_update(
            index_elements=["idempotency_key"],
            set_={"claimed_by": claimant, "claimed_at": now, "due_at": now + CLAIM_LEASE,
                  "attempts": Delivery.attempts + attempt},
            where=sa.and_(Delivery.status == QUEUED, may_claim),
        ).returning(Delivery.retries)
    )
    return claimed.scalar()


def _settle(key: str, claimant: str, status: str, error: str | None, retries: int) -> None:
    """Record the outcome of `claimant`'s attempt and let the delivery go, in a transaction
    of its own; after a temporary failure (`status` queued), set when to try again, or
    fail the delivery once `MAX_RETRIES` is reached. Commits.

    A dropped database connection (restart, failover, a terminated backend) is retried on
    a new connection; only when every try fails does the error propagate, the claim staying
    until its lease runs out.
    """
    now = utcnow()
    values: dict[str, Any] = {"status": status, "last_error": error, "claimed_by": None, "claimed_at": None,
                              "due_at": None}
    if status == SENT:
        values["sent_at"] = now
    elif status == QUEUED and retries + 1 >= MAX_RETRIES:
        values.update(status=FAILED, retries=retries + 1,
                      last_error=f"gave up after {retries + 1} retries; last error: {error}")
    elif status == QUEUED:
        values.update(retries=retries + 1, due_at=now + backoff(retries))
        log.warning("%s: %s; will retry", key, error)
    statement = (
        sa.update(Delivery.__table__).where(Delivery.idempotency_key == key, Delivery.claimed_by == claimant)
        .values(**values)
    )
    for pause in (*SETTLE_PAUSES, None):
        try:
            db.session.execute(statement)
            db.session.commit()
            return
        except sa.exc.DBAPIError as exc:
            db.session.rollback()
            if pause is None or not (exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError)):
                raise
            log.warning("recording %s as %s: %s; trying again in %.1f s", key, status, exc.orig, pause)
            time.sleep(pause)


# --- documents from the orders service -------------------------------------------------

def service_token() -> str:
    """A token with which the notify service itself calls the other services."""
    return issue_service_token("notify", settings().secret_key)


def document_attachments(envelope: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    """The PDF an envelope announces (invoice, credit note or attendance certificate),
    fetched from the service that issued it.

    Raises `DocumentUnavailable` when that service cannot answer now, and
    `InvalidMessage` when it says the document does not exist or is not a PDF.
    """
    kind = envelope.get("type")
    if kind not in ("invoice.issued", "credit_note.issued", "certificate.issued"):
        return []
    try:
        data = envelope["data"]
        if kind == "certificate.issued":
            number = str(data["certificate_number"])
            service, path = "registration", f"/api/v1/certificates/{quote(str(data['registration_id']), safe='')}.pdf"
            filename = f"certificate-{number}.pdf"
        else:
            number = str(data["document"]["number"])
            service = "orders"
            if kind == "invoice.issued":
                path, filename = f"/api/v1/orders/{int(data['order']['id'])}/invoice.pdf", f"invoice-{number}.pdf"
            else:
                path, filename = f"/api/v1/credit-notes/{quote(number, safe='')}.pdf", f"credit-note-{number}.pdf"
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidMessage(f"{kind}: {exc}") from exc
    url = settings().service_url(service) + path
    try:
        response = requests.get(
            url, headers={"Authorization": f"Bearer {service_token()}"}, timeout=DOCUMENT_TIMEOUT
        )
    except requests.RequestException as exc:
        raise DocumentUnavailable(f"GET {url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise DocumentUnavailable(f"GET {url}: HTTP {response.status_code}")
    if response.status_code != 200 or not response.content.startswith(b"%PDF-"):
        raise InvalidMessage(f"GET {url}: HTTP {response.status_code}, not a PDF")
    return [(filename, "application/pdf", response.content)]


# --- staff -----------------------------------------------------------------------------

def visible_types(staff: Staff) -> frozenset[str]:
    """The message types whose emails `staff` may see and resend."""
    return frozenset().union(*(types for role, types in ROLE_OF_TYPES.items() if staff.may(role)))


def list_deliveries(staff: Staff, status: str | None, recipient: str | None, limit: int) -> list[Delivery]:
    """The newest deliveries first, of the kinds `staff` looks after."""
    statement = sa.select(Delivery).where(Delivery.message_type.in_(visible_types(staff)))
    if status:
        statement = statement.where(Delivery.status == status)
    if recipient:
        statement = statement.where(Delivery.recipient == recipient.strip().lower())
    return list(db.session.scalars(statement.order_by(Delivery.id.desc()).limit(limit)))


def resend(staff: Staff, delivery_id: int) -> Delivery:
    """Put a failed delivery back in the queue; its email is composed and sent again.

    It is due at once: the relay's scheduler queues an attempt if and only if this
    transaction commits. Flushes; the caller commits.
    """
    delivery = db.session.execute(
        sa.select(Delivery).where(Delivery.id == delivery_id).with_for_update()
    ).scalar_one_or_none()
    if delivery is None:
        raise NotFound(problem("unknown_delivery", "No delivery %(id)s.", id=delivery_id), {"id": [problem("unknown_delivery", "Unknown delivery.")]})
    if delivery.message_type not in visible_types(staff):
        role = next((role for role, types in ROLE_OF_TYPES.items() if delivery.message_type in types), "admin")
        raise Forbidden(problem("role_required", "This needs the '%(role)s' role.", role=role))
    if delivery.status != FAILED:
        raise Conflict(problem("not_failed", "Only a failed delivery can be resent."), {"status": [current_status(delivery.status)]})
    delivery.status, delivery.claimed_by, delivery.claimed_at = QUEUED, None, None
    delivery.retries, delivery.queued_at, delivery.due_at = 0, None, utcnow()
    db.session.flush()
    return delivery



#: an erased delivery row: nothing personal left, and an email not sent yet never will be
_ERASED_VALUES: dict[str, Any] = {
    "recipient": ERASED, "envelope": {}, "last_error": None, "due_at": None,
    "status": sa.case((Delivery.status == QUEUED, FAILED), else_=Delivery.status),
}


def erase_person(email: str, registration_ids: list[str]) -> int:
    """Forget a person who asked to be erased: their registrations' reminder records go, and
    their delivery log rows keep only what staff statistics need. Returns the rows changed."""
    registrants = db.session.execute(sa.delete(Registrant).where(Registrant.registration_id.in_(registration_ids)))
    deliveries = db.session.execute(
        sa.update(Delivery).where(Delivery.recipient == email).values(**_ERASED_VALUES)
    )
    return registrants.rowcount + deliveries.rowcount


def anonymise_expired(retention_days: int, now: dt.datetime | None = None) -> int:
    """After the retention period, the delivery log keeps only what statistics need, and the
    reminder records of past events go. Returns the rows changed."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    deliveries = db.session.execute(
        sa.update(Delivery).where(Delivery.created_at < cutoff, Delivery.recipient != ERASED)
        .values(**_ERASED_VALUES)
    )
    past_events = sa.select(ScheduledEvent.slug).where(ScheduledEvent.starts_at < cutoff)
    registrants = db.session.execute(sa.delete(Registrant).where(
        sa.or_(Registrant.event_slug.in_(past_events), Registrant.as_of < cutoff)
    ))
    return deliveries.rowcount + registrants.rowcount
