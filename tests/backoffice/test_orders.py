"""The orders work queue of the back office, against the registration and orders services
under gunicorn: the back office calls the orders API with the logged-in staff member's token."""
from __future__ import annotations

import requests

from tests.backoffice.conftest import PASSWORD, create_publication, csrf

ORDER = {"channel": "post", "lines_0_publication": "safer-cities", "lines_0_copies": "2", "first_name": "Jean", "last_name": "Dupont",
         "organisation": "Mairie de Lyon", "address": "1 place de la Comédie", "postcode": "69001", "city": "Lyon",
         "country": "fr", "email": "jean.dupont@example.fr", "telephone": "", "language": "fr"}


def logged_in(url: str, email: str) -> requests.Session:
    browser = requests.Session()
    token = csrf(browser.get(f"{url}/staff/login", timeout=10).text)
    response = browser.post(f"{url}/staff/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, timeout=10)
    assert response.ok and "Log out" in response.text
    return browser


def test_enter_a_postal_order_then_invoice_mark_paid_ship_and_download_the_invoice(services, staff_account, staff_token):
    url = services.registration.url
    token = staff_token("publications")
    create_publication(services.orders.url, token)
    publications = {"Authorization": f"Bearer {token}"}
    browser = logged_in(url, staff_account("publications"))

    page = browser.get(f"{url}/staff/orders/new", timeout=10)
    bad = browser.post(f"{url}/staff/orders/new", data={**ORDER, "csrf_token": csrf(page.text), "lines_0_publication": "no-such-book"}, timeout=10)
    assert bad.status_code == 422 and 'aria-describedby="lines_0_publication-error" aria-invalid="true"' in bad.text
    token = csrf(page.text)
    # what the form cannot read is refused next to its field, before the orders service is asked
    for bad, field in (({"lines_0_copies": "two"}, "lines_0_copies"), ({"lines_0_copies": ""}, "lines_0_copies"),
                       ({"lines_0_publication": "", "lines_1_copies": "3"}, "lines_1_publication")):
        response = browser.post(f"{url}/staff/orders/new", data={**ORDER, **bad, "csrf_token": token}, timeout=10)
        assert response.status_code == 422 and f'<span class="error" id="{field}-error">' in response.text, bad
    response = browser.post(f"{url}/staff/orders/new", data={**ORDER, "csrf_token": token, "lines_0_publication": "", "lines_0_copies": ""},
                            timeout=10)
    assert response.status_code == 422 and '<p class="error" id="lines-error">Enter at least one publication' in response.text
    # the service's refusals too, on the line they name (the second line here, the first one left empty)
    response = browser.post(f"{url}/staff/orders/new", timeout=10, data={
        **ORDER, "csrf_token": token, "lines_0_publication": "", "lines_0_copies": "", "lines_1_publication": "safer-cities",
        "lines_1_copies": "0", "country": "France", "email": "jean"})
    assert response.status_code == 422
    for field in ("lines_1_copies", "country", "email"):
        assert f'<span class="error" id="{field}-error">' in response.text, field
    assert requests.get(f"{services.orders.url}/api/v1/orders", headers=publications, timeout=10).json() == []

    response = browser.post(f"{url}/staff/orders/new", data={**ORDER, "csrf_token": token}, timeout=30)
    assert response.ok, response.text
    assert "recorded (received)" in response.text and "Jean Dupont" in response.text
    [order] = requests.get(f"{services.orders.url}/api/v1/orders", headers=publications, timeout=10).json()
    assert order["channel"] == "post" and order["status"] == "received" and order["total_cents"] > 0

    for action, status in (("invoice", "invoiced"), ("mark-paid", "paid"), ("ship", "shipped")):
        token = csrf(response.text)
        response = browser.post(f"{url}/staff/orders/{order['id']}/{action}", data={"csrf_token": token, "status": status}, timeout=30)
        assert response.ok and f"Order {order['number']} is now {status}." in response.text, response.text
    assert requests.get(f"{services.orders.url}/api/v1/orders/{order['id']}", headers=publications, timeout=10).json()["status"] == "shipped"
    # a refused transition is shown, not hidden
    response = browser.post(f"{url}/staff/orders/{order['id']}/approve", data={"csrf_token": csrf(response.text)}, timeout=10)
    assert "is shipped: &#39;approve&#39; is not possible now" in response.text

    pdf = browser.get(f"{url}/staff/orders/{order['id']}/invoice.pdf", timeout=30)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
