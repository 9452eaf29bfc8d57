"""The back office in headless Debian Chromium against the registration service under gunicorn."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.backoffice.conftest import PASSWORD, create_publication
from tests.backoffice.test_emails import SUBJECT as EMAIL_SUBJECT, failed_delivery
from tests.conftest import event_payload, person, under_way
from tests.embed.conftest import CHROMIUM_ARGS
from tests.embed.helpers import AXE, CHROMIUM, ROOT, WCAG_TAGS, csp_violations, require

SCREENSHOTS = ROOT / "var" / "screenshots" / "backoffice"


@pytest.fixture
def page():
    require(CHROMIUM, "install Debian's chromium (deploy/system-packages.sh --browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-GB")  # a tablet, landscape
        context.set_default_timeout(10_000)
        page = context.new_page()
        violations = csp_violations(page)
        yield page
        browser.close()
    assert violations == [], "the back office's pages broke their Content-Security-Policy"


def axe_violations(page) -> list[dict]:
    require(AXE, "run `npm ci` at the repository root")
    page.evaluate(AXE.read_text(encoding="utf-8"))  # not a <script>: our pages' CSP refuses inline ones
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


def log_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/staff/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_log_in_see_participants_move_the_waiting_list_and_check_in(page, services, staff_account, staff_token):
    url = services.registration.url
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    assert requests.post(f"{url}/api/v1/events", json=event_payload(capacity=1, **under_way()), headers=admin, timeout=10).status_code == 201
    for number in (1, 2, 3):
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
    expect(rows).to_have_count(3)
    expect(page.locator("#r1")).to_contain_text("confirmed")
    expect(page.locator("#r2")).to_contain_text("waitlisted #1")
    expect(page.locator("#r3")).to_contain_text("waitlisted #2")
    assert axe_violations(page) == []
    shoot(page, "2-participants")

    # the event is full: promoting Ana3 past Ana2 adds a seat for her
    page.get_by_role("button", name="Promote (adds a seat) Ana3 Silva").click()
    expect(page.get_by_role("status")).to_contain_text("Ana3 Silva is now confirmed.")
    expect(page.locator("#r3")).to_contain_text("confirmed")
    expect(page.locator("#r2")).to_contain_text("waitlisted #1")
    # moving Ana1 to the waiting list gives her seat to Ana2, the first in line
    page.get_by_role("button", name="To waiting list Ana1 Silva").click()
    expect(page.get_by_role("status")).to_contain_text("Ana1 Silva is now waitlisted.")
    expect(page.locator("#r2")).to_contain_text("confirmed")
    # at the door: search, then check in with one tap
    page.get_by_label("Search name, email or organisation").fill("ana2")
    expect(page.locator("#participants tbody tr:visible")).to_have_count(1)  # narrowed while typing
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
    assert sorted((r["email"], r["status"]) for r in staff) == [
        ("ana1@example.org", "waitlisted"), ("ana2@example.org", "attended"), ("ana3@example.org", "confirmed")]
    assert requests.get(f"{url}/api/v1/events/police-academy-lisbon", timeout=10).json()["capacity"] == 2


def test_the_secretariat_runs_an_event_processes_a_postal_order_and_resends_an_email(
        page, services, databases, staff_account, staff_token):
    """The issue's whole journey, as an admin: every page is checked with axe-core."""
    url = services.registration.url
    create_publication(services.orders.url, staff_token("publications"))
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    response = requests.post(f"{url}/api/v1/members", headers=admin, timeout=10,
                             json={"name": "Ville de Lyon", "country": "FR", "domains": ["lyon.fr"]})
    assert response.status_code == 201, response.text
    failed_delivery(databases)
    log_in(page, url, staff_account("admin"))

    # create and publish an event
    page.get_by_role("link", name="Create an event").click()
    page.get_by_label("Address name").fill("webinar-night-time-economy")
    page.get_by_label("Kind").select_option("webconference")
    page.get_by_label("Title (EN)").fill("Night-time economy and safety")
    page.get_by_label("Title (FR)").fill("Économie de la nuit et sécurité")
    page.get_by_label("Starts (local time)").fill("2027-02-10T14:00")
    page.get_by_label("Ends (local time)").fill("2027-02-10T16:00")
    page.get_by_label("Time zone (IANA name)").fill("Europe/Paris")
    page.get_by_label("Capacity (empty: no limit)").fill("1")
    page.get_by_label("Join link (online events)").fill("https://meet.example.org/night")
    page.get_by_label("Name of extra field 1").fill("questions")
    page.get_by_label("Question of extra field 1 (EN)").fill("Your question for the speakers")
    page.get_by_label("Published (listed and open for registration)").check()
    assert axe_violations(page) == []
    shoot(page, "5-event-form")
    page.get_by_role("button", name="Create the event").click()
    expect(page.get_by_role("status")).to_contain_text("Event “Night-time economy and safety” created.")
    # editing it: the slug is shown, not editable
    page.get_by_role("link", name="Edit the event").click()
    expect(page.get_by_label("Address name")).to_have_value("webinar-night-time-economy")
    expect(page.get_by_label("Address name")).not_to_be_editable()
    expect(page.get_by_label("Name of extra field 1")).to_have_value("questions")
    expect(page.get_by_label("Name of extra field 3")).to_have_value("")  # two blank rows after the event's own
    page.get_by_label("Capacity (empty: no limit)").fill("-3")
    page.get_by_role("button", name="Save the event").click()
    expect(page.get_by_label("Capacity (empty: no limit)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#capacity-error")).to_be_visible()
    assert axe_violations(page) == []
    shoot(page, "5b-event-edit-errors")
    page.get_by_label("Capacity (empty: no limit)").fill("1")
    page.get_by_role("button", name="Save the event").click()
    expect(page.get_by_role("status")).to_contain_text("Event “Night-time economy and safety” saved.")

    # people register through the API; staff see them
    for number in (1, 2):
        response = requests.post(f"{url}/api/v1/events/webinar-night-time-economy/registrations", timeout=10,
                                 json={**person(number), "answers": {"questions": "Lighting?"}})
        assert response.status_code == 201, response.text
    page.reload()
    expect(page.locator("#r1")).to_contain_text("confirmed")
    expect(page.locator("#r2")).to_contain_text("waitlisted #1")
    page.get_by_role("button", name="Promote (adds a seat) Ana2 Silva").click()
    expect(page.locator("#r2")).to_contain_text("confirmed")
    page.get_by_role("button", name="Check in Ana1 Silva").click()  # the event is months away
    expect(page.get_by_role("alert")).to_have_text("Ana1 Silva: Check-in opens on the day of the event, 2027-02-10.")
    expect(page.locator("#r1")).to_contain_text("confirmed")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").click()
    assert download.value.suggested_filename == "webinar-night-time-economy-participants.xlsx"

    # a postal order from a member: 2 free copies, then 1 paid one
    page.get_by_role("link", name="Orders").click()
    page.get_by_role("link", name="Enter an order received by post, email or fax").click()
    page.get_by_label("Received by").select_option("post")
    page.get_by_label("Publication 1", exact=True).select_option("safer-cities")
    page.get_by_label("Copies of publication 1").fill("4")
    for label, value in (("First name", "Jean"), ("Last name", "Dupont"), ("Organisation", "Ville de Lyon"),
                         ("Postal address", "1 place de la Comédie"), ("Postcode", "69001"), ("City", "Lyon"),
                         ("Country (2 letters, e.g. FR)", "FR"), ("Email", "jean.dupont@lyon.fr")):
        page.get_by_label(label, exact=True).fill(value)
    assert axe_violations(page) == []
    shoot(page, "6-order-form")
    page.get_by_label("Copies of publication 2").fill("2")  # but which publication?
    page.get_by_role("button", name="Record the order").click()
    expect(page.get_by_label("Publication 2", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lines_1_publication-error")).to_have_text("Choose the publication.")
    expect(page.get_by_label("Copies of publication 1")).to_have_value("4")  # what was typed stays
    assert axe_violations(page) == []
    shoot(page, "6b-order-form-errors")
    page.get_by_label("Copies of publication 2").fill("")
    page.get_by_role("button", name="Record the order").click()
    expect(page.get_by_role("status")).to_contain_text("recorded (received)")
    row = page.locator("tbody tr", has_text="Jean Dupont")
    expect(row).to_contain_text("4 × Safer cities (3 free)")
    expect(row).to_contain_text("8.00 EUR")
    assert axe_violations(page) == []
    for action, status in (("Invoice", "invoiced"), ("Mark paid", "paid"), ("Ship", "shipped")):
        page.get_by_role("button", name=f"{action} ORD-").click()
        expect(page.get_by_role("status")).to_contain_text(f"is now {status}.")
        page.get_by_role("link", name=f"{status} (1)", exact=True).click()
    expect(page.locator("tbody tr", has_text="Jean Dupont")).to_contain_text("Invoice")
    expect(page.get_by_role("link", name="received (0)", exact=True)).to_be_visible()
    shoot(page, "7-orders-shipped")
    page.get_by_role("link", name="Orders", exact=True).click()  # opens on every order, whatever its status
    expect(page.get_by_role("link", name="all (1)", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator("tbody tr", has_text="Jean Dupont")).to_contain_text("shipped")
    assert axe_violations(page) == []
    pdf = page.request.get(url + page.get_by_role("link", name="(PDF)").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    page.get_by_role("link", name="Free copies").click()
    expect(page.locator("tbody tr", has_text="Ville de Lyon")).to_contain_text("Safer cities")
    expect(page.locator("tbody tr", has_text="Ville de Lyon").locator("td").nth(3)).to_have_text("0")
    assert axe_violations(page) == []

    # the failed email, with its error, resent
    page.get_by_role("link", name="Emails").click()
    expect(page.locator("tbody")).to_contain_text("550 mailbox unavailable")
    expect(page.locator("tbody [lang=fr]")).to_have_text(EMAIL_SUBJECT)
    assert axe_violations(page) == []
    shoot(page, "8-failed-emails")
    page.get_by_role("button", name="Resend the email to ana1@example.org").click()
    expect(page.get_by_role("status")).to_contain_text("The email to ana1@example.org is queued again.")

    # every action above is in the audit log, from the three services
    page.get_by_role("link", name="Audit log").click()
    audit_table = page.locator("tbody")
    for action in ("event.create", "registration.promote-over-capacity", "order.enter",
                   "order.invoice", "order.mark-paid", "order.ship", "delivery.resend"):
        expect(audit_table).to_contain_text(action)
    assert axe_violations(page) == []
    shoot(page, "9-audit-log")

    page.get_by_role("link", name="Members").click()
    expect(page.locator("tbody")).to_contain_text("lyon.fr")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Import a CSV file").click()
    assert axe_violations(page) == []

    # the same back office in French
    page.get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", name="Importer l’annuaire des membres")).to_be_visible()
    page.get_by_role("link", name="Événements").click()
    expect(page.get_by_role("link", name="Économie de la nuit et sécurité", exact=True)).to_be_visible()
    assert axe_violations(page) == []
    shoot(page, "10-events-in-french")
