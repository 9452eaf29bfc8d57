"""Site Setup > EU-POLNET: the service URLs and the default language of the forms."""
from plone.app.registry.browser.controlpanel import ControlPanelFormWrapper, RegistryEditForm
from plone.z3cform import layout

from eupolnet.plone import _
from eupolnet.plone.interfaces import REGISTRY_PREFIX, ISettings


class SettingsForm(RegistryEditForm):
    schema = ISettings
    schema_prefix = REGISTRY_PREFIX
    label = _("EU-POLNET forms")
    description = _(
        "Where this site finds the EU-POLNET registration and orders services. Editors then "
        "choose an event or a publication in the EU-POLNET tab of a page."
    )


SettingsView = layout.wrap_form(SettingsForm, ControlPanelFormWrapper)
