"""Marshmallow schemas: they validate input, shape output and make the OpenAPI document."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from services.orders.models import CHANNELS, FREE_COPIES_PER_MEMBER, STATUSES, UNVERIFIED, VERIFIED
from shared.errors import problem
from shared.i18n import LANGUAGES, format_money, request_language
from shared.schemas import HONEYPOT_FILLED, NOT_BLANK, SLUG, Changes, Email, Id, StrictSchema, country_code, one_line, titles

#: more copies than this in one line is a typing error, not an order
MAX_COPIES = 1000
MAX_LINES = 20


class PublicationIn(StrictSchema):
    slug = fields.String(required=True, validate=[validate.Length(max=120), SLUG])
    title = fields.Dict(
        keys=fields.String(), values=fields.String(validate=validate.Length(min=1, max=500)), required=True, validate=titles
    )
    languages = fields.List(fields.String(validate=validate.OneOf(LANGUAGES)), required=True, validate=validate.Length(min=1))
    stock = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=1_000_000))
    active = fields.Boolean(load_default=True)


class PublicationPatch(Changes, PublicationIn):
    """Staff changes: any field of PublicationIn (load it with `partial=True`)."""


class PublicationOut(Schema):
    slug = fields.String()
    title = fields.Dict()
    languages = fields.List(fields.String())
    stock = fields.Integer()
    active = fields.Boolean()


class OrderLineIn(StrictSchema):
    publication = fields.String(required=True, validate=validate.Length(min=1, max=120))
    copies = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_COPIES))


class OrderIn(StrictSchema):
    """The seed's order form, plus the language and, for staff entry, the channel."""

    lines = fields.List(fields.Nested(OrderLineIn), required=True, validate=validate.Length(min=1, max=MAX_LINES))
    first_name = fields.String(required=True, validate=[validate.Length(min=1, max=100), NOT_BLANK, one_line])
    last_name = fields.String(required=True, validate=[validate.Length(min=1, max=100), NOT_BLANK, one_line])
    occupation = fields.String(allow_none=True, validate=[validate.Length(max=200), one_line])
    organisation = fields.String(allow_none=True, validate=[validate.Length(max=200), one_line])
    #: several lines (a textarea)
    address = fields.String(required=True, validate=[validate.Length(min=1, max=500), NOT_BLANK])
    city = fields.String(required=True, validate=[validate.Length(min=1, max=100), NOT_BLANK, one_line])
    postcode = fields.String(required=True, validate=[validate.Length(min=1, max=20), NOT_BLANK, one_line])
    country = fields.String(required=True, validate=country_code)
    email = Email(required=True, validate=validate.Length(max=254))
    telephone = fields.String(
        allow_none=True,
        validate=[validate.Length(max=40), validate.Regexp(r"^\+?[0-9 ().\-]*$", error=problem("invalid_telephone", "Use digits, spaces and + ( ) . - only."))],
    )
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    #: "web" for the embedded form; staff record "post", "email" or "fax"
    channel = fields.String(load_default="web", validate=validate.OneOf(CHANNELS))
    #: honeypot: people never see it, bots fill it in
    website = fields.String(load_default="", validate=validate.Length(max=0, error=HONEYPOT_FILLED))

    @validates("lines")
    def _one_line_per_publication(self, lines: list[dict], **kwargs) -> None:
        slugs = [line["publication"] for line in lines if "publication" in line]
        if len(set(slugs)) != len(slugs):
            raise ValidationError(problem("duplicate_publication", "Give each publication once, with the number of copies wanted."))

    @post_load
    def _normalise(self, data: dict, **kwargs) -> dict:
        """Trim the texts (an empty optional one is None) and upper-case the country."""
        data.pop("website")
        for name, value in data.items():
            if isinstance(value, str):
                data[name] = value.strip() or None
        data["country"] = data["country"].upper()
        return data


class OrderLineOut(Schema):
    publication = fields.Function(lambda line: line.publication.slug)
    title = fields.Function(lambda line: line.publication.title)
    copies = fields.Integer()
    free_copies = fields.Integer(allow_none=True)
    paid_copies = fields.Integer(allow_none=True)
    postage_cents = fields.Integer(allow_none=True)


class OrderCreated(Schema):
    """What the person who ordered sees: `member` and the amounts are null until the
    membership is verified (`membership: "unverified"`)."""

    id = fields.Integer()
    number = fields.String()
    status = fields.String()
    membership = fields.String()
    member = fields.Boolean(allow_none=True)
    lines = fields.List(fields.Nested(OrderLineOut))
    total_cents = fields.Integer(allow_none=True)
    currency = fields.String()
    #: the total as the request's language writes it (`?lang=`, Accept-Language), e.g. "16,00 €"
    total = fields.Method("_total", allow_none=True)

    def _total(self, order) -> str | None:
        return None if order.total_cents is None else format_money(order.total_cents, order.currency, request_language())


class OrderOut(OrderCreated):
    """What staff see."""

    channel = fields.String()
    #: the member organisation as the member directory named it
    member_organisation = fields.String(attribute="member_organisation_name", allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    occupation = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    address = fields.String()
    city = fields.String()
    postcode = fields.String()
    country = fields.String()
    email = fields.String()
    telephone = fields.String(allow_none=True)
    language = fields.String()
    invoice = fields.Function(lambda order: order.invoice.number if order.invoice else None)
    credit_note = fields.Function(lambda order: order.credit_note.number if order.credit_note else None)
    created_at = fields.AwareDateTime()
    priced_at = fields.AwareDateTime(allow_none=True)
    approved_at = fields.AwareDateTime(allow_none=True)
    paid_at = fields.AwareDateTime(allow_none=True)
    shipped_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)


class OrderQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    membership = fields.String(validate=validate.OneOf((VERIFIED, UNVERIFIED)))


class DocumentOut(Schema):
    number = fields.String()
    kind = fields.String()
    issue_date = fields.Date()
    order_id = fields.Integer()
    order_number = fields.Function(lambda document: document.order.number)
    buyer_name = fields.String()
    total_cents = fields.Integer()
    currency = fields.String()
    language = fields.String()
    sha256 = fields.String()
    refers_to = fields.Function(lambda document: document.refers_to.number if document.kind == "credit_note" else None)


class DocumentQuery(StrictSchema):
    year = fields.Integer(strict=False, validate=validate.Range(min=2000, max=9999))


class FreeCopiesOut(Schema):
    """Free copies a member organisation has had of one publication, over all its orders."""

    member_organisation_id = fields.Integer()
    publication = fields.String(attribute="publication.slug")
    title = fields.Dict(attribute="publication.title")
    granted = fields.Integer()
    remaining = fields.Function(lambda ledger: FREE_COPIES_PER_MEMBER - ledger.granted)


class FreeCopiesQuery(StrictSchema):
    member_organisation_id = Id()
