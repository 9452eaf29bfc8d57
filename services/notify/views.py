"""Staff routes of the notify API: what was sent, to whom, when and how it went; resend."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.notify import operations
from services.notify.models import DELIVERY_STATUSES
from shared import audit
from shared.auth import current_staff, staff_required
from shared.db import db

blp = Blueprint("notify", __name__, url_prefix="/api/v1", description="Email deliveries")


class DeliveryQuery(Schema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    recipient = fields.String(validate=validate.Length(max=254))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class DeliveryOut(Schema):
    id = fields.Integer()
    idempotency_key = fields.String()
    message_type = fields.String()
    recipient = fields.String()
    template = fields.String()
    language = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)


@blp.route("/deliveries")
@staff_required()
@blp.arguments(DeliveryQuery, location="query")
@blp.response(200, DeliveryOut(many=True))
def list_deliveries(query: dict):
    """Newest first; event emails for the events team, order emails for the publications team."""
    return operations.list_deliveries(current_staff(), query.get("status"), query.get("recipient"), query["limit"])


@blp.route("/deliveries/<int:delivery_id>/resend", methods=["POST"])
@staff_required()
@blp.response(202, DeliveryOut)
@blp.alt_response(403, description="the delivery belongs to another team (`role_required`)")
def resend_delivery(delivery_id: int):
    """Queue a failed delivery again (409 for any other status)."""
    delivery = operations.resend(current_staff(), delivery_id)
    audit.record("delivery.resend", str(delivery_id), {"status": "failed"}, {"status": delivery.status})
    db.session.commit()
    return delivery
