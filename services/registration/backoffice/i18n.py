"""The back office's language: its own texts from the `backoffice` catalogue
(`shared/locales/<lang>/LC_MESSAGES/backoffice.po`, English msgids), the services' refusals
from the `messages` catalogue by their code (see `shared.errors`).

Values are put in after translating, with `str.format` placeholders:
`gettext("Order {number} shipped.", number=n)`.
"""
from __future__ import annotations

import datetime as dt

from flask import g, has_request_context, request, session

from shared.errors import described
from shared.i18n import BACKOFFICE_LANGUAGES as LANGUAGES, DEFAULT_LANGUAGE, N_, format_datetime, format_time, translations

#: Words the pages show for stored values (roles, kinds, statuses, channels, field types)
#: and for the orders page's tab of every status (`all`):
#: translated where shown, with `gettext(value)`.
VOCABULARY = (
    N_("admin"), N_("events"), N_("publications"),
    N_("webconference"), N_("academy"), N_("assembly"), N_("conference"),
    N_("text"), N_("textarea"), N_("select"), N_("checkbox"), N_("date"),
    N_("pending"), N_("pending_approval"), N_("confirmed"), N_("waitlisted"), N_("cancelled"), N_("rejected"), N_("attended"),
    N_("all"), N_("received"), N_("approved"), N_("invoiced"), N_("paid"), N_("shipped"),
    N_("web"), N_("post"), N_("email"), N_("fax"), N_("queued"), N_("sent"), N_("failed"),
)


def language() -> str:
    """The session's choice, else the browser's preference, else English; decided once per
    request (a page of 5,000 participants asks it for each of its texts)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if "backoffice_language" not in g:
        g.backoffice_language = session.get("lang") or request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
    return g.backoffice_language


def gettext(text: str, **values: object) -> str:
    translated = translations(language(), "backoffice").gettext(text)
    return translated.format(**values) if values else translated


def event_time(moment: dt.datetime, timezone: str, part: str = "datetime") -> str:
    """A moment as the event's local time (staff plan in the event's time zone, not UTC)."""
    if part == "time":
        return format_time(moment, language(), timezone)
    return format_datetime(moment, language(), timezone, format="medium")


def refusal(message: str) -> str:
    """A service's refusal (a `Problem`, or one of marshmallow's messages) in the page's language."""
    return described(message).translated(language())
