"""The Dramatiq broker: Redis, set once and early, before any actor is imported.

Dead workers. Each worker process heartbeats on every Redis command it sends (an idle one
polls about once a second). Dramatiq hands the messages of a process that stayed silent
for `HEARTBEAT_TIMEOUT` back to their queues in its "maintenance", which it otherwise runs
at random, on one command in a thousand: after `kill -9` of a worker that took minutes
(issue 18). Here the workers never run it; the relay runs it on every queue every
`SWEEP_INTERVAL` (`DeadWorkerSweep`), except for one heartbeat timeout after Redis failed
it, since then every worker may look silent for a moment although none died. The figures
behind both values and the queue prefetch are in bench/worker_recovery.py and the README
("A worker killed with kill -9").
"""
from __future__ import annotations

import logging
import threading
import time

import dramatiq
import redis
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.common import dq_name, getenv_int

QUEUES = ("notify", "orders")

#: messages each worker process takes from a queue ahead of its threads (set by
#: `shared.worker`; `dramatiq_queue_prefetch` in the environment wins). Four times the 16
#: threads: emails go about as fast as with 200 (bench/worker_recovery.py), fast actors are
#: not starved as with Dramatiq's twice the threads (no-op actors: ~1,700 msg/s against
#: ~6,300 with 200), and a killed process strands at most 64 + 16 messages until the next
#: sweep after the heartbeat timeout.
QUEUE_PREFETCH = 64
#: milliseconds of silence after which a worker process is taken for dead (fifteen idle
#: polls; Dramatiq's own default is 60 s). Only the relay's sweep reads it; the
#: `dramatiq_heartbeat_timeout` environment variable wins.
HEARTBEAT_TIMEOUT = getenv_int("dramatiq_heartbeat_timeout") or 15_000
#: seconds between two dead-worker sweeps of the relay
SWEEP_INTERVAL = 5.0
#: seconds a Redis connection may take to open, and a command to be answered: a Redis that
#: hangs fails the call instead of blocking it, so every loop notices a stop in that time
CONNECT_TIMEOUT = 2.0
SOCKET_TIMEOUT = 5.0
#: the relay's command timeout: shorter, as its loop must stop within seconds of SIGTERM
RELAY_SOCKET_TIMEOUT = 2.0

log = logging.getLogger(__name__)


def make_broker(redis_url: str, socket_timeout: float = SOCKET_TIMEOUT) -> RedisBroker:
    """A Redis broker whose calls fail within `socket_timeout` instead of hanging, never
    retried by redis-py, and that leaves the dead-worker maintenance to `DeadWorkerSweep`.

    The pool is built here: given a URL, Dramatiq builds its own and drops the timeouts."""
    pool = redis.ConnectionPool.from_url(
        redis_url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=socket_timeout,
    )
    broker = RedisBroker(connection_pool=pool, heartbeat_timeout=HEARTBEAT_TIMEOUT, maintenance_chance=0)
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


def setup_broker(redis_url: str) -> RedisBroker:
    broker = make_broker(redis_url)
    dramatiq.set_broker(broker)
    return broker


class DeadWorkerSweep(threading.Thread):
    """Dramatiq's dead-worker maintenance on every queue every `interval` seconds, until
    `stop` is set: the messages of a worker silent for the heartbeat timeout go back to
    their queues.

    A daemon thread of the relay: it waits on `stop`, never sleeps, and each of its Redis
    calls ends within the broker's socket timeout, so it never holds the relay's exit up.
    After a failed call it skips one heartbeat timeout, as the workers could not heartbeat
    either while Redis was away.
    """

    def __init__(self, broker: RedisBroker, stop: threading.Event, interval: float = SWEEP_INTERVAL) -> None:
        super().__init__(name="dead-worker-sweep", daemon=True)
        self.janitor = RedisBroker(
            client=broker.client, namespace=broker.namespace, middleware=[],
            heartbeat_timeout=broker.heartbeat_timeout, maintenance_chance=MAINTENANCE_SCALE,
        )
        self.stop, self.interval = stop, interval

    def run(self) -> None:
        quiet_until = 0.0
        while not self.stop.wait(self.interval):
            if time.monotonic() < quiet_until:
                continue
            try:
                self.sweep()
            except redis.RedisError as error:
                log.warning("dead-worker sweep: Redis unavailable (%s)", error)
                quiet_until = time.monotonic() + self.janitor.heartbeat_timeout / 1000

    def sweep(self) -> None:
        for queue in QUEUES:
            for name in (queue, dq_name(queue)):
                if self.stop.is_set():
                    return
                self.janitor.do_qsize(name)
