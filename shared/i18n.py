"""The languages of EU-POLNET and the one gettext catalogue every service translates with.

Texts are written in English in the code and templates (the msgid) and translated from
`shared/locales/<lang>/LC_MESSAGES/<domain>.po`, compiled to `.mo` by `make translations`
(and by `make test`/`make run`). Two domains: `messages`, everything registrants and buyers
read (web pages, embedded forms, errors, emails, PDFs), in every language of `LANGUAGES`;
`backoffice`, the staff pages, in `BACKOFFICE_LANGUAGES`.

Dates, times and amounts are formatted by Babel in the same language (`babel_locale`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.support import NullTranslations, Translations
from jinja2 import BaseLoader, Environment, StrictUndefined, select_autoescape

#: every language EU-POLNET speaks, in the order people are offered them (English first),
#: each in its own words for language pickers: the one list of languages
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "fr": "Français", "es": "Español", "it": "Italiano", "de": "Deutsch", "pt": "Português",
}
LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_NAMES)
#: the language of the msgids, and of any text missing in another language
DEFAULT_LANGUAGE = "en"
#: the back office's own interface
BACKOFFICE_LANGUAGES: tuple[str, ...] = ("en", "fr")
LOCALES_DIR = Path(__file__).with_name("locales")
DOMAINS = ("messages", "backoffice")

# Babel locale per language where the bare code is not what Europeans expect (plain "en"
# is US English: "March 10, 2027, 9:00 AM"; Efus writes British English).
_BABEL_LOCALES = {"en": "en_GB", "pt": "pt_PT"}


def N_(text: str) -> str:
    """Mark `text` for the catalogue where it is defined; it is translated where shown."""
    return text


def language_or_default(code: object, languages: Iterable[str] = LANGUAGES) -> str:
    """`code` if we speak it (`"de-AT"` counts as `"de"`), else English."""
    bare = str(code or "").strip().lower().replace("_", "-").split("-")[0]
    return bare if bare in tuple(languages) else DEFAULT_LANGUAGE


def babel_locale(language: str) -> Locale:
    return Locale.parse(_BABEL_LOCALES.get(language, language))


@cache
def translations(language: str, domain: str = "messages") -> NullTranslations:
    """The compiled catalogue of `language` (English and missing ones: the msgids)."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    found = Translations.load(str(LOCALES_DIR), [language], domain)
    if not isinstance(found, Translations):
        raise RuntimeError(f"No compiled catalogue {domain} for {language!r} in {LOCALES_DIR}: run `make translations`")
    return found


def translate(language: str, text: str, **values: Any) -> str:
    """`text` in `language`, with `%(name)s` placeholders filled from `values`."""
    translated = translations(language).gettext(text)
    return translated % values if values else translated


def translate_plural(language: str, singular: str, plural: str, count: int, **values: Any) -> str:
    """The singular or plural form that `count` needs in `language` (`%(num)d` is the count)."""
    return translations(language).ngettext(singular, plural, count) % {"num": count, **values}


def pick(texts: Mapping[str, str] | None, language: str) -> str:
    """A staff-written text (event title, question...) in `language`, else English, else any."""
    texts = texts or {}
    return texts.get(language) or texts.get(DEFAULT_LANGUAGE) or next((text for text in texts.values() if text), "")


# --- dates, times, amounts ------------------------------------------------------------------

def format_date(day: dt.date | dt.datetime, language: str, format: str = "long", timezone: str | None = None) -> str:
    if isinstance(day, dt.datetime) and timezone:
        day = day.astimezone(ZoneInfo(timezone))
    return dates.format_date(day, format, locale=babel_locale(language))


def format_datetime(moment: dt.datetime, language: str, timezone: str, format: str = "full") -> str:
    """Date and time of `moment` in the event's `timezone`, e.g. "Thursday 4 February 2027, 14:00"."""
    local = moment.astimezone(ZoneInfo(timezone))
    locale = babel_locale(language)
    return f"{dates.format_date(local, format, locale=locale)}, {dates.format_time(local, 'short', locale=locale)}"


def format_time(moment: dt.datetime, language: str, timezone: str) -> str:
    return dates.format_time(moment.astimezone(ZoneInfo(timezone)), "short", locale=babel_locale(language))


def format_span(starts: dt.datetime, ends: dt.datetime, language: str, timezone: str) -> str:
    """An event's dates and times in its time zone: one date with two times, or two dates."""
    zone = ZoneInfo(timezone)
    start, end = starts.astimezone(zone), ends.astimezone(zone)
    locale = babel_locale(language)
    if start.date() == end.date():
        return (f"{dates.format_date(start, 'full', locale=locale)}, "
                f"{dates.format_interval(start.time(), end.time(), 'Hm', locale=locale)}")
    return f"{format_datetime(start, language, timezone)} – {format_datetime(end, language, timezone)}"


def timezone_name(timezone: str, language: str) -> str:
    """The zone as people call it ("Central European Time"), in `language`."""
    return dates.get_timezone_name(ZoneInfo(timezone), locale=babel_locale(language))


def format_money(cents: int, currency: str, language: str) -> str:
    return numbers.format_currency(Decimal(cents) / 100, currency, locale=babel_locale(language))


def format_percent(value: Decimal, language: str) -> str:
    """`value` (0.1 for 10 %) as a percentage in the language's way ("10 %" in German), decimals kept."""
    return numbers.format_percent(value, locale=babel_locale(language), decimal_quantization=False)


def country_name(code: str, language: str) -> str:
    return babel_locale(language).territories.get(code.upper(), code)


# --- Jinja ------------------------------------------------------------------------------------

def jinja_environment(loader: BaseLoader, language: str, **options: Any) -> Environment:
    """A template environment speaking `language` (`{% trans %}`, `_()`, `ngettext()`).

    Emails and PDFs are written in the recipient's language, whatever the request's, so
    each language gets its own environment (see `JinjaLanguages`)."""
    environment = Environment(loader=loader, extensions=["jinja2.ext.i18n"], undefined=StrictUndefined,
                              autoescape=select_autoescape(["html"]), **options)
    environment.policies["ext.i18n.trimmed"] = True  # as extracted (shared/locales/messages.cfg)
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    environment.globals["lang"] = language
    return environment


class JinjaLanguages:
    """One template environment per language over the same templates, built when first used."""

    def __init__(self, loader: BaseLoader, **options: Any) -> None:
        self._loader = loader
        self._options = options
        self._environments: dict[str, Environment] = {}
        self.filters: dict[str, Any] = {}

    def __call__(self, language: str) -> Environment:
        language = language_or_default(language)
        if language not in self._environments:
            environment = jinja_environment(self._loader, language, **self._options)
            environment.filters.update(self.filters)
            self._environments[language] = environment
        return self._environments[language]


# --- Flask ------------------------------------------------------------------------------------

def request_language(languages: Iterable[str] = LANGUAGES) -> str:
    """The request's language: `?lang=`, then the browser's `Accept-Language`, then English."""
    from flask import has_request_context, request

    languages = tuple(languages)
    if not has_request_context():
        return DEFAULT_LANGUAGE
    asked = request.args.get("lang")
    if asked and language_or_default(asked, languages) == asked.lower()[:2]:
        return language_or_default(asked, languages)
    return request.accept_languages.best_match(languages) or DEFAULT_LANGUAGE


def init_app(app: Any) -> None:
    """Flask-Babel on `app`: templates get `_()`/`ngettext()` in the request's language
    (`flask_babel.force_locale` renders a page in another one, e.g. the registrant's)."""
    from flask_babel import Babel

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(LOCALES_DIR))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=request_language)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
