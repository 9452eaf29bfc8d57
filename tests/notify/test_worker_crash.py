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

from shared.broker import make_broker
from tests.notify.conftest import WorkerProcess, deliveries, enqueue, registration_envelope, wait_for
from tests.notify.test_redis_outage import RelayProcess

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


def test_the_relay_hands_a_killed_workers_messages_to_another_worker(
    mailbox, notify_environ, notify_db, redis_server, tmp_path,
):
    """No restart, no janitor of the test's own: `eupolnet relay` sweeps for dead workers.

    Both workers hold prefetched messages when one is killed; the other sends them once the
    dead one has been silent for the heartbeat timeout (3 s here, for a short test)."""
    environ = {**notify_environ, "dramatiq_heartbeat_timeout": "3000", "dramatiq_queue_prefetch": "8"}
    mailbox.hold_after(0)
    doomed = WorkerProcess(environ, tmp_path / "doomed.log", threads=4).start()
    survivor = WorkerProcess(environ, tmp_path / "survivor.log", threads=4).start()
    relay = RelayProcess(environ, tmp_path / "relay.log")
    broker = make_broker(redis_server.url)
    addresses = [f"member{n:02d}@example.org" for n in range(BATCH)]
    try:
        for address in addresses:
            enqueue(broker, registration_envelope(email=address))
        wait_for(lambda: mailbox.held == 8)  # four threads of each worker mid-DATA, the rest prefetched
        doomed.kill()
        wait_for(lambda: mailbox.held == 4)
        mailbox.release()
        killed = time.monotonic()
        wait_for(lambda: len(deliveries(notify_db, status="sent")) == BATCH, timeout=30)
        print(f"all {BATCH} sent {time.monotonic() - killed:.1f} s after the kill")
        received = Counter(recipient for recipients, _ in mailbox.received for recipient in recipients)
        assert received == Counter(addresses)
    finally:
        broker.close()
        relay.stop()
        survivor.stop()
        doomed.stop()
