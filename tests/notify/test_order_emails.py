"""Order emails across services: the real orders service issues an invoice and a credit note,
its outbox and the relay hand the messages over, and the emails carry the stored PDFs."""
from __future__ import annotations

import requests

from services.orders.seed import seed_database
from tests.notify.conftest import staff_headers, wait_for
from tests.orders.conftest import order_payload


def pdf_of(message) -> tuple[str, bytes]:
    [part] = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    return part.get_filename(), part.get_content()


def test_invoice_and_credit_note_emails_carry_the_documents_the_orders_service_stored(
    orders_url, databases, mailbox, start_worker, relay, staff_token,
):
    seed_database(databases.urls["orders"])
    start_worker()
    staff = staff_headers(staff_token, "publications")
    order = requests.post(f"{orders_url}/api/v1/orders", json=order_payload(
        2, first_name="Luc", last_name="Martin", email="luc.martin@lyon.fr", language="fr", country="FR",
        organisation="Ville de Lyon", city="Lyon", postcode="69001", address="1 place de la Comédie",
    ), timeout=10).json()
    assert order["member"] is False and order["total_cents"] == 1600
    invoiced = requests.post(f"{orders_url}/api/v1/orders/{order['id']}/invoice", headers=staff, timeout=30).json()
    cancelled = requests.post(f"{orders_url}/api/v1/orders/{order['id']}/cancel", headers=staff, timeout=30)
    assert cancelled.status_code == 200, cancelled.text
    [credit_note] = requests.get(f"{orders_url}/api/v1/credit-notes", headers=staff, timeout=10).json()

    wait_for(lambda: len(mailbox.to("luc.martin@lyon.fr")) == 3, timeout=30)
    emails = {message["Subject"]: message for message in mailbox.to("luc.martin@lyon.fr")}
    assert all(message["Content-Language"] == "fr" for message in emails.values())
    [invoice_email] = [m for m in emails.values() if invoiced["invoice"] in m["Subject"] and "Facture" in m["Subject"]]
    [credit_email] = [m for m in emails.values() if "Avoir" in m["Subject"]]

    stored_invoice = requests.get(f"{orders_url}/api/v1/orders/{order['id']}/invoice.pdf", headers=staff, timeout=10)
    assert pdf_of(invoice_email) == (f"invoice-{invoiced['invoice']}.pdf", stored_invoice.content)
    stored_credit = requests.get(f"{orders_url}/api/v1/credit-notes/{credit_note['number']}.pdf", headers=staff, timeout=10)
    assert pdf_of(credit_email) == (f"credit-note-{credit_note['number']}.pdf", stored_credit.content)
