"""The group form in a real browser: from the embedded form's link, a training officer
registers several officers at once, in their language, without JavaScript too."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.embed.helpers import axe_violations, screenshot, snippet
from tests.embed.test_browser import EVENT, field


def fill_participant(page, number: int, first: str, email: str) -> None:
    block = page.get_by_role("group", name=f"Participant {number}")
    field(block, "First name").fill(first)
    field(block, "Last name").fill("Silva")
    field(block, "Email").fill(email)


def test_a_group_registers_from_the_embedded_forms_link(browser, host, registration_url, publish_event, registrations):
    publish_event(capacity=2)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 900, "height": 1200})
    page = context.new_page()
    try:
        page.goto(f"{registration_url}/events/police-academy-lisbon/register?lang=en")
        page.get_by_role("link", name="Registering several participants? Use the group form").click()
        expect(page.get_by_role("heading", level=2, name="Register several participants")).to_be_visible()
        contact = page.get_by_role("group", name="You, who register the group")
        field(contact, "First name").fill("Carla")
        field(contact, "Last name").fill("Mendes")
        field(contact, "Email").fill("formacao@example.org")
        fill_participant(page, 1, "Ana", "ana@example.org")
        fill_participant(page, 2, "Rui", "rui@example")
        # one more block, and what was typed stays
        page.get_by_role("button", name="Add a participant").click()
        expect(field(page.get_by_role("group", name="Participant 1"), "First name")).to_have_value("Ana")
        fill_participant(page, 3, "Inês", "ines@example.org")
        page.get_by_role("button", name="Register the group").click()
        expect(page.get_by_role("alert")).to_contain_text("There is a problem")
        expect(page.get_by_role("alert")).to_contain_text("Participant 2: Email: Enter an email address like name@example.org.")
        participant_2 = page.get_by_role("group", name="Participant 2")
        expect(field(participant_2, "Email")).to_have_accessible_description("Enter an email address like name@example.org.")
        expect(page.get_by_label("I agree")).to_have_accessible_description("Please tick this box to register.")
        screenshot(page, "group-1-errors")

        field(participant_2, "Email").fill("rui@example.org")
        page.get_by_label("I agree").check()
        page.get_by_role("button", name="Register the group").click()
        outcome = page.get_by_role("status")
        expect(outcome).to_contain_text("Your group is registered")
        expect(outcome).to_contain_text("Ana Silva: confirmed")
        expect(outcome).to_contain_text("Inês Silva: on the waiting list – The event is full: this participant is on the waiting list.")
        expect(outcome).to_contain_text("formacao@example.org")
        screenshot(page, "group-2-registered")
    finally:
        context.close()
    assert [(r["email"], r["status"]) for r in registrations("police-academy-lisbon")] == [
        ("ana@example.org", "confirmed"), ("rui@example.org", "confirmed"), ("ines@example.org", "waitlisted")]


def test_the_embedded_form_links_to_the_group_form_in_its_language(page, host, registration_url, publish_event):
    publish_event()
    page.goto(host.page("/academy", snippet(registration_url, "police-academy-lisbon", lang="de")))
    link = page.locator(EVENT).get_by_role("link", name="Sie melden mehrere Personen an? Nutzen Sie das Gruppenformular")
    expect(link).to_have_attribute("href", f"{registration_url}/events/police-academy-lisbon/register-group?lang=de")


def test_the_group_form_passes_axe(page, registration_url, publish_event):
    publish_event()
    page.goto(f"{registration_url}/events/police-academy-lisbon/register-group?lang=en")
    assert axe_violations(page, "html") == []
    page.get_by_role("button", name="Register the group").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page, "html") == []


def test_the_embed_registers_a_group_in_one_submission(page, host, registration_url, publish_event, registrations):
    """The embedded form's link opens the group form in place: "Add a participant" keeps what
    was typed, a block left empty is nobody, an error names the participant and their field,
    and the outcome says where each participant stands."""
    publish_event(capacity=2)
    page.goto(host.page("/academy", snippet(registration_url, "police-academy-lisbon")))
    form = page.locator(EVENT)
    form.get_by_role("link", name="Registering several participants? Use the group form").click()
    contact = form.get_by_role("group", name="You, who register the group")
    field(contact, "First name").fill("Carla")
    field(contact, "Last name").fill("Mendes")
    field(contact, "Email").fill("formacao@example.org")
    fill_participant(form, 1, "Ana", "ana@example.org")
    form.get_by_role("button", name="Add a participant").click()
    expect(field(form.get_by_role("group", name="Participant 3"), "First name")).to_be_focused()
    expect(field(form.get_by_role("group", name="Participant 1"), "First name")).to_have_value("Ana")
    # participant 2 left empty: the third is the second one sent, and its error is its own
    fill_participant(form, 3, "Rui", "rui@example")
    form.get_by_label("I agree").check()
    form.get_by_role("button", name="Register the group").click()
    summary = form.get_by_role("alert")
    expect(summary).to_contain_text("Participant 3: Email: Enter an email address like name@example.org.")
    expect(field(form.get_by_role("group", name="Participant 3"), "Email")).to_have_accessible_description(
        "Enter an email address like name@example.org.")
    expect(field(form.get_by_role("group", name="Participant 2"), "Email")).not_to_have_attribute("aria-invalid", "true")
    assert axe_violations(page, EVENT) == []
    screenshot(page, "embed-group-1-errors")

    field(form.get_by_role("group", name="Participant 3"), "Email").fill("rui@example.org")
    fill_participant(form, 2, "Inês", "ines@example.org")
    form.get_by_role("button", name="Register the group").click()
    outcome = form.get_by_role("status")
    expect(outcome).to_contain_text("Your group is registered")
    expect(outcome).to_contain_text("Ana Silva: confirmed")
    expect(outcome).to_contain_text("Rui Silva: on the waiting list – The event is full: this participant is on the waiting list.")
    expect(outcome).to_contain_text("formacao@example.org")
    screenshot(page, "embed-group-2-registered")
    assert [(r["email"], r["status"]) for r in registrations("police-academy-lisbon")] == [
        ("ana@example.org", "confirmed"), ("ines@example.org", "confirmed"), ("rui@example.org", "waitlisted")]


def test_the_embed_opens_on_the_group_form_in_german(page, host, registration_url, publish_event):
    publish_event()
    markup = snippet(registration_url, "police-academy-lisbon", lang="de").replace('data-lang="de"', 'data-lang="de" data-mode="group"')
    page.goto(host.page("/akademie", markup))
    form = page.locator(EVENT)
    expect(form.get_by_role("group", name="Sie, die die Gruppe anmelden")).to_be_visible()
    expect(form.get_by_role("button", name="Gruppe anmelden")).to_be_visible()

