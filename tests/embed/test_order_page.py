"""The publication order form without JavaScript, in Chromium: from the `<noscript>` link of a
CMS page to the order's outcome, in the person's language; and axe finds nothing on it."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.embed.helpers import axe_violations, screenshot, snippet
from tests.embed.test_browser import field

SLUG = "police-population-relations"


@pytest.fixture
def publication(services, staff) -> str:
    """The seed's publication, 100 copies; returns the address of its order page."""
    created = requests.post(f"{services.orders.url}/api/v1/publications", headers=staff, timeout=10, json={
        "slug": SLUG, "languages": ["fr", "en"], "stock": 100,
        "title": {"en": "Police-Population Relations", "fr": "Relations police-population"}})
    assert created.status_code == 201, created.text
    return f"{services.orders.url}/publications/{SLUG}/order"


def orders_of(services, staff) -> list[dict]:
    return requests.get(f"{services.orders.url}/api/v1/orders", headers=staff, timeout=10).json()


def test_a_member_orders_without_javascript_from_the_cms_pages_link(browser, host, services, staff, publication, registration_url):
    member = requests.post(f"{registration_url}/api/v1/members", headers=staff, timeout=10,
                           json={"name": "Câmara Municipal de Lisboa", "country": "PT", "domains": ["cm-lisboa.pt"]})
    assert member.status_code == 201, member.text
    context = browser.new_context(java_script_enabled=False, viewport={"width": 900, "height": 1000})
    page = context.new_page()
    try:
        page.goto(host.page("/publications", snippet(registration_url, SLUG, lang="fr", kind="publication",
                                                     orders_url=services.orders.url)))
        page.get_by_role("link", name="Order / Commander").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Relations police-population")
        expect(page.get_by_text("Les organisations membres de l’Efus reçoivent gratuitement jusqu’à 3 exemplaires")).to_be_visible()

        field(page, "Nombre d’exemplaires").fill("0")
        field(page, "Prénom").fill("Ana")
        field(page, "Adresse électronique").fill("ana.silva@cm-lisboa")
        page.get_by_role("button", name="Envoyer ma commande").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Il y a un problème")
        for name in ("Nombre d’exemplaires", "Nom", "Adresse", "Ville", "Code postal", "Pays", "Adresse électronique"):
            expect(alert.get_by_role("link", name=re.compile(rf"^{re.escape(name)}\s:"))).to_have_count(1)
        expect(field(page, "Nom")).to_have_accessible_description("Ce champ est obligatoire.")
        expect(field(page, "Adresse électronique")).to_have_accessible_description(
            "Saisissez une adresse électronique du type nom@exemple.org.")
        expect(field(page, "Nombre d’exemplaires")).to_have_attribute("aria-invalid", "true")
        expect(field(page, "Prénom")).to_have_value("Ana")
        screenshot(page, "order-1-noscript-errors-fr")
        assert orders_of(services, staff) == []

        field(page, "Nombre d’exemplaires").fill("5")
        field(page, "Nom").fill("Silva")
        field(page, "Adresse").fill("Rua Cardeal Saraiva 34")
        field(page, "Ville").fill("Lisboa")
        field(page, "Code postal").fill("1070-046")
        field(page, "Pays").select_option("PT")
        field(page, "Adresse électronique").fill("ana.silva@cm-lisboa.pt")
        page.get_by_role("button", name="Envoyer ma commande").click()
        outcome = page.get_by_role("status")
        expect(outcome).to_contain_text("Votre commande est enregistrée")
        expect(outcome).to_contain_text("3 exemplaires sont gratuits pour votre organisation.")
        expect(outcome).to_contain_text("Frais de port à régler : 16,00 €")
        screenshot(page, "order-2-noscript-received-fr")
        said = outcome.inner_text()
    finally:
        context.close()
    [order] = orders_of(services, staff)
    assert (order["email"], order["channel"], order["language"], order["member"], order["total_cents"]) == (
        "ana.silva@cm-lisboa.pt", "web", "fr", True, 1600)
    assert f"Commande {order['number']}." in said


def test_the_order_page_speaks_the_browsers_language(browser, publication):
    context = browser.new_context(java_script_enabled=False, locale="de-DE", viewport={"width": 900, "height": 1000})
    page = context.new_page()
    try:
        page.goto(publication)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(field(page, "Anzahl der Exemplare")).to_have_value("1")
        expect(field(page, "Bevorzugte Sprache")).to_have_value("de")
        screenshot(page, "order-3-noscript-form-de")
    finally:
        context.close()


def test_the_order_page_passes_axe(page, publication):
    page.goto(f"{publication}?lang=en")
    assert axe_violations(page, "html") == []
    page.get_by_role("button", name="Send my order").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page, "html") == []


def test_an_embedded_publication_that_cannot_load_links_to_its_page(page, host, services, registration_url):
    page.goto(host.page("/publications", snippet(registration_url, "no-such-book", lang="it", kind="publication")))
    link = page.locator('[data-eupolnet-publication="no-such-book"]').get_by_role("link")
    expect(link).to_have_attribute("href", f"{services.orders.url}/publications/no-such-book/order?lang=it")
