"""Check-in at the door on a phone, in headless Chromium: a fake camera films a ticket's QR
code (decoded by jsQR, served by us), a search by name, and a spell offline."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
import segno
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.backoffice.conftest import PASSWORD
from tests.backoffice.test_browser import axe_violations, shoot
from tests.conftest import event_payload, person, under_way
from tests.embed.conftest import CHROMIUM_ARGS
from tests.embed.helpers import CHROMIUM, ROOT, require
from tests.embed.test_integration import WATCH_CSP

EVENT = "/api/v1/events/police-academy-lisbon"
WIDTH, HEIGHT = 640, 480


def camera_file(code: str, path: Path) -> Path:
    """A Y4M video (what Chromium's fake camera plays) of a phone held over the ticket's QR code."""
    scale, matrix = 8, [list(row) for row in segno.make(code, error="m").matrix_iter(scale=1, border=4)]
    size = len(matrix) * scale
    left, top = (WIDTH - size) // 2, (HEIGHT - size) // 2
    luma = bytearray(b"\xeb" * (WIDTH * HEIGHT))
    for y, row in enumerate(matrix):
        line = b"".join(b"\x10" * scale if dark else b"\xeb" * scale for dark in row)
        for dy in range(scale):
            start = (top + y * scale + dy) * WIDTH + left
            luma[start:start + size] = line
    frame = b"FRAME\n" + bytes(luma) + b"\x80" * (WIDTH * HEIGHT // 2)
    path.write_bytes(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 10)
    return path


def tickets(databases) -> dict[str, str]:
    engine = sa.create_engine(databases.urls["registration"])
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT envelope FROM outbox_message WHERE message_type = 'registration.confirmed'")).all()
    engine.dispose()
    envelopes = [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]
    return {e["data"]["person"]["email"]: e["data"]["ticket"] for e in envelopes}


@pytest.fixture
def phone(request, tmp_path, services, databases, staff_token):
    """An academy with three confirmed people and one waitlisted, and a phone whose camera
    films Ana1's ticket. The academy is under way, unless the test gives its own dates
    (indirect parametrisation)."""
    require(CHROMIUM, "install Debian's chromium (deploy/system-packages.sh --browser)")
    from playwright.sync_api import sync_playwright

    url = services.registration.url
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    assert requests.post(f"{url}/api/v1/events", json=event_payload(capacity=3, **getattr(request, "param", under_way())), headers=admin, timeout=10).status_code == 201
    for number in (1, 2, 3, 4):
        requests.post(f"{url}{EVENT}/registrations", json=person(number, organisation=f"Polícia Municipal {number}"), timeout=10).raise_for_status()
    codes = tickets(databases)
    video = camera_file(codes["ana1@example.org"], tmp_path / "ticket.y4m")
    args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR", is_mobile=True, has_touch=True)
        context.grant_permissions(["camera"], origin=url)
        context.set_default_timeout(15_000)
        yield context, context.new_page(), codes
        browser.close()


def status_of(databases, email: str) -> str:
    engine = sa.create_engine(databases.urls["registration"])
    with engine.connect() as connection:
        status = connection.execute(sa.text("SELECT status FROM registration WHERE email = :email"), {"email": email}).scalar()
    engine.dispose()
    return status


def test_the_door_scans_searches_and_keeps_going_offline(phone, services, databases, staff_account):
    context, page, codes = phone
    url = services.registration.url
    page.add_init_script(WATCH_CSP)
    page.goto(f"{url}/staff/events/police-academy-lisbon/check-in")
    page.get_by_label("Adresse électronique").fill(staff_account("events"))
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_role("heading", name="Accueil des participants\u00a0: Académie de police à Lisbonne")).to_be_visible()
    expect(page.locator("#counts")).to_have_text("Arrivées enregistrées\u00a0: 0 sur 3")
    assert axe_violations(page) == []

    # the camera films Ana1's ticket: jsQR reads it, the screen says so, large
    page.get_by_role("button", name="Scanner les billets avec la caméra").click()
    result = page.locator("#result")
    expect(result).to_have_class("result admitted")
    expect(result).to_contain_text("Ana1 Silva")
    expect(result).to_contain_text("Polícia Municipal 1")
    shoot(page, "10-check-in-scanned")
    page.get_by_role("button", name="Arrêter la caméra").click()
    expect(page.locator("#counts")).to_have_text("Arrivées enregistrées\u00a0: 1 sur 3")
    _wait_for(lambda: status_of(databases, "ana1@example.org") == "attended")

    # a hand scanner types Ana1's code again: refused, with the time of the first scan
    search = page.get_by_label("Rechercher par nom ou organisation")
    search.fill(codes["ana1@example.org"])
    search.press("Enter")
    expect(result).to_have_class("result refused")
    expect(result).to_contain_text("Arrivée déjà enregistrée à")

    # the search by name, for someone who left their ticket at home
    search.fill("ana2 silva")
    page.get_by_role("button", name="Enregistrer l’arrivée Ana2 Silva").click()
    expect(result).to_have_class("result admitted")
    expect(result).to_contain_text("Ana2 Silva")

    # the waitlisted person's name shows, without a button
    search.fill("ana4")
    expect(page.locator("#matches")).to_contain_text("Ana4 Silva")
    expect(page.locator("#matches").get_by_role("button")).to_have_count(0)

    # offline: Ana3 comes in all the same, and is sent when the network is back
    context.set_offline(True)
    search.fill(codes["ana3@example.org"])
    search.press("Enter")
    expect(result).to_have_class("result admitted")
    expect(page.locator("#network")).to_contain_text("Arrivées en attente d’envoi au retour du réseau\u00a0: 1")
    assert status_of(databases, "ana3@example.org") == "confirmed"
    shoot(page, "11-check-in-offline")
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _wait_for(lambda: status_of(databases, "ana3@example.org") == "attended")
    expect(page.locator("#network")).to_be_hidden()
    expect(page.locator("#counts")).to_have_text("Arrivées enregistrées\u00a0: 3 sur 3")
    assert status_of(databases, "ana2@example.org") == "attended" and status_of(databases, "ana4@example.org") == "waitlisted"
    assert page.evaluate("window.violations") == [], "the page keeps to its Content-Security-Policy"


@pytest.mark.parametrize("phone", [{}], indirect=True)  # the academy is a month away
def test_before_the_events_day_the_door_checks_in_only_when_staff_override(phone, services, databases, staff_account):
    context, page, codes = phone
    page.goto(f"{services.registration.url}/staff/events/police-academy-lisbon/check-in")
    page.get_by_label("Adresse électronique").fill(staff_account("events"))
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.locator("#not-open")).to_contain_text("L’enregistrement des arrivées ouvre le jour de l’événement, le ")
    assert axe_violations(page) == []
    search, result = page.get_by_label("Rechercher par nom ou organisation"), page.locator("#result")
    search.fill(codes["ana1@example.org"])
    search.press("Enter")
    expect(result).to_have_class("result refused")
    expect(result).to_contain_text("ouvre le jour de l’événement")
    expect(page.locator("#counts")).to_have_text("Arrivées enregistrées : 0 sur 3")

    page.get_by_label("Enregistrer l’arrivée quand même, avant le jour de l’événement (consigné dans le journal d’audit)").check()
    search.fill(codes["ana1@example.org"])
    search.press("Enter")
    expect(result).to_have_class("result admitted")
    _wait_for(lambda: status_of(databases, "ana1@example.org") == "attended")
    engine = sa.create_engine(databases.urls["registration"])
    with engine.connect() as connection:
        after = connection.execute(sa.text("SELECT after FROM audit_entry WHERE action = 'registration.check-in'")).scalar()
    engine.dispose()
    assert (after if isinstance(after, dict) else json.loads(after)) == {"status": "attended", "override": True}


def _wait_for(condition, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_served_qr_reader_is_the_pinned_release():
    """jsQR is served from our own copy (no CDN); it is the release package.json pins."""
    release = ROOT / "node_modules" / "jsqr" / "dist" / "jsQR.js"
    require(release, "run `npm ci` at the repository root (make test does)")
    served = ROOT / "services" / "registration" / "static" / "vendor" / "jsQR.js"
    assert served.read_bytes() == release.read_bytes()
