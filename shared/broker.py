"""The Dramatiq broker: Redis, set once and early, before any actor is imported."""
from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

QUEUES = ("notify", "orders")


def make_broker(redis_url: str) -> RedisBroker:
    """A Redis broker whose connection failures surface quickly instead of hanging."""
    broker = RedisBroker(url=redis_url, socket_connect_timeout=2, socket_timeout=5)
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


def setup_broker(redis_url: str) -> RedisBroker:
    broker = make_broker(redis_url)
    dramatiq.set_broker(broker)
    return broker
