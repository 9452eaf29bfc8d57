"""The embedded forms in a real browser: a CMS-like page on another origin holds the snippet."""
from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.embed.helpers import axe_violations, focused, screenshot, snippet

EVENT = '[data-eupolnet-event="police-academy-lisbon"]'


def field(container, label: str):
    """The form field labelled `label` (a required field's label ends with an asterisk)."""
    return container.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def fill_person(form, number: int = 1, email: str | None = None) -> None:
    """Fill in the registration form inside `form` (a locator) as a person would, with the mouse."""
    field(form, "First name").fill(f"Ana{number}")
    field(form, "Last name").fill("Silva")
    field(form, "Email").fill(email or f"ana{number}@example.org")
    field(form, "Organisation").fill("Polícia Municipal")
    field(form, "Country").select_option("PT")
    form.get_by_label("I agree").check()


def test_register_confirmed_then_past_capacity_waitlisted(page, host, registration_url, publish_event, registrations):
    publish_event(capacity=1)
    url = host.page("/academy", snippet(registration_url, "police-academy-lisbon"))
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(url)
    form = page.locator(EVENT)
    expect(form.get_by_role("heading", name="Police academy in Lisbon")).to_be_visible()
    fill_person(form, 1)
    form.get_by_role("button", name="Register").click()
    expect(form.get_by_role("status")).to_contain_text("You are registered")
    expect(form.get_by_role("status")).to_contain_text("ana1@example.org")

    page.goto(url)
    expect(form.get_by_text("This event is full")).to_be_visible()
    fill_person(form, 2)
    form.get_by_role("button", name="Register").click()
    expect(form.get_by_role("status")).to_contain_text("You are on the waiting list")

    assert [(r["email"], r["status"], r["country"]) for r in registrations("police-academy-lisbon")] == [
        ("ana1@example.org", "confirmed", "PT"), ("ana2@example.org", "waitlisted", "PT"),
    ]
    assert not [text for text in errors if "EU-POLNET" in text], "an allowed page is told nothing"


def test_bad_input_shows_errors_next_to_fields_and_axe_finds_nothing(page, host, registration_url, publish_event, registrations):
    publish_event(extra_fields=[{"name": "dietary", "type": "select", "required": True, "choices": ["none", "vegetarian", "halal"],
                                 "label": {"en": "Dietary needs", "fr": "Régime alimentaire"}}])
    page.goto(host.page("/academy", snippet(registration_url, "police-academy-lisbon")))
    form = page.locator(EVENT)
    expect(form.get_by_role("button", name="Register")).to_be_visible()
    assert axe_violations(page, EVENT) == []
    screenshot(page, "1-empty")

    field(form, "First name").fill("Ana")
    field(form, "Email").fill("ana@example")  # the server knows it is not an address
    form.get_by_role("button", name="Register").click()

    summary = form.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    last_name = field(form, "Last name")
    expect(last_name).to_have_attribute("aria-invalid", "true")
    expect(last_name).to_have_accessible_description("This field is required.")
    expect(field(form, "Email")).to_have_accessible_description("Enter an email address like name@example.org.")
    expect(field(form, "Dietary needs")).to_have_accessible_description("This field is required.")
    expect(form.get_by_label("I agree")).to_have_accessible_description("Please tick this box to register.")
    expect(field(form, "First name")).not_to_have_attribute("aria-invalid", "true")
    assert focused(page) == "f-last_name", "the first faulty field has the focus"
    # each message sits right under its own field
    email_box, email_error = field(form, "Email").bounding_box(), form.locator("#f-email-error").bounding_box()
    assert 0 <= email_error["y"] - (email_box["y"] + email_box["height"]) < 20
    assert axe_violations(page, EVENT) == []
    screenshot(page, "2-errors")
    assert registrations("police-academy-lisbon") == []

    summary.get_by_role("link", name="Email").click()
    assert focused(page) == "f-email"
    field(form, "Last name").fill("Silva")
    field(form, "Email").fill("ana@example.org")
    field(form, "Dietary needs").select_option("vegetarian")
    form.get_by_label("I agree").check()
    form.get_by_role("button", name="Register").click()
    expect(form.get_by_role("status")).to_contain_text("You are registered")
    assert focused(page) == "div", "the outcome takes the focus from the vanished button"
    assert axe_violations(page, EVENT) == []
    screenshot(page, "3-success")
    [registration] = registrations("police-academy-lisbon")
    assert registration["answers"] == {"dietary": "vegetarian"}


def test_whole_registration_with_the_keyboard_alone(page, host, registration_url, publish_event, registrations):
    publish_event()
    page.goto(host.page("/academy", snippet(registration_url, "police-academy-lisbon")))
    expect(page.locator(EVENT).get_by_role("button", name="Register")).to_be_visible()

    def tab_to(element_id: str) -> None:
        for _ in range(10):
            page.keyboard.press("Tab")
            if focused(page) == element_id:
                return
        raise AssertionError(f"Tab never reached {element_id}; focus is on {focused(page)}")

    tab_to("f-first_name")
    page.keyboard.press("Enter")  # submitting the empty form
    expect(page.locator(EVENT).get_by_role("alert")).to_contain_text("There is a problem")
    assert focused(page) == "f-first_name"
    for element_id, text in (("f-first_name", "Ana"), ("f-last_name", "Silva"), ("f-email", "ana@example.org")):
        if focused(page) != element_id:
            tab_to(element_id)
        page.keyboard.type(text)
    tab_to("f-consent")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert focused(page) == "button", "the hidden honeypot is skipped"
    page.keyboard.press("Enter")
    expect(page.locator(EVENT).get_by_role("status")).to_contain_text("You are registered")
    assert [(r["first_name"], r["status"]) for r in registrations("police-academy-lisbon")] == [("Ana", "confirmed")]


def test_outcomes_members_only_verify_email_and_closed_in_french(page, host, registration_url, publish_event, registrations):
    publish_event(slug="general-assembly", kind="assembly", title={"en": "General assembly", "fr": "Assemblée générale"}, members_only=True)
    publish_event(slug="webconf", kind="webconference", title={"en": "Web conference", "fr": "Webconférence"}, double_opt_in=True)
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat()
    publish_event(slug="closed-academy", title={"en": "Closed academy", "fr": "Académie close"}, registration_closes_at=past)
    page.goto(host.page("/events", "\n".join(
        snippet(registration_url, slug, lang="fr") for slug in ("general-assembly", "webconf", "closed-academy")
    )))

    def register_in_french(form) -> None:
        field(form, "Prénom").fill("Ana")
        field(form, "Nom").fill("Silva")
        field(form, "Adresse électronique").fill("ana@example.org")
        form.get_by_label("J’accepte").check()
        form.get_by_role("button", name="M’inscrire").click()

    assembly = page.locator('[data-eupolnet-event="general-assembly"]')
    register_in_french(assembly)
    expect(assembly.get_by_role("alert")).to_contain_text("Cet événement est réservé aux membres de l’Efus")
    expect(assembly.get_by_role("alert")).to_contain_text("eupolnet@efus.eu")
    expect(field(assembly, "Adresse électronique")).to_have_attribute("aria-invalid", "true")

    webconf = page.locator('[data-eupolnet-event="webconf"]')
    register_in_french(webconf)
    expect(webconf.get_by_role("status")).to_contain_text("Veuillez confirmer votre adresse électronique")

    closed = page.locator('[data-eupolnet-event="closed-academy"]')
    expect(closed).to_contain_text("Les inscriptions sont closes")
    expect(closed.get_by_role("button")).to_have_count(0)
    screenshot(page, "4-outcomes-fr")
    assert registrations("general-assembly") == []
    assert [r["status"] for r in registrations("webconf")] == ["pending"]


def test_page_on_an_origin_not_allowed_cannot_submit(page, foreign_host, registration_url, publish_event, registrations):
    publish_event()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(foreign_host.page("/academy", snippet(registration_url, "police-academy-lisbon")))
    form = page.locator(EVENT)
    expect(form).to_contain_text("The form cannot be shown here")
    # the integrator is told, in the console, which setting to change
    deadline = time.monotonic() + 10
    while not any("EMBED_ALLOWED_ORIGINS" in text for text in errors) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    [explained] = [text for text in errors if "EMBED_ALLOWED_ORIGINS" in text]
    assert explained == (
        f"EU-POLNET embed: {registration_url} does not allow this page's origin ({foreign_host.origin}) to use its forms. "
        f"Add {foreign_host.origin} to EMBED_ALLOWED_ORIGINS (comma-separated origins) in the services' environment "
        'and restart them (README, "Embedding the forms").')
    expect(form.get_by_role("link", name="open the form")).to_have_attribute(
        "href", f"{registration_url}/events/police-academy-lisbon/register?lang=en")

    outcome = page.evaluate(
        """async (url) => {
            try {
                const response = await fetch(url, {method: "POST", credentials: "omit", headers: {"Content-Type": "application/json"},
                    body: JSON.stringify({first_name: "Eve", last_name: "Mallory", email: "eve@example.org", consent: true})});
                return `answered ${response.status}`;
            } catch (error) { return `blocked: ${error.name}`; }
        }""",
        f"{registration_url}/api/v1/events/police-academy-lisbon/registrations",
    )
    assert outcome == "blocked: TypeError"
    assert registrations("police-academy-lisbon") == []


def test_noscript_page_registers_without_javascript(browser, host, registration_url, publish_event, registrations):
    publish_event()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 900, "height": 1000})
    page = context.new_page()
    try:
        page.goto(host.page("/academy", snippet(registration_url, "police-academy-lisbon", lang="fr")))
        page.get_by_role("link", name="Register / S'inscrire").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Académie de police à Lisbonne")

        field(page, "Prénom").fill("Ana")
        field(page, "Adresse électronique").fill("ana@example")
        page.get_by_role("button", name="M’inscrire").click()
        expect(page.get_by_role("alert")).to_contain_text("Il y a un problème")
        expect(field(page, "Nom")).to_have_accessible_description("Ce champ est obligatoire.")
        expect(field(page, "Adresse électronique")).to_have_accessible_description(
            "Saisissez une adresse électronique du type nom@exemple.org.")
        expect(field(page, "Prénom")).to_have_value("Ana")
        screenshot(page, "5-noscript-errors")

        field(page, "Nom").fill("Silva")
        field(page, "Adresse électronique").fill("ana@example.org")
        field(page, "Pays").select_option("PT")
        page.get_by_label("J’accepte").check()
        page.get_by_role("button", name="M’inscrire").click()
        expect(page.get_by_role("status")).to_contain_text("Vous êtes inscrit·e")
        screenshot(page, "6-noscript-success")
    finally:
        context.close()
    assert [(r["email"], r["language"], r["country"], r["status"]) for r in registrations("police-academy-lisbon")] == [
        ("ana@example.org", "fr", "PT", "confirmed")]


def test_noscript_page_passes_axe(page, registration_url, publish_event):
    publish_event()
    page.goto(f"{registration_url}/events/police-academy-lisbon/register?lang=en")
    assert axe_violations(page, "html") == []
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page, "html") == []


AGGRESSIVE_CSS = """
  html { font-size: 10px; }
  * { font-family: "Comic Sans MS", cursive !important; color: #c0c !important; letter-spacing: 2px; }
  div { padding: 12px; border: 4px dashed red; background: #ffeb3b; text-transform: uppercase; }
  form, input, select, textarea, button, label, p, h2, h3 { all: unset !important; font-size: 40px !important; }
  input { border: 6px solid lime !important; width: 10px !important; }
  .field, .eupolnet, .summary { display: none !important; }
  .note { color: green; }
  [data-eupolnet-event] { --eupolnet-accent: rgb(138, 28, 28); }
"""


def test_host_css_and_the_form_leave_each_other_alone_but_the_host_can_theme_it(page, host, registration_url, publish_event):
    publish_event()
    page.goto(host.page("/academy", '<p class="note">Host paragraph</p>' + snippet(registration_url, "police-academy-lisbon")
                        + '<button class="host">Host button</button>', css=AGGRESSIVE_CSS))
    form = page.locator(EVENT)
    first_name = field(form, "First name")
    expect(first_name).to_be_visible()
    style = first_name.evaluate("e => { const s = getComputedStyle(e); return [s.fontSize, s.borderTopColor, s.fontFamily, s.width] }")
    assert style[0] == "16px" and style[1] != "rgb(0, 255, 0)" and "Comic" not in style[2] and float(style[3][:-2]) > 200
    # our styles do not reach the host page's own elements
    host_button = page.locator("button.host").evaluate("e => [getComputedStyle(e).fontSize, getComputedStyle(e).borderTopStyle]")
    assert host_button == ["40px", "none"]
    button = form.get_by_role("button", name="Register")
    assert button.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(138, 28, 28)", "themed by the host page"
    screenshot(page, "7-aggressive-host-css")
    fill_person(form)
    form.get_by_role("button", name="Register").click()
    expect(form.get_by_role("status")).to_contain_text("You are registered")


def test_publication_order_form(page, host, services, staff, registration_url):
    created = requests.post(f"{services.orders.url}/api/v1/publications", headers=staff, timeout=10, json={
        "slug": "police-population-relations", "languages": ["fr", "en"], "stock": 100,
        "title": {"en": "Police-Population Relations", "fr": "Relations police-population"}})
    assert created.status_code == 201, created.text
    page.goto(host.page("/publications", snippet(registration_url, "police-population-relations", kind="publication", orders_url=services.orders.url)))
    form = page.locator('[data-eupolnet-publication="police-population-relations"]')
    expect(form.get_by_role("heading", name="Police-Population Relations")).to_be_visible()
    field(form, "Number of copies").fill("2")
    field(form, "First name").fill("Ana")
    field(form, "Last name").fill("Silva")
    field(form, "Address").fill("Rua do Comércio 1")
    field(form, "City").fill("Lisboa")
    field(form, "Postcode").fill("1100-150")
    field(form, "Email").fill("not-an-email")
    form.get_by_role("button", name="Send my order").click()
    expect(field(form, "Country")).to_have_accessible_description("This field is required.")
    expect(field(form, "Email")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page, '[data-eupolnet-publication="police-population-relations"]') == []

    field(form, "Country").select_option("PT")
    field(form, "Email").fill("ana@example.org")
    form.get_by_role("button", name="Send my order").click()
    expect(form.get_by_role("status")).to_contain_text("Your order is received")
    expect(form.get_by_role("status")).to_contain_text(r"€16.00")
    screenshot(page, "8-order-success")
    orders = requests.get(f"{services.orders.url}/api/v1/orders", headers=staff, timeout=10).json()
    assert [(o["email"], o["channel"], o["lines"][0]["copies"]) for o in orders] == [("ana@example.org", "web", 2)]


#: per language: event title, first-name label, button, start of the consent, "required" error,
#: the service's refusal of a bad email, the outcome's title
SIX = {
    "en": ("Police academy in Lisbon", "First name", "Register me", "I agree that Efus stores", "This field is required.",
           "Enter an email address like name@example.org.", "You are registered"),
    "fr": ("Académie de police à Lisbonne", "Prénom", "M’inscrire", "J’accepte que l’Efus conserve", "Ce champ est obligatoire.",
           "Saisissez une adresse électronique du type nom@exemple.org.", "Vous êtes inscrit·e"),
    "es": ("Academia de policía en Lisboa", "Nombre", "Inscribirme", "Acepto que el Efus conserve", "Este campo es obligatorio.",
           "Introduzca una dirección de correo electrónico como nombre@ejemplo.org.", "Está inscrito/a"),
    "it": ("Accademia di polizia a Lisbona", "Nome", "Iscrivimi", "Acconsento a che l’Efus conservi", "Questo campo è obbligatorio.",
           "Inserisca un indirizzo email come nome@esempio.org.", "La Sua iscrizione è registrata"),
    "de": ("Polizeiakademie in Lissabon", "Vorname", "Jetzt anmelden", "Ich bin damit einverstanden, dass das Efus",
           "Dieses Feld ist ein Pflichtfeld.", "Geben Sie eine E-Mail-Adresse wie name@beispiel.org ein.", "Sie sind angemeldet"),
    "pt": ("Academia de polícia em Lisboa", "Nome próprio", "Inscrever-me", "Aceito que o Efus conserve", "Este campo é obrigatório.",
           "Introduza um endereço de correio eletrónico como nome@exemplo.org.", "A sua inscrição está registada"),
}


@pytest.mark.parametrize("lang", list(SIX))
def test_the_form_speaks_each_of_the_six_languages(page, host, registration_url, publish_event, registrations, lang):
    """Labels, button, consent, the form's own and the service's error texts, the outcome: all in `lang`."""
    title, first_name, button, consent, required, bad_email, outcome = SIX[lang]
    publish_event(title={code: texts[0] for code, texts in SIX.items()})
    page.goto(host.page("/academy", snippet(registration_url, "police-academy-lisbon", lang=lang)))
    form = page.locator(EVENT)
    expect(form.get_by_role("heading", name=title)).to_be_visible()
    expect(field(form, first_name)).to_be_visible()
    expect(form.get_by_label(re.compile("^" + re.escape(consent)))).to_be_visible()
    form.get_by_role("button", name=button).click()  # empty: the form's own texts
    expect(form.get_by_role("alert")).to_contain_text(required)
    field(form, first_name).fill("Ana")
    form.locator("#f-last_name").fill("Silva")
    form.locator("#f-email").fill("ana@example")
    form.locator("#f-consent").check()
    form.get_by_role("button", name=button).click()  # the service's refusal, translated by it
    expect(form.locator("#f-email-error")).to_have_text(bad_email)
    screenshot(page, f"9-form-{lang}")
    form.locator("#f-email").fill("ana@example.org")
    form.get_by_role("button", name=button).click()
    expect(form.get_by_role("status")).to_contain_text(outcome)
    assert [(r["language"], r["status"]) for r in registrations("police-academy-lisbon")] == [(lang, "confirmed")]