"""Staff actions of the orders service, each with its audit entry.

As in every service (registration's and notify's `staff.py` too), the API views call these
and commit: the change and its audit entry are written together or not at all.
"""
from __future__ import annotations

from typing import Any, Callable

from services.orders import operations
from services.orders.models import Order, Publication
from shared import audit

#: the life-cycle operation behind each staff action of shared.contracts.orders.ORDER_ACTIONS
OPERATIONS: dict[str, Callable[[Order], object]] = {
    "approve": operations.approve,
    "invoice": operations.issue_invoice,
    "mark-paid": operations.mark_paid,
    "ship": operations.ship,
    "cancel": operations.cancel,
}


def create_publication(data: dict[str, Any]) -> Publication:
    publication = operations.create_publication(data)
    audit.record("publication.create", publication.slug, None, data)
    return publication


def update_publication(slug: str, changes: dict[str, Any]) -> Publication:
    publication = operations.get_publication(slug, active_only=False)
    before = audit.snapshot(publication, changes)
    operations.update_publication(publication, changes)
    audit.record("publication.update", slug, before, audit.snapshot(publication, changes))
    return publication


def place_order(data: dict[str, Any]) -> Order:
    """An order from the web form, or entered by staff (audited) from another channel."""
    order = operations.place_order(data)
    if data["channel"] != "web":
        audit.record("order.enter", order.number, None, {"channel": data["channel"], "status": order.status,
                                                         "lines": [[line.publication.slug, line.copies] for line in order.lines]})
    return order


def act_on_order(order_id: int, action: str) -> Order:
    """Apply one of OPERATIONS to order `order_id` (a KeyError for any other name)."""
    order = operations.get_order(order_id)
    before = order.status
    OPERATIONS[action](order)
    audit.record(f"order.{action}", order.number, {"status": before}, {"status": order.status})
    return order
