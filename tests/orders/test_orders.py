"""Orders from the web form and from staff: pricing, the free-copy quota, stock, the life
cycle, and the invoices and credit notes it issues."""
from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import facturx
import pytest
import sqlalchemy as sa

from services.orders.models import BillingDocument, ImmutableDocument, Invoice
from services.orders.seed import seed_database
from shared.contracts import CONTRACTS
from shared.db import db
from shared.outbox import OutboxMessage
from tests.orders.conftest import order_payload
from tests.orders.test_documents import embedded_xml, pdf_text

YEAR = dt.datetime.now(ZoneInfo("Europe/Paris")).year
SEED = "police-population-relations"


def messages(app, message_type: str) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.message_type == message_type).order_by(OutboxMessage.created_at)
        ).all()
        return [row.envelope for row in rows]


def stock(orders, slug: str = SEED) -> int:
    return orders.get(f"/api/v1/publications/{slug}").json["stock"]


def test_walk_through_as_in_the_readme(orders, staff, make_member, orders_app, databases):
    """5 copies as a member = 3 free + 2 x EUR 8; 2 copies as a non-member = 2 x EUR 8;
    invoice, mark paid, ship; cancel another invoiced order and get a credit note."""
    assert seed_database(databases.urls["orders"]) == [SEED]
    make_member()
    catalogue = orders.get("/api/v1/publications").json
    assert [p["slug"] for p in catalogue] == [SEED] and catalogue[0]["languages"] == ["fr", "en"]

    member = orders.post("/api/v1/orders", json=order_payload(5))
    assert member.status_code == 201, member.json
    assert member.json["member"] is True and member.json["membership"] == "verified"
    assert member.json["status"] == "received"
    assert [{k: line[k] for k in ("publication", "copies", "free_copies", "paid_copies", "postage_cents")}
            for line in member.json["lines"]] == [
        {"publication": SEED, "copies": 5, "free_copies": 3, "paid_copies": 2, "postage_cents": 1600}]
    assert (member.json["total_cents"], member.json["currency"]) == (1600, "EUR")

    outsider = orders.post("/api/v1/orders", json=order_payload(
        2, first_name="John", last_name="Smith", organisation="Leeds City Council", email="john.smith@leeds.gov.uk",
        address="Civic Hall\nCalverley Street", city="Leeds", postcode="LS1 1UR", country="GB"))
    assert outsider.status_code == 201
    assert outsider.json["member"] is False
    assert outsider.json["lines"][0]["free_copies"] == 0 and outsider.json["total_cents"] == 1600

    # The member's order: invoice, payment, shipping.
    order_id = member.json["id"]
    invoiced = orders.post(f"/api/v1/orders/{order_id}/invoice", headers=staff)
    assert invoiced.status_code == 200, invoiced.json
    assert invoiced.json["status"] == "invoiced" and invoiced.json["invoice"] == f"{YEAR}-00001"
    assert stock(orders) == 500 - 5
    pdf = orders.get(f"/api/v1/orders/{order_id}/invoice.pdf", headers=staff)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for expected in ("Invoice", f"{YEAR}-00001", member.json["number"], "Polícia Municipal de Lisboa", "Ana Silva",
                     "Rua Cardeal Saraiva 34", "1070-046 Lisboa", "Portugal", "Police-Population Relations", "postage",
                     "3 free copies (Efus member)", "€8.00", "Total due", "€16.00", "SIRET 00000000000000",
                     "Payment by bank transfer within 30 days", "FR76 3000 6000 0112 3456 7890 189"):
        assert expected in text, expected
    xml = embedded_xml(pdf.data)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert xml.findtext(".//{*}GrandTotalAmount") == "16.00"
    assert orders.post(f"/api/v1/orders/{order_id}/ship", headers=staff).status_code == 409  # not paid yet
    assert orders.post(f"/api/v1/orders/{order_id}/mark-paid", headers=staff).json["status"] == "paid"
    shipped = orders.post(f"/api/v1/orders/{order_id}/ship", headers=staff)
    assert shipped.json["status"] == "shipped" and shipped.json["shipped_at"]
    assert orders.post(f"/api/v1/orders/{order_id}/cancel", headers=staff).status_code == 409  # shipped: too late

    # The other order: invoiced, then cancelled; the credit note cancels its invoice.
    other = outsider.json["id"]
    assert orders.post(f"/api/v1/orders/{other}/invoice", headers=staff).json["invoice"] == f"{YEAR}-00002"
    assert stock(orders) == 500 - 5 - 2
    cancelled = orders.post(f"/api/v1/orders/{other}/cancel", headers=staff)
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled" and cancelled.json["credit_note"] == f"{YEAR}-00003"
    assert stock(orders) == 500 - 5  # the copies are back
    credit_notes = orders.get("/api/v1/credit-notes", headers=staff).json
    assert [(c["number"], c["refers_to"], c["total_cents"], c["order_number"]) for c in credit_notes] == [
        (f"{YEAR}-00003", f"{YEAR}-00002", 1600, outsider.json["number"])]
    invoices = orders.get("/api/v1/invoices", headers=staff).json
    assert [(i["number"], i["buyer_name"], i["total_cents"]) for i in invoices] == [
        (f"{YEAR}-00001", "Polícia Municipal de Lisboa", 1600), (f"{YEAR}-00002", "Leeds City Council", 1600)]
    credit_pdf = orders.get(f"/api/v1/credit-notes/{YEAR}-00003.pdf", headers=staff)
    text = pdf_text(credit_pdf.data)
    for expected in ("Credit note", f"{YEAR}-00003", "Cancels", f"{YEAR}-00002", "Leeds City Council",
                     "Total credited", "€16.00", "Nothing is due"):
        assert expected in text, expected
    xml = embedded_xml(credit_pdf.data)
    assert xml.findtext(".//{*}InvoiceReferencedDocument/{*}IssuerAssignedID") == f"{YEAR}-00002"

    # Every change a person cares about went to the outbox, once, in the agreed shape.
    assert [m["data"]["order"]["number"] for m in messages(orders_app, "order.received")] == [
        member.json["number"], outsider.json["number"]]
    [issued, _] = messages(orders_app, "invoice.issued")
    assert issued["data"]["document"] == {"kind": "invoice", "number": f"{YEAR}-00001", "total_cents": 1600, "refers_to": None}
    assert issued["data"]["order"]["organisation"] == "Câmara Municipal de Lisboa"
    assert issued["data"]["order"]["lines"][0]["free_copies"] == 3
    assert [m["data"]["order"]["status"] for m in messages(orders_app, "order.shipped")] == ["shipped"]
    [credit] = messages(orders_app, "credit_note.issued")
    assert credit["data"]["document"]["refers_to"] == f"{YEAR}-00002"
    assert credit["data"]["person"]["email"] == "john.smith@leeds.gov.uk"


def test_served_pdf_is_the_stored_one_with_its_hash(orders, staff, make_publication, orders_app):
    make_publication()
    order = orders.post("/api/v1/orders", json=order_payload(1, email="x@example.org")).json
    orders.post(f"/api/v1/orders/{order['id']}/invoice", headers=staff)
    [listed] = orders.get("/api/v1/invoices", headers=staff).json
    first = orders.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=staff)
    again = orders.get(f"/api/v1/invoices/{listed['number']}.pdf", headers=staff)
    assert hashlib.sha256(first.data).hexdigest() == listed["sha256"] == first.headers["ETag"].strip('"')
    assert again.data == first.data  # served as stored, never rendered again
    with orders_app.app_context():
        stored = db.session.scalar(sa.select(BillingDocument).where(BillingDocument.number == listed["number"]))
        assert stored.pdf == first.data
        stored.total_cents = 1
        with pytest.raises(ImmutableDocument):
            db.session.flush()
        db.session.rollback()


def test_free_copies_are_counted_across_orders_and_given_back_on_cancel(orders, staff, make_publication, make_member):
    make_publication()
    make_member()
    first = orders.post("/api/v1/orders", json=order_payload(2)).json
    second = orders.post("/api/v1/orders", json=order_payload(2, email="rui@cm-lisboa.pt")).json
    assert (first["lines"][0]["free_copies"], first["total_cents"]) == (2, 0)
    assert (second["lines"][0]["free_copies"], second["total_cents"]) == (1, 800)
    assert orders.post(f"/api/v1/orders/{first['id']}/cancel", headers=staff).json["status"] == "cancelled"
    third = orders.post("/api/v1/orders", json=order_payload(4, email="eva@cm-lisboa.pt")).json
    assert (third["lines"][0]["free_copies"], third["lines"][0]["paid_copies"], third["total_cents"]) == (2, 2, 1600)
    # Another organisation has its own quota.
    make_member("Ville de Lyon", "mairie-lyon.fr", "FR")
    lyon = orders.post("/api/v1/orders", json=order_payload(3, email="jeanne@mairie-lyon.fr")).json
    assert lyon["total_cents"] == 0


def test_free_order_is_approved_and_shipped_without_invoice(orders, staff, make_publication, make_member):
    make_publication(stock=3)
    make_member()
    order = orders.post("/api/v1/orders", json=order_payload(3)).json
    assert order["total_cents"] == 0
    assert orders.post(f"/api/v1/orders/{order['id']}/invoice", headers=staff).status_code == 409
    approved = orders.post(f"/api/v1/orders/{order['id']}/approve", headers=staff)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert stock(orders) == 0
    assert orders.post(f"/api/v1/orders/{order['id']}/ship", headers=staff).json["status"] == "shipped"
    assert orders.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=staff).status_code == 404
    assert orders.get("/api/v1/invoices", headers=staff).json == []


@pytest.mark.parametrize(("path", "setup", "field"), [
    ("approve", [], "status"),             # payable: invoice it
    ("mark-paid", [], "status"),           # not invoiced
    ("ship", [], "status"),                # neither approved nor paid
    ("invoice", ["invoice"], "status"),    # twice
    ("mark-paid", ["invoice", "mark-paid"], "status"),
    ("cancel", ["cancel"], "status"),      # already cancelled
    ("invoice", ["cancel"], "status"),
])
def test_illegal_transitions_answer_409(orders, staff, make_publication, path, setup, field):
    make_publication()
    order = orders.post("/api/v1/orders", json=order_payload(1, email="someone@example.org")).json
    for step in setup:
        assert orders.post(f"/api/v1/orders/{order['id']}/{step}", headers=staff).status_code == 200
    before = orders.get(f"/api/v1/orders/{order['id']}", headers=staff).json
    response = orders.post(f"/api/v1/orders/{order['id']}/{path}", headers=staff)
    assert response.status_code == 409, response.json
    assert field in response.json["errors"] and response.json["message"]
    assert orders.get(f"/api/v1/orders/{order['id']}", headers=staff).json == before


def test_stock_is_reserved_on_invoice_and_never_goes_below_zero(orders, staff, make_publication):
    make_publication(stock=3)
    first = orders.post("/api/v1/orders", json=order_payload(2, email="a@example.org")).json
    second = orders.post("/api/v1/orders", json=order_payload(2, email="b@example.org")).json
    assert stock(orders) == 3  # taking an order reserves nothing
    assert orders.post(f"/api/v1/orders/{first['id']}/invoice", headers=staff).status_code == 200
    refused = orders.post(f"/api/v1/orders/{second['id']}/invoice", headers=staff)
    assert refused.status_code == 409 and "lines.0.copies" in refused.json["errors"]
    assert stock(orders) == 1
    # The refused invoice took no number: the next one follows without a gap.
    orders.patch(f"/api/v1/publications/{SEED}", json={"stock": 10}, headers=staff)
    assert orders.post(f"/api/v1/orders/{second['id']}/invoice", headers=staff).json["invoice"] == f"{YEAR}-00002"
    # More copies than the stock holds are refused when ordering.
    too_many = orders.post("/api/v1/orders", json=order_payload(11, email="c@example.org"))
    assert too_many.status_code == 409 and "lines.0.copies" in too_many.json["errors"]


#: per language: what its invoice must say (title, postage line, amount, total, country, legal mentions)
INVOICE_TEXTS = {
    "en": ("Invoice", "postage", "€8.00", "Total due", "France", "VAT not applicable: art. 293 B du CGI.", "No discount for early payment."),
    "fr": ("Facture", "frais de port", "8,00 €", "Total à payer", "France", "TVA non applicable : art. 293 B du CGI.",
           "Pas d’escompte pour paiement anticipé."),
    "es": ("Factura", "gastos de envío", "8,00 €", "Total a pagar", "Francia", "IVA no aplicable: art. 293 B du CGI.",
           "Sin descuento por pronto pago."),
    "it": ("Fattura", "spese di spedizione", "8,00 €", "Totale dovuto", "Francia", "IVA non applicabile: art. 293 B du CGI.",
           "Nessuno sconto per pagamento anticipato."),
    "de": ("Rechnung", "Versandkosten", "8,00 €", "Zu zahlender Betrag", "Frankreich", "Keine Umsatzsteuer: art. 293 B du CGI.",
           "Kein Skonto bei vorzeitiger Zahlung."),
    "pt": ("Fatura", "portes de envio", "8,00 €", "Total a pagar", "França", "IVA não aplicável: art. 293 B du CGI.",
           "Sem desconto por pagamento antecipado."),
}


@pytest.mark.parametrize("lang", list(INVOICE_TEXTS))
def test_documents_follow_the_customer_language(orders, staff, make_publication, lang):
    make_publication()
    order = orders.post("/api/v1/orders", json=order_payload(1, email="j@example.fr", language=lang, country="FR")).json
    orders.post(f"/api/v1/orders/{order['id']}/invoice", headers=staff)
    pdf = orders.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=staff).data
    text = " ".join(pdf_text(pdf).split())
    for expected in INVOICE_TEXTS[lang]:
        assert expected in text, expected
    assert "40,00 €" in text or "€40.00" in text, "the fixed recovery fee (L441-9)"
    assert "10 %" in text or "10%" in text or "10\u00a0%" in text, "the late-payment penalty rate"
    orders.post(f"/api/v1/orders/{order['id']}/cancel", headers=staff)
    [credit] = orders.get("/api/v1/credit-notes", headers=staff).json
    credit_text = pdf_text(orders.get(f"/api/v1/credit-notes/{credit['number']}.pdf", headers=staff).data)
    assert INVOICE_TEXTS[lang][-1] in " ".join(credit_text.split())


def test_staff_enter_orders_from_other_channels(orders, staff, make_publication, staff_token):
    make_publication()
    body = order_payload(1, email="post@example.org", channel="post")
    assert orders.post("/api/v1/orders", json=body).status_code == 401
    events = {"Authorization": f"Bearer {staff_token('events')}"}
    assert orders.post("/api/v1/orders", json=body, headers=events).status_code == 403
    entered = orders.post("/api/v1/orders", json=body, headers=staff)
    assert entered.status_code == 201
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    assert orders.post("/api/v1/orders", json={**body, "channel": "fax"}, headers=admin).status_code == 201
    listed = orders.get("/api/v1/orders?status=received", headers=staff).json
    assert [o["channel"] for o in listed] == ["fax", "post"]
    assert orders.get("/api/v1/orders?status=shipped", headers=staff).json == []


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/orders"), ("get", "/api/v1/orders/1"), ("post", "/api/v1/orders/1/approve"),
    ("post", "/api/v1/orders/1/invoice"), ("post", "/api/v1/orders/1/mark-paid"), ("post", "/api/v1/orders/1/ship"),
    ("post", "/api/v1/orders/1/cancel"), ("get", "/api/v1/orders/1/invoice.pdf"), ("get", "/api/v1/invoices"),
    ("get", "/api/v1/credit-notes"), ("get", f"/api/v1/credit-notes/{YEAR}-00001.pdf"),
    ("post", "/api/v1/publications"), ("patch", f"/api/v1/publications/{SEED}"),
])
def test_staff_endpoints_need_the_publications_role(orders, staff_token, method, path):
    assert getattr(orders, method)(path).status_code == 401
    events = {"Authorization": f"Bearer {staff_token('events')}"}
    assert getattr(orders, method)(path, headers=events).status_code == 403


def test_inactive_publication_is_neither_listed_nor_orderable(orders, staff, make_publication):
    make_publication(active=False)
    assert orders.get("/api/v1/publications").json == []
    assert orders.get(f"/api/v1/publications/{SEED}").status_code == 404
    response = orders.post("/api/v1/orders", json=order_payload(1))
    assert response.status_code == 422 and "lines.0.publication" in response.json["errors"]


def test_order_received_message_matches_its_contract(orders, make_publication, orders_app):
    make_publication()
    orders.post("/api/v1/orders", json=order_payload(2, email="someone@example.org"))
    [envelope] = messages(orders_app, "order.received")
    assert envelope["key"].startswith("order.received:")
    assert CONTRACTS["order.received"].schema().validate(envelope["data"]) == {}
    with orders_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 0


def test_production_refuses_the_placeholder_invoice_details(environ):
    from services.orders import create_app
    from shared.config import ConfigurationError, load_settings

    production = {**environ, "EUPOLNET_ENV": "production", "SECRET_KEY": "x" * 40}
    with pytest.raises(ConfigurationError, match="INVOICE_SELLER_SIRET"):
        create_app(load_settings(production))
    production["INVOICE_SELLER_SIRET"] = "123 456 789 00011"
    with pytest.raises(ConfigurationError, match="INVOICE_BANK_IBAN"):
        create_app(load_settings(production))
    production["INVOICE_BANK_IBAN"] = "FR76 1027 8060 3100 0205 2830 146"
    settings = create_app(load_settings(production)).extensions["eupolnet_settings"]
    assert (settings.invoice_seller_siret, settings.invoice_bank_iban) == ("12345678900011", "FR7610278060310002052830146")


def test_the_orders_come_a_page_at_a_time_newest_first(orders, staff, make_publication):
    make_publication()
    for number in range(5):
        assert orders.post("/api/v1/orders", json=order_payload(1, email=f"reader{number}@example.org")).status_code == 201
    first = orders.get("/api/v1/orders?status=received&per_page=2", headers=staff)
    assert first.headers["X-Total-Count"] == "5"
    assert [o["email"] for o in first.json] == ["reader4@example.org", "reader3@example.org"]
    assert '/api/v1/orders?status=received&per_page=2&page=2>; rel="next"' in first.headers["Link"]
    last = orders.get("/api/v1/orders?status=received&per_page=2&page=3", headers=staff)
    assert [o["email"] for o in last.json] == ["reader0@example.org"] and 'rel="next"' not in last.headers["Link"]
    assert orders.get("/api/v1/orders?per_page=501", headers=staff).json["errors"].keys() == {"per_page"}
