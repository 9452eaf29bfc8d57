"""Webhooks: the services' events posted to HTTPS endpoints that staff register.

The notify service already receives every message the registration and orders services
publish (through their outboxes and Dramatiq), so it is also the one that tells other
systems: for each message, `fan_out` writes one `WebhookDelivery` per active endpoint
subscribed to its type, in the same transaction as nothing else (a message handled twice
finds its rows and adds none). The relay's scheduler queues an attempt for each delivery
due (`scheduler.queue_due`), and `attempt` posts it.

What is posted: `{"id", "type", "occurred_at", "data"}` as JSON, `id` being the delivery's
(the same on every attempt: receivers deduplicate by it), `data` the message's data
without its credentials (self-service and verification links, ticket codes, join links).

Each post is signed: the header `EUPOLNET-Signature: t=<unix time>,v1=<hex>` where the hex
is HMAC-SHA256, with the endpoint's secret, of `"<t>.<body>"` (README, "Webhooks", shows how
to check it). A 2xx answer delivers; anything else, or no answer within `TIMEOUT`, is tried
again after `BACKOFF`, then the delivery is failed, for staff to see and resend.

In production an endpoint must be HTTPS and its host must resolve to public addresses only,
when registered and again before each post (no requests to the services' own network).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

from services.notify.models import DELIVERED, FAILED, QUEUED, WebhookDelivery, WebhookEndpoint
from services.notify.scheduler import QUEUE
from shared.contracts import CONTRACTS
from shared.db import db, dialect_insert, utcnow
from shared.errors import ApiError, Conflict, NotFound, current_status, problem
from shared.i18n import N_
from shared.web import settings

#: the message types an endpoint may subscribe to: every one the notify service receives
EVENT_TYPES = tuple(sorted(contract.type for contract in CONTRACTS.values() if contract.queue == QUEUE))
#: keys of a message's data that are credentials of a person, never posted
PRIVATE_KEYS = frozenset({"manage_url", "verify_url", "ticket", "join_url"})
SIGNATURE_HEADER = "EUPOLNET-Signature"
TIMEOUT = 10
#: the wait before each retry; after the last one the delivery is failed (about a day in all)
BACKOFF = tuple(dt.timedelta(seconds=s) for s in (30, 120, 600, 1800, 7200, 21600, 43200))


class UnsafeEndpoint(ApiError):
    status = 422
    code = "unsafe_endpoint"


# --- endpoints -----------------------------------------------------------------------------

def _unsafe(code: str, text: str) -> UnsafeEndpoint:
    return UnsafeEndpoint(problem(code, text), {"url": [problem(code, text)]})


NOT_HTTPS = N_("A webhook endpoint must be an https:// address.")
NOT_PUBLIC = N_("A webhook endpoint must be a public address, not one of a private network.")


def check_endpoint_url(url: str) -> None:
    """Refuse (422 naming `url`) what production must not post to: not HTTPS, or a host that
    resolves to a private, loopback, link-local or otherwise non-public address."""
    if not settings().production:
        return
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise _unsafe("endpoint_not_https", NOT_HTTPS)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError, ValueError):
        addresses = set()
    if not addresses or not all(ipaddress.ip_address(address.split("%")[0]).is_global for address in addresses):
        raise _unsafe("endpoint_not_public", NOT_PUBLIC)


def create_endpoint(data: dict[str, Any]) -> WebhookEndpoint:
    check_endpoint_url(data["url"])
    endpoint = WebhookEndpoint(url=data["url"], event_types=sorted(set(data["event_types"])), description=data.get("description"),
                               secret=secrets.token_hex(32), active=True)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(problem("unknown_webhook", "No webhook endpoint %(id)s.", id=endpoint_id))
    return endpoint


def list_endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


# --- fan-out and delivery -------------------------------------------------------------------

def _public(data: Any) -> Any:
    """`data` without the credentials it carries (PRIVATE_KEYS, at any depth)."""
    if isinstance(data, dict):
        return {key: _public(value) for key, value in data.items() if key not in PRIVATE_KEYS}
    if isinstance(data, list):
        return [_public(item) for item in data]
    return data


#: each worker reads the endpoints at most this often (an email is not held up by a query)
ENDPOINTS_CACHE_SECONDS = 5.0
_endpoints: tuple[float, list[tuple[int, frozenset[str]]]] = (0.0, [])


def _subscribers(kind: str) -> list[int]:
    """The active endpoints told of `kind`, as this worker read them in the last few seconds."""
    global _endpoints
    read_at, endpoints = _endpoints
    if time.monotonic() - read_at > ENDPOINTS_CACHE_SECONDS:
        rows = db.session.execute(sa.select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(WebhookEndpoint.active.is_(True)))
        endpoints = [(endpoint_id, frozenset(types)) for endpoint_id, types in rows]
        _endpoints = (time.monotonic(), endpoints)
    return [endpoint_id for endpoint_id, types in endpoints if kind in types]


def fan_out(envelope: dict[str, Any]) -> int:
    """One delivery per active endpoint subscribed to this message's type (none twice).
    An endpoint registered or changed is taken into account within ENDPOINTS_CACHE_SECONDS."""
    kind = envelope["type"]
    endpoints = _subscribers(kind)
    if not endpoints:
        return 0
    now = utcnow()
    rows = [{"endpoint_id": endpoint, "event_key": str(envelope["key"]), "event_type": kind, "status": QUEUED,
             "payload": {"type": kind, "occurred_at": envelope["occurred_at"], "data": _public(envelope["data"])},
             "due_at": now, "retries": 0, "attempts": 0, "created_at": now} for endpoint in endpoints]
    statement = dialect_insert(WebhookDelivery).values(rows).on_conflict_do_nothing(index_elements=["endpoint_id", "event_key"])
    return db.session.execute(statement).rowcount or 0


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps({"id": delivery.id, **delivery.payload}, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `EUPOLNET-Signature` header's value for `body` posted at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def attempt(delivery_id: int, queued_at: dt.datetime) -> None:
    """Post one delivery, if this is the attempt the scheduler queued last; record how it went.
    Commits: the claim, then the outcome (the HTTP request sits between the two)."""
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status != QUEUED or delivery.queued_at != queued_at:
        db.session.rollback()
        return
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    delivery.attempts += 1
    delivery.due_at = utcnow() + dt.timedelta(seconds=TIMEOUT * 3)  # if this worker dies mid-request
    url, secret, body = endpoint.url, endpoint.secret, body_of(delivery)
    db.session.commit()

    status, error = None, None
    try:
        check_endpoint_url(url)
        response = requests.post(url, data=body, timeout=TIMEOUT, allow_redirects=False, headers={
            "Content-Type": "application/json", "User-Agent": "EU-POLNET webhooks",
            SIGNATURE_HEADER: signature(secret, int(time.time()), body),
            "EUPOLNET-Event": delivery.event_type, "EUPOLNET-Delivery": str(delivery_id),
        })
        status = response.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}: {response.text[:200]}"
    except UnsafeEndpoint as refused:
        error = str(refused.message)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]

    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True)
    delivery.last_status, delivery.last_error = status, error
    if error is None:
        delivery.status, delivery.delivered_at, delivery.due_at = DELIVERED, utcnow(), None
    elif delivery.retries < len(BACKOFF):
        delivery.due_at = utcnow() + BACKOFF[delivery.retries]
        delivery.retries += 1
    else:
        delivery.status, delivery.due_at = FAILED, None
    db.session.commit()


def list_deliveries(status: str | None, endpoint_id: int | None, limit: int) -> list[WebhookDelivery]:
    statement = sa.select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if status:
        statement = statement.where(WebhookDelivery.status == status)
    if endpoint_id:
        statement = statement.where(WebhookDelivery.endpoint_id == endpoint_id)
    return list(db.session.scalars(statement))


def resend(delivery_id: int) -> WebhookDelivery:
    """Queue a failed delivery again, with its retries from the start (409 for any other status)."""
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound(problem("unknown_webhook_delivery", "No webhook delivery %(id)s.", id=delivery_id))
    if delivery.status != FAILED:
        raise Conflict(problem("not_failed", "Only a failed delivery can be resent."), {"status": [current_status(delivery.status)]})
    delivery.status, delivery.retries, delivery.due_at = QUEUED, 0, utcnow()
    return delivery
