"""What Volto sites need from the add-on through plone.restapi.

- `@controlpanels/eupolnet-controlpanel`: the same settings as Site Setup > EU-POLNET forms,
  so that Volto's site setup lists and edits them (the schema is the one of the Classic form).
- `GET @eupolnet-settings` on the site: the public part of those settings, which the Volto
  blocks read in visitors' browsers (the service URLs are the addresses browsers use anyway).
"""
from plone.restapi.controlpanels import RegistryConfigletPanel
from plone.restapi.services import Service
from zope.component import adapter
from zope.interface import Interface

from eupolnet.plone.interfaces import REGISTRY_PREFIX, IEupolnetLayer, ISettings
from eupolnet.plone.services import CONTACT_EMAIL, LANGUAGES, setting


@adapter(Interface, IEupolnetLayer)
class SettingsControlpanel(RegistryConfigletPanel):
    schema = ISettings
    schema_prefix = REGISTRY_PREFIX
    configlet_id = "eupolnet-forms"  # the action_id in profiles/default/controlpanel.xml
    configlet_category_id = "Products"
    title = "EU-POLNET forms"
    group = "Add-on Configuration"


class SettingsGet(Service):
    """Public: anonymous visitors' pages need the URLs to show the forms and the events."""

    def reply(self) -> dict:
        return {
            "@id": f"{self.context.absolute_url()}/@eupolnet-settings",
            "registration_url": setting("registration_url"),
            "orders_url": setting("orders_url"),
            "default_language": setting("default_language"),
            "languages": sorted(LANGUAGES),
            "contact_email": CONTACT_EMAIL,
        }
