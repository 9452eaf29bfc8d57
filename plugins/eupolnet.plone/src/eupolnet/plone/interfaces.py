"""The browser layer and the settings kept in the Plone registry."""
from zope import schema
from zope.interface import Interface
from zope.publisher.interfaces.browser import IDefaultBrowserLayer

from eupolnet.plone import _

REGISTRY_PREFIX = "eupolnet.plone"


class IEupolnetLayer(IDefaultBrowserLayer):
    """Present while the add-on is installed: every view, viewlet and portlet renderer
    is registered for it, so uninstalling the add-on hides them all at once."""


class ISettings(Interface):
    """Records `eupolnet.plone.<field>` in the registry, edited in the control panel."""

    registration_url = schema.URI(
        title=_("Registration service URL"),
        description=_(
            "Public address of the EU-POLNET registration service, without a trailing slash, "
            "e.g. https://events.efus.eu. Visitors' browsers load the form from it, and this "
            "site reads the list of upcoming events from it."
        ),
        default="http://localhost:8001",
        required=True,
    )
    orders_url = schema.URI(
        title=_("Orders service URL"),
        description=_(
            "Public address of the EU-POLNET orders service (publication order forms), "
            "e.g. https://orders.efus.eu."
        ),
        default="http://localhost:8002",
        required=True,
    )
    default_language = schema.Choice(
        title=_("Default language of the forms"),
        description=_(
            "Language of the forms and of the event lists, unless the editor chose another "
            "one for a page."
        ),
        vocabulary="eupolnet.plone.Languages",
        default="en",
        required=True,
    )
