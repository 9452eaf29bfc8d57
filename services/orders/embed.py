"""The order form of a publication without JavaScript: the page that the `<noscript>` link
of `<div data-eupolnet-publication="SLUG">` (embed.js, served by the registration service)
opens, as `/events/SLUG/register` is for an event.

    <noscript><a href="{ORDERS_URL}/publications/SLUG/order?lang=fr">Order / Commander</a></noscript>

The page has embed.js's fields, posts to itself, and goes through the JSON API's schema
(OrderIn) and operation (staff.place_order): the same rules, the same refusals, shown beside
their fields in the page's language.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from marshmallow import ValidationError, validate
from werkzeug.datastructures import MultiDict

from services.orders import operations, staff
from services.orders.models import CURRENCY, FREE_COPIES_PER_MEMBER, POSTAGE_CENTS, Order, Publication
from services.orders.schemas import MAX_COPIES, OrderIn
from shared.db import db
from shared.errors import ApiError, flatten, translated
from shared.forms import AUTOCOMPLETE, HONEYPOT, TEXTS, country_choices, error_summary, form_submission, same_origin, texts
from shared.i18n import LANGUAGE_NAMES, LANGUAGES, N_, format_money, pick, request_language, translate, translate_plural
from shared.web import embeddable, settings

bp = Blueprint("embed", __name__, template_folder="templates")

#: the person's fields, in embed.js's order (name, type, required, label): the order form's
#: own labels are TEXTS'; those the registration form has too are its msgids (one catalogue
#: entry each)
PERSON_FIELDS: tuple[tuple[str, str, bool, str], ...] = (
    ("first_name", "text", True, N_("First name")),
    ("last_name", "text", True, N_("Last name")),
    ("occupation", "text", False, TEXTS["occupation"]),
    ("organisation", "text", False, TEXTS["organisation_order"]),
    ("address", "textarea", True, TEXTS["address"]),
    ("city", "text", True, N_("City")),
    ("postcode", "text", True, TEXTS["postcode"]),
    ("country", "country", True, N_("Country")),
    ("email", "email", True, N_("Email")),
    ("telephone", "tel", False, TEXTS["telephone"]),
    ("language", "select", False, N_("Preferred language")),
)
ASK_FOR_COPIES = N_("To ask about further copies, please contact %(contact)s.")


@bp.get("/publications/<slug>/order")
@embeddable
def order_page(slug: str) -> ResponseReturnValue:
    return _page(slug, request_language())


@bp.post("/publications/<slug>/order")
@embeddable
def order(slug: str) -> ResponseReturnValue:
    """The plain form's submission: the same schema and operation as the JSON API."""
    language = request_language()
    if not same_origin():
        return _page(slug, language, message="failed", status=403)
    publication = operations.get_publication(slug)
    person = form_submission(request.form, order_fields(publication, language))
    person.pop("answers")
    copies = person.pop("copies", None)
    line: dict[str, Any] = {"publication": slug}
    if copies is not None:
        line["copies"] = int(copies) if copies.isascii() and copies.isdigit() else copies
    try:
        data = OrderIn().load({**person, "lines": [line], HONEYPOT: request.form.get(HONEYPOT, "")})
        placed = staff.place_order(data)
        outcome = {"email": placed.email, "number": placed.number, "lines": outcome_lines(placed, language)}
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        return _page(slug, language, errors=_on_fields(flatten(error.messages)), status=422)
    except ApiError as error:
        db.session.rollback()
        return _page(slug, language, errors=_on_fields(error.errors), status=error.status)
    return _page(slug, language, outcome=outcome)


def order_fields(publication: Publication, language: str) -> list[dict[str, Any]]:
    """The form's fields in `language`: the number of copies, then the person's, with the
    schema's length limits."""
    copies = {"name": "copies", "type": "number", "required": True, "label": texts(language)["copies"],
              "max_length": None, "min": 1, "max": min(publication.stock, MAX_COPIES)}
    fields = [copies]
    for name, type_, required, label in PERSON_FIELDS:
        field: dict[str, Any] = {"name": name, "type": type_, "required": required, "label": translate(language, label),
                                 "max_length": _max_length(name)}
        if type_ == "country":
            field["choices"] = country_choices(language)
        if name == "language":
            field["choices"] = [{"value": code, "label": LANGUAGE_NAMES[code]} for code in LANGUAGES]
        fields.append(field)
    return fields


def _max_length(name: str) -> int | None:
    """The longest value OrderIn takes for field `name`, if it says."""
    lengths = [v.max for v in OrderIn._declared_fields[name].validators if isinstance(v, validate.Length) and v.max]
    return lengths[0] if lengths else None


def _on_fields(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The API names the copies of the order's one line `lines.0.copies` (or `lines`): here they are `copies`."""
    fields: dict[str, list[str]] = {}
    for name, messages in errors.items():
        fields.setdefault("copies" if name == "lines" or name.startswith("lines.") else name, []).extend(messages)
    return fields


def outcome_lines(placed: Order, language: str) -> list[str]:
    """What the person reads once the order is taken: the free copies and the postage to
    pay, or that the price follows (the member directory could not be asked)."""
    t = texts(language)
    lines = [t["received"] % {"number": placed.number, "email": placed.email}]
    if not placed.priced:
        return [*lines, t["price_later"]]
    if placed.total_cents == 0:
        return [*lines, t["free"]]
    free = sum(line.free_copies or 0 for line in placed.lines)
    if free:
        lines.append(translate_plural(language, "%(num)d copy is free of charge for your organisation.",
                                      "%(num)d copies are free of charge for your organisation.", free))
    return [*lines, t["postage"] % {"amount": format_money(placed.total_cents or 0, placed.currency, language)}]


def pricing_text(language: str) -> str:
    """The pricing rule (services/orders/operations.py, price_order) as the form states it."""
    return translate_plural(
        language,
        "Efus member organisations receive up to %(num)d copy of each publication free of charge; "
        "every other copy costs %(postage)s for postage.",
        "Efus member organisations receive up to %(num)d copies of each publication free of charge; "
        "every other copy costs %(postage)s for postage.",
        FREE_COPIES_PER_MEMBER, postage=format_money(POSTAGE_CENTS, CURRENCY, language))


def _page(slug: str, language: str, *, errors: dict[str, list[str]] | None = None, outcome: dict[str, Any] | None = None,
          message: str | None = None, status: int = 200) -> ResponseReturnValue:
    publication = operations.get_publication(slug)
    fields = order_fields(publication, language)
    t = texts(language)
    errors = translated(errors or {}, language)
    with force_locale(language):
        page = render_template(
            "orders/order.html",
            lang=language,
            t=t,
            title=pick(publication.title, language),
            publication=publication,
            pricing=pricing_text(language),
            ask=translate(language, ASK_FOR_COPIES, contact=settings().contact_email),
            fields=fields,
            autocomplete=AUTOCOMPLETE,
            values=request.form if request.method == "POST" else MultiDict({"language": language, "copies": "1"}),
            errors=errors,
            summary=error_summary(errors, fields),
            outcome=outcome,
            message=t[message] if message else None,
            honeypot=HONEYPOT,
        )
    db.session.rollback()
    return page, status
