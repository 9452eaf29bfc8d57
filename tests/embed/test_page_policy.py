"""The pages' Content-Security-Policy in headless Chromium: the self-service page and the
form without JavaScript work under it with no violation, the form may be framed by an
allowed CMS site only, the self-service page by nobody (shared/web.py `_security_headers`)."""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.conftest import person
from tests.embed.helpers import csp_violations


def register(registration_url: str) -> str:
    """A registration's self-service address."""
    response = requests.post(f"{registration_url}/api/v1/events/police-academy-lisbon/registrations", json=person(1), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["manage_url"]


def test_self_service_page_works_under_its_policy(page, registration_url, publish_event, registrations):
    publish_event()
    manage_url = register(registration_url)
    violations = csp_violations(page)
    page.goto(manage_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Police academy in Lisbon")
    assert page.evaluate("() => getComputedStyle(document.body).fontFamily").startswith("system-ui")  # its nonced <style>

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Cancel my registration").click()  # data-confirm, from static/pages.js
    assert asked == ["Cancel your registration? Your seat will go to the next person on the waiting list."]
    assert [r["status"] for r in registrations("police-academy-lisbon")] == ["confirmed"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel my registration").click()
    expect(page.get_by_role("status")).to_have_text("This registration is cancelled.")
    assert [r["status"] for r in registrations("police-academy-lisbon")] == ["cancelled"]
    assert violations == []


def test_form_without_javascript_works_framed_by_an_allowed_site_only(page, host, foreign_host, registration_url,
                                                                     publish_event, registrations):
    publish_event()
    form_url = f"{registration_url}/events/police-academy-lisbon/register?lang=en"
    frame = f'<iframe src="{form_url}" title="Registration" width="800" height="900"></iframe>'
    violations = csp_violations(page)
    page.goto(host.page("/framed", frame))
    form = page.frame_locator("iframe")
    form.get_by_label("First name").fill("Ana")
    form.get_by_label("Last name").fill("Silva")
    form.get_by_role("textbox", name="Email").fill("ana@example.org")
    form.get_by_label("Country").select_option("PT")
    form.get_by_label("I agree").check()
    form.get_by_role("button", name="Register me").click()
    expect(form.get_by_role("status")).to_contain_text("You are registered")
    assert [r["email"] for r in registrations("police-academy-lisbon")] == ["ana@example.org"]
    assert violations == []

    page.goto(foreign_host.page("/framed", frame))
    expect(page.frame_locator("iframe").get_by_role("button", name="Register me")).to_have_count(0)
    assert any("frame-ancestors" in text for text in violations), violations


def test_self_service_page_is_framed_by_nobody(page, host, registration_url, publish_event):
    publish_event()
    manage_url = register(registration_url)
    violations = csp_violations(page)
    page.goto(host.page("/framed-manage", f'<iframe src="{manage_url}" title="Registration"></iframe>'))
    expect(page.frame_locator("iframe").get_by_role("button", name="Cancel my registration")).to_have_count(0)
    assert any("frame-ancestors 'none'" in text for text in violations), violations
