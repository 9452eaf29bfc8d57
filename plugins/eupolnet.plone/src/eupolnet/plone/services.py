"""What the add-on knows of the EU-POLNET services: their URLs, their lists, the embed snippet.

Pages of the Plone site must render whatever the services do, so every read here has a
short timeout, answers from a RAM cache for a minute, and turns any failure into
`ServiceUnavailable`, which the views show as a friendly message. A service that just
failed is not asked again for a few seconds, so a burst of page views against a service
that hangs does not tie up every Zope thread for the length of the timeout.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from html import escape

import requests
from plone.memoize import ram
from plone.registry.interfaces import IRegistry
from zope.component import queryUtility

from eupolnet.plone.interfaces import REGISTRY_PREFIX, ISettings

logger = logging.getLogger("eupolnet.plone")

LANGUAGES = {"en": "English", "fr": "Français", "es": "Español", "it": "Italiano", "de": "Deutsch", "pt": "Português"}
CONTACT_EMAIL = "eupolnet@efus.eu"  # the secretariat: orders by email, and whom to ask when a service is down
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TIMEOUT = (2, 4)  # seconds to connect, seconds to wait for the answer
CACHE_SECONDS = 60
RETRY_AFTER_SECONDS = 15

_failed_until: dict[str, float] = {}


class ServiceUnavailable(Exception):
    """A service could not be read; pages show a message instead of the list."""


def setting(name: str):
    """One record of the control panel, or the field's default when it is missing."""
    registry = queryUtility(IRegistry)
    default = ISettings[name].default
    value = registry.get(f"{REGISTRY_PREFIX}.{name}", default) if registry is not None else default
    if isinstance(value, str) and name.endswith("_url"):
        value = value.rstrip("/")
    return value or default


def _cache_key(function, url: str) -> tuple:
    return (url, time.time() // CACHE_SECONDS)


@ram.cache(_cache_key)
def _get_json(url: str):
    """Raises on any failure: plone.memoize caches only what is returned."""
    response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
    response.raise_for_status()
    return response.json()


def get_json(url: str):
    if _failed_until.get(url, 0) > time.monotonic():
        raise ServiceUnavailable(url)
    try:
        return _get_json(url)
    except (requests.RequestException, ValueError) as error:
        logger.warning("EU-POLNET service unavailable at %s: %s", url, error)
        _failed_until[url] = time.monotonic() + RETRY_AFTER_SECONDS
        raise ServiceUnavailable(url) from error


def pick_text(texts: dict | None, lang: str, fallback: str = "") -> str:
    """The text in `lang`, else English, else French, else any language given."""
    texts = texts or {}
    for code in (lang, "en", "fr", *texts):
        if texts.get(code):
            return texts[code]
    return fallback


@dataclass(frozen=True)
class Event:
    slug: str
    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str
    venue: str
    online: bool

    @classmethod
    def from_api(cls, data: dict, lang: str) -> "Event":
        return cls(
            slug=data["slug"],
            kind=data.get("kind") or "",
            title=pick_text(data.get("title"), lang, data["slug"]),
            starts_at=dt.datetime.fromisoformat(data["starts_at"]),
            ends_at=dt.datetime.fromisoformat(data["ends_at"]),
            timezone=data.get("timezone") or "",
            venue=data.get("venue") or "",
            online=bool(data.get("online")),
        )


@dataclass(frozen=True)
class Publication:
    slug: str
    title: str


def upcoming_events(lang: str, registration_url: str | None = None) -> list[Event]:
    """Published upcoming events, soonest first (raises ServiceUnavailable)."""
    base = registration_url or setting("registration_url")
    data = get_json(f"{base}/api/v1/events")
    events = []
    for item in data:
        try:
            events.append(Event.from_api(item, lang))
        except (KeyError, TypeError, ValueError):
            logger.warning("Skipping an event the add-on cannot read: %r", item)
    return events


def publications(lang: str, orders_url: str | None = None) -> list[Publication]:
    """Publications that can be ordered (raises ServiceUnavailable)."""
    base = orders_url or setting("orders_url")
    return [
        Publication(slug=item["slug"], title=pick_text(item.get("title"), lang, item["slug"]))
        for item in get_json(f"{base}/api/v1/publications")
        if item.get("slug")
    ]


def snippet(kind: str, slug: str, lang: str) -> str:
    """The embed snippet every CMS uses (see the README), for an event or a publication.

    The script is the registration service's embed.js for both kinds; a publication's
    element also names the orders service. Without JavaScript the visitor gets the
    registration service's plain page, or, for a publication (which has no plain page),
    the secretariat's address, which takes orders by email.
    """
    if kind not in ("event", "publication") or not SLUG.match(slug or ""):
        raise ValueError(f"not an event or publication slug: {slug!r}")
    lang = lang if lang in LANGUAGES else "en"
    registration_url = escape(setting("registration_url"))
    if kind == "event":
        target = f'data-eupolnet-event="{slug}"'
        fallback = f'<a href="{registration_url}/events/{slug}/register?lang={lang}">Register / S\'inscrire</a>'
    else:
        target = f'data-eupolnet-publication="{slug}" data-orders-url="{escape(setting("orders_url"))}"'
        fallback = f'<a href="mailto:{CONTACT_EMAIL}?subject=Order%20{slug}">Order by email / Commander par courriel</a>'
    return (
        f'<div {target} data-lang="{lang}"></div>\n'
        f'<script src="{registration_url}/embed.js" defer></script>\n'
        f"<noscript>{fallback}</noscript>"
    )
