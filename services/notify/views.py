"""Staff routes of the notify API: what was sent, to whom, when and how it went; resend;
the webhook endpoints and what was posted to them."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.notify import emails, operations, staff, webhooks
from services.notify.models import DELIVERY_STATUSES, WEBHOOK_STATUSES
from shared.auth import current_staff, staff_required
from shared.db import db
from shared.schemas import Changes, StrictSchema

blp = Blueprint("notify", __name__, url_prefix="/api/v1", description="Email deliveries and webhooks")


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
    subject = fields.Function(
        lambda delivery: emails.subject(delivery.envelope),
        metadata={"type": "string", "nullable": True,
                  "description": "the email's subject as the recipient read it, in their language (null once erased)"},
    )
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
    delivery = staff.resend(current_staff(), delivery_id)
    db.session.commit()
    return delivery


# --- webhooks (admin) ------------------------------------------------------------------------

class WebhookIn(StrictSchema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=500))
    event_types = fields.List(fields.String(validate=validate.OneOf(webhooks.EVENT_TYPES)), required=True,
                              validate=validate.Length(min=1))
    description = fields.String(validate=validate.Length(max=200), load_default=None)


class WebhookPatch(Changes, StrictSchema):
    active = fields.Boolean()
    event_types = fields.List(fields.String(validate=validate.OneOf(webhooks.EVENT_TYPES)), validate=validate.Length(min=1))


class WebhookOut(Schema):
    id = fields.Integer()
    url = fields.String()
    event_types = fields.List(fields.String())
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.AwareDateTime()


class WebhookCreated(WebhookOut):
    secret = fields.String(metadata={"description": "signs every post (README, Webhooks); shown this once"})


class WebhookDeliveryQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(WEBHOOK_STATUSES))
    endpoint = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class WebhookDeliveryOut(Schema):
    id = fields.Integer()
    endpoint_id = fields.Integer()
    event_key = fields.String()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime(allow_none=True)


@blp.route("/webhooks", methods=["POST"])
@staff_required("admin")
@blp.arguments(WebhookIn)
@blp.response(201, WebhookCreated)
@blp.alt_response(422, description="not a valid address, or (in production) not HTTPS or not public")
def create_webhook(data: dict):
    """Register an endpoint to be told of the given message types."""
    endpoint = staff.create_webhook(data)
    db.session.commit()
    return endpoint


@blp.route("/webhooks")
@staff_required("admin")
@blp.response(200, WebhookOut(many=True))
def list_webhooks():
    return webhooks.list_endpoints()


@blp.route("/webhooks/<int:endpoint_id>", methods=["PATCH"])
@staff_required("admin")
@blp.arguments(WebhookPatch)
@blp.response(200, WebhookOut)
def update_webhook(changes: dict, endpoint_id: int):
    """Pause or resume an endpoint (`active`), or change what it is told of."""
    endpoint = staff.update_webhook(endpoint_id, changes)
    db.session.commit()
    return endpoint


@blp.route("/webhooks/<int:endpoint_id>", methods=["DELETE"])
@staff_required("admin")
@blp.response(204)
def delete_webhook(endpoint_id: int):
    """Remove an endpoint and its delivery log."""
    staff.delete_webhook(endpoint_id)
    db.session.commit()


@blp.route("/webhooks/deliveries")
@staff_required("admin")
@blp.arguments(WebhookDeliveryQuery, location="query")
@blp.response(200, WebhookDeliveryOut(many=True))
def list_webhook_deliveries(query: dict):
    """What was posted where and how it went, newest first."""
    return webhooks.list_deliveries(query.get("status"), query.get("endpoint"), query["limit"])


@blp.route("/webhooks/deliveries/<int:delivery_id>/resend", methods=["POST"])
@staff_required("admin")
@blp.response(202, WebhookDeliveryOut)
def resend_webhook_delivery(delivery_id: int):
    """Queue a failed post again (409 for any other status)."""
    delivery = staff.resend_webhook(delivery_id)
    db.session.commit()
    return delivery
