"""Issuing in two steps: the number and the document's row are committed first, the PDF is
rendered outside any transaction and stored afterwards. So issuers render in parallel, and
a process killed in between leaves a numbered document that is rendered when next asked
for: the same number, never a gap, never a second number."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.orders import operations
from services.orders.models import BillingDocument
from shared.db import db
from tests.orders.conftest import order_payload
from tests.orders.test_documents import embedded_xml, make_credit_note, make_invoice, pdf_text

YEAR = dt.datetime.now(ZoneInfo("Europe/Paris")).year

#: issues the invoice of order argv[1] through the API, with a render that never ends
ISSUE_AND_HANG = """
import sys, time
from services.orders import create_app, operations

def hang(content):
    print("rendering", content.number, flush=True)
    time.sleep(600)

operations.render_document = hang
create_app().test_client().post(f"/api/v1/orders/{sys.argv[1]}/invoice", headers={"Authorization": sys.argv[2]})
"""


def test_document_content_survives_its_json() -> None:
    for content in (make_invoice(), make_credit_note()):
        stored = json.loads(json.dumps(content.to_json()))
        assert type(content).from_json(stored) == content


def documents(databases) -> list[tuple[str, int, bool]]:
    engine = sa.create_engine(databases.urls["orders"])
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT number, order_id, pdf IS NOT NULL FROM billing_document ORDER BY year, sequence")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_a_process_killed_before_storing_the_pdf_leaves_a_document_rendered_on_the_next_download(
        orders, staff, make_publication, orders_environ, databases):
    make_publication()
    first, second = (orders.post("/api/v1/orders", json=order_payload(1, email=f"p{n}@example.org")).json["id"]
                     for n in range(2))
    child = subprocess.Popen([sys.executable, "-c", ISSUE_AND_HANG, str(first), staff["Authorization"]],
                             env={**os.environ, **orders_environ}, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().split() == ["rendering", f"{YEAR}-00001"]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL

    # The number, the row and the order's status were committed; the PDF never was.
    assert documents(databases) == [(f"{YEAR}-00001", first, False)]
    assert orders.get(f"/api/v1/orders/{first}", headers=staff).json["status"] == "invoiced"
    # Issuing again takes no second number; the next order's invoice follows without a gap.
    assert orders.post(f"/api/v1/orders/{first}/invoice", headers=staff).status_code == 409
    assert orders.post(f"/api/v1/orders/{second}/invoice", headers=staff).json["invoice"] == f"{YEAR}-00002"

    # The next download renders it under its number, stores it, and serves the stored file from then on.
    pdf = orders.get(f"/api/v1/orders/{first}/invoice.pdf", headers=staff)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert f"{YEAR}-00001" in pdf_text(pdf.data)
    assert embedded_xml(pdf.data).findtext("{*}ExchangedDocument/{*}ID") == f"{YEAR}-00001"
    [listed, _] = orders.get("/api/v1/invoices", headers=staff).json
    assert listed["sha256"] == hashlib.sha256(pdf.data).hexdigest() == pdf.headers["ETag"].strip('"')
    assert orders.get(f"/api/v1/invoices/{YEAR}-00001.pdf", headers=staff).data == pdf.data
    assert documents(databases) == [(f"{YEAR}-00001", first, True), (f"{YEAR}-00002", second, True)]


def test_issuers_render_outside_the_numbering_lock(orders_app, orders, staff, make_publication, monkeypatch):
    """While one invoice renders, another is numbered, rendered and stored."""
    make_publication()
    first, second = (orders.post("/api/v1/orders", json=order_payload(1, email=f"p{n}@example.org")).json["id"]
                     for n in range(2))
    render, rendering, finish = operations.render_document, threading.Event(), threading.Event()

    def slow_for_the_first(content):
        if content.number == f"{YEAR}-00001":
            rendering.set()
            assert finish.wait(60)
        return render(content)

    monkeypatch.setattr(operations, "render_document", slow_for_the_first)
    answers: dict[str, int] = {}

    def issue_first() -> None:
        answers["first"] = orders_app.test_client().post(f"/api/v1/orders/{first}/invoice", headers=staff).status_code

    thread = threading.Thread(target=issue_first)
    thread.start()
    try:
        assert rendering.wait(60)
        issued = orders.post(f"/api/v1/orders/{second}/invoice", headers=staff)
        assert issued.status_code == 200 and issued.json["invoice"] == f"{YEAR}-00002"
        with orders_app.app_context():
            stored = {d.number: d.sha256 for d in db.session.scalars(sa.select(BillingDocument))}
        assert stored[f"{YEAR}-00001"] is None and stored[f"{YEAR}-00002"] is not None
    finally:
        finish.set()
        thread.join(60)
    assert answers["first"] == 200
    with orders_app.app_context():
        assert all(d.sha256 for d in db.session.scalars(sa.select(BillingDocument)))



def test_two_renders_at_once_store_one_file(orders_app, orders, make_publication, monkeypatch):
    """Two downloads of a document without PDF both render it; the file stored first is
    the one both serve, and the second never replaces it."""
    make_publication()
    order_id = orders.post("/api/v1/orders", json=order_payload(1, email="p@example.org")).json["id"]
    with orders_app.app_context():  # numbered and committed, not rendered yet
        document_id = operations.issue_invoice(operations.get_order(order_id)).id
        db.session.commit()
    render, both = operations.render_document, threading.Barrier(2, timeout=60)
    monkeypatch.setattr(operations, "render_document", lambda content: (both.wait(), render(content))[1])
    served: list[tuple[str, bytes]] = []

    def download() -> None:
        with orders_app.app_context():
            document = operations.store_pdf(document_id)
            served.append((document.sha256, document.pdf))

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    [(sha256, pdf), again] = served
    assert again == (sha256, pdf) and hashlib.sha256(pdf).hexdigest() == sha256
