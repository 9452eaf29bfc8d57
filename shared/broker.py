"""The Dramatiq broker: Redis, set once and early, before any actor is imported.

Dead workers. Each worker process heartbeats on every Redis command it sends (an idle one
polls about once a second). Dramatiq hands the messages of a process that stayed silent
for `HEARTBEAT_TIMEOUT` back to their queues in its "maintenance", which it otherwise runs
at random, on one command in a thousand: after `kill -9` of a worker that took minutes
(issue 18). Here the workers never run it; the relay runs it on every queue every
`SWEEP_INTERVAL` (`DeadWorkerSweep`), except for one heartbeat timeout after Redis failed
it, since then every worker may look silent for a moment although none died. The figures
behind both values, and the queue prefetch (`shared.worker`), are in bench/worker_recovery.py.
"""
from __future__ import annotations

import time

import dramatiq
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.common import dq_name, getenv_int

QUEUES = ("notify", "orders")

#: messages each worker process takes from a queue ahead of its threads (set by
#: `shared.worker`; `dramatiq_queue_prefetch` in the environment wins). Four times the 16
#: threads: emails (tens a second) go as fast as with 200 (bench/worker_recovery.py), the
#: fast actors are not starved as with Dramatiq's twice the threads (MEASURED.md), and a
#: killed process strands at most 64 + 16 messages until the heartbeat timeout, not 216.
QUEUE_PREFETCH = 64

#: milliseconds of silence after which a worker process is taken for dead: fifteen times an
#: idle worker's poll, and far below Dramatiq's 60 s; `dramatiq_heartbeat_timeout` in the
#: environment wins (it must be the same for every process)
HEARTBEAT_TIMEOUT = getenv_int("dramatiq_heartbeat_timeout") or 15_000
#: seconds between two dead-worker sweeps of the relay
SWEEP_INTERVAL = 5.0


def make_broker(redis_url: str) -> RedisBroker:
    """A Redis broker whose connection failures surface quickly instead of hanging, and that
    leaves the dead-worker maintenance to the relay's `DeadWorkerSweep`."""
    broker = RedisBroker(
        url=redis_url, socket_connect_timeout=2, socket_timeout=5,
        heartbeat_timeout=HEARTBEAT_TIMEOUT, maintenance_chance=0,
    )
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


def setup_broker(redis_url: str) -> RedisBroker:
    broker = make_broker(redis_url)
    dramatiq.set_broker(broker)
    return broker


class DeadWorkerSweep:
    """Dramatiq's dead-worker maintenance on every queue, every `interval` seconds.

    Call it often (the relay does, on each turn of its loop); it only sweeps when the
    interval has passed and Redis has not failed `broker_failed` for one heartbeat timeout.
    """

    def __init__(self, broker: RedisBroker, interval: float = SWEEP_INTERVAL) -> None:
        self.janitor = RedisBroker(
            client=broker.client, namespace=broker.namespace, heartbeat_timeout=broker.heartbeat_timeout,
            maintenance_chance=MAINTENANCE_SCALE,
        )
        self.interval = interval
        self.quiet_since = self.due = time.monotonic()

    def broker_failed(self) -> None:
        self.quiet_since = time.monotonic()

    def __call__(self) -> None:
        now = time.monotonic()
        if now < self.due or now - self.quiet_since < self.janitor.heartbeat_timeout / 1000:
            return
        self.due = now + self.interval
        for queue in QUEUES:
            for name in (queue, dq_name(queue)):
                self.janitor.do_qsize(name)
