"""Routes of the orders API: load, check access, call one operation, commit, answer."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from services.orders import operations, staff
from services.orders.models import BillingDocument, CreditNote, FreeCopyLedger, Invoice, Order, Publication
from services.orders.schemas import (
    DocumentOut, DocumentQuery, FreeCopiesOut, FreeCopiesQuery, OrderCreated, OrderIn, OrderOut, OrderQuery, PublicationIn, PublicationOut, PublicationPatch,
)
from shared.auth import current_staff, staff_required
from shared.db import db
from shared.errors import Forbidden, NotFound, problem
from shared.pagination import PAGE_HEADERS, page_headers, page_of, paged
from shared.web import file_download

blp = Blueprint("orders", __name__, url_prefix="/api/v1", description="Publications, orders, invoices and credit notes")

ROLE = "publications"


# --- publications ----------------------------------------------------------------------

@blp.route("/publications")
class Publications(MethodView):
    @blp.response(200, PublicationOut(many=True))
    def get(self):
        """The publications that can be ordered."""
        return db.session.scalars(sa.select(Publication).where(Publication.active.is_(True)).order_by(Publication.slug)).all()

    @staff_required(ROLE)
    @blp.arguments(PublicationIn)
    @blp.response(201, PublicationOut)
    def post(self, data: dict):
        publication = staff.create_publication(data)
        db.session.commit()
        return publication


@blp.route("/publications/<slug>")
class PublicationItem(MethodView):
    @blp.response(200, PublicationOut)
    def get(self, slug: str):
        return operations.get_publication(slug)

    @staff_required(ROLE)
    @blp.arguments(PublicationPatch(partial=True))
    @blp.response(200, PublicationOut)
    def patch(self, changes: dict, slug: str):
        """Change the stock, the titles or whether it can be ordered."""
        publication = staff.update_publication(slug, changes)
        db.session.commit()
        return publication


# --- orders ----------------------------------------------------------------------------

@blp.route("/orders")
class Orders(MethodView):
    @staff_required(ROLE)
    @blp.arguments(paged(OrderQuery), location="query")
    @blp.response(200, OrderOut(many=True), headers=PAGE_HEADERS)
    def get(self, query: dict):
        """Orders, newest first (`?status=`, `?membership=unverified`), one page at a time
        (`?page=`, `?per_page=`; the `Link` header leads to the next)."""
        statement = sa.select(Order).order_by(Order.id.desc())
        for name in ("status", "membership"):
            if query.get(name):
                statement = statement.where(getattr(Order, name) == query[name])
        page = page_of(statement, query["page"], query["per_page"])
        return page.items, page_headers(page)

    @blp.arguments(OrderIn)
    @blp.response(201, OrderCreated)
    def post(self, data: dict):
        """Order copies. The embedded web form leaves out `channel`; staff entering an order
        that came by post, email or fax give it, with their token."""
        if data["channel"] != "web" and not current_staff().may(ROLE):
            raise Forbidden(problem("role_required", "This needs the '%(role)s' role.", role=ROLE),
                            {"channel": [problem("role_required", "Only staff enter orders from other channels.")]})
        order = staff.place_order(data)
        db.session.commit()
        return order


@blp.route("/orders/<int:order_id>")
@staff_required(ROLE)
@blp.response(200, OrderOut)
def get_order(order_id: int):
    return operations.get_order(order_id)


def _act(order_id: int, action: str) -> Order:
    order = staff.act_on_order(order_id, action)
    db.session.commit()  # the document numbers the action took, before the render
    operations.store_pdfs(order)
    return order


@blp.route("/orders/<int:order_id>/approve", methods=["POST"])
@staff_required(ROLE)
@blp.response(200, OrderOut)
def order_approve(order_id: int):
    """A free order goes out without an invoice: reserve its copies."""
    return _act(order_id, "approve")


@blp.route("/orders/<int:order_id>/invoice", methods=["POST"])
@staff_required(ROLE)
@blp.response(200, OrderOut)
def order_invoice(order_id: int):
    """Reserve the copies of a payable order and issue its invoice."""
    return _act(order_id, "invoice")


@blp.route("/orders/<int:order_id>/mark-paid", methods=["POST"])
@staff_required(ROLE)
@blp.response(200, OrderOut)
def order_mark_paid(order_id: int):
    """The invoice of the order is paid."""
    return _act(order_id, "mark-paid")


@blp.route("/orders/<int:order_id>/ship", methods=["POST"])
@staff_required(ROLE)
@blp.response(200, OrderOut)
def order_ship(order_id: int):
    """The copies of an approved or paid order are sent; the buyer is told."""
    return _act(order_id, "ship")


@blp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@staff_required(ROLE)
@blp.response(200, OrderOut)
def order_cancel(order_id: int):
    """Cancel before shipping: the copies go back to the stock, the free copies back to the
    organisation's quota, and an invoice is cancelled by a credit note."""
    return _act(order_id, "cancel")


@blp.route("/free-copies")
@staff_required(ROLE)
@blp.arguments(FreeCopiesQuery, location="query")
@blp.response(200, FreeCopiesOut(many=True))
def list_free_copies(query: dict):
    """Free copies granted so far per member organisation and publication (`?member_organisation_id=`)."""
    statement = sa.select(FreeCopyLedger).options(selectinload(FreeCopyLedger.publication)).where(FreeCopyLedger.granted > 0).order_by(
        FreeCopyLedger.member_organisation_id, FreeCopyLedger.publication_id)
    if query.get("member_organisation_id"):
        statement = statement.where(FreeCopyLedger.member_organisation_id == query["member_organisation_id"])
    return db.session.scalars(statement).all()


# --- invoices and credit notes ---------------------------------------------------------

def _pdf(document: BillingDocument) -> Response:
    """The PDF exactly as stored when the document was issued (rendered and stored first
    if it has none yet: a render under way, or a crash just after the numbering)."""
    document = operations.store_pdf(document.id)
    return Response(
        document.pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{document.kind.replace("_", "-")}-{document.number}.pdf"',
            "ETag": f'"{document.sha256}"',
            "Cache-Control": "private, no-cache",
        },
    )


@blp.route("/orders/<int:order_id>/invoice.pdf")
@staff_required(ROLE)
@file_download("application/pdf", "the invoice as issued (Factur-X PDF)")
def order_invoice_pdf(order_id: int):
    invoice = operations.get_order(order_id).invoice
    if invoice is None:
        raise NotFound(problem("no_invoice", "Order %(id)s has no invoice.", id=order_id), {"id": [problem("no_invoice", "No invoice issued for this order.")]})
    return _pdf(invoice)


def _documents(model: type[BillingDocument], query: dict) -> list[BillingDocument]:
    statement = sa.select(model).options(selectinload(model.order)).order_by(model.year, model.sequence)
    if query.get("year"):
        statement = statement.where(model.year == query["year"])
    return list(db.session.scalars(statement))


@blp.route("/invoices")
@staff_required(ROLE)
@blp.arguments(DocumentQuery, location="query")
@blp.response(200, DocumentOut(many=True))
def list_invoices(query: dict):
    return _documents(Invoice, query)


@blp.route("/credit-notes")
@staff_required(ROLE)
@blp.arguments(DocumentQuery, location="query")
@blp.response(200, DocumentOut(many=True))
def list_credit_notes(query: dict):
    return _documents(CreditNote, query)


@blp.route("/invoices/<number>.pdf")
@staff_required(ROLE)
@file_download("application/pdf", "the invoice as issued (Factur-X PDF)")
def invoice_pdf(number: str):
    return _pdf(operations.get_document(Invoice, number))


@blp.route("/credit-notes/<number>.pdf")
@staff_required(ROLE)
@file_download("application/pdf", "the credit note as issued (Factur-X PDF)")
def credit_note_pdf(number: str):
    return _pdf(operations.get_document(CreditNote, number))
