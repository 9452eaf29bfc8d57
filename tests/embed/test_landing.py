"""Each service's root address answers a small landing page in the visitor's language, with
links to its API documentation (Swagger UI, served by the service itself), the back office
and the health checks; both pages keep to the page policy (shared/pages.py, shared/web.py)."""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.embed.helpers import axe_violations, csp_violations


def test_the_landing_page_links_to_the_api_documentation_the_back_office_and_health(page, services, registration_url):
    violations = csp_violations(page)
    page.goto(f"{registration_url}/?lang=de")
    expect(page.get_by_role("heading", level=1)).to_have_text("EU-POLNET: Anmeldungen zu Veranstaltungen")
    assert page.evaluate("() => document.documentElement.lang") == "de"
    assert page.evaluate("() => getComputedStyle(document.body).fontFamily").startswith("system-ui"), "its nonced <style>"
    expect(page.get_by_role("link", name="Verwaltungsbereich (Mitarbeitende des Efus)")).to_have_attribute(
        "href", f"{registration_url}/staff/")
    assert axe_violations(page, "html") == []

    page.get_by_role("link", name="Der Dienst ist bereit (Datenbank und Nachrichtenwarteschlange)").click()
    assert '"status":"ready"' in page.content().replace(" ", "")
    page.go_back()
    page.get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("EU-POLNET\u00a0: inscriptions aux événements")

    page.get_by_role("link", name="Documentation de l’API (Swagger UI)").click()
    expect(page.get_by_role("heading", name="EU-POLNET registration service")).to_be_visible()  # Swagger UI read /openapi.json
    expect(page.get_by_text("/api/v1/events/{slug}/check-ins", exact=True).first).to_be_visible()
    assert violations == [], "Swagger UI runs under the page policy"


def test_every_service_answers_its_landing_page_and_serves_swagger_ui_itself(services, registration_url):
    for url in (registration_url, services.orders.url):
        landing = requests.get(url, headers={"Accept-Language": "pt-PT,pt;q=0.9"}, timeout=10)
        assert landing.status_code == 200 and landing.headers["Content-Type"].startswith("text/html")
        assert "Documentação da API (Swagger UI)" in landing.text and 'href="/healthz"' in landing.text
        assert "/staff/" in landing.text
        docs = requests.get(f"{url}/docs/", timeout=10).text
        assert "swagger-ui-bundle.js" in docs and "https://" not in docs.replace(registration_url, ""), "no CDN"
        bundle = requests.get(f"{url}/docs/swagger-ui/swagger-ui-bundle.js", timeout=10)
        assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text[:5000] + bundle.text[-5000:]
        assert requests.get(f"{url}/docs/swagger-ui/../../../etc/passwd", timeout=10).status_code == 404
