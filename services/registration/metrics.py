"""What the registration service's `GET /metrics` reads from its database at each scrape."""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, Metric

from services.registration.models import Registration
from shared.db import db


def registration_metrics() -> Iterable[Metric]:
    by_status = GaugeMetricFamily("eupolnet_registrations", "Registrations held, by status", labels=["status"])
    for status, count in db.session.execute(sa.select(Registration.status, sa.func.count()).group_by(Registration.status)):
        by_status.add_metric([status], count)
    db.session.rollback()
    return [by_status]
