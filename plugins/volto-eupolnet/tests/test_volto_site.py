"""The add-on in a real Volto site (Plone 6.2 backend, Volto frontend), used as a site
administrator, an editor and a visitor would: site setup, the three blocks, a registration
with the keyboard alone, axe-core, and the registration service stopped.

The tests run in file order and build on each other (one site for the whole module).
"""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.embed.helpers import axe_violations

from conftest import FRONTEND

EVENT = '[data-eupolnet-event="police-academy-lisbon"]'
PUBLICATION = '[data-eupolnet-publication="safer-cities-guide"]'
UNAVAILABLE = "The EU-POLNET services cannot be reached right now"
REPO = FRONTEND.parents[1]
SCREENSHOTS = REPO / "var" / "screenshots" / "volto"


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {}


def screenshot(page, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def add_block(editor, block_id: str) -> None:
    """Into the empty text block that has the focus: Add block, search, choose."""
    editor.get_by_title("Add block").click()
    editor.locator(".blocks-chooser").get_by_role("textbox", name="Search").fill("EU-POLNET")
    editor.locator(f".blocks-chooser button.{block_id}").click()
    expect(editor.locator(f"[role=presentation].block.{block_id} .eupolnet-block-edit")).to_be_visible()


def new_text_block_after(editor, block_id: str) -> None:
    """Select the block by its frame and press Enter: Volto adds an empty text block after it."""
    editor.locator(f"[role=presentation].block.{block_id} .eupolnet-block-title").click()
    editor.keyboard.press("Enter")


def test_site_setup_shows_the_control_panel_and_saves_the_service_urls(editor, volto, backend, services, published):
    editor.goto(f"{volto.url}/controlpanel")
    expect(editor.get_by_role("link", name="EU-POLNET forms")).to_be_visible()
    editor.get_by_role("link", name="EU-POLNET forms").click()
    expect(editor).to_have_url(f"{volto.url}/controlpanel/eupolnet-controlpanel")
    editor.locator("#field-registration_url").fill(services.registration.url)
    editor.locator("#field-orders_url").fill(services.orders.url)
    screenshot(editor, "control-panel")
    editor.locator("#toolbar-save").click()
    expect(editor.get_by_text("Changes saved")).to_be_visible()
    settings = requests.get(f"{volto.url}/++api++/@eupolnet-settings", timeout=30).json()
    assert (settings["registration_url"], settings["orders_url"]) == (services.registration.url, services.orders.url)


def test_editor_adds_the_three_blocks_and_saves(editor, volto, backend, pages):
    editor.goto(f"{volto.url}/add?type=Document")
    title = editor.locator(".documentFirstHeading").first
    title.click()
    editor.keyboard.type("EU-POLNET in Volto")
    editor.keyboard.press("Enter")

    add_block(editor, "eupolnetRegistrationForm")
    picker = editor.get_by_role("combobox", name="Event")
    picker.fill("lisb")
    expect(editor.get_by_role("option")).to_have_text(["Police academy in Lisbon"])
    picker.press("ArrowDown")
    picker.press("ArrowUp")
    picker.press("Enter")
    expect(editor.get_by_text("Chosen: Police academy in Lisbon")).to_be_visible()

    new_text_block_after(editor, "eupolnetRegistrationForm")
    add_block(editor, "eupolnetPublicationOrder")
    editor.get_by_role("combobox", name="Publication").fill("safer")
    editor.get_by_role("option", name="Guide to Safer Cities").click()
    expect(editor.get_by_text("Chosen: Guide to Safer Cities")).to_be_visible()

    new_text_block_after(editor, "eupolnetPublicationOrder")
    add_block(editor, "eupolnetUpcomingEvents")
    editor.get_by_label("Kind of event").select_option("academy")
    expect(editor.locator(".eupolnet-events .eupolnet-event-title")).to_have_text(["Police academy in Lisbon"])
    editor.locator(".documentFirstHeading").first.scroll_into_view_if_needed()
    screenshot(editor, "editor-blocks", full_page=False)  # the editor's own scrolling breaks full-page shots

    editor.locator("#toolbar-save").click()
    editor.wait_for_url(re.compile(r"/eu-polnet-in-volto$"))
    pages["page"] = editor.url
    blocks = requests.get(
        f"{backend.url}/eu-polnet-in-volto", auth=("admin", backend.password), headers={"Accept": "application/json"},
        timeout=30,
    ).json()["blocks"]
    ours = sorted(
        (block["@type"], block.get("slug") or block.get("kind")) for block in blocks.values()
        if block["@type"].startswith("eupolnet")
    )
    assert ours == [
        ("eupolnetPublicationOrder", "safer-cities-guide"),
        ("eupolnetRegistrationForm", "police-academy-lisbon"),
        ("eupolnetUpcomingEvents", "academy"),
    ]
    response = requests.post(
        f"{backend.url}/eu-polnet-in-volto/@workflow/publish", auth=("admin", backend.password),
        headers={"Accept": "application/json"}, timeout=30,
    )
    assert response.status_code == 200, response.text


def test_visitor_sees_the_blocks_and_registers_with_the_keyboard_alone(visitor, services, staff, pages):
    visitor.goto(pages["page"])
    form = visitor.locator(EVENT)
    expect(form.get_by_role("heading", name="Police academy in Lisbon")).to_be_visible()
    expect(visitor.locator(PUBLICATION).get_by_role("button", name="Send my order")).to_be_visible()
    events = visitor.get_by_role("region", name="Upcoming EU-POLNET events")
    expect(events.get_by_role("link")).to_have_text(["Police academy in Lisbon"])
    expect(events.get_by_role("link")).to_have_attribute(
        "href", f"{services.registration.url}/events/police-academy-lisbon/register?lang=en"
    )
    assert axe_violations(visitor, "#page-document") == []
    screenshot(visitor, "visitor-page")

    form.get_by_label(re.compile(r"^First name")).focus()
    for text in ("Ana", "Silva", "ana.silva@example.org", "Câmara Municipal de Lisboa"):
        visitor.keyboard.type(text)
        visitor.keyboard.press("Tab")
    for _ in range(10):  # position, city, country, language: to the consent box
        if form.get_by_role("checkbox").evaluate("box => box.matches(':focus')"):
            break
        visitor.keyboard.press("Tab")
    visitor.keyboard.press("Space")
    visitor.keyboard.press("Tab")
    visitor.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_contain_text("You are registered")
    assert axe_violations(visitor, "#page-document") == []
    screenshot(visitor, "visitor-registered")

    held = requests.get(
        f"{services.registration.url}/api/v1/events/police-academy-lisbon/registrations", headers=staff, timeout=10
    ).json()
    assert [(r["email"], r["status"], r["first_name"]) for r in held] == [("ana.silva@example.org", "confirmed", "Ana")]


def test_with_the_registration_service_stopped_the_page_shows_the_message(visitor, editor, services, pages):
    services.registration.stop()
    try:
        visitor.goto(pages["page"])
        expect(visitor.get_by_role("heading", level=1)).to_have_text("EU-POLNET in Volto")
        message = visitor.locator(".eupolnet-unavailable").first
        expect(message).to_contain_text(UNAVAILABLE)
        expect(visitor.get_by_role("link", name="eupolnet@efus.eu").first).to_have_attribute(
            "href", "mailto:eupolnet@efus.eu"
        )
        assert axe_violations(visitor, "#page-document") == []
        screenshot(visitor, "visitor-service-down")

        # The editor still edits and saves the page; the choice made is kept. (The backend may
        # still hold the list it read less than a minute ago: the unit tests show the block's
        # message for a list that cannot be read.)
        editor.goto(f"{pages['page']}/edit")
        expect(editor.get_by_text("Chosen: Police academy in Lisbon")).to_be_visible()
        editor.locator("#toolbar-save").click()
        editor.wait_for_url(pages["page"])
    finally:
        services.registration.start()

