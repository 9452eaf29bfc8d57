"""Moderated events in the back office: approve or reject one registration, or those ticked,
with a message that goes into the people's emails."""
from __future__ import annotations

from tests.backoffice.conftest import audit_entries, csrf
from tests.conftest import person

PAGE = "/staff/events/police-academy-lisbon"


def test_staff_approve_one_and_reject_the_ticked_ones(client, login, make_event):
    make_event(capacity=1, requires_approval=True)
    for number in (1, 2, 3):
        assert client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(number)).json["status"] == "pending_approval"
    login("events")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Registrations awaiting your approval: 3." in page
    assert 'aria-label="Approve Ana1 Silva"' in page and 'aria-label="Tick Ana2 Silva"' in page

    response = client.post(f"{PAGE}/decisions", data={"csrf_token": csrf(page), "decision": "approve", "numbers": "1"},
                           follow_redirects=True)
    assert "Ana1 Silva is now confirmed." in response.get_data(as_text=True)
    nothing = client.post(f"{PAGE}/decisions", data={"csrf_token": csrf(page), "decision": "reject"}, follow_redirects=True)
    assert "Tick the registrations to approve or reject first." in nothing.get_data(as_text=True)
    # a ticked registration that was already decided: nothing changes, and the page says why
    refused = client.post(f"{PAGE}/decisions", data={"csrf_token": csrf(page), "decision": "reject", "numbers": ["1", "2"]},
                          follow_redirects=True)
    assert "1 registration cannot be decided: nothing was changed." in refused.get_data(as_text=True)
    done = client.post(f"{PAGE}/decisions", follow_redirects=True, data={
        "csrf_token": csrf(page), "decision": "reject", "numbers": ["2", "3"], "reason": "Reserved for trainers this year."})
    text = done.get_data(as_text=True)
    assert "Ana2 Silva is now rejected." in text and "Ana3 Silva is now rejected." in text
    assert "Registrations awaiting your approval" not in text
    assert [(e.action, e.after["status"]) for e in audit_entries(client) if e.action.startswith("registration.")] == [
        ("registration.reject", "rejected"), ("registration.reject", "rejected"), ("registration.approve", "confirmed")]


def test_the_moderation_controls_speak_french(client, login, make_event):
    make_event(capacity=5, requires_approval=True)
    client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1))
    login("events")
    page = client.get(f"{PAGE}?lang=fr").get_data(as_text=True)
    assert "Accepter les inscriptions cochées" in page and "en attente d’approbation" in page
