"""The delivery log, and what the notify service remembers to send event reminders.

The notify service owns no business data: registrations and events belong to the
registration service. To remind confirmed registrants before an event it keeps the latest
facts it was told about each event (`ScheduledEvent`) and each registration (`Registrant`),
as carried by the messages it consumes.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.contracts.notify import DELIVERY_STATUSES, FAILED, QUEUED, SENT  # noqa: F401  (the column's values)
from shared.db import UTCDateTime, db, utcnow


class Delivery(db.Model):
    """One email: created when its message is first handled, whatever happens next."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.Index("ix_delivery_status_created", "status", "created_at"),
        sa.Index("ix_delivery_due_at", "due_at"),
        sa.Index("ix_delivery_thread", "thread", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the envelope's key; a redelivered message finds its row here and sends nothing
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    message_type: Mapped[str] = mapped_column(sa.String(64))
    #: the address the email is (or was to be) sent to
    recipient: Mapped[str] = mapped_column(sa.String(254), index=True)
    #: the template set used, e.g. "notify/fr/registration.confirmed"
    template: Mapped[str] = mapped_column(sa.String(120))
    #: language of the email as sent (English when the requested one has no templates)
    language: Mapped[str] = mapped_column(sa.String(8))
    #: queued, then sent or failed; staff may put a failed delivery back to queued (resend)
    status: Mapped[str] = mapped_column(sa.String(10), default=QUEUED)
    #: the copy of the message (its id in the Redis queue) sending this email right now
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    #: when that copy claimed it; after `operations.CLAIM_LEASE` another copy may take it over
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: while queued, when the relay's scheduler is to queue an attempt (a retry, or a check on
    #: a claim whose worker may have vanished); None once sent or failed
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: when the scheduler last queued an attempt; that message carries it, and only it may
    #: claim the row (an older copy of it, or of the original message, does nothing)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: temporary failures in a row (the backoff grows with them); a resend starts again at 0
    retries: Mapped[int] = mapped_column(default=0, server_default="0")
    #: SMTP conversations started for this email, across retries and resends
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    #: the message as received, so a resend composes the same email
    envelope: Mapped[dict] = mapped_column(sa.JSON)
    #: what the email is about ("order:12", "registration:<public id>"), None for nothing in
    #: particular: the emails of one thread go out in the order of `occurred_at`
    thread: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    #: when what the email tells happened (the envelope's occurred_at)
    occurred_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ScheduledEvent(db.Model):
    """An event's dates as last announced, and where its reminder stands."""

    __tablename__ = "scheduled_event"

    slug: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    #: the EventSummary of the newest message about this event, without its join link
    summary: Mapped[dict] = mapped_column(sa.JSON)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: when the reminders are due (starts_at less REMINDER_HOURS)
    remind_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    cancelled: Mapped[bool] = mapped_column(default=False)
    #: occurred_at of the newest message these facts come from; older ones change nothing
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: when the relay's scheduler last queued the reminder run (queued again if not done soon)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: the starts_at whose reminders went out; a moved event is reminded again
    reminded_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Registrant(db.Model):
    """A registration as last announced by the registration service."""

    __tablename__ = "registrant"

    registration_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    event_slug: Mapped[str] = mapped_column(sa.String(120), index=True)
    #: pending, confirmed, waitlisted, cancelled or attended
    status: Mapped[str] = mapped_column(sa.String(20))
    #: {"first_name", "last_name", "email", "language"}
    person: Mapped[dict] = mapped_column(sa.JSON)
    manage_url: Mapped[str] = mapped_column(sa.String(500))
    #: the web conference link as last sent to this person while seated; private, only ever
    #: put in reminders to confirmed registrants
    join_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: occurred_at of the newest message about this registration
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())



DELIVERED = "delivered"
WEBHOOK_STATUSES = (QUEUED, DELIVERED, FAILED)


class WebhookEndpoint(db.Model):
    """An HTTPS address staff registered to be told of events (services/notify/webhooks.py)."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    #: the message types it is told of, e.g. ["registration.confirmed", "order.shipped"]
    event_types: Mapped[list] = mapped_column(sa.JSON)
    #: signs each delivery (HMAC-SHA256); shown once, when the endpoint is created
    secret: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(db.Model):
    """One event told to one endpoint: created when its message is first handled."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_key", name="uq_webhook_delivery_endpoint_event"),
        sa.Index("ix_webhook_delivery_due_at", "due_at"),
        sa.Index("ix_webhook_delivery_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    #: the envelope's key: a message handled twice is delivered once
    event_key: Mapped[str] = mapped_column(sa.String(200))
    event_type: Mapped[str] = mapped_column(sa.String(64))
    #: the body as posted (the same on every attempt, so receivers can deduplicate by its id)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    #: queued, then delivered or failed; staff may queue a failed one again (resend)
    status: Mapped[str] = mapped_column(sa.String(10), default=QUEUED)
    #: while queued, when the relay's scheduler queues the next attempt
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: when the scheduler last queued an attempt; only that message may make it
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: failed attempts in a row (the backoff grows with them); a resend starts again at 0
    retries: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[int | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
