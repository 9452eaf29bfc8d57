"""The README walk-through, as a new user runs it: `eupolnet run` (what `make run` starts)
on embedded defaults, a staff token from the documented command, then curl-like calls."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ops.redis_server import free_port

BIN = Path(sys.executable).parent


@pytest.fixture
def system(tmp_path):
    """The whole system on SQLite files in a temporary var/ and its own embedded Redis."""
    ports = {name: free_port() for name in ("REGISTRATION_PORT", "ORDERS_PORT", "NOTIFY_PORT", "EMBEDDED_REDIS_PORT", "SMTP_PORT")}
    environ = {key: value for key, value in os.environ.items() if not key.endswith(("_DATABASE_URL", "_URL")) and key != "REDIS_URL"}
    environ.update({name: str(port) for name, port in ports.items()}, EUPOLNET_VAR_DIR=str(tmp_path / "var"))
    # its own process group: on failure every process it started is killed, so none keeps the output pipe open
    process = subprocess.Popen([str(BIN / "eupolnet"), "run"], env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    base = f"http://localhost:{ports['REGISTRATION_PORT']}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"{base}/readyz", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate(timeout=10)
            pytest.fail(f"make run did not come up:\n{output}")
        time.sleep(0.2)
    yield base, environ
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    assert process.returncode == 0, output
    assert "EU-POLNET is running" in output and "Stopped." in output


def test_readme_walkthrough(system):
    base, environ = system
    created = subprocess.run([str(BIN / "eupolnet"), "staff", "create", "events@efus.eu", "--role", "events"],
                             env=environ, capture_output=True, text=True, check=True)
    token = created.stdout.strip().splitlines()[-1]
    staff = {"Authorization": f"Bearer {token}"}
    event = requests.post(f"{base}/api/v1/events", headers=staff, json={
        "slug": "webconf-community-policing", "kind": "webconference",
        "title": {"en": "Web conference: community policing", "fr": "Webconférence : police de proximité"},
        "starts_at": "2027-02-04T14:00:00+01:00", "ends_at": "2027-02-04T15:30:00+01:00",
        "timezone": "Europe/Paris", "join_url": "https://meet.example.org/eupolnet-0204",
        "capacity": 2, "published": True,
    })
    assert event.status_code == 201, event.text

    registrations = [
        requests.post(f"{base}/api/v1/events/webconf-community-policing/registrations", json={
            "first_name": f"Person{n}", "last_name": "Test", "email": f"person{n}@example.org", "language": "en", "consent": True,
        }).json()
        for n in (1, 2, 3)
    ]
    assert [r["status"] for r in registrations] == ["confirmed", "confirmed", "waitlisted"]

    token_of_first = registrations[0]["manage_url"].rsplit("/", 1)[1]
    assert requests.post(f"{base}/api/v1/registrations/{token_of_first}/cancel").json()["status"] == "cancelled"
    listing = requests.get(f"{base}/api/v1/events/webconf-community-policing/registrations", headers=staff).json()
    assert [(r["email"], r["status"]) for r in listing] == [
        ("person1@example.org", "cancelled"), ("person2@example.org", "confirmed"), ("person3@example.org", "confirmed"),
    ]
    page = requests.get(registrations[2]["manage_url"].replace("http://localhost:8001", base))
    assert page.status_code == 200 and "confirmed" in page.text
