"""A portlet listing the next EU-POLNET events, each linking to a page with its form."""
from plone.app.portlets.portlets import base
from plone.portlets.interfaces import IPortletDataProvider
from Products.Five.browser.pagetemplatefile import ViewPageTemplateFile
from zope import schema
from zope.interface import implementer

from eupolnet.plone import _
from eupolnet.plone.browser.views import EventDisplay
from eupolnet.plone.interfaces import IEupolnetLayer
from eupolnet.plone.services import setting


class IUpcomingEventsPortlet(IPortletDataProvider):
    header = schema.TextLine(title=_("Portlet header"), default=_("EU-POLNET events"), required=True)
    count = schema.Int(title=_("Number of events to show"), default=5, min=1, max=50, required=True)


@implementer(IUpcomingEventsPortlet)
class Assignment(base.Assignment):
    def __init__(self, header=_("EU-POLNET events"), count=5):
        self.header = header
        self.count = count

    @property
    def title(self):
        return self.header


class Renderer(EventDisplay, base.Renderer):
    render = ViewPageTemplateFile("events.pt")

    @property
    def available(self):
        # Registered without a layer so that assignments left behind by an uninstall
        # render nothing instead of breaking the column.
        return IEupolnetLayer.providedBy(self.request)

    def update(self):
        self.lang = setting("default_language")
        self.events = self.load_events(self.lang)
        if self.events is not None:
            self.events = self.events[: self.data.count]

    def all_events_url(self):
        return f"{self.portal_url()}/@@eupolnet-events"


class AddForm(base.AddForm):
    schema = IUpcomingEventsPortlet
    label = _("Add an EU-POLNET events portlet")
    description = _("Lists the upcoming events of the EU-POLNET registration service.")

    def create(self, data):
        return Assignment(**data)


class EditForm(base.EditForm):
    schema = IUpcomingEventsPortlet
    label = _("Edit the EU-POLNET events portlet")
    description = _("Lists the upcoming events of the EU-POLNET registration service.")
