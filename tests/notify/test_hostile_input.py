"""Input an attacker sends to the notify service: a 4xx naming the field."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.notify.models import Delivery
from shared.audit import AuditEntry
from shared.db import db
from shared.schemas import MAX_ID
from tests.notify.conftest import staff_headers


@pytest.mark.parametrize("number", [MAX_ID + 1, 2**63, 10**30])
def test_a_resend_beyond_the_integer_range_is_404(notify_client, notify_app, staff_token, number):
    response = notify_client.post(f"/api/v1/deliveries/{number}/resend", headers=staff_headers(staff_token, "admin"))
    assert response.status_code == 404
    with notify_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0


def test_a_nul_in_a_query_is_422_naming_it(notify_client, staff_token):
    response = notify_client.get("/api/v1/deliveries?recipient=a%00b", headers=staff_headers(staff_token, "admin"))
    assert response.status_code == 422 and "recipient" in response.json["errors"]
