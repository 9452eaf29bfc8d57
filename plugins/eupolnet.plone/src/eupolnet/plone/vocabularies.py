"""Choices offered to editors: languages, and the events and publications the services list."""
from __future__ import annotations

from Acquisition import aq_base
from zope.interface import provider
from zope.schema.interfaces import IVocabularyFactory
from zope.schema.vocabulary import SimpleTerm, SimpleVocabulary

from eupolnet.plone import _
from eupolnet.plone.services import LANGUAGES, ServiceUnavailable, publications, setting, upcoming_events


@provider(IVocabularyFactory)
def languages(context=None):
    return SimpleVocabulary([SimpleTerm(code, code, title) for code, title in LANGUAGES.items()])


def _with_current_value(terms: list[SimpleTerm], context, field: str) -> SimpleVocabulary:
    """Keep the page's current choice selectable even when the service no longer lists
    it (event over, service down): otherwise the edit form would silently drop it."""
    current = getattr(aq_base(context), field, None) if context is not None else None
    if current and current not in {term.value for term in terms}:
        terms.append(SimpleTerm(current, current, _("${slug} (not listed now)", mapping={"slug": current})))
    return SimpleVocabulary(terms)


@provider(IVocabularyFactory)
def upcoming_event_choices(context=None):
    try:
        events = upcoming_events(setting("default_language"))
    except ServiceUnavailable:
        events = []
    terms = [
        SimpleTerm(event.slug, event.slug, f"{event.title} — {event.starts_at:%Y-%m-%d} ({event.slug})")
        for event in events
    ]
    return _with_current_value(terms, context, "eupolnet_event")


@provider(IVocabularyFactory)
def publication_choices(context=None):
    try:
        items = publications(setting("default_language"))
    except ServiceUnavailable:
        items = []
    terms = [SimpleTerm(item.slug, item.slug, f"{item.title} ({item.slug})") for item in items]
    return _with_current_value(terms, context, "eupolnet_publication")
