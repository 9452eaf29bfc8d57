"""Staff actions of the notify service, each with its audit entry.

As in every service (registration's and orders' `staff.py` too), the API views call these
and commit: the change and its audit entry are written together or not at all.
"""
from __future__ import annotations

from typing import Any

from services.notify import operations, webhooks
from services.notify.models import FAILED, Delivery, WebhookDelivery, WebhookEndpoint
from shared import audit
from shared.auth import Staff
from shared.db import db


def resend(staff: Staff, delivery_id: int) -> Delivery:
    delivery = operations.resend(staff, delivery_id)
    audit.record("delivery.resend", str(delivery_id), {"status": FAILED}, {"status": delivery.status})
    return delivery


def create_webhook(data: dict[str, Any]) -> WebhookEndpoint:
    endpoint = webhooks.create_endpoint(data)
    audit.record("webhook.create", str(endpoint.id), None, {"url": endpoint.url, "event_types": endpoint.event_types})
    return endpoint


def update_webhook(endpoint_id: int, changes: dict[str, Any]) -> WebhookEndpoint:
    """Pause or resume an endpoint (`active`), or change what it is told of."""
    endpoint = webhooks.get_endpoint(endpoint_id)
    before = {name: getattr(endpoint, name) for name in changes}
    for name, value in changes.items():
        setattr(endpoint, name, sorted(set(value)) if name == "event_types" else value)
    audit.record("webhook.update", str(endpoint_id), before, changes)
    return endpoint


def delete_webhook(endpoint_id: int) -> None:
    """Remove an endpoint and its delivery log."""
    endpoint = webhooks.get_endpoint(endpoint_id)
    audit.record("webhook.delete", str(endpoint_id), {"url": endpoint.url}, None)
    db.session.delete(endpoint)


def resend_webhook(delivery_id: int) -> WebhookDelivery:
    delivery = webhooks.resend(delivery_id)
    audit.record("webhook.resend", str(delivery_id), {"status": FAILED}, {"status": delivery.status})
    return delivery
