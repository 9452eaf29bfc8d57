"""The embeddable forms: `embed.js` for any CMS page, and the plain page its `<noscript>`
link opens, which works without JavaScript.

Snippet for a CMS page (REGISTRATION_URL: where this service is reached from browsers):

    <div data-eupolnet-event="SLUG" data-lang="fr"></div>
    <script src="{REGISTRATION_URL}/embed.js" defer></script>
    <noscript><a href="{REGISTRATION_URL}/events/SLUG/register?lang=fr">Register / S'inscrire</a></noscript>

`<div data-eupolnet-publication="SLUG">` renders the order form of a publication of the
orders service instead; its page without JavaScript is the orders service's
(`/publications/SLUG/order`, services/orders/embed.py). The texts of both forms are
shared/forms.py's: the plain pages use them, and `embed.js` is served with them filled in,
in every language. Refusals come translated from the service (`?lang=`) with their codes,
which is what embed.js decides on.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from services.registration import operations
from services.registration.forms import LABELS, form_description, label
from services.registration.models import Event, Registration
from services.registration.schemas import GROUP_MAX, GroupContactIn, RegistrationIn
from shared.db import db, utcnow
from shared.errors import ApiError, flatten, translated
from shared.forms import AUTOCOMPLETE, HONEYPOT, TEXTS, country_choices, error_summary, form_submission, same_origin, texts
from shared.i18n import LANGUAGE_NAMES, LANGUAGES, N_, format_datetime, format_span, pick, request_language, timezone_name, translate
from shared.web import embeddable, settings

bp = Blueprint("embed", __name__, template_folder="templates")

SCRIPT = Path(__file__).with_name("static") / "embed.js"
#: the line of embed.js that the service replaces with its configuration when serving it
CONFIG_LINE = "const CONFIG = {};"
#: A registration's status as the person reads it (self-service and group pages, embed.js).
STATUS_TEXTS = {
    "pending": N_("confirmation of your email address pending"), "confirmed": N_("confirmed"),
    "waitlisted": N_("on the waiting list"), "attended": N_("attended"), "cancelled": N_("cancelled"),
    "pending_approval": N_("awaiting approval by the organisers"), "rejected": N_("not accepted by the organisers"),
}


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
        "statusTexts": {language: {status: translate(language, text) for status, text in STATUS_TEXTS.items()} for language in LANGUAGES},
        "groupContactFields": list(GroupContactIn._declared_fields),
        "groupMax": GROUP_MAX,
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


def _description(event: Event, language: str) -> dict[str, Any]:
    return form_description(event, language, settings().consent_version, request.path)


def _outcome(registration: Registration, created: bool) -> dict[str, Any]:
    return {"status": registration.status, "email": registration.email, "already": not created}


def _page(slug: str, language: str, *, errors: dict[str, list[str]] | None = None, outcome: dict[str, Any] | None = None,
          message: str | None = None, status: int = 200) -> ResponseReturnValue:
    event = operations.get_event(slug)
    description = _description(event, language)
    t = texts(language)
    errors = translated(errors or {}, language)
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
            summary=error_summary(errors, description["fields"]),
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
