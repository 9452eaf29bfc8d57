"""Versioned message contracts between the services.

A message travels as an envelope of JSON primitives:
`{"type", "version", "key", "occurred_at", "data"}`. `key` is the idempotency key: stable
for one state change, so a consumer that has seen it once ignores every redelivery. The
outbox adds `request_id`, the id of the web request (or message) that caused it, when
there is one: for the logs only, never for a decision.
Producers validate `data` against the contract's schema before writing it to the outbox,
so a consumer never receives a shape it does not know.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from marshmallow import Schema

from shared.contracts import orders, registration


@dataclass(frozen=True)
class Contract:
    type: str
    version: int
    schema: type[Schema]
    queue: str = "notify"

    @property
    def actor_name(self) -> str:
        """The Dramatiq actor that consumes this message (dots are not allowed in names)."""
        return self.type.replace(".", "_")


CONTRACTS: dict[str, Contract] = {
    contract.type: contract
    for contract in (
        Contract("registration.pending", 1, registration.RegistrationMessage),
        Contract("registration.confirmed", 1, registration.RegistrationMessage),
        Contract("registration.waitlisted", 1, registration.RegistrationMessage),
        Contract("registration.promoted", 1, registration.RegistrationMessage),
        Contract("registration.cancelled", 1, registration.RegistrationMessage),
        Contract("registration.pending_approval", 1, registration.RegistrationMessage),
        Contract("registration.approved", 1, registration.DecisionMessage),
        Contract("registration.rejected", 1, registration.DecisionMessage),
        Contract("group.registered", 1, registration.GroupMessage),
        Contract("registration.updated", 1, registration.RegistrationMessage),
        Contract("event.message", 1, registration.EventMessage),
        Contract("event.scheduled", 1, registration.EventScheduled),
        Contract("event.reminder", 1, registration.RegistrationMessage),
        Contract("certificate.issued", 1, registration.CertificateIssued),
        Contract("person.erased", 1, registration.PersonErased),
        Contract("order.received", 1, orders.OrderMessage),
        Contract("invoice.issued", 1, orders.DocumentMessage),
        Contract("order.shipped", 1, orders.OrderMessage),
        Contract("credit_note.issued", 1, orders.DocumentMessage),
        # Internal to the orders service: ask the member directory again for an unverified order.
        Contract("order.membership_check", 1, orders.MembershipCheck, queue="orders"),
    )
}


@functools.cache
def _validator(message_type: str) -> Schema:
    """One schema instance per contract: building one costs more than validating with it."""
    return CONTRACTS[message_type].schema()


class UnknownMessageType(KeyError):
    pass


def make_envelope(message_type: str, key: str, data: dict, occurred_at: dt.datetime) -> dict:
    """Validate `data` against its contract and wrap it in an envelope.

    Raises `UnknownMessageType` or marshmallow's `ValidationError`: both are programming
    errors of the producer, never of the person whose request caused the message.
    """
    try:
        contract = CONTRACTS[message_type]
    except KeyError:
        raise UnknownMessageType(message_type) from None
    return {
        "type": contract.type,
        "version": contract.version,
        "key": key,
        "occurred_at": occurred_at.isoformat(),
        "data": _validator(contract.type).load(data),
    }
