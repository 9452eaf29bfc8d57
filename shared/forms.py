"""What the public forms of every service share: the registration service's embedded forms
(`embed.js`) and the pages without JavaScript of both services (`/events/SLUG/register`,
`/events/SLUG/register-group`, `/publications/SLUG/order`).

Their interface texts live here, in one place: the pages use them, and `embed.js` is served
with them filled in, in every language (from the catalogue, shared/i18n.py). The pages'
markup is shared too: `templates/shared/_fields.html` (one field, the error summary) and
`templates/shared/_form_style.html` (their look, beside `shared/page.html`'s).
"""
from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pycountry
from flask import current_app, request
from werkzeug.datastructures import MultiDict

from shared.i18n import N_, country_name, translate
from shared.web import settings

#: the field people never see and bots fill in (the schemas refuse it filled)
HONEYPOT = "website"
#: what browsers may fill in for a field (WCAG 1.3.5, identify input purpose)
AUTOCOMPLETE = {
    "first_name": "given-name", "last_name": "family-name", "email": "email", "organisation": "organization",
    "position": "organization-title", "occupation": "organization-title", "address": "street-address",
    "city": "address-level2", "postcode": "postal-code", "country": "country", "telephone": "tel",
}

#: Interface texts of the embedded forms and the pages without JavaScript, by key (embed.js
#: gets them in every language); labels of the registration fields come from its form description.
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
    "out_of_stock_title": N_("Out of stock"), "out_of_stock": N_("This publication is out of stock."),
    "close": N_("Close"), "no_events": N_("No upcoming events at the moment."),
    "group_link": N_("Registering several participants? Use the group form"),
    "group_title": N_("Register several participants"), "contact_legend": N_("You, who register the group"),
    "participant_legend": N_("Participant %(number)s"), "add_participant": N_("Add a participant"),
    "leave_empty": N_("Leave a participant's fields empty to leave them out."), "submit_group": N_("Register the group"),
    "group_registered_title": N_("Your group is registered"),
    "group_registered": N_("Each participant receives their own confirmation by email. We have sent the link to the group's page "
                           "to %(email)s: there you can cancel a participant at any time."),
    "events_unavailable": N_("The list of events cannot be shown at the moment. Please try again later."),
}


def texts(language: str) -> dict[str, str]:
    """TEXTS in `language`, placeholders (`%(email)s`) left for the page to fill."""
    return {key: translate(language, text) for key, text in TEXTS.items()}


def country_choices(language: str) -> list[dict[str, str]]:
    return [{"value": code, "label": name} for code, name in countries(language)]


@cache
def countries(language: str) -> list[tuple[str, str]]:
    """(code, name in `language`) for every ISO 3166-1 country, sorted by name."""
    found = [(country.alpha_2, country_name(country.alpha_2, language)) for country in pycountry.countries]
    return sorted(found, key=lambda item: unicodedata.normalize("NFKD", item[1]).casefold())


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


#: where each service with public pages is reached from browsers (a setting's name)
PUBLIC_URL_SETTINGS = {"registration": "public_base_url", "orders": "public_orders_url"}


def same_origin() -> bool:
    """Browsers name the page that posts a form: only ours may post one of our pages' forms."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    public_url = getattr(settings(), PUBLIC_URL_SETTINGS[current_app.extensions["eupolnet_service"]])
    ours = {f"{request.scheme}://{request.host}", public_url}
    return any(urlsplit(origin)[:2] == urlsplit(url)[:2] for url in ours)


def error_summary(errors: dict[str, list[str]], fields: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    """(name, label, messages) of each faulty field, in the form's order (an error about no
    field first, with no label): what `error_summary` of templates/shared/_fields.html lists."""
    labels = {field["name"]: field["label"] for field in fields}
    order = {name: index for index, name in enumerate(labels)}
    return [(name, labels.get(name), " ".join(errors[name])) for name in sorted(errors, key=lambda n: order.get(n, -1))]
