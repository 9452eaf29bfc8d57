"""The back office in English and French.

The English text is the key; `FRENCH` (in `fr.py`) gives its translation. Text without a
translation shows in English, and `tests/backoffice/test_i18n.py` fails when a page's text
has none. Values are put in after translating: `gettext("Order {number} shipped.", number=n)`.
"""
from __future__ import annotations

from flask import has_request_context, request, session

from services.registration.backoffice.fr import FRENCH

LANGUAGES = ("en", "fr")


def language() -> str:
    """The session's choice, else the browser's preference, else English."""
    if not has_request_context():
        return "en"
    return session.get("lang") or request.accept_languages.best_match(LANGUAGES) or "en"


def gettext(text: str, **values: object) -> str:
    translated = FRENCH.get(text, text) if language() == "fr" else text
    return translated.format(**values) if values else translated
