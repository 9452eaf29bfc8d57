"""What Volto sites need from the add-on through plone.restapi.

- `@controlpanels/eupolnet-controlpanel`: the same settings as Site Setup > EU-POLNET forms,
  so that Volto's site setup lists and edits them (the schema is the one of the Classic form).
- `GET @eupolnet-settings` on the site: the public part of those settings, which the Volto
  blocks read in visitors' browsers (the service URLs are the addresses browsers use anyway).
- `GET @eupolnet-events` and `GET @eupolnet-publications`: the services' public lists as
  they give them, read by this site (timeout, cache and retry pause of services.py) because
  the services let browsers of other origins read the forms only; 503 when a service cannot
  be reached.
"""
from plone.restapi.controlpanels import RegistryConfigletPanel
from plone.restapi.services import Service
from zope.component import adapter
from zope.interface import Interface

from eupolnet.plone.interfaces import REGISTRY_PREFIX, IEupolnetLayer, ISettings
from eupolnet.plone.services import CONTACT_EMAIL, LANGUAGES, ServiceUnavailable, get_json, setting


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


class ServiceListGet(Service):
    """A public list of a service: `{"items": [...]}`, or 503 with a message."""

    name = ""  # of the service, as registered in configure.zcml
    setting_name = ""
    path = ""

    def reply(self) -> dict:
        try:
            items = get_json(f"{setting(self.setting_name)}{self.path}")
        except ServiceUnavailable:
            self.request.response.setStatus(503)
            message = f"The EU-POLNET service cannot be reached; write to {CONTACT_EMAIL}."
            return {"error": {"type": "ServiceUnavailable", "message": message}}
        return {"@id": f"{self.context.absolute_url()}/{self.name}", "items": items}


class EventsGet(ServiceListGet):
    name = "@eupolnet-events"
    setting_name = "registration_url"
    path = "/api/v1/events"


class PublicationsGet(ServiceListGet):
    name = "@eupolnet-publications"
    setting_name = "orders_url"
    path = "/api/v1/publications"
