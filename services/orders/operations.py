"""Order rules: one place each for the life cycle, pricing, the free-copy quota, stock and
document numbering.

Functions flush but never commit: the request (or actor) that calls them owns the
transaction, so a change and its outbox messages are committed together or not at all.
The exception is `store_pdf`, which renders a document after its number was committed and
stores the file in a transaction of its own (shared/db.py).
Locks are always taken in the same order (order, publications by id, free-copy ledger,
document counter), so two transactions never wait for each other in a circle. On SQLite
every transaction starts with `BEGIN IMMEDIATE`, which serialises writers anyway.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, replace
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.orders.documents import (
    EFUS_SELLER, BankDetails, DocumentContent, DocumentLine, Party, VatTreatment, render_document,
)
from services.orders.membership import DirectoryUnavailable, Membership, lookup
from services.orders.models import (
    APPROVED, CANCELLED, CREDIT_NOTE, CURRENCY, FREE_COPIES_PER_MEMBER, INVOICE, INVOICED, PAID, POSTAGE_CENTS,
    RECEIVED, RESERVED, SHIPPED, UNVERIFIED, VERIFIED, BillingDocument, CreditNote, DocumentCounter, FreeCopyLedger,
    Invoice, Order, OrderLine, Publication,
)
from shared.db import close_before_call, db, insert_if_absent, utcnow
from shared.errors import ApiError, Conflict, NotFound, Problem, plural_problem, problem
from shared.i18n import language_or_default, pick, translate, translate_plural
from shared.observability import INVOICE_RENDER
from shared.outbox import emit
from shared.web import settings

#: what each staff action may start from, and where it leads
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((RECEIVED,), APPROVED),
    "invoice": ((RECEIVED,), INVOICED),
    "mark-paid": ((INVOICED,), PAID),
    "ship": ((APPROVED, PAID), SHIPPED),
    "cancel": ((RECEIVED, APPROVED, INVOICED, PAID), CANCELLED),
}
#: the seller's calendar: document dates and numbering years are Paris dates
SELLER_TIMEZONE = ZoneInfo("Europe/Paris")
#: what the service writes on documents, per document language (their labels are in documents.py)
UNKNOWN_PUBLICATION = problem("unknown_publication", "Unknown publication.")


def _copies_left(stock: int) -> Problem:
    return plural_problem("out_of_stock", "Only %(num)d copy is left.", "Only %(num)d copies are left.", stock)


# --- publications ----------------------------------------------------------------------

def get_publication(slug: str, *, active_only: bool = True) -> Publication:
    publication = db.session.scalar(sa.select(Publication).where(Publication.slug == slug))
    if publication is None or (active_only and not publication.active):
        raise NotFound(problem("unknown_publication", "No publication '%(slug)s'.", slug=slug), {"slug": [UNKNOWN_PUBLICATION]})
    return publication


def create_publication(data: dict[str, Any]) -> Publication:
    if db.session.scalar(sa.select(Publication.id).where(Publication.slug == data["slug"])) is not None:
        raise Conflict(problem("slug_taken", "A publication '%(slug)s' already exists.", slug=data["slug"]),
                       {"slug": [problem("slug_taken", "Already used.")]})
    publication = Publication(**data)
    db.session.add(publication)
    db.session.flush()
    return publication


def update_publication(publication: Publication, changes: dict[str, Any]) -> Publication:
    """Staff changes; the stock is set under the row lock orders reserve copies with."""
    if "slug" in changes and changes["slug"] != publication.slug:
        raise Conflict(problem("slug_fixed", "The slug of a publication cannot change (order forms use it)."),
                       {"slug": [problem("slug_fixed", "Cannot be changed.")]})
    publication = _lock_publications([publication.id])[publication.id]
    for name, value in changes.items():
        setattr(publication, name, value)
    db.session.flush()
    return publication


# --- placing and pricing ---------------------------------------------------------------

def place_order(data: dict[str, Any]) -> Order:
    """Take an order from the web form or from staff (`data["channel"]`).

    The member directory is asked before the database is touched, so no transaction (on
    SQLite: no write lock) is held during the HTTP call. When it cannot answer, the order
    is stored unpriced as "membership unverified" and a message asks again later.
    Raises ApiError (422) naming `lines.N.publication` for an unknown publication, and
    Conflict naming `lines.N.copies` when there are not that many copies left.
    """
    data["email"] = data["email"].strip().lower()
    try:
        membership: Membership | None = lookup(data["email"])
    except DirectoryUnavailable:
        membership = None
    wanted = data.pop("lines")
    publications = {
        p.slug: p for p in db.session.scalars(
            sa.select(Publication).where(Publication.slug.in_([line["publication"] for line in wanted]))
        )
    }
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(wanted):
        publication = publications.get(line["publication"])
        if publication is None or not publication.active:
            errors[f"lines.{index}.publication"] = [UNKNOWN_PUBLICATION]
        elif line["copies"] > publication.stock:
            errors[f"lines.{index}.copies"] = [_copies_left(publication.stock)]
    if any(name.endswith(".publication") for name in errors):
        raise ApiError(problem("unknown_publication", "Some publications do not exist."), errors, status=422)
    if errors:
        raise Conflict(problem("out_of_stock", "Not enough copies are left."), errors)
    order = Order(
        **data,
        status=RECEIVED,
        membership=UNVERIFIED,
        created_at=utcnow(),
        lines=[OrderLine(publication=publications[line["publication"]], copies=line["copies"]) for line in wanted],
    )
    db.session.add(order)
    db.session.flush()
    if membership is None:
        emit("order.membership_check", f"order.membership_check:{order.id}", {"order_id": order.id})
    else:
        price_order(order, membership)
    return order


def price_order(order: Order, membership: Membership) -> Order:
    """Price every line once, from the membership: free copies from the organisation's
    quota, postage for every other copy. Then tell the customer the order was received."""
    order.member = membership.member
    order.member_organisation_id = membership.organisation_id
    order.member_organisation_name = membership.organisation_name
    for line in sorted(order.lines, key=lambda line: line.publication_id):
        free = take_free_copies(membership.organisation_id, line.publication_id, line.copies) if membership.member else 0
        line.free_copies = free
        line.paid_copies = line.copies - free
        line.postage_cents = line.paid_copies * POSTAGE_CENTS
    order.membership = VERIFIED
    order.priced_at = utcnow()
    db.session.flush()
    emit("order.received", f"order.received:{order.id}", order_message(order))
    return order


def resolve_membership(order_id: int) -> Order | None:
    """Price an order that came in while the member directory could not answer.

    Safe to run twice: an order already priced, cancelled or gone is left alone.
    Raises DirectoryUnavailable while the directory still cannot answer.
    """
    email = db.session.scalar(
        sa.select(Order.email).where(Order.id == order_id, Order.membership == UNVERIFIED, Order.status != CANCELLED)
    )
    close_before_call()
    if email is None:
        return None
    membership = lookup(email)
    order = lock_order(order_id)
    if order.membership == VERIFIED or order.status == CANCELLED:
        return order
    return price_order(order, membership)


def _ledger(organisation_id: int, publication_id: int) -> FreeCopyLedger:
    """The organisation's free-copy ledger row for the publication, locked until commit."""
    db.session.execute(insert_if_absent(
        FreeCopyLedger, {"member_organisation_id": organisation_id, "publication_id": publication_id, "granted": 0}
    ))
    return db.session.execute(
        sa.select(FreeCopyLedger)
        .where(FreeCopyLedger.member_organisation_id == organisation_id, FreeCopyLedger.publication_id == publication_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def take_free_copies(organisation_id: int, publication_id: int, wanted: int) -> int:
    """Grant up to `wanted` free copies from what is left of the organisation's quota."""
    ledger = _ledger(organisation_id, publication_id)
    granted = min(wanted, FREE_COPIES_PER_MEMBER - ledger.granted)
    ledger.granted += granted
    return granted


def _give_back_free_copies(order: Order) -> None:
    for line in sorted(order.lines, key=lambda line: line.publication_id):
        if line.free_copies:
            _ledger(order.member_organisation_id, line.publication_id).granted -= line.free_copies


# --- life cycle ------------------------------------------------------------------------

def get_order(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(problem("unknown_order", "No order %(id)s.", id=order_id), {"id": [problem("unknown_order", "Unknown order.")]})
    return order


def lock_order(order_id: int) -> Order:
    """Re-read the order with a row lock held until the transaction ends."""
    order = db.session.execute(
        sa.select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if order is None:
        raise NotFound(problem("unknown_order", "No order %(id)s.", id=order_id), {"id": [problem("unknown_order", "Unknown order.")]})
    return order


def _move(order: Order, action: str) -> tuple[Order, str]:
    """Lock the order and move it along TRANSITIONS; returns it and the status it had.

    Raises Conflict (409) when `action` is not allowed from the order's status, before
    the order is priced, or for the wrong kind of order (free orders are approved,
    payable ones invoiced).
    """
    order = lock_order(order.id)
    allowed, target = TRANSITIONS[action]
    if order.status not in allowed:
        raise Conflict(
            problem("transition_not_allowed", "Order %(number)s is %(status)s: '%(action)s' is not possible now.",
                    number=order.number, status=order.status, action=action),
            {"status": [problem("transition_not_allowed", "Current status: %(status)s; '%(action)s' needs %(allowed)s.",
                                status=order.status, action=action, allowed=" | ".join(allowed))]},
        )
    if action in ("approve", "invoice") and not order.priced:
        raise Conflict(
            problem("membership_unverified", "Order %(number)s waits for the member directory to confirm the membership.", number=order.number),
            {"membership": [problem("membership_unverified", "Unverified: the order is priced once the member directory answers.")]},
        )
    if action == "approve" and order.total_cents:
        raise Conflict(problem("payable_order", "Order %(number)s costs postage: issue an invoice instead.", number=order.number),
                       {"status": [problem("payable_order", "Payable order.")]})
    if action == "invoice" and not order.total_cents:
        raise Conflict(problem("free_order", "Order %(number)s is free: approve it instead.", number=order.number),
                       {"status": [problem("free_order", "Free order.")]})
    previous, order.status = order.status, target
    return order, previous


def approve(order: Order) -> Order:
    """A free order goes out without an invoice: reserve its copies."""
    order, _ = _move(order, "approve")
    _reserve_stock(order)
    order.approved_at = utcnow()
    return order


def issue_invoice(order: Order) -> Invoice:
    """Reserve the copies of a payable order and issue its invoice."""
    order, _ = _move(order, "invoice")
    _reserve_stock(order)
    invoice = _issue(order, Invoice, _invoice_lines(order), refers_to=None)
    emit("invoice.issued", f"invoice.issued:{invoice.number}", order_message(order, invoice))
    return invoice


def mark_paid(order: Order) -> Order:
    order, _ = _move(order, "mark-paid")
    order.paid_at = utcnow()
    return order


def ship(order: Order) -> Order:
    order, _ = _move(order, "ship")
    order.shipped_at = utcnow()
    emit("order.shipped", f"order.shipped:{order.id}", order_message(order))
    return order


def cancel(order: Order) -> Order:
    """Cancel before shipping: the copies go back to the stock, the free copies back to the
    organisation's quota, and an invoice is cancelled by a credit note."""
    order, previous = _move(order, "cancel")
    if previous in RESERVED:
        _release_stock(order)
    if order.member:
        _give_back_free_copies(order)
    if order.invoice is not None:
        invoice = order.invoice
        credit_note = _issue(order, CreditNote, [DocumentLine(**line) for line in invoice.lines], refers_to=invoice)
        emit("credit_note.issued", f"credit_note.issued:{credit_note.number}", order_message(order, credit_note))
    order.cancelled_at = utcnow()
    return order


def _lock_publications(ids: list[int]) -> dict[int, Publication]:
    rows = db.session.scalars(
        sa.select(Publication).where(Publication.id.in_(ids)).order_by(Publication.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    return {publication.id: publication for publication in rows}


def _reserve_stock(order: Order) -> None:
    """Take the order's copies out of the stock; Conflict when a publication has too few."""
    publications = _lock_publications([line.publication_id for line in order.lines])
    errors = {
        f"lines.{index}.copies": [_copies_left(publications[line.publication_id].stock)]
        for index, line in enumerate(order.lines)
        if publications[line.publication_id].stock < line.copies
    }
    if errors:
        raise Conflict(problem("out_of_stock", "Not enough copies are left for order %(number)s.", number=order.number), errors)
    for line in order.lines:
        publications[line.publication_id].stock -= line.copies


def _release_stock(order: Order) -> None:
    publications = _lock_publications([line.publication_id for line in order.lines])
    for line in order.lines:
        publications[line.publication_id].stock += line.copies


# --- invoices and credit notes ---------------------------------------------------------

def next_document_number(year: int) -> int:
    """Lock the year's counter and take its next number.

    The lock is held until the transaction that stores the document's row commits; if it
    rolls back, the number was never taken. Hence no gap and no duplicate, with any number
    of workers. The PDF is rendered after that commit (`store_pdf`), not under the lock.
    """
    db.session.execute(insert_if_absent(DocumentCounter, {"year": year, "last_number": 0}))
    counter = db.session.execute(
        sa.select(DocumentCounter).where(DocumentCounter.year == year)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    counter.last_number += 1
    return counter.last_number


def document_language(order: Order) -> str:
    """The customer's language (documents are written in every language we speak)."""
    return language_or_default(order.language)


def _invoice_lines(order: Order) -> list[DocumentLine]:
    """One line per publication with copies to pay postage for, in the document's language."""
    language = document_language(order)
    return [
        DocumentLine(
            translate(language, "%(title)s – postage", title=pick(line.publication.title, language)),
            line.paid_copies,
            POSTAGE_CENTS,
            line.postage_cents,
            translate_plural(language, "%(num)d free copy (Efus member)", "%(num)d free copies (Efus member)", line.free_copies)
            if line.free_copies else None,
        )
        for line in order.lines
        if line.paid_copies
    ]


def _payment_terms(kind: str, language: str, paid: bool) -> str:
    """Invoices are paid by transfer; a credit note refunds a paid invoice, or cancels an unpaid one."""
    days = settings().invoice_payment_days
    if kind == INVOICE:
        return translate_plural(language, "Payment by bank transfer within %(num)d day, quoting the invoice number.",
                        "Payment by bank transfer within %(num)d days, quoting the invoice number.", days)
    if paid:
        return translate_plural(language, "Refund by bank transfer within %(num)d day.", "Refund by bank transfer within %(num)d days.", days)
    return translate(language, "Nothing is due: this credit note cancels the invoice in full.")


def _buyer(order: Order) -> Party:
    full_name = f"{order.first_name} {order.last_name}"
    return Party(
        name=order.organisation or full_name,
        contact_name=full_name if order.organisation else None,
        address_lines=tuple(line.strip() for line in order.address.splitlines() if line.strip()),
        postcode=order.postcode,
        city=order.city,
        country_code=order.country,
        email=order.email,
        telephone=order.telephone,
    )


def _issue(order: Order, model: type[Invoice] | type[CreditNote], lines: list[DocumentLine], refers_to: Invoice | None) -> BillingDocument:
    """Number a document and store its row, with everything it shows, but no PDF yet
    (`store_pdf` renders it once this transaction has committed). Everything else is done
    before the year's counter is locked, so the lock is held for the insert only."""
    config = settings()
    kind = CREDIT_NOTE if model is CreditNote else INVOICE
    language = document_language(order)
    today = dt.datetime.now(SELLER_TIMEZONE).date()
    total = sum(line.line_total_cents for line in lines)
    content = dict(
        kind=kind,
        issue_date=today,
        language=language,
        seller=replace(EFUS_SELLER, legal_id=config.invoice_seller_siret),
        buyer=_buyer(order),
        lines=tuple(lines),
        total_cents=total,
        order_number=order.number,
        vat=VatTreatment("O", translate(language, "VAT not applicable: %(basis)s.", basis=config.invoice_vat_exemption), "VATEX-EU-O"),
        payment_terms=_payment_terms(kind, language, paid=order.paid_at is not None),
        currency=CURRENCY,
        late_penalty_rate=config.invoice_late_penalty_rate,
    )
    if kind == INVOICE:
        content.update(
            due_date=today + dt.timedelta(days=config.invoice_payment_days),
            bank=BankDetails(config.invoice_bank_holder, config.invoice_bank_iban, config.invoice_bank_bic),
        )
    else:
        content.update(refers_to=refers_to.number, refers_to_date=refers_to.issue_date)
    sequence = next_document_number(today.year)
    number = f"{today.year}-{sequence:05d}"
    document = model(
        number=number,
        year=today.year,
        sequence=sequence,
        order_id=order.id,
        issue_date=today,
        language=language,
        buyer_name=content["buyer"].name,
        total_cents=total,
        currency=CURRENCY,
        lines=[asdict(line) for line in lines],
        content=DocumentContent(number=number, **content).to_json(),
        **({"refers_to": refers_to} if refers_to else {}),
    )
    db.session.add(document)
    db.session.flush()
    db.session.expire(order, ["invoice", "credit_note"])
    return document


def store_pdf(document_id: int) -> BillingDocument:
    """Render the document's PDF and store it with its SHA-256, unless it has them already.

    Issuing commits the number and the document's row first; this renders afterwards,
    outside any transaction (the year's counter is not locked meanwhile, so issuers render
    in parallel), and stores the file in a short transaction of its own. A crash in between
    leaves a row without PDF, with its number: the next call for it (any download: the
    notify worker fetching it for the email, staff opening it) renders it from the stored
    content, under the same number. Two renders at once store the first one; the UPDATE
    only writes a row still without PDF, so an issued file never changes.

    Commits, twice at most (shared/db.py: "commit the number, render, commit the file").
    """
    document = db.session.get(BillingDocument, document_id, populate_existing=True)
    if document.sha256 is not None:
        return document
    content = DocumentContent.from_json(document.content)
    db.session.commit()  # end the reads: nothing is held during the render (on SQLite, the write lock)
    with INVOICE_RENDER.time():
        pdf = render_document(content)
    table = BillingDocument.__table__
    db.session.execute(
        sa.update(table).where(table.c.id == document_id, table.c.pdf.is_(None))
        .values(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest())
    )
    db.session.commit()
    db.session.refresh(document)
    return document


def store_pdfs(order: Order) -> None:
    """`store_pdf` for each document of the order still without PDF (after the action
    that issued it has committed)."""
    for document in (order.invoice, order.credit_note):
        if document is not None and document.sha256 is None:
            store_pdf(document.id)


def get_document(model: type[BillingDocument], number: str) -> BillingDocument:
    document = db.session.scalar(sa.select(model).where(model.number == number))
    if document is None:
        raise NotFound(problem("unknown_document", "No document %(number)s.", number=number), {"number": [problem("unknown_document", "Unknown number.")]})
    return document


# --- messages --------------------------------------------------------------------------

def order_message(order: Order, document: BillingDocument | None = None) -> dict[str, Any]:
    """The data of an order message (the contracts in shared.contracts.orders)."""
    data: dict[str, Any] = {
        "order": {
            "id": order.id,
            "number": order.number,
            "status": order.status,
            "member": order.member,
            "organisation": order.member_organisation_name,
            "lines": [
                {
                    "publication": line.publication.slug,
                    "title": line.publication.title,
                    "copies": line.copies,
                    "free_copies": line.free_copies,
                    "paid_copies": line.paid_copies,
                    "postage_cents": line.postage_cents,
                }
                for line in order.lines
            ],
            "total_cents": order.total_cents,
            "currency": order.currency,
        },
        "person": {
            "first_name": order.first_name,
            "last_name": order.last_name,
            "email": order.email,
            "language": order.language,
        },
    }
    if document is not None:
        data["document"] = {
            "kind": document.kind,
            "number": document.number,
            "total_cents": document.total_cents,
            "refers_to": document.refers_to.number if isinstance(document, CreditNote) else None,
        }
    return data
