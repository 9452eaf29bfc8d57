"""A delivery's claim never outlives its attempt: the database dropped mid-SMTP, and a claim left behind."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
import sqlalchemy as sa

from ops.testing import postgres_url
from services.notify.operations import CLAIM_LEASE
from tests.notify.conftest import deliveries, drained, enqueue, registration_envelope, wait_for

BATCH = 8
THREADS = 4


def terminate_backends(database: str) -> int:
    """Cut every connection to `database` (the test's own), as a database restart would."""
    admin = sa.create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = :database AND pid <> pg_backend_pid()"
        ), {"database": database}).scalar()
    admin.dispose()
    return killed


@pytest.mark.postgresql_only
def test_database_connections_cut_mid_smtp_every_email_once_and_the_log_right(
    broker, mailbox, start_worker, notify_db, databases,
):
    """The outcome is recorded on a new connection: nothing stays claimed, nothing is sent twice."""
    addresses = [f"member{n:02d}@example.org" for n in range(BATCH)]
    mailbox.hold_after(0)  # every DATA waits for the release
    start_worker(threads=THREADS)
    for address in addresses:
        enqueue(broker, registration_envelope(email=address))
    wait_for(lambda: mailbox.held == THREADS)  # four emails mid-SMTP, their claims committed
    assert len(deliveries(notify_db, claimed_by=None)) == 0 and len(deliveries(notify_db)) == THREADS

    assert terminate_backends(sa.make_url(databases.urls["notify"]).database) >= 1
    notify_db.dispose()  # the test's own connections were cut too
    mailbox.release()  # the server says 250 to the four: the worker records it on a dead connection

    wait_for(lambda: len(deliveries(notify_db, status="sent")) == BATCH, timeout=60)
    received = Counter(recipient for recipients, _ in mailbox.received for recipient in recipients)
    assert received == Counter(addresses)
    rows = deliveries(notify_db)
    assert {(row["status"], row["attempts"], row["claimed_by"], row["last_error"]) for row in rows} == {
        ("sent", 1, None, None)
    }


def test_a_claim_left_behind_is_taken_over_once_its_lease_ran_out(broker, mailbox, start_worker, notify_db, relay):
    """As after a worker that could not record its outcome and was never heard of again:
    the claim's row is due when its lease ends, and the scheduler queues an attempt then."""
    stale = registration_envelope(email="stale@example.org")
    fresh = registration_envelope(email="fresh@example.org")
    now = dt.datetime.now(dt.timezone.utc)
    with notify_db.begin() as connection:
        for envelope, claimed_at in ((stale, now - CLAIM_LEASE - dt.timedelta(seconds=5)), (fresh, now)):
            connection.execute(sa.text(
                "INSERT INTO delivery (idempotency_key, message_type, recipient, template, language, status,"
                " claimed_by, claimed_at, due_at, attempts, retries, envelope, created_at) VALUES (:key,"
                " 'registration.confirmed', :email, 'notify/en/registration.confirmed', 'en', 'queued', 'gone-copy',"
                " :claimed_at, :due_at, 1, 0, :envelope, :claimed_at)"
            ), {"key": envelope["key"], "email": envelope["data"]["person"]["email"], "claimed_at": claimed_at,
                "due_at": claimed_at + CLAIM_LEASE, "envelope": json.dumps(envelope)})
    start_worker()
    enqueue(broker, fresh)  # a copy of the message that does not hold the claim: does nothing

    [row] = wait_for(lambda: deliveries(notify_db, status="sent"))
    assert row["recipient"] == "stale@example.org" and row["attempts"] == 2 and row["claimed_by"] is None
    wait_for(lambda: drained(broker))
    assert [m["To"] for m in mailbox.messages] == ["Ana López <stale@example.org>"]
    [held] = deliveries(notify_db, status="queued")
    assert held["recipient"] == "fresh@example.org" and held["claimed_by"] == "gone-copy"
