"""Nothing accepted is lost when Redis is down: the outbox keeps messages until it is back."""
from __future__ import annotations

import json
import threading
import time

import redis
import sqlalchemy as sa

from ops.redis_server import RedisServer
from shared.broker import make_broker
from shared.outbox import OutboxMessage, run_relay
from tests.conftest import person


def queued_messages(redis_url: str) -> list[dict]:
    client = redis.Redis.from_url(redis_url)
    return [json.loads(raw) for raw in client.hvals("dramatiq:notify.msgs")]


def test_registrations_are_accepted_while_redis_is_down_and_delivered_after(client, make_event, databases, tmp_path):
    own_redis = RedisServer(tmp_path / "redis").start()
    engine = sa.create_engine(databases.urls["registration"])
    stop = threading.Event()
    relay = threading.Thread(target=run_relay, args=({"registration": engine}, make_broker(own_redis.url), stop),
                             kwargs={"poll_interval": 0.05, "max_backoff": 0.5}, daemon=True)
    relay.start()
    try:
        make_event(capacity=3)
        deadline = time.monotonic() + 10
        while len(queued_messages(own_redis.url)) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m["actor_name"] for m in queued_messages(own_redis.url)] == ["event_scheduled"]

        own_redis.stop()
        responses = [client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(n)) for n in range(6)]
        assert [r.status_code for r in responses] == [201] * 6
        time.sleep(0.5)
        with engine.connect() as connection:
            unsent = connection.execute(sa.text("SELECT count(*) FROM outbox_message WHERE sent_at IS NULL")).scalar()
        assert unsent == 6

        own_redis.start()  # same port, empty: only what the outbox still holds can arrive
        deadline = time.monotonic() + 20
        while len(queued_messages(own_redis.url)) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        messages = queued_messages(own_redis.url)
        assert sorted(m["actor_name"] for m in messages) == ["registration_confirmed"] * 3 + ["registration_waitlisted"] * 3
        assert len({m["message_id"] for m in messages}) == 6
        envelope = messages[0]["args"][0]
        assert set(envelope) == {"type", "version", "key", "occurred_at", "data", "request_id"} and envelope["version"] == 1
        # the id of the web request that caused each message (shared.observability)
        assert {m["args"][0]["request_id"] for m in messages} == {r.headers["X-Request-Id"] for r in responses}
    finally:
        stop.set()
        relay.join(10)
        own_redis.stop()
        engine.dispose()


def test_each_message_about_a_registration_carries_its_growing_revision(client, make_event, auth, registration_app):
    """What orders the versions of the person's calendar entry (notify's SEQUENCE)."""
    make_event(capacity=1)
    client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1))
    client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(2))
    client.post("/api/v1/events/police-academy-lisbon/registrations/1/cancel", headers=auth)
    client.post("/api/v1/events/police-academy-lisbon/registrations/2/cancel", headers=auth)
    with registration_app.app_context():
        messages = OutboxMessage.query.order_by(OutboxMessage.created_at).all()
        ana2 = [(m.message_type, m.envelope["data"]["revision"]) for m in messages
                if m.envelope["data"].get("person", {}).get("email") == "ana2@example.org"]
    assert ana2 == [("registration.waitlisted", 1), ("registration.promoted", 2), ("registration.cancelled", 3)]
