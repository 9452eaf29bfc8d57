"""What the notify service's `GET /metrics` reads at each scrape: its delivery log and the
depth of the Dramatiq queues in Redis."""
from __future__ import annotations

from typing import Iterable

import redis
import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, Metric

from services.notify.models import Delivery
from shared.broker import QUEUES
from shared.db import db
from shared.web import settings


def notify_metrics() -> Iterable[Metric]:
    by_status = GaugeMetricFamily("eupolnet_deliveries", "Emails in the delivery log, by outcome", labels=["status"])
    for status, count in db.session.execute(sa.select(Delivery.status, sa.func.count()).group_by(Delivery.status)):
        by_status.add_metric([status], count)
    db.session.rollback()
    depth = GaugeMetricFamily("eupolnet_queue_messages", "Messages in a Dramatiq queue (waiting or being worked on)",
                              labels=["queue"])
    client = redis.Redis.from_url(settings().redis_url or "", socket_connect_timeout=1, socket_timeout=1)
    try:
        for queue in QUEUES:
            for name in (queue, f"{queue}.DQ"):
                # Dramatiq's Redis broker keeps each queue's messages in the hash `dramatiq:QUEUE.msgs`.
                depth.add_metric([name], client.hlen(f"dramatiq:{name}.msgs"))
    except redis.RedisError:
        return [by_status]  # the broker is down: /readyz says so; the other values still count
    finally:
        client.close()
    return [by_status, depth]
