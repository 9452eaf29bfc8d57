from plone.base.interfaces import INonInstallable
from zope.interface import implementer


@implementer(INonInstallable)
class HiddenProfiles:
    def getNonInstallableProfiles(self):
        """The uninstall profile is run by the Add-ons control panel, never offered."""
        return ["eupolnet.plone:uninstall"]
