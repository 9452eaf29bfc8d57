"""The back office in headless Debian Chromium against the registration service under gunicorn."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.backoffice.conftest import PASSWORD
from tests.conftest import event_payload, person
from tests.embed.conftest import CHROMIUM_ARGS
from tests.embed.helpers import AXE, CHROMIUM, ROOT, WCAG_TAGS, require

SCREENSHOTS = ROOT / "var" / "screenshots" / "backoffice"


@pytest.fixture
def page():
    require(CHROMIUM, "install Debian's chromium (deploy/system-packages.sh --browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-GB")  # a tablet, landscape
        context.set_default_timeout(10_000)
        yield context.new_page()
        browser.close()


def axe_violations(page) -> list[dict]:
    require(AXE, "run `npm ci` at the repository root")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}));
        }""",
        WCAG_TAGS,
    )


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_log_in_see_participants_move_the_waiting_list_and_check_in(page, services, staff_account, staff_token):
    url = services.registration.url
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    assert requests.post(f"{url}/api/v1/events", json=event_payload(capacity=1), headers=admin, timeout=10).status_code == 201
    for number in (1, 2):
        response = requests.post(f"{url}/api/v1/events/police-academy-lisbon/registrations", json=person(number), timeout=10)
        assert response.status_code == 201, response.text
    email = staff_account("events")

    page.goto(f"{url}/staff/events")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert axe_violations(page) == []
    shoot(page, "1-login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Events")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Police academy in Lisbon", exact=True).click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#r1")).to_contain_text("confirmed")
    expect(page.locator("#r2")).to_contain_text("waitlisted #1")
    assert axe_violations(page) == []
    shoot(page, "2-participants")

    # the event is full: promoting is refused and says why
    page.get_by_role("button", name="Promote Ana2 Silva").click()
    expect(page.get_by_role("alert")).to_contain_text("The event is full")
    # moving Ana1 to the waiting list promotes Ana2, the first in line
    page.get_by_role("button", name="To waiting list Ana1 Silva").click()
    expect(page.get_by_role("status")).to_contain_text("Ana1 Silva is now waitlisted.")
    expect(page.locator("#r2")).to_contain_text("confirmed")
    # at the door: search, then check in with one tap
    page.get_by_label("Search name, email or organisation").fill("ana2")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Check in Ana2 Silva").click()
    expect(page.get_by_role("status")).to_contain_text("Ana2 Silva is now attended.")
    expect(page.locator("#r2")).to_contain_text("checked in")
    assert axe_violations(page) == []
    shoot(page, "3-checked-in")

    page.goto(f"{url}/staff/events/new")
    page.get_by_role("button", name="Create the event").click()  # empty: every error shows next to its field
    expect(page.get_by_role("alert")).to_contain_text("Please correct the fields marked below.")
    expect(page.get_by_label("Title (EN)")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []
    shoot(page, "4-event-form-errors")

    staff = requests.get(f"{url}/api/v1/events/police-academy-lisbon/registrations", headers=admin, timeout=10).json()
    assert sorted((r["email"], r["status"]) for r in staff) == [("ana1@example.org", "waitlisted"), ("ana2@example.org", "attended")]
