"""Events, registrations and the member directory (the registration service owns all three)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.contracts.registration import (
    ATTENDED, CANCELLED, CONFIRMED, ENDED, PENDING, PENDING_APPROVAL, REJECTED, SEATED, WAITLISTED,
)
from shared.contracts.registration import REGISTRATION_STATUSES as STATUSES
from shared.db import UTCDateTime, db, utcnow

EVENT_KINDS = ("webconference", "academy", "assembly", "conference")

#: statuses that count as "the" registration of an email for an event (every one but ENDED)
ACTIVE = (PENDING, PENDING_APPROVAL, CONFIRMED, WAITLISTED, ATTENDED)
#: what each change of a registration may start from, and where it leads. A new
#: registration is pending (double opt-in), pending approval (moderated event), or
#: confirmed or waitlisted as seats allow. The operations (services.registration.operations)
#: refuse a change from anywhere else, except that cancelling a cancelled one, verifying
#: twice or checking in twice changes nothing.
TRANSITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "verify": ((PENDING,), (PENDING_APPROVAL, CONFIRMED, WAITLISTED)),
    "approve": ((PENDING_APPROVAL,), (CONFIRMED, WAITLISTED)),
    "reject": ((PENDING_APPROVAL,), (REJECTED,)),
    "promote": ((WAITLISTED,), (CONFIRMED,)),
    "demote": ((CONFIRMED,), (WAITLISTED,)),
    "check-in": ((CONFIRMED,), (ATTENDED,)),
    "cancel": ((PENDING, PENDING_APPROVAL, CONFIRMED, WAITLISTED), (CANCELLED,)),
}
#: the condition of the unique index of active registrations (one per email and event)
ACTIVE_CONDITION = "status NOT IN ({})".format(", ".join(f"'{status}'" for status in ENDED))


class Event(db.Model):
    __tablename__ = "event"
    #: the public list: published events that have not ended (`GET /events`)
    __table_args__ = (sa.Index("ix_event_published_ends_at", "published", "ends_at"),
                      sa.Index("ix_event_starts_at", "starts_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: {"en": "...", "fr": "..."}
    title: Mapped[dict] = mapped_column(sa.JSON)
    description: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: IANA name; dates are shown to people in this zone
    timezone: Mapped[str] = mapped_column(sa.String(64))
    venue: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    #: private: only confirmed registrants of a web conference ever see it
    join_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: None means unlimited
    capacity: Mapped[int | None] = mapped_column(nullable=True)
    registration_opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    registration_closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    members_only: Mapped[bool] = mapped_column(default=False)
    #: at most this many active registrations per member organisation (None: no cap)
    max_per_organisation: Mapped[int | None] = mapped_column(nullable=True)
    double_opt_in: Mapped[bool] = mapped_column(default=False)
    #: moderated: staff approve each registration before it takes a seat or a waiting-list place
    requires_approval: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: [{"name", "type", "required", "label": {lang: text}, "choices": [...], "max_length"}]
    extra_fields: Mapped[list] = mapped_column(sa.JSON, default=list)
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def online(self) -> bool:
        return self.kind == "webconference"


class Registration(db.Model):
    __tablename__ = "registration"
    __table_args__ = (
        # One active registration per email per event, whatever the race.
        sa.Index(
            "uq_registration_active_email",
            "event_id",
            "email",
            unique=True,
            postgresql_where=sa.text(ACTIVE_CONDITION),
            sqlite_where=sa.text(ACTIVE_CONDITION),
        ),
        sa.Index("ix_registration_event_status", "event_id", "status", "queued_at", "id"),
        sa.Index("ix_registration_event_organisation", "event_id", "member_organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what the signed self-service token names; never the numeric id
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(20))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    #: stored lower-case
    email: Mapped[str] = mapped_column(sa.String(254))
    organisation: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    position: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    city: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    country: Mapped[str | None] = mapped_column(sa.String(2), nullable=True)
    language: Mapped[str] = mapped_column(sa.String(2))
    #: answers to the event's extra fields, keyed by field name
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    consent_version: Mapped[str] = mapped_column(sa.String(40))
    consented_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    member_organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("member_organisation.id", ondelete="SET NULL"), nullable=True
    )
    #: waiting-list order: when the person joined the queue (arrival, or demotion)
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: when staff approved or rejected it (moderated events); the audit log says who
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: when the attendance certificate was sent (staff send them once the event is over)
    certificate_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: incremented on every change a person is told about; part of message keys
    revision: Mapped[int] = mapped_column(default=1)
    #: the group it was registered with, by someone else (None: the person registered themself)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registration_group.id", ondelete="SET NULL"), nullable=True,
                                                 index=True)

    #: not stored: the place on the waiting list when already known in this request
    waitlist_position = None

    event: Mapped[Event] = relationship(lazy="joined", innerjoin=True)
    member_organisation: Mapped[MemberOrganisation | None] = relationship()


class RegistrationGroup(db.Model):
    """Several participants registered for one event in one submission by one person, the
    contact (e.g. a city's training officer), who sees the group on one page and may cancel
    single participants. Each participant has their own registration and self-service link."""

    __tablename__ = "registration_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what the signed link of the group's page names; never the numeric id
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    #: stored lower-case
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    organisation: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    language: Mapped[str] = mapped_column(sa.String(2))
    consent_version: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    event: Mapped[Event] = relationship(lazy="joined", innerjoin=True)
    registrations: Mapped[list[Registration]] = relationship(order_by="Registration.id", viewonly=True)


class Seat(db.Model):
    """One seat of an event with a capacity; `holder` is the registration sitting in it.

    Seats are rows so that simultaneous registrations take different seats in parallel
    (`FOR UPDATE SKIP LOCKED`) instead of queueing on one lock through each commit.
    """

    __tablename__ = "seat"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "number", name="uq_seat_event_number"),
        sa.Index("ix_seat_event_holder", "event_id", "holder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    #: 1..capacity; free seats are given lowest number first
    number: Mapped[int]
    #: public_id of the registration in this seat; NULL when free
    holder: Mapped[str | None] = mapped_column(sa.String(32), unique=True, nullable=True)


class MemberOrganisation(db.Model):
    __tablename__ = "member_organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    #: ISO 3166-1 alpha-2
    country: Mapped[str] = mapped_column(sa.String(2))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    domains: Mapped[list[MemberDomain]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="MemberDomain.domain"
    )
    addresses: Mapped[list[MemberAddress]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="MemberAddress.email"
    )


class MemberDomain(db.Model):
    """An email domain whose addresses belong to a member organisation (e.g. `madrid.es`)."""

    __tablename__ = "member_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("member_organisation.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(sa.String(253), unique=True)

    organisation: Mapped[MemberOrganisation] = relationship(back_populates="domains")


class MemberAddress(db.Model):
    """An individual address that belongs to a member organisation (any domain)."""

    __tablename__ = "member_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("member_organisation.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)

    organisation: Mapped[MemberOrganisation] = relationship(back_populates="addresses")
