"""The embeddable forms: `embed.js` for any CMS page, and the plain page its `<noscript>`
link opens, which works without JavaScript.

Snippet for a CMS page (REGISTRATION_URL: where this service is reached from browsers):

    <div data-eupolnet-event="SLUG" data-lang="fr"></div>
    <script src="{REGISTRATION_URL}/embed.js" defer></script>
    <noscript><a href="{REGISTRATION_URL}/events/SLUG/register?lang=fr">Register / S'inscrire</a></noscript>

`<div data-eupolnet-publication="SLUG">` renders the order form of a publication of the
orders service instead. The texts of both forms live here, in one place: the plain page
uses them, and `embed.js` is served with them filled in.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pycountry
from babel import Locale
from babel.dates import format_datetime
from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from services.registration import operations
from services.registration.forms import LANGUAGE_NAMES, STANDARD_FIELDS, form_description, pick
from services.registration.models import Event, Registration
from services.registration.schemas import RegistrationIn
from shared.contracts.registration import LANGUAGES
from shared.db import db, utcnow
from shared.errors import ApiError, flatten
from shared.web import settings

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

#: Interface texts of the embedded forms and the plain page; labels of the registration
#: fields come from the form description. Other languages fall back to English.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "register": "Register", "order": "Order", "submit_register": "Register", "submit_order": "Send my order",
        "sending": "Sending…", "loading": "Loading the form…", "required_note": "Fields marked * are required.",
        "required": "required", "choose": "Choose…", "error_title": "There is a problem",
        "errors_intro": "Please correct the following:", "field_error": "{label}: {message}",
        "when": "When:", "where": "Where:", "online": "Online",
        "full": "This event is full: if you register, you will be put on the waiting list.",
        "members_only": "This event is reserved for Efus members.",
        "closed_title": "Registration is closed", "closed": "Registration for this event is closed.",
        "opens": "Registration opens on {date}.",
        "confirmed_title": "You are registered", "confirmed": "Your place is confirmed. A confirmation email is on its way to {email}.",
        "waitlisted_title": "You are on the waiting list",
        "waitlisted": "The event is full. You are on the waiting list: we will email {email} as soon as a place frees up.",
        "pending_title": "Please confirm your email address",
        "pending": "We have sent a link to {email}. Your registration counts once you have opened it.",
        "already": "This email address was already registered for this event.",
        "refused_title": "This event is reserved for Efus members",
        "refused": "Your email address does not belong to an Efus member organisation. To take part, please contact {contact}.",
        "unavailable": "The form cannot be shown here. Please use the form on our own page:",
        "unavailable_link": "open the form", "failed": "Your submission could not be sent. Please try again in a moment.",
        "too_many": "Too many submissions from your network. Please wait a minute and try again.",
        "website": "Leave this field empty",
        "received_title": "Your order is received", "received": "Order {number}. A confirmation email is on its way to {email}.",
        "free": "The copies are free of charge for your organisation.",
        "postage": "Postage to pay: {amount}. An invoice will follow.", "price_later": "We will confirm the price by email.",
        "copies": "Number of copies", "occupation": "Occupation", "organisation_order": "Company / institution",
        "address": "Address", "postcode": "Postcode", "telephone": "Telephone",
        "out_of_stock": "This publication is out of stock.",
    },
    "fr": {
        "register": "S'inscrire", "order": "Commander", "submit_register": "M'inscrire", "submit_order": "Envoyer ma commande",
        "sending": "Envoi…", "loading": "Chargement du formulaire…", "required_note": "Les champs marqués d'un * sont obligatoires.",
        "required": "obligatoire", "choose": "Choisir…", "error_title": "Il y a un problème",
        "errors_intro": "Veuillez corriger les points suivants :", "field_error": "{label} : {message}",
        "when": "Quand :", "where": "Où :", "online": "En ligne",
        "full": "Cet événement est complet : si vous vous inscrivez, vous serez placé·e sur la liste d'attente.",
        "members_only": "Cet événement est réservé aux membres de l'Efus.",
        "closed_title": "Les inscriptions sont closes", "closed": "Les inscriptions à cet événement sont closes.",
        "opens": "Les inscriptions ouvrent le {date}.",
        "confirmed_title": "Vous êtes inscrit·e", "confirmed": "Votre place est confirmée. Un courriel de confirmation a été envoyé à {email}.",
        "waitlisted_title": "Vous êtes sur la liste d'attente",
        "waitlisted": "L'événement est complet. Vous êtes sur la liste d'attente : nous écrirons à {email} dès qu'une place se libère.",
        "pending_title": "Veuillez confirmer votre adresse électronique",
        "pending": "Nous avons envoyé un lien à {email}. Votre inscription sera prise en compte une fois ce lien ouvert.",
        "already": "Cette adresse électronique était déjà inscrite à cet événement.",
        "refused_title": "Cet événement est réservé aux membres de l'Efus",
        "refused": "Votre adresse électronique n'appartient pas à une organisation membre de l'Efus. Pour participer, veuillez écrire à {contact}.",
        "unavailable": "Le formulaire ne peut pas s'afficher ici. Veuillez utiliser le formulaire de notre page :",
        "unavailable_link": "ouvrir le formulaire", "failed": "Votre envoi n'a pas abouti. Veuillez réessayer dans un instant.",
        "too_many": "Trop d'envois depuis votre réseau. Veuillez patienter une minute et réessayer.",
        "website": "Laissez ce champ vide",
        "received_title": "Votre commande est enregistrée", "received": "Commande {number}. Un courriel de confirmation a été envoyé à {email}.",
        "free": "Les exemplaires sont gratuits pour votre organisation.",
        "postage": "Frais de port à régler : {amount}. Une facture suivra.", "price_later": "Nous vous confirmerons le prix par courriel.",
        "copies": "Nombre d'exemplaires", "occupation": "Profession", "organisation_order": "Société / institution",
        "address": "Adresse", "postcode": "Code postal", "telephone": "Téléphone",
        "out_of_stock": "Cette publication est épuisée.",
    },
}

#: The services' validation messages (English) as the person reads them: (pattern, texts).
MESSAGES: tuple[tuple[str, dict[str, str]], ...] = (
    (r"^Missing data for required field\.$", {"en": "This field is required.", "fr": "Ce champ est obligatoire."}),
    (r"^Length must be between 1 and", {"en": "This field is required.", "fr": "Ce champ est obligatoire."}),
    (r"^Not a valid email address\.$", {"en": "Enter an email address like name@example.org.",
                                        "fr": "Saisissez une adresse électronique du type nom@exemple.org."}),
    (r"^Consent is required", {"en": "Please tick this box to register.", "fr": "Veuillez cocher cette case pour vous inscrire."}),
    (r"^Longer than maximum length (\d+)", {"en": "At most {1} characters.", "fr": "{1} caractères au maximum."}),
    (r"^Not a valid date", {"en": "Enter a date like 2026-05-31.", "fr": "Saisissez une date du type 2026-05-31."}),
    (r"^Must be one of", {"en": "Choose one of the options.", "fr": "Choisissez l'une des options."}),
    (r"^Not an ISO 3166-1", {"en": "Choose a country from the list.", "fr": "Choisissez un pays dans la liste."}),
    (r"^Must be greater than or equal to 1", {"en": "Order at least one copy.", "fr": "Commandez au moins un exemplaire."}),
    (r"^Only (\d+) copies are left", {"en": "Only {1} copies are left.", "fr": "Il ne reste que {1} exemplaires."}),
    (r"^Field may not be null", {"en": "This field is required.", "fr": "Ce champ est obligatoire."}),
    (r"^Not an address of an Efus member", {"en": "This address does not belong to an Efus member organisation.",
                                           "fr": "Cette adresse n'appartient pas à une organisation membre de l'Efus."}),
    (r"^At most (\d+) participants per member", {"en": "Your organisation already has {1} participants, the maximum.",
                                                 "fr": "Votre organisation compte déjà {1} participants, le maximum."}),
    (r"^Registration for this event is closed", {"en": "Registration for this event is closed.",
                                                 "fr": "Les inscriptions à cet événement sont closes."}),
    (r"^Digits, spaces", {"en": "Use digits, spaces and + ( ) . - only.", "fr": "Utilisez uniquement des chiffres, des espaces et + ( ) . -"}),
)


def texts(language: str) -> dict[str, str]:
    return TEXTS.get(language, TEXTS["en"])


def translate(message: str, language: str) -> str:
    """A service message in `language` (see MESSAGES); unknown ones as they are."""
    for pattern, versions in MESSAGES:
        found = re.search(pattern, message)
        if found:
            text = versions.get(language, versions["en"])
            return re.sub(r"\{(\d)\}", lambda m: found.group(int(m.group(1))), text)
    return message


# --- embed.js ----------------------------------------------------------------------------

@bp.get("/embed.js")
def script() -> ResponseReturnValue:
    body = _script(settings().public_orders_url)
    response = Response(body, content_type="text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=600, stale-while-revalidate=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
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
        "countries": sorted(country.alpha_2 for country in pycountry.countries),
        "texts": TEXTS,
        "messages": [[pattern, versions] for pattern, versions in MESSAGES],
        "honeypot": HONEYPOT,
        "autocomplete": AUTOCOMPLETE,
        "labels": {name: labels for name, _, _, _, labels in STANDARD_FIELDS},
        "languages": LANGUAGE_NAMES,
    }
    return source.replace(CONFIG_LINE, f"const CONFIG = {json.dumps(config, ensure_ascii=False)};", 1)


# --- the page without JavaScript ---------------------------------------------------------

@bp.get("/events/<slug>/register")
def register_page(slug: str) -> ResponseReturnValue:
    return _page(slug, _language())


@bp.post("/events/<slug>/register")
def register(slug: str) -> ResponseReturnValue:
    """The plain form's submission: the same schema and operation as the JSON API."""
    language = _language()
    if not _same_origin():
        return _page(slug, language, message="failed", status=403)
    event = operations.get_event(slug)
    submission = _submission(request.form, _description(event, language)["fields"])
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


def _language() -> str:
    language = request.args.get("lang", "en")
    return language if language in LANGUAGES else "en"


def _same_origin() -> bool:
    """Browsers name the page that posts a form: only ours may post this one."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    ours = {f"{request.scheme}://{request.host}", settings().public_base_url}
    return any(urlsplit(origin)[:2] == urlsplit(url)[:2] for url in ours)


def _description(event: Event, language: str) -> dict[str, Any]:
    return form_description(event, language, settings().consent_version, request.path)


def _submission(form: MultiDict, fields: list[dict[str, Any]]) -> dict[str, Any]:
    """The posted form as the JSON API takes it: empty fields left out, boxes as booleans,
    extra answers under `answers`."""
    data: dict[str, Any] = {"answers": {}, HONEYPOT: form.get(HONEYPOT, "")}
    for field in fields:
        name = field["name"]
        value: Any = name in form if field["type"] == "checkbox" else form.get(name, "").strip()
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
    errors = {name: [translate(text, language) for text in messages] for name, messages in (errors or {}).items()}
    labels = {field["name"]: field["label"] for field in description["fields"]}
    order = {name: index for index, name in enumerate(labels)}
    page = render_template(
        "registration/register.html",
        lang=language,
        t=t,
        title=pick(event.title, language),
        event=event,
        when=_when(event, language),
        fields=[_with_choices(field, language) for field in description["fields"]],
        autocomplete=AUTOCOMPLETE,
        values=request.form if request.method == "POST" else MultiDict({"language": language}),
        errors=errors,
        summary=[(name, labels.get(name), " ".join(errors[name])) for name in sorted(errors, key=lambda n: order.get(n, -1))],
        outcome=outcome,
        message=t[message].format(contact=settings().contact_email) if message else None,
        closed=_closed(event, language),
        full=operations.free_seats(event) == 0,
        honeypot=HONEYPOT,
    )
    db.session.rollback()
    return page, status


def _closed(event: Event, language: str) -> str | None:
    """Why registration is not possible now, in `language`; None when it is."""
    now = utcnow()
    if operations.registration_closed_reason(event, now) is None:
        return None
    if event.registration_opens_at and now < event.registration_opens_at:
        return texts(language)["opens"].format(date=_date(event.registration_opens_at, event.timezone, language))
    return texts(language)["closed"]


def _date(moment: dt.datetime, timezone: str, language: str) -> str:
    return format_datetime(moment, "EEEE d MMMM y, HH:mm", tzinfo=ZoneInfo(timezone), locale=language)


def _when(event: Event, language: str) -> str:
    start, end = _date(event.starts_at, event.timezone, language), _date(event.ends_at, event.timezone, language)
    return f"{start} – {end} ({event.timezone})"


def _with_choices(field: dict[str, Any], language: str) -> dict[str, Any]:
    if field["type"] != "country":
        return field
    return {**field, "choices": [{"value": code, "label": name} for code, name in _countries(language)]}


@cache
def _countries(language: str) -> list[tuple[str, str]]:
    """(code, name in `language`) for every ISO 3166-1 country, sorted by name."""
    names = Locale.parse(language).territories
    countries = [(c.alpha_2, names.get(c.alpha_2, c.name)) for c in pycountry.countries]
    return sorted(countries, key=lambda item: unicodedata.normalize("NFKD", item[1]).casefold())
