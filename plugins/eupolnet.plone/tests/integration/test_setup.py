"""Install, settings, behavior, plone.restapi registrations and uninstall, without a browser."""
from __future__ import annotations

import json
import socket
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from plone.app.testing import TEST_USER_ID, setRoles
from plone.base.utils import get_installer
from plone.browserlayer.utils import registered_layers
from plone.dexterity.interfaces import IDexterityFTI
from plone.registry.interfaces import IRegistry
from plone.restapi.controlpanels.interfaces import IControlpanel
from zope.component import getMultiAdapter, getUtility, queryMultiAdapter, queryUtility
from zope.interface import alsoProvides, noLongerProvides

from eupolnet.plone.behaviors import IEmbeddedForm
from eupolnet.plone.interfaces import IEupolnetLayer, ISettings
from eupolnet.plone.testing import INTEGRATION_TESTING

RECORDS = ["eupolnet.plone.default_language", "eupolnet.plone.orders_url", "eupolnet.plone.registration_url"]
BEHAVIOR = "eupolnet.embedded_form"


def records() -> list[str]:
    return sorted(name for name in getUtility(IRegistry).records.keys() if name.startswith("eupolnet."))


def configlets(portal) -> list[str]:
    return [action.getId() for action in portal.portal_controlpanel.listActions()]


class InstalledTestCase(unittest.TestCase):
    layer = INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]
        self.request = self.layer["request"]
        alsoProvides(self.request, IEupolnetLayer)  # as the browser layer does on a real request
        setRoles(self.portal, TEST_USER_ID, ["Manager"])


class TestInstall(InstalledTestCase):
    def test_the_addon_is_installed_at_its_profile_version_with_no_upgrade_pending(self):
        installer = get_installer(self.portal, self.request)
        self.assertTrue(installer.is_product_installed("eupolnet.plone"))
        setup = self.portal.portal_setup
        self.assertEqual(setup.getLastVersionForProfile("eupolnet.plone:default"), ("1001",))
        self.assertEqual(setup.listUpgrades("eupolnet.plone:default"), [])
        self.assertTrue(installer.is_product_installed("plone.restapi"))  # a dependency of the profile

    def test_a_site_installed_at_1000_gets_plone_restapi_from_the_upgrade_step(self):
        installer = get_installer(self.portal, self.request)
        installer.uninstall_product("plone.restapi")
        setup = self.portal.portal_setup
        setup.setLastVersionForProfile("eupolnet.plone:default", "1000")
        steps = setup.listUpgrades("eupolnet.plone:default")
        self.assertEqual([step["title"] for step in steps], ["Install plone.restapi (Volto site setup and blocks)"])
        installer.upgrade_product("eupolnet.plone")
        self.assertTrue(installer.is_product_installed("plone.restapi"))
        self.assertEqual(setup.getLastVersionForProfile("eupolnet.plone:default"), ("1001",))
        self.assertEqual(setup.listUpgrades("eupolnet.plone:default"), [])

    def test_browser_layer_and_control_panel_are_registered(self):
        self.assertIn(IEupolnetLayer, registered_layers())
        self.assertIn("eupolnet-forms", configlets(self.portal))
        view = getMultiAdapter((self.portal, self.request), name="eupolnet-controlpanel")
        self.assertIn("registration_url", view())

    def test_site_setup_offers_one_install_and_one_uninstall_profile(self):
        installer = get_installer(self.portal, self.request)
        self.assertEqual(installer.get_install_profile("eupolnet.plone")["id"], "eupolnet.plone:default")
        self.assertEqual(installer.get_uninstall_profile("eupolnet.plone")["id"], "eupolnet.plone:uninstall")


class TestControlPanelRegistry(InstalledTestCase):
    def test_the_records_exist_with_their_defaults(self):
        self.assertEqual(records(), RECORDS)
        registry = getUtility(IRegistry)
        settings = registry.forInterface(ISettings, prefix="eupolnet.plone")
        self.assertEqual(settings.registration_url, "http://localhost:8001")
        self.assertEqual(settings.orders_url, "http://localhost:8002")
        self.assertEqual(settings.default_language, "en")

    def test_volto_site_setup_finds_the_control_panel_through_plone_restapi(self):
        panel = getMultiAdapter((self.portal, self.request), IControlpanel, name="eupolnet-controlpanel")
        self.assertIs(panel.schema, ISettings)
        self.assertEqual(panel.schema_prefix, "eupolnet.plone")
        self.assertEqual(panel.configlet_id, "eupolnet-forms")
        self.assertEqual(panel.group, "Add-on Configuration")

    def test_the_public_settings_endpoint_answers_what_the_control_panel_holds(self):
        getUtility(IRegistry)["eupolnet.plone.registration_url"] = "https://events.example.org/"
        service = queryMultiAdapter((self.portal, self.request), name="GET_application_json_@eupolnet-settings")
        self.assertIsNotNone(service)
        data = service.reply()
        self.assertEqual(data["registration_url"], "https://events.example.org")  # no trailing slash
        self.assertEqual(data["orders_url"], "http://localhost:8002")
        self.assertEqual(data["default_language"], "en")
        self.assertEqual(data["languages"], ["de", "en", "es", "fr", "it", "pt"])
        self.assertEqual(data["contact_email"], "eupolnet@efus.eu")


class ListsHandler(BaseHTTPRequestHandler):
    """The services' public lists, as a real HTTP server gives them."""

    LISTS = {"/api/v1/events": [{"slug": "police-academy-lisbon", "title": {"en": "Police academy"}}],
             "/api/v1/publications": [{"slug": "safer-cities-guide", "title": {"en": "Guide"}}]}

    def do_GET(self):
        body = json.dumps(self.LISTS.get(self.path, [])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class TestServiceLists(InstalledTestCase):
    """@eupolnet-events and @eupolnet-publications: what the Volto blocks list."""

    def service(self, name: str):
        return queryMultiAdapter((self.portal, self.request), name=f"GET_application_json_{name}")

    def test_the_lists_are_the_services_own(self):
        server = ThreadingHTTPServer(("127.0.0.1", 0), ListsHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            registry = getUtility(IRegistry)
            registry["eupolnet.plone.registration_url"] = url
            registry["eupolnet.plone.orders_url"] = url
            self.assertEqual(self.service("@eupolnet-events").reply()["items"], ListsHandler.LISTS["/api/v1/events"])
            publications = self.service("@eupolnet-publications").reply()["items"]
            self.assertEqual(publications, ListsHandler.LISTS["/api/v1/publications"])
        finally:
            server.shutdown()
            server.server_close()

    def test_a_service_that_cannot_be_reached_is_a_503_with_the_contact_address(self):
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        getUtility(IRegistry)["eupolnet.plone.registration_url"] = f"http://127.0.0.1:{port}"
        data = self.service("@eupolnet-events").reply()
        self.assertEqual(self.request.response.getStatus(), 503)
        self.assertEqual(data["error"]["type"], "ServiceUnavailable")
        self.assertIn("eupolnet@efus.eu", data["error"]["message"])


class TestBehavior(InstalledTestCase):
    def test_pages_have_the_behavior_and_keep_the_editors_choice(self):
        fti = queryUtility(IDexterityFTI, name="Document")
        self.assertIn(BEHAVIOR, fti.behaviors)
        self.portal.invokeFactory("Document", "academy", title="Police academy")
        page = self.portal["academy"]
        self.assertTrue(IEmbeddedForm.providedBy(page))
        adapted = IEmbeddedForm(page)
        adapted.eupolnet_event = "police-academy-lisbon"
        adapted.eupolnet_language = "fr"
        self.assertEqual(self.portal["academy"].eupolnet_event, "police-academy-lisbon")
        self.assertEqual(IEmbeddedForm(self.portal["academy"]).eupolnet_language, "fr")
        self.assertIsNone(IEmbeddedForm(page).eupolnet_publication)


class TestUninstall(InstalledTestCase):
    def setUp(self):
        super().setUp()
        get_installer(self.portal, self.request).uninstall_product("eupolnet.plone")
        noLongerProvides(self.request, IEupolnetLayer)

    def test_uninstall_removes_records_layer_configlet_and_behavior(self):
        self.assertFalse(get_installer(self.portal, self.request).is_product_installed("eupolnet.plone"))
        self.assertEqual(records(), [])
        self.assertNotIn(IEupolnetLayer, registered_layers())
        self.assertNotIn("eupolnet-forms", configlets(self.portal))
        self.assertNotIn(BEHAVIOR, queryUtility(IDexterityFTI, name="Document").behaviors)
        self.assertIn("plone.site_title", getUtility(IRegistry).records)

    def test_uninstall_removes_the_restapi_control_panel_and_settings(self):
        self.assertIsNone(queryMultiAdapter((self.portal, self.request), IControlpanel, name="eupolnet-controlpanel"))
        for name in ("@eupolnet-settings", "@eupolnet-events", "@eupolnet-publications"):
            self.assertIsNone(queryMultiAdapter((self.portal, self.request), name=f"GET_application_json_{name}"))
