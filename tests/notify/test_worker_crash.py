"""A worker process killed in the middle of a batch: after a restart every email arrives, none twice.

The one window where a duplicate stays possible is between the SMTP server accepting an
email (its 250 reply to DATA) and the worker committing "sent" (see `operations`): a crash
exactly there leaves the delivery queued although the email went out. This test kills the
worker while its threads wait for the server's answer to DATA and every email the server
already accepted is recorded as sent, so it never lands in that window: what it shows is
that everything outside it is exactly once.
"""
from __future__ import annotations

import time
from collections import Counter

from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

from tests.notify.conftest import deliveries, enqueue, registration_envelope, wait_for

BATCH = 30
ACCEPTED_BEFORE_CRASH = 10


def requeue_from_dead_workers(redis_url: str) -> None:
    """What Dramatiq's own maintenance does 60 s after a worker's last heartbeat, now.

    A Redis broker gives the messages a dead worker had fetched back to their queue once
    that worker missed heartbeats for `heartbeat_timeout`; the check runs on a random
    fraction of broker commands. Here it runs at once, with a one-second timeout.
    """
    time.sleep(1.2)
    janitor = RedisBroker(url=redis_url, heartbeat_timeout=1000, maintenance_chance=MAINTENANCE_SCALE)
    for queue in ("notify", "notify.DQ"):
        janitor.do_qsize(queue)
    janitor.close()


def test_killed_worker_loses_no_email_and_sends_none_twice(broker, mailbox, start_worker, notify_db, redis_server):
    addresses = [f"member{n:02d}@example.org" for n in range(BATCH)]
    mailbox.hold_after(ACCEPTED_BEFORE_CRASH)
    worker = start_worker(threads=4)
    for address in addresses:
        enqueue(broker, registration_envelope(email=address))

    # Mid-batch: ten emails accepted and recorded as sent, the next ones in the middle of DATA.
    wait_for(lambda: len(deliveries(notify_db, status="sent")) == ACCEPTED_BEFORE_CRASH and mailbox.held)
    worker.kill()
    wait_for(lambda: mailbox.held == 0)  # the server saw the connections drop mid-DATA
    assert len(mailbox.received) == ACCEPTED_BEFORE_CRASH

    mailbox.release()
    requeue_from_dead_workers(redis_server.url)
    start_worker(threads=4)
    wait_for(lambda: len(deliveries(notify_db, status="sent")) == BATCH, timeout=30)

    received = Counter(recipient for recipients, _ in mailbox.received for recipient in recipients)
    assert received == Counter(addresses)
    assert {row["status"] for row in deliveries(notify_db)} == {"sent"}
