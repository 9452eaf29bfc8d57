"""Run by `zconsole run zope.conf create_site.py`: a fresh Plone site at /plone, Classic UI
unless PLONE_DISTRIBUTION names another distribution (`volto`: a site for the Volto frontend).

The add-on is not installed here: the browser tests install it from Site Setup > Add-ons
(Classic) or through plone.restapi's @addons (Volto), as a site administrator would.
"""
import os

import transaction
from AccessControl.SecurityManagement import newSecurityManager
from plone.distribution.api import site as site_api

site_id = "plone"
root = app  # noqa: F821 (zconsole gives `app`, with a request)
admin = root.acl_users.getUserById("admin")
newSecurityManager(None, admin.__of__(root.acl_users))
if site_id in root.objectIds():
    root.manage_delObjects([site_id])
    transaction.commit()
site_api.create(
    root,
    os.environ.get("PLONE_DISTRIBUTION", "classic"),
    {
        "site_id": site_id,
        "title": "Efus (test site)",
        "description": "European Forum for Urban Security",
        "default_language": "en",
        "portal_timezone": "Europe/Paris",
        "setup_content": False,
    },
)
print(f"created /{site_id}")
