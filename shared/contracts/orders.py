"""Messages emitted by the orders service (version 1), and the order statuses and staff
actions its API speaks of (the back office reads and sends them; the service's model
declares its column with them)."""
from marshmallow import Schema, fields

from shared.contracts.registration import Person

RECEIVED, APPROVED, INVOICED, PAID, SHIPPED, CANCELLED = "received", "approved", "invoiced", "paid", "shipped", "cancelled"
#: an order's statuses, in the order of its life
ORDER_STATUSES = (RECEIVED, APPROVED, INVOICED, PAID, SHIPPED, CANCELLED)
#: the staff actions on an order: `POST /api/v1/orders/<id>/<action>`
ORDER_ACTIONS = ("approve", "invoice", "mark-paid", "ship", "cancel")


class OrderLine(Schema):
    publication = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    copies = fields.Integer(required=True)
    free_copies = fields.Integer(required=True)
    paid_copies = fields.Integer(required=True)
    postage_cents = fields.Integer(required=True)


class OrderSummary(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)
    member = fields.Boolean(allow_none=True, required=True)
    organisation = fields.String(allow_none=True, load_default=None)
    lines = fields.List(fields.Nested(OrderLine), required=True)
    total_cents = fields.Integer(required=True)
    currency = fields.String(required=True)


class OrderMessage(Schema):
    order = fields.Nested(OrderSummary, required=True)
    person = fields.Nested(Person, required=True)


class Document(Schema):
    kind = fields.String(required=True)
    number = fields.String(required=True)
    total_cents = fields.Integer(required=True)
    refers_to = fields.String(allow_none=True, load_default=None)


class DocumentMessage(OrderMessage):
    """An invoice or credit note was issued; the PDF is fetched from the orders service."""

    document = fields.Nested(Document, required=True)


class MembershipCheck(Schema):
    """The member directory could not answer when the order came in: ask it again."""

    order_id = fields.Integer(required=True)
