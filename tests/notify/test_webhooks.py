"""Webhooks through real worker processes and the relay's scheduler to a real HTTP receiver:
signed, without personal credentials, once per message, retried, failed, resent."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from ops.redis_server import free_port
from services.notify import webhooks
from tests.notify.conftest import enqueue, order_envelope, registration_envelope, staff_headers, wait_for


class Receiver:
    """An HTTP endpoint on this machine that keeps what it receives and answers `statuses` in turn (then 200)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/eupolnet"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def verified(post: dict[str, Any], secret: str) -> dict[str, Any]:
    """The body of `post`, once its signature is checked as the README tells receivers to."""
    fields = dict(part.split("=", 1) for part in post["headers"]["EUPOLNET-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + post["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected), "signature"
    assert abs(time.time() - int(fields["t"])) < 300, "timestamp"
    return json.loads(post["body"])


def rows(notify_db: sa.Engine) -> list[dict[str, Any]]:
    with notify_db.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(sa.text("SELECT * FROM webhook_delivery ORDER BY id"))]


def make_due(notify_db: sa.Engine) -> None:
    """As if the retry's wait were over."""
    with notify_db.begin() as connection:
        connection.execute(sa.text("UPDATE webhook_delivery SET due_at = CURRENT_TIMESTAMP WHERE status = 'queued'"))


def test_each_message_is_posted_once_signed_and_without_credentials(
        notify_client, staff_token, broker, mailbox, start_worker, relay, notify_db, receiver):
    admin = staff_headers(staff_token, "admin")
    assert notify_client.post("/api/v1/webhooks", json={"url": receiver.url, "event_types": ["registration.confirmed"]},
                              headers=staff_headers(staff_token, "events")).status_code == 403
    created = notify_client.post("/api/v1/webhooks", headers=admin, json={
        "url": receiver.url, "event_types": ["registration.confirmed", "registration.cancelled"], "description": "CRM"})
    assert created.status_code == 201, created.json
    secret = created.json["secret"]
    assert "secret" not in notify_client.get("/api/v1/webhooks", headers=admin).json[0]

    start_worker()
    confirmed = registration_envelope(ticket="abc.def")
    for _ in range(3):  # the relay handed it over again: one post
        enqueue(broker, confirmed)
    enqueue(broker, order_envelope())  # not subscribed
    wait_for(lambda: [r for r in rows(notify_db) if r["status"] == "delivered"])
    wait_for(lambda: mailbox.to("ana@madrid.es"), timeout=20)
    time.sleep(1)
    [post] = receiver.posts
    body = verified(post, secret)
    assert post["headers"]["EUPOLNET-Event"] == "registration.confirmed"
    assert body["id"] == int(post["headers"]["EUPOLNET-Delivery"]) and body["type"] == "registration.confirmed"
    assert body["data"]["person"]["email"] == "ana@madrid.es" and body["data"]["event"]["slug"] == "trust-2027"
    for credential in ("manage_url", "verify_url", "ticket", "join_url"):
        assert credential not in json.dumps(body), credential
    assert [r["event_type"] for r in rows(notify_db)] == ["registration.confirmed"]
    with pytest.raises(AssertionError):
        verified(post, "another secret")


def test_an_endpoint_that_fails_is_retried_then_failed_and_staff_resend(
        notify_client, staff_token, broker, mailbox, start_worker, relay, notify_db, receiver):
    admin = staff_headers(staff_token, "admin")
    created = notify_client.post("/api/v1/webhooks", headers=admin, json={"url": receiver.url, "event_types": ["registration.cancelled"]})
    secret = created.json["secret"]
    receiver.statuses = [500, 503]
    start_worker()
    enqueue(broker, registration_envelope("registration.cancelled", status="cancelled"))

    [first] = wait_for(lambda: [r for r in rows(notify_db) if r["attempts"] == 1 and r["last_status"] == 500])
    assert first["status"] == "queued" and first["retries"] == 1, "waits BACKOFF[0] before the next try"
    make_due(notify_db)
    wait_for(lambda: [r for r in rows(notify_db) if r["attempts"] == 2 and r["last_status"] == 503])
    make_due(notify_db)
    [delivered] = wait_for(lambda: [r for r in rows(notify_db) if r["status"] == "delivered"])
    assert delivered["attempts"] == 3 and delivered["last_error"] is None
    assert len({verified(post, secret)["id"] for post in receiver.posts}) == 1, "the same id on every attempt"

    # the last retry fails: the delivery is failed, staff see it and resend it
    receiver.statuses = [500, 500]
    enqueue(broker, registration_envelope("registration.cancelled", email="luis@porto.pt", status="cancelled"))
    wait_for(lambda: len(rows(notify_db)) == 2)
    # its retries used up, and due at once, whether its first attempt was made yet or not
    with notify_db.begin() as connection:
        connection.execute(sa.text("UPDATE webhook_delivery SET retries = :n, due_at = CURRENT_TIMESTAMP WHERE status = 'queued'"),
                           {"n": len(webhooks.BACKOFF)})
    [failed] = wait_for(lambda: [r for r in rows(notify_db) if r["status"] == "failed"])
    receiver.statuses.clear()
    listing = notify_client.get("/api/v1/webhooks/deliveries?status=failed", headers=admin).json
    assert [d["id"] for d in listing] == [failed["id"]] and listing[0]["last_status"] == 500
    assert notify_client.post(f"/api/v1/webhooks/deliveries/{delivered['id']}/resend", headers=admin).status_code == 409
    assert notify_client.post(f"/api/v1/webhooks/deliveries/{failed['id']}/resend", headers=admin).status_code == 202
    wait_for(lambda: all(r["status"] == "delivered" for r in rows(notify_db)))


def test_production_posts_only_to_public_https_addresses(notify_app, notify_client, staff_token, monkeypatch):
    with notify_app.app_context():
        production = dataclasses.replace(webhooks.settings(), env="production")
    monkeypatch.setattr(webhooks, "settings", lambda: production)
    admin = staff_headers(staff_token, "admin")
    for url, code in (("http://events.example.org/hook", "endpoint_not_https"), ("https://127.0.0.1/hook", "endpoint_not_public"),
                      ("https://localhost:8443/hook", "endpoint_not_public"), ("https://10.1.2.3/hook", "endpoint_not_public"),
                      ("https://[::1]/hook", "endpoint_not_public"), ("https://169.254.169.254/latest", "endpoint_not_public"),
                      ("https://no-such-host.invalid/hook", "endpoint_not_public")):
        refused = notify_client.post("/api/v1/webhooks", headers=admin, json={"url": url, "event_types": ["order.shipped"]})
        assert refused.status_code == 422 and refused.json["codes"] == {"url": [code]}, (url, refused.json)
    webhooks.check_endpoint_url("https://8.8.8.8/hook")  # a public address passes
    bad = notify_client.post("/api/v1/webhooks", headers=admin, json={"url": "ftp://x", "event_types": ["nope"]})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"url", "event_types.0"}
    assert notify_client.get("/api/v1/webhooks", headers=admin).json == []
