"""The pages, viewlet and helpers that show events and forms to visitors."""
from __future__ import annotations

from plone.app.layout.viewlets import ViewletBase
from Products.Five import BrowserView
from Products.Five.browser.pagetemplatefile import ViewPageTemplateFile
from zExceptions import NotFound
from zope.i18n import translate
from zope.i18n.locales import LoadLocaleError, locales
from zope.interface import implementer
from zope.publisher.interfaces import IPublishTraverse

from eupolnet.plone import _
from eupolnet.plone.services import (
    LANGUAGES, SLUG, Event, ServiceUnavailable, publications, setting, snippet, upcoming_events,
)

KIND_LABELS = {
    "webconference": _("Web conference"),
    "academy": _("Police academy"),
    "assembly": _("General assembly"),
    "conference": _("Conference"),
}


def request_language(request) -> str:
    """`?lang=` when it is one the services speak, else the control panel's default."""
    lang = request.form.get("lang")
    return lang if lang in LANGUAGES else setting("default_language")


class EventDisplay:
    """Formatting shared by the listing page, the event page and the portlet.

    An event is described in the language of the forms (`self.lang`): its title, kind,
    dates and place; the rest of the page follows the site's own language.
    """

    lang = "en"
    event_list = ViewPageTemplateFile("templates/event_list.pt")

    def portal_url(self) -> str:
        return self.context.restrictedTraverse("@@plone_portal_state").portal_url()

    def event_url(self, event: Event) -> str:
        return f"{self.portal_url()}/@@eupolnet-event/{event.slug}"

    def kind_label(self, event: Event) -> str:
        label = KIND_LABELS.get(event.kind)
        return translate(label, target_language=self.lang) if label else event.kind

    def dates(self, event: Event) -> str:
        """`12 juin 2026` or `12 juin 2026 – 14 juin 2026`, in the event's own time zone
        (the service gives local times with their offset)."""
        try:
            formatter = locales.getLocale(self.lang).dates.getFormatter("date", "long")
            start, end = formatter.format(event.starts_at), formatter.format(event.ends_at)
        except (LoadLocaleError, KeyError):
            start, end = event.starts_at.date().isoformat(), event.ends_at.date().isoformat()
        return start if start == end else f"{start} – {end}"

    def where(self, event: Event) -> str:
        return translate(_("Online"), target_language=self.lang) if event.online or not event.venue else event.venue

    def load_events(self, lang: str) -> list[Event] | None:
        """The upcoming events, or None when the registration service cannot be read."""
        try:
            return upcoming_events(lang)
        except ServiceUnavailable:
            return None


class EventsListing(EventDisplay, BrowserView):
    """@@eupolnet-events: upcoming events, each linking to a page with its form."""

    index = ViewPageTemplateFile("templates/events.pt")

    def __call__(self):
        self.lang = request_language(self.request)
        self.events = self.load_events(self.lang)
        return self.index()


@implementer(IPublishTraverse)
class FormPage(EventDisplay, BrowserView):
    """@@eupolnet-event/SLUG and @@eupolnet-publication/SLUG: a page that only holds the form,
    for events or publications that have no page of their own in the site."""

    kind = "event"
    index = ViewPageTemplateFile("templates/form_page.pt")
    slug = None

    def publishTraverse(self, request, name):
        if self.slug is not None or not SLUG.match(name):
            raise NotFound(name)
        self.slug = name
        return self

    def __call__(self):
        if self.slug is None:
            raise NotFound("Which one? Add its slug to the address.")
        self.lang = request_language(self.request)
        self.item, self.unavailable = None, False
        try:
            items = upcoming_events(self.lang) if self.kind == "event" else publications(self.lang)
            self.item = next((item for item in items if item.slug == self.slug), None)
        except ServiceUnavailable:
            self.unavailable = True  # the form may still load in the visitor's browser
        return self.index()

    def title(self) -> str:
        return self.item.title if self.item else self.slug

    def form_snippet(self) -> str:
        return snippet(self.kind, self.slug, self.lang)


class PublicationFormPage(FormPage):
    kind = "publication"


class EmbeddedFormViewlet(ViewletBase):
    """Below the text of a page whose editor chose an event or a publication."""

    index = ViewPageTemplateFile("templates/embedded_form.pt")

    def update(self):
        super().update()
        lang = getattr(self.context, "eupolnet_language", None) or setting("default_language")
        self.snippets = [
            snippet(kind, slug, lang)
            for kind, slug in (
                ("event", getattr(self.context, "eupolnet_event", None)),
                ("publication", getattr(self.context, "eupolnet_publication", None)),
            )
            if slug and SLUG.match(slug)
        ]

    def render(self):
        return self.index() if self.snippets else ""
