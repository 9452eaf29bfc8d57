"""Publications, orders, the free-copy ledger and billing documents (the orders service owns all)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.contracts.orders import APPROVED, CANCELLED, INVOICED, PAID, RECEIVED, SHIPPED
from shared.contracts.orders import ORDER_STATUSES as STATUSES
from shared.db import UTCDateTime, db, utcnow

#: statuses in which the order's copies are taken out of the stock
RESERVED = (APPROVED, INVOICED, PAID, SHIPPED)

CHANNELS = ("web", "post", "email", "fax")
VERIFIED, UNVERIFIED = "verified", "unverified"

#: free copies a member organisation receives per publication, across all its orders
FREE_COPIES_PER_MEMBER = 3
#: postage charged per copy that is not free
POSTAGE_CENTS = 800
CURRENCY = "EUR"

INVOICE, CREDIT_NOTE = "invoice", "credit_note"


class Publication(db.Model):
    __tablename__ = "publication"
    __table_args__ = (sa.CheckConstraint("stock >= 0", name="ck_publication_stock_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what embedded order forms and order lines name
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    #: {"en": "...", "fr": "..."}
    title: Mapped[dict] = mapped_column(sa.JSON)
    #: languages of the edition, e.g. ["fr", "en"] for a bilingual one
    languages: Mapped[list] = mapped_column(sa.JSON)
    #: printed copies not yet reserved by an approved or invoiced order
    stock: Mapped[int] = mapped_column(default=0)
    #: inactive publications are neither listed nor orderable
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Order(db.Model):
    # "order" is an SQL keyword: a name that needs no quoting anywhere
    __tablename__ = "publication_order"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {STATUSES}", name="ck_order_status"),
        sa.CheckConstraint(f"channel IN {CHANNELS}", name="ck_order_channel"),
        sa.CheckConstraint(f"membership IN {(VERIFIED, UNVERIFIED)}", name="ck_order_membership"),
        sa.Index("ix_publication_order_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    channel: Mapped[str] = mapped_column(sa.String(10))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    occupation: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    #: company or institution, as the person wrote it
    organisation: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    #: street lines, one per line
    address: Mapped[str] = mapped_column(sa.String(500))
    city: Mapped[str] = mapped_column(sa.String(100))
    postcode: Mapped[str] = mapped_column(sa.String(20))
    #: ISO 3166-1 alpha-2
    country: Mapped[str] = mapped_column(sa.String(2))
    #: stored lower-case
    email: Mapped[str] = mapped_column(sa.String(254))
    telephone: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    #: the customer's language: emails and documents (documents fall back to English)
    language: Mapped[str] = mapped_column(sa.String(2))
    #: whether the member directory has answered for this email yet
    membership: Mapped[str] = mapped_column(sa.String(10))
    #: None while the membership is unverified
    member: Mapped[bool | None] = mapped_column(nullable=True)
    #: the member organisation as the directory named it when it answered (its id there)
    member_organisation_id: Mapped[int | None] = mapped_column(nullable=True)
    member_organisation_name: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    priced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id", lazy="selectin"
    )
    #: one of each at most (a unique index); SQLAlchemy adds the `kind` of each to the join
    invoice: Mapped[Invoice | None] = relationship(
        primaryjoin="Order.id == Invoice.order_id", viewonly=True, uselist=False, lazy="selectin"
    )
    credit_note: Mapped[CreditNote | None] = relationship(
        primaryjoin="Order.id == CreditNote.order_id", viewonly=True, uselist=False, lazy="selectin"
    )

    @property
    def number(self) -> str:
        return f"ORD-{self.id:06d}"

    @property
    def priced(self) -> bool:
        return self.membership == VERIFIED

    @property
    def total_cents(self) -> int | None:
        """What the customer pays; None until the order is priced."""
        return sum(line.postage_cents for line in self.lines) if self.priced else None

    @property
    def currency(self) -> str:
        return CURRENCY


class OrderLine(db.Model):
    __tablename__ = "order_line"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "publication_id", name="uq_order_line_publication"),
        sa.CheckConstraint("copies > 0", name="ck_order_line_copies_positive"),
        sa.CheckConstraint(
            "(free_copies IS NULL AND paid_copies IS NULL AND postage_cents IS NULL) OR "
            "(free_copies >= 0 AND paid_copies >= 0 AND free_copies + paid_copies = copies AND postage_cents >= 0)",
            name="ck_order_line_priced",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("publication_order.id", ondelete="CASCADE"), index=True)
    publication_id: Mapped[int] = mapped_column(sa.ForeignKey("publication.id"))
    copies: Mapped[int]
    #: the pricing: None until the order is priced, then never changed
    free_copies: Mapped[int | None] = mapped_column(nullable=True)
    paid_copies: Mapped[int | None] = mapped_column(nullable=True)
    postage_cents: Mapped[int | None] = mapped_column(nullable=True)

    order: Mapped[Order] = relationship(back_populates="lines")
    publication: Mapped[Publication] = relationship(lazy="joined", innerjoin=True)


class FreeCopyLedger(db.Model):
    """Free copies granted to one member organisation for one publication, over all its orders.

    The quota is a column with a CHECK, and pricing locks the row before taking from it:
    simultaneous orders of one organisation take turns, and even a bug could not grant a
    fourth copy without the database refusing the write. Cancelled orders give theirs back.
    """

    __tablename__ = "free_copy_ledger"
    __table_args__ = (
        sa.CheckConstraint(
            f"granted >= 0 AND granted <= {FREE_COPIES_PER_MEMBER}", name="ck_free_copy_ledger_quota"
        ),
    )

    #: the organisation's id in the member directory (registration service)
    member_organisation_id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(sa.ForeignKey("publication.id"), primary_key=True)
    granted: Mapped[int] = mapped_column(default=0)

    #: loaded only when asked for: pricing locks ledger rows (FOR UPDATE), never the publication's
    publication: Mapped[Publication] = relationship(lazy="raise")


class DocumentCounter(db.Model):
    """The last number given to an invoice or credit note in a calendar year.

    Issuing locks the year's row and stores the document's row in the same transaction, so
    the numbers are sequential with no gap and no duplicate whatever the number of workers.
    The PDF is rendered after that transaction (`operations.store_pdf`): the lock is held
    for milliseconds, and issuers render in parallel.
    """

    __tablename__ = "document_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class BillingDocument(db.Model):
    """An issued invoice or credit note: one numbering series per year, never changed.

    Invoices and credit notes share the series (`2026-00042`), so one table holds both and
    the database itself refuses a duplicate number.

    The row is written with its number and everything the document shows (`content`); its
    PDF and SHA-256 are stored once, just after, by `operations.store_pdf`: the one write a
    document receives after issuing, an UPDATE that only touches a row still without PDF.
    Until then (a render under way, or a crash in between) the document has no PDF yet,
    and whoever asks for it renders it from `content`.
    """

    __tablename__ = "billing_document"
    __table_args__ = (
        sa.UniqueConstraint("year", "sequence", name="uq_billing_document_year_sequence"),
        sa.CheckConstraint(f"kind IN ('{INVOICE}', '{CREDIT_NOTE}')", name="ck_billing_document_kind"),
        sa.CheckConstraint(
            f"(kind = '{CREDIT_NOTE}') = (refers_to_id IS NOT NULL)", name="ck_billing_document_refers_to"
        ),
        sa.Index("uq_billing_document_order_kind", "order_id", "kind", unique=True),
        sa.CheckConstraint("(pdf IS NULL) = (sha256 IS NULL)", name="ck_billing_document_pdf_and_hash"),
        sa.CheckConstraint("pdf IS NOT NULL OR content IS NOT NULL", name="ck_billing_document_renderable"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: e.g. "2026-00042"
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("publication_order.id"))
    #: credit notes: the invoice they cancel
    refers_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_document.id"), nullable=True, unique=True)
    #: the date printed on the document (Paris time)
    issue_date: Mapped[dt.date]
    language: Mapped[str] = mapped_column(sa.String(2))
    buyer_name: Mapped[str] = mapped_column(sa.String(200))
    total_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: the lines as printed: [{"description", "quantity", "unit_price_cents", "line_total_cents", "note"}]
    lines: Mapped[list] = mapped_column(sa.JSON)
    #: what the document shows (documents.DocumentContent.to_json), for its render
    content: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True, deferred=True)
    #: the PDF/A-3 exactly as issued, and its SHA-256 (hex); None until it is rendered
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, nullable=True, deferred=True)
    sha256: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[Order] = relationship(viewonly=True)

    __mapper_args__ = {"polymorphic_on": kind}


class Invoice(BillingDocument):
    __mapper_args__ = {"polymorphic_identity": INVOICE}


class CreditNote(BillingDocument):
    __mapper_args__ = {"polymorphic_identity": CREDIT_NOTE}

    refers_to: Mapped[Invoice] = relationship(
        primaryjoin="CreditNote.refers_to_id == Invoice.id", remote_side="Invoice.id", lazy="joined"
    )


class ImmutableDocument(RuntimeError):
    """Something tried to change or delete an issued invoice or credit note."""


@event.listens_for(BillingDocument, "before_update", propagate=True)
@event.listens_for(BillingDocument, "before_delete", propagate=True)
def _refuse_changes(mapper: object, connection: object, document: BillingDocument) -> None:
    raise ImmutableDocument(f"{document.kind} {document.number} is issued and never changes")
