"""The embeddable forms: `embed.js` for any CMS page, and the plain page its `<noscript>`
link opens, which works without JavaScript.

Snippet for a CMS page (REGISTRATION_URL: where this service is reached from browsers):

    <div data-eupolnet-event="SLUG" data-lang="fr"></div>
    <script src="{REGISTRATION_URL}/embed.js" defer></script>
    <noscript><a href="{REGISTRATION_URL}/events/SLUG/register?lang=fr">Register / S'inscrire</a></noscript>

`<div data-eupolnet-publication="SLUG">` renders the order form of a publication of the
orders service instead. The texts of both forms live here, in one place: the plain page
uses them, and `embed.js` is served with them filled in, in every language (from the
catalogue, shared/i18n.py). Refusals come translated from the service (`?lang=`) with
their codes, which is what embed.js decides on.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from services.registration import operations
from services.registration.forms import LABELS, country_choices, form_description, label
from services.registration.models import Event, Registration
from services.registration.schemas import RegistrationIn
from shared.db import db, utcnow
from shared.errors import ApiError, flatten, translated
from shared.i18n import (
    LANGUAGE_NAMES, LANGUAGES, N_, format_datetime, format_span, pick, request_language, timezone_name, translate,
)
from shared.web import embeddable, settings

bp = Blueprint("embed", __name__, template_folder="templates")

SCRIPT = Path(__file__).with_name("static") / "embed.js"
#: the line of embed.js that the service replaces with its configuration when serving it
CONFIG_LINE = "const CONFIG = {};"
HONEYPOT = "website"
#: what browsers may fill in for a field (WCAG 1.3.5, identify input purpose)
AUTOCOMPLETE = {
    "first_name": "given-name", "last_name": "family-name", "email": "email", "organisation": "organization",
    "position": "organization-title", "occupation": "organization-title", "address": "street-address",
    "city": "address-level2", "postcode": "postal-code", "country": "country", "telephone": "tel",
}

#: Interface texts of the embedded forms and the plain page, by key (embed.js gets them in
#: every language); labels of the registration fields come from the form description.
TEXTS: dict[str, str] = {
    "register": N_("Register"), "order": N_("Order"), "submit_register": N_("Register me"), "submit_order": N_("Send my order"),
    "sending": N_("Sending…"), "loading": N_("Loading the form…"), "required_note": N_("Fields marked * are required."),
    "required": N_("required"), "required_error": N_("This field is required."), "choose": N_("Choose…"),
    "error_title": N_("There is a problem"), "errors_intro": N_("Please correct the following:"),
    "field_error": N_("%(label)s: %(message)s"), "when": N_("When:"), "where": N_("Where:"), "online": N_("Online"),
    "full": N_("This event is full: if you register, you will be put on the waiting list."),
    "members_only": N_("This event is reserved for Efus members."),
    "closed_title": N_("Registration is closed"), "closed": N_("Registration for this event is closed."),
    "opens": N_("Registration opens on %(date)s."),
    "confirmed_title": N_("You are registered"),
    "confirmed": N_("Your place is confirmed. A confirmation email is on its way to %(email)s."),
    "waitlisted_title": N_("You are on the waiting list"),
    "waitlisted": N_("The event is full. You are on the waiting list: we will email %(email)s as soon as a place frees up."),
    "pending_title": N_("Please confirm your email address"),
    "pending": N_("We have sent a link to %(email)s. Your registration counts once you have opened it."),
    "pending_approval_title": N_("Your registration is awaiting approval"),
    "pending_approval": N_("Places at this event are granted by the organisers. We will email %(email)s as soon as they have decided."),
    "already": N_("This email address was already registered for this event."),
    "refused_title": N_("This event is reserved for Efus members"),
    "refused": N_("Your email address does not belong to an Efus member organisation. To take part, please contact %(contact)s."),
    "unavailable": N_("The form cannot be shown here. Please use the form on our own page:"),
    "unavailable_link": N_("open the form"), "failed": N_("Your submission could not be sent. Please try again in a moment."),
    "too_many": N_("Too many submissions from your network. Please wait a minute and try again."),
    "website": N_("Leave this field empty"),
    "received_title": N_("Your order is received"),
    "received": N_("Order %(number)s. A confirmation email is on its way to %(email)s."),
    "free": N_("The copies are free of charge for your organisation."),
    "postage": N_("Postage to pay: %(amount)s. An invoice will follow."), "price_later": N_("We will confirm the price by email."),
    "copies": N_("Number of copies"), "occupation": N_("Occupation"), "organisation_order": N_("Company / institution"),
    "address": N_("Address"), "postcode": N_("Postcode"), "telephone": N_("Telephone"),
    "out_of_stock": N_("This publication is out of stock."),
    "close": N_("Close"), "no_events": N_("No upcoming events at the moment."),
    "group_link": N_("Registering several participants? Use the group form"),
    "events_unavailable": N_("The list of events cannot be shown at the moment. Please try again later."),
}


def texts(language: str) -> dict[str, str]:
    """TEXTS in `language`, placeholders (`%(email)s`) left for the page to fill."""
    return {key: translate(language, text) for key, text in TEXTS.items()}


# --- embed.js ----------------------------------------------------------------------------

@bp.get("/embed.js")
def script() -> ResponseReturnValue:
    body = _script(settings().public_orders_url)
    response = Response(body, content_type="text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=600, stale-while-revalidate=86400"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.add_etag()
    return response.make_conditional(request)


@cache
def _script(orders_url: str) -> str:
    """embed.js with its configuration filled in (the file is read once per process)."""
    source = SCRIPT.read_text(encoding="utf-8")
    if CONFIG_LINE not in source:
        raise RuntimeError(f"{SCRIPT} lost its configuration line {CONFIG_LINE!r}")
    config = {
        "ordersUrl": orders_url,
        "texts": {language: texts(language) for language in LANGUAGES},
        "honeypot": HONEYPOT,
        "autocomplete": AUTOCOMPLETE,
        "labels": {name: {language: label(name, language) for language in LANGUAGES} for name in LABELS},
        "countries": {language: country_choices(language) for language in LANGUAGES},
        "languages": LANGUAGE_NAMES,
    }
    return source.replace(CONFIG_LINE, f"const CONFIG = {json.dumps(config, ensure_ascii=False)};", 1)


# --- the page without JavaScript ---------------------------------------------------------

@bp.get("/events/<slug>/register")
@embeddable
def register_page(slug: str) -> ResponseReturnValue:
    return _page(slug, request_language())


@bp.post("/events/<slug>/register")
@embeddable
def register(slug: str) -> ResponseReturnValue:
    """The plain form's submission: the same schema and operation as the JSON API."""
    language = request_language()
    if not same_origin():
        return _page(slug, language, message="failed", status=403)
    event = operations.get_event(slug)
    submission = {**form_submission(request.form, _description(event, language)["fields"]), HONEYPOT: request.form.get(HONEYPOT, "")}
    try:
        data = RegistrationIn().load(submission)
        data.pop(HONEYPOT)
        data.pop("consent")
        registration, created = operations.register(slug, data)
        outcome = _outcome(registration, created)
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        return _page(slug, language, errors=flatten(error.messages), status=422)
    except ApiError as error:
        db.session.rollback()
        return _page(slug, language, errors=error.errors, status=error.status,
                     message="refused" if error.status == 403 else None)
    return _page(slug, language, outcome=outcome)


def same_origin() -> bool:
    """Browsers name the page that posts a form: only ours may post this one."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    ours = {f"{request.scheme}://{request.host}", settings().public_base_url}
    return any(urlsplit(origin)[:2] == urlsplit(url)[:2] for url in ours)


def _description(event: Event, language: str) -> dict[str, Any]:
    return form_description(event, language, settings().consent_version, request.path)


def form_submission(form: MultiDict, fields: list[dict[str, Any]], prefix: str = "") -> dict[str, Any]:
    """The posted form as the JSON API takes it: empty fields left out, boxes as booleans,
    extra answers under `answers`. `prefix`: the fields of one person of several, e.g.
    `participants.0.` on the group form."""
    data: dict[str, Any] = {"answers": {}}
    for field in fields:
        name = field["name"]
        posted = prefix + name
        value: Any = posted in form if field["type"] == "checkbox" else form.get(posted, "").strip()
        if value == "":
            continue
        if name.startswith("answers."):
            data["answers"][name.removeprefix("answers.")] = value
        else:
            data[name] = value
    return data


def _outcome(registration: Registration, created: bool) -> dict[str, Any]:
    return {"status": registration.status, "email": registration.email, "already": not created}


def _page(slug: str, language: str, *, errors: dict[str, list[str]] | None = None, outcome: dict[str, Any] | None = None,
          message: str | None = None, status: int = 200) -> ResponseReturnValue:
    event = operations.get_event(slug)
    description = _description(event, language)
    t = texts(language)
    errors = translated(errors or {}, language)
    labels = {field["name"]: field["label"] for field in description["fields"]}
    order = {name: index for index, name in enumerate(labels)}
    with force_locale(language):
        page = render_template(
            "registration/register.html",
            lang=language,
            t=t,
            title=pick(event.title, language),
            event=event,
            when=when_text(event, language),
            fields=description["fields"],
            autocomplete=AUTOCOMPLETE,
            values=request.form if request.method == "POST" else MultiDict({"language": language}),
            errors=errors,
            summary=[(name, labels.get(name), " ".join(errors[name])) for name in sorted(errors, key=lambda n: order.get(n, -1))],
            outcome=outcome,
            message=t[message] % {"contact": settings().contact_email} if message else None,
            closed=closed_text(event, language),
            full=operations.free_seats(event) == 0,
            honeypot=HONEYPOT,
        )
    db.session.rollback()
    return page, status


def closed_text(event: Event, language: str) -> str | None:
    """Why registration is not possible now, in `language`; None when it is."""
    now = utcnow()
    if operations.registration_closed_reason(event, now) is None:
        return None
    if event.registration_opens_at and now < event.registration_opens_at:
        return translate(language, TEXTS["opens"], date=format_datetime(event.registration_opens_at, language, event.timezone))
    return translate(language, TEXTS["closed"])


def when_text(event: Event, language: str) -> str:
    """The event's dates and times in its time zone, in `language`."""
    return f"{format_span(event.starts_at, event.ends_at, language, event.timezone)} ({timezone_name(event.timezone, language)})"
