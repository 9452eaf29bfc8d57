"""What embed.js offers integrators, in a real browser: a page with a strict
Content-Security-Policy, prefilled fields, callbacks, the button mode and a kind's list."""
from __future__ import annotations

import datetime as dt
import json

from playwright.sync_api import expect

from tests.embed.helpers import axe_violations, screenshot, snippet
from tests.embed.test_browser import EVENT, field, fill_person

#: collects the page's CSP violations (an init script runs whatever the page's CSP says)
WATCH_CSP = "window.violations = []; document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));"


def test_a_site_with_a_strict_csp_shows_the_styled_form_and_registers(page, host, registration_url, publish_event, registrations):
    publish_event()
    csp = (f"default-src 'none'; script-src 'self' {registration_url}; style-src 'self'; "
           f"connect-src {registration_url}; img-src 'self'; base-uri 'none'; form-action 'self'")
    page.add_init_script(WATCH_CSP)
    page.goto(host.page("/strict", snippet(registration_url, "police-academy-lisbon"), headers={"Content-Security-Policy": csp}))
    form = page.locator(EVENT)
    button = form.get_by_role("button", name="Register")
    expect(button).to_be_visible()
    assert button.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 80, 122)", "styled under style-src 'self'"
    assert field(form, "First name").evaluate("e => getComputedStyle(e).minHeight") != "auto"
    screenshot(page, "10-strict-csp")
    fill_person(form)
    button.click()
    expect(form.get_by_role("status")).to_contain_text("You are registered")
    assert page.evaluate("window.violations") == []
    assert [r["email"] for r in registrations("police-academy-lisbon")] == ["ana1@example.org"]


def test_prefill_and_callbacks(page, host, registration_url, publish_event, registrations):
    publish_event()
    options = """<script>
      window.calls = [];
      window.eupolnetEmbedOptions = {
        prefill: {organisation: "Polícia Municipal de Lisboa", last_name: "from the options"},
        onLoad: (detail) => calls.push(["load", detail.event, detail.title]),
        onSubmit: (detail) => calls.push(["submit", detail.values.email, Object.keys(detail.values).includes("website")]),
        onSuccess: (detail) => calls.push(["success", detail.status, detail.created]),
      };
      document.addEventListener("eupolnet:success", (e) => calls.push(["event", e.detail.status]));
    </script>"""
    element = ('<div data-eupolnet-event="police-academy-lisbon" data-lang="en" data-prefill-first-name="Ana" '
               'data-prefill-last-name="Silva" data-prefill-email="ana@example.org" data-prefill-consent="true"></div>'
               f'<script src="{registration_url}/embed.js" defer></script>')
    page.goto(host.page("/prefill", options + element))
    form = page.locator(EVENT)
    expect(field(form, "First name")).to_have_value("Ana")
    expect(field(form, "Last name")).to_have_value("Silva")  # the element's attribute wins over the page's options
    expect(field(form, "Organisation")).to_have_value("Polícia Municipal de Lisboa")
    expect(form.get_by_label("I agree")).not_to_be_checked()  # consent is the person's own act
    field(form, "Country").select_option("PT")
    form.get_by_label("I agree").check()
    form.get_by_role("button", name="Register").click()
    expect(form.get_by_role("status")).to_contain_text("You are registered")
    assert page.evaluate("calls") == [
        ["load", "police-academy-lisbon", "Police academy in Lisbon"],
        ["submit", "ana@example.org", False],
        ["event", "confirmed"],  # the DOM event goes out first, then the callback
        ["success", "confirmed", True],
    ]
    assert [(r["first_name"], r["organisation"]) for r in registrations("police-academy-lisbon")] == [("Ana", "Polícia Municipal de Lisboa")]


def test_button_mode_opens_the_form_in_a_dialog(page, host, registration_url, publish_event, registrations):
    publish_event()
    element = ('<p>Three days on community policing.</p><div data-eupolnet-event="police-academy-lisbon" data-lang="fr" '
               f'data-mode="button"></div><script src="{registration_url}/embed.js" defer></script>')
    page.goto(host.page("/button", element))
    launcher = page.locator(EVENT).get_by_role("button", name="S’inscrire")
    expect(launcher).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    launcher.click()
    dialog = page.get_by_role("dialog", name="Académie de police à Lisbonne")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    launcher.click()
    field(dialog, "Prénom").fill("Ana")
    dialog.locator("#f-last_name").fill("Silva")
    dialog.locator("#f-email").fill("ana@example.org")
    dialog.locator("#f-country").select_option("PT")
    dialog.locator("#f-consent").check()
    screenshot(page, "11-button-dialog")
    dialog.get_by_role("button", name="M’inscrire").click()
    expect(dialog.get_by_role("status")).to_contain_text("Vous êtes inscrit·e")
    assert axe_violations(page, EVENT) == []
    dialog.get_by_role("button", name="Fermer").click()
    expect(dialog).to_be_hidden()
    assert [r["email"] for r in registrations("police-academy-lisbon")] == ["ana@example.org"]


def test_a_kinds_upcoming_events_each_open_their_form(page, host, registration_url, publish_event, registrations):
    soon = dt.datetime(2027, 3, 9, 9, 0, tzinfo=dt.timezone.utc)
    publish_event(slug="academy-porto", title={"en": "Police academy in Porto", "fr": "Académie de police à Porto"},
                  starts_at=(soon + dt.timedelta(days=40)).isoformat(), ends_at=(soon + dt.timedelta(days=42)).isoformat())
    publish_event(slug="academy-lisbon", starts_at=soon.isoformat(), ends_at=(soon + dt.timedelta(days=2)).isoformat())
    publish_event(slug="webconf", kind="webconference", title={"en": "Web conference", "fr": "Webconférence"})
    element = f'<div data-eupolnet-events="academy" data-lang="fr"></div><script src="{registration_url}/embed.js" defer></script>'
    page.goto(host.page("/academies", element))
    listing = page.locator("[data-eupolnet-events]")
    titles = listing.get_by_role("heading", level=3)
    expect(titles).to_have_text(["Académie de police à Lisbonne", "Académie de police à Porto"])
    expect(listing.get_by_role("listitem").first).to_contain_text("9 mars 2027")
    assert axe_violations(page, "[data-eupolnet-events]") == []
    screenshot(page, "12-events-list")
    listing.get_by_role("listitem").nth(1).get_by_role("button", name="S’inscrire").click()
    dialog = page.get_by_role("dialog", name="Académie de police à Porto")
    expect(dialog).to_be_visible()
    expect(field(dialog, "Prénom")).to_be_visible()


def test_a_kind_without_upcoming_events_says_so(page, host, registration_url):
    element = f'<div data-eupolnet-events="assembly" data-lang="de"></div><script src="{registration_url}/embed.js" defer></script>'
    page.goto(host.page("/none", element))
    expect(page.locator("[data-eupolnet-events]")).to_contain_text("Derzeit sind keine Veranstaltungen geplant.")


def test_mount_from_the_pages_own_script(page, host, registration_url, publish_event):
    publish_event()
    page.goto(host.page("/later", f'<div id="later"></div><script src="{registration_url}/embed.js" defer></script>'))
    page.wait_for_function("window.eupolnetEmbed")
    page.evaluate("""() => {
        const element = document.getElementById("later");
        element.dataset.eupolnetEvent = "police-academy-lisbon";
        window.loaded = null;
        eupolnetEmbed.mount(element, {prefill: {first_name: "Rui"}, onLoad: (detail) => { window.loaded = detail.title; }});
    }""")
    expect(field(page.locator("#later"), "First name")).to_have_value("Rui")
    assert page.evaluate("window.loaded") == "Police academy in Lisbon"
    assert json.loads(page.evaluate("JSON.stringify(window.violations || [])")) == []
