"""A behavior for pages (Documents by default): the editor picks an event or a publication
from lists read from the services, and the page shows its form below the text."""
from plone.autoform.interfaces import IFormFieldProvider
from plone.supermodel import model
from zope import schema
from zope.interface import provider

from eupolnet.plone import _


@provider(IFormFieldProvider)
class IEmbeddedForm(model.Schema):
    """Stored on the content itself; content of a type with the behavior provides this
    interface, which is what the viewlet is registered for."""

    model.fieldset(
        "eupolnet",
        label=_("EU-POLNET form"),
        fields=["eupolnet_event", "eupolnet_publication", "eupolnet_language"],
    )

    eupolnet_event = schema.Choice(
        title=_("Event registration form"),
        description=_(
            "Upcoming events published in the registration service. Their registration form "
            "is shown below the text of this page. If the list is empty, check the service "
            "URL in the EU-POLNET control panel."
        ),
        vocabulary="eupolnet.plone.UpcomingEvents",
        required=False,
    )
    eupolnet_publication = schema.Choice(
        title=_("Publication order form"),
        description=_("A publication of the orders service whose order form is shown below the text."),
        vocabulary="eupolnet.plone.Publications",
        required=False,
    )
    eupolnet_language = schema.Choice(
        title=_("Language of the form"),
        description=_("Leave empty to use the default language set in the EU-POLNET control panel."),
        vocabulary="eupolnet.plone.Languages",
        required=False,
    )
