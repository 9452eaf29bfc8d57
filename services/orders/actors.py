"""Dramatiq actors of the orders service: envelopes in, safe to run twice.

Run by `dramatiq shared.worker services.orders.actors`: the entry module sets the broker
before these actors are declared and runs each message inside the orders app context.
"""
from __future__ import annotations

import dramatiq

from services.orders.operations import resolve_membership
from shared.contracts import CONTRACTS
from shared.db import db

MEMBERSHIP_CHECK = CONTRACTS["order.membership_check"]


@dramatiq.actor(
    actor_name=MEMBERSHIP_CHECK.actor_name,
    queue_name=MEMBERSHIP_CHECK.queue,
    # 1 s, 2 s, 4 s ... doubling up to 10 minutes between tries: about a day in all
    max_retries=150,
    min_backoff=1_000,
    max_backoff=600_000,
)
def order_membership_check(envelope: dict) -> None:
    """Price an order taken while the member directory could not answer.

    While it still cannot, `DirectoryUnavailable` propagates and Dramatiq retries later.
    """
    resolve_membership(envelope["data"]["order_id"])
    db.session.commit()
