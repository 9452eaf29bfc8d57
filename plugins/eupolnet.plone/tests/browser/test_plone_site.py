"""The add-on in a real Plone 6.2 site, used as a site administrator, an editor and a visitor
would: install it, point it at the services, place forms on pages, register, uninstall.

The tests run in file order and build on each other (one site for the whole module).
"""
from __future__ import annotations

import re
import socket
import time

import pytest
import requests
from playwright.sync_api import expect
from plone_instance import REPO

from ops.redis_server import free_port

EVENT = '[data-eupolnet-event="police-academy-lisbon"]'
PUBLICATION = '[data-eupolnet-publication="safer-cities-guide"]'
REGISTER_FR = re.compile("^M[’']inscrire$")
SERVICE_DOWN = "The list of EU-POLNET events cannot be shown right now"
SCREENSHOTS = REPO / "var" / "screenshots" / "plone"


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """Addresses of the pages the editor created, for the tests that follow."""
    return {}


def screenshot(page, name: str) -> None:
    """A full-page screenshot under var/screenshots/plone/, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def addon_form(page, action: str):
    """The install or uninstall button of the add-on in Site Setup > Add-ons."""
    return page.locator(f"form:has(input[name='{action}_product'][value='eupolnet.plone']) button")


def save_settings(editor, plone, **values: str) -> None:
    """Fill in Site Setup > EU-POLNET forms and save."""
    editor.goto(f"{plone.url}/@@eupolnet-controlpanel")
    for name, value in values.items():
        widget = editor.locator(f"#form-widgets-{name}")
        if name == "default_language":
            widget.select_option(value)
        else:
            widget.fill(value)
    editor.get_by_role("button", name="Save").click()
    expect(editor.locator(".alert, .portalMessage").first).to_contain_text("Changes saved")


def add_page(editor, plone, name: str, title: str, **choices: str) -> str:
    """Add a page (Document) choosing, in its EU-POLNET tab, the given form; publish it."""
    editor.goto(f"{plone.url}/++add++Document")
    editor.locator("#form-widgets-IDublinCore-title").fill(title)
    editor.locator(".autotoc-nav a", has_text="EU-POLNET form").click()
    for field_name, value in choices.items():
        editor.locator(f"#form-widgets-IEmbeddedForm-{field_name}").select_option(value)
    screenshot(editor, f"editor-tab-{name}")
    editor.get_by_role("button", name="Save").click()
    expect(editor.locator(".alert, .portalMessage").first).to_contain_text("Item created")
    url = editor.url.split("?")[0].removesuffix("/view")
    # Private by default: publish it so that visitors see it.
    editor.locator("#plone-contentmenu-workflow > a").click()
    editor.locator("#workflow-transition-publish").click()
    expect(editor.locator("#plone-contentmenu-workflow")).to_contain_text("Published")
    return url


def records(plone, query: str) -> list[str]:
    """Names of the site's registry records matching `query` (through plone.restapi)."""
    response = requests.get(
        f"{plone.url}/@registry", params={"q": query, "b_size": 500}, auth=("admin", plone.password),
        headers={"Accept": "application/json"}, timeout=30,
    )
    return sorted(record["name"] for record in response.json()["items"])


def field(container, label: str):
    """A field of the embedded form by its label (required ones end with an asterisk)."""
    return container.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def test_administrator_installs_the_addon_from_site_setup(editor, plone):
    editor.goto(f"{plone.url}/@@prefs_install_products_form")
    addon_form(editor, "install").click()
    expect(addon_form(editor, "uninstall")).to_be_visible()
    editor.goto(f"{plone.url}/@@overview-controlpanel")
    expect(editor.get_by_role("link", name="EU-POLNET forms")).to_be_visible()


def test_listing_says_so_politely_when_the_registration_service_is_down(editor, visitor, plone):
    save_settings(editor, plone, registration_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    response = requests.get(f"{plone.url}/@@eupolnet-events", timeout=30)
    assert response.status_code == 200
    assert SERVICE_DOWN in response.text
    visitor.goto(f"{plone.url}/@@eupolnet-events")
    expect(visitor.get_by_role("status")).to_contain_text(SERVICE_DOWN)
    screenshot(visitor, "listing-service-down")


def test_a_service_that_hangs_delays_the_listing_by_the_timeout_only(editor, plone):
    with socket.create_server(("127.0.0.1", 0)) as hung:  # accepts connections, never answers
        save_settings(editor, plone, registration_url=f"http://127.0.0.1:{hung.getsockname()[1]}")
        started = time.monotonic()
        response = requests.get(f"{plone.url}/@@eupolnet-events", timeout=30)
        first = time.monotonic() - started
        started = time.monotonic()
        again = requests.get(f"{plone.url}/@@eupolnet-events", timeout=30)
        second = time.monotonic() - started
    assert response.status_code == again.status_code == 200
    assert SERVICE_DOWN in response.text and SERVICE_DOWN in again.text
    assert 3 < first < 10, "the read timeout (4 s) bounds the wait"
    assert second < 2, "a service that just failed is not asked again at once"


def test_editor_sets_the_service_urls_and_language_in_the_control_panel(editor, plone, services, published):
    save_settings(
        editor, plone,
        registration_url=services.registration.url, orders_url=services.orders.url, default_language="fr",
    )
    editor.reload()
    expect(editor.locator("#form-widgets-registration_url")).to_have_value(services.registration.url)
    expect(editor.locator("#form-widgets-orders_url")).to_have_value(services.orders.url)
    expect(editor.locator("#form-widgets-default_language")).to_have_value("fr")
    screenshot(editor, "control-panel")


def test_volto_reads_the_same_settings_through_plone_restapi(plone, services, published):
    """Volto's site setup edits the control panel through @controlpanels; its blocks read the
    public part of it, anonymously, from @eupolnet-settings."""
    json = {"Accept": "application/json"}
    admin = ("admin", plone.password)
    panels = requests.get(f"{plone.url}/@controlpanels", auth=admin, headers=json, timeout=30).json()
    assert {"@id": f"{plone.url}/@controlpanels/eupolnet-controlpanel", "title": "EU-POLNET forms",
            "group": "Add-on Configuration"}.items() <= next(
        panel for panel in panels if panel["@id"].endswith("/eupolnet-controlpanel")).items()
    panel = requests.get(f"{plone.url}/@controlpanels/eupolnet-controlpanel", auth=admin, headers=json, timeout=30)
    assert panel.json()["data"]["registration_url"] == services.registration.url
    assert set(panel.json()["schema"]["properties"]) == {"registration_url", "orders_url", "default_language"}
    assert requests.get(f"{plone.url}/@controlpanels/eupolnet-controlpanel", headers=json, timeout=30).status_code == 401

    settings = requests.get(f"{plone.url}/@eupolnet-settings", headers=json, timeout=30)
    assert settings.status_code == 200
    assert {key: value for key, value in settings.json().items() if key != "@id"} == {
        "registration_url": services.registration.url, "orders_url": services.orders.url,
        "default_language": "fr", "languages": ["de", "en", "es", "fr", "it", "pt"],
        "contact_email": "eupolnet@efus.eu",
    }
    events = requests.get(f"{plone.url}/@eupolnet-events", headers=json, timeout=30).json()["items"]
    assert [event["slug"] for event in events] == ["police-academy-lisbon", "webconference-cctv"]
    publications = requests.get(f"{plone.url}/@eupolnet-publications", headers=json, timeout=30).json()["items"]
    assert "safer-cities-guide" in [publication["slug"] for publication in publications]


def test_editor_chooses_the_event_from_the_services_list(editor, plone, pages):
    editor.goto(f"{plone.url}/++add++Document")
    options = editor.locator("#form-widgets-IEmbeddedForm-eupolnet_event option")
    expect(options).to_contain_text(["No value", "Académie de police à Lisbonne", "Webconférence : vidéoprotection"])
    pages["academy"] = add_page(editor, plone, "academy", "Police academy in Lisbon", eupolnet_event="police-academy-lisbon")


def test_visitor_registers_through_the_plone_page(visitor, plone, services, staff, pages):
    visitor.goto(pages["academy"])
    # The snippet the add-on placed, exactly as any CMS would hold it.
    url = services.registration.url
    assert (  # as served (Plone's HTML serializer writes `defer="defer"`, the same attribute)
        f'<div data-eupolnet-event="police-academy-lisbon" data-lang="fr"></div>\n'
        f'<script src="{url}/embed.js" defer="defer"></script>\n'
        f'<noscript><a href="{url}/events/police-academy-lisbon/register?lang=fr">Register / S\'inscrire</a></noscript>'
    ) in requests.get(pages["academy"], timeout=30).text

    form = visitor.locator(EVENT)
    expect(form.get_by_role("heading", name="Académie de police à Lisbonne")).to_be_visible()
    field(form, "Prénom").fill("Inès")
    field(form, "Nom").fill("Moreau")
    field(form, "Adresse électronique").fill("ines.moreau@example.org")
    field(form, "Organisation").fill("Ville de Lyon")
    field(form, "Pays").select_option("FR")
    form.get_by_label(re.compile("^J[’']accepte")).check()  # the catalogue's typographic apostrophe
    screenshot(visitor, "visitor-page-form")
    form.get_by_role("button", name=REGISTER_FR).click()
    expect(form.get_by_role("status")).to_contain_text("Vous êtes inscrit·e")
    screenshot(visitor, "visitor-page-registered")

    held = requests.get(
        f"{services.registration.url}/api/v1/events/police-academy-lisbon/registrations", headers=staff, timeout=10
    ).json()
    assert [(r["email"], r["status"], r["first_name"], r["organisation"]) for r in held] == [
        ("ines.moreau@example.org", "confirmed", "Inès", "Ville de Lyon"),
    ]


def test_editor_places_a_publication_order_form(editor, visitor, plone, services, pages):
    pages["publication"] = add_page(
        editor, plone, "publication", "Guide to safer cities", eupolnet_publication="safer-cities-guide",
        eupolnet_language="en",
    )
    visitor.goto(pages["publication"])
    placed = visitor.locator(f'{PUBLICATION}[data-lang="en"][data-orders-url="{services.orders.url}"]')
    expect(placed).to_have_count(1)
    expect(placed.get_by_role("heading", name="Guide to Safer Cities")).to_be_visible()
    expect(placed.get_by_role("button", name="Send my order")).to_be_visible()
    screenshot(visitor, "visitor-publication-page")


def test_portlet_and_listing_lead_visitors_to_an_event_form(editor, visitor, plone):
    editor.goto(f"{plone.url}/@@manage-portlets")
    expect(editor.locator("select option", has_text="EU-POLNET events").first).to_be_attached()
    editor.goto(f"{plone.url}/++contextportlets++plone.rightcolumn/+/eupolnet.plone.UpcomingEvents")
    editor.get_by_role("button", name="Save").click()

    visitor.goto(plone.url)
    portlet = visitor.locator(".portletEupolnetEvents")
    expect(portlet.locator(".eupolnet-event-title")).to_have_text(
        ["Académie de police à Lisbonne", "Webconférence : vidéoprotection et vie privée"]
    )
    expect(portlet).to_contain_text("En ligne")
    portlet.get_by_role("link", name="Webconférence : vidéoprotection et vie privée").click()
    expect(visitor).to_have_url(f"{plone.url}/@@eupolnet-event/webconference-cctv")
    expect(visitor.locator("h1.documentFirstHeading")).to_have_text("Webconférence : vidéoprotection et vie privée")
    expect(visitor.locator('[data-eupolnet-event="webconference-cctv"]').get_by_role("button", name=REGISTER_FR)).to_be_visible()

    visitor.goto(f"{plone.url}/@@eupolnet-events")
    expect(visitor.locator("#content-core .eupolnet-event")).to_have_count(2)
    screenshot(visitor, "listing")


def test_pages_still_render_when_the_registration_service_stops(visitor, plone, services, pages):
    services.registration.stop()
    try:
        for url in (pages["academy"], plone.url, f"{plone.url}/@@eupolnet-events", f"{plone.url}/@@eupolnet-event/x-y"):
            response = requests.get(url, timeout=30)
            assert response.status_code == 200, url
        visitor.goto(pages["academy"])
        expect(visitor.get_by_role("heading", level=1)).to_have_text("Police academy in Lisbon")
    finally:
        services.registration.start()


def test_uninstall_removes_settings_control_panel_viewlet_portlet_and_behavior(editor, plone, pages):
    assert records(plone, "eupolnet") == [
        "eupolnet.plone.default_language", "eupolnet.plone.orders_url", "eupolnet.plone.registration_url",
    ]
    editor.goto(f"{plone.url}/@@prefs_install_products_form")
    addon_form(editor, "uninstall").click()
    expect(addon_form(editor, "install")).to_be_visible()

    assert records(plone, "plone.site_title") == ["plone.site_title"]
    assert records(plone, "eupolnet") == []
    admin = ("admin", plone.password)
    assert requests.get(f"{plone.url}/@@eupolnet-controlpanel", auth=admin, timeout=30).status_code == 404
    assert requests.get(f"{plone.url}/@@eupolnet-events", timeout=30).status_code == 404
    json = {"Accept": "application/json"}
    for name in ("@eupolnet-settings", "@eupolnet-events", "@eupolnet-publications"):
        assert requests.get(f"{plone.url}/{name}", headers=json, timeout=30).status_code == 404
    panels = requests.get(f"{plone.url}/@controlpanels", auth=admin, headers=json, timeout=30).json()
    assert not [panel for panel in panels if panel["@id"].endswith("/eupolnet-controlpanel")]
    editor.goto(f"{plone.url}/@@overview-controlpanel")
    expect(editor.get_by_role("link", name="EU-POLNET forms")).to_have_count(0)
    editor.goto(f"{plone.url}/@@manage-portlets")
    expect(editor.locator("select option", has_text="EU-POLNET events")).to_have_count(0)
    editor.goto(f"{pages['academy']}/edit")
    expect(editor.locator("#form-widgets-IDublinCore-title")).to_be_visible()
    expect(editor.locator("#fieldset-eupolnet")).to_have_count(0)

    # The page and the site root (whose portlet assignment stays behind) render without our parts.
    for url in (pages["academy"], plone.url):
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, url
        assert "data-eupolnet-event" not in response.text
        assert "portletEupolnetEvents" not in response.text
