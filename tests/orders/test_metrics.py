"""The orders service's `GET /metrics`: how long each invoice took to render, and its outbox."""
from __future__ import annotations

import re

from tests.orders.conftest import order_payload


def rendered(orders) -> float:  # noqa: ANN001
    text = orders.get("/metrics").get_data(as_text=True)
    return float(re.search(r"^eupolnet_invoice_render_seconds_count (\S+)$", text, re.MULTILINE).group(1))


def test_each_invoice_render_is_timed(orders, staff, make_publication):
    make_publication(stock=10)
    order = orders.post("/api/v1/orders", json=order_payload(2)).json
    before = rendered(orders)
    assert orders.post(f"/api/v1/orders/{order['id']}/invoice", headers=staff).status_code == 200
    assert rendered(orders) == before + 1
    text = orders.get("/metrics").get_data(as_text=True)
    assert re.search(r"^eupolnet_outbox_pending_messages \d", text, re.MULTILINE)
    assert 'eupolnet_http_requests_total{method="POST",route="/api/v1/orders/<int:order_id>/invoice",service="orders",status="200"}' in text
