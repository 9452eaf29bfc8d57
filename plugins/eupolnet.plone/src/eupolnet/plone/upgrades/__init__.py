"""Upgrade steps of the `eupolnet.plone:default` profile (registered in configure.zcml here)."""
from plone.base.utils import get_installer
from Products.CMFCore.utils import getToolByName


def install_plone_restapi(setup_tool) -> None:
    """1000 -> 1001: Volto's site setup and the Volto blocks reach the add-on through
    plone.restapi, whose profile Classic sites do not always have installed."""
    portal = getToolByName(setup_tool, "portal_url").getPortalObject()
    installer = get_installer(portal)
    if not installer.is_product_installed("plone.restapi"):
        installer.install_product("plone.restapi")
