"""The order form without JavaScript (`/publications/SLUG/order`): in the person's language,
the API's schema and rules behind it, each refusal beside its field, nothing written then."""
from __future__ import annotations

import re

import pytest

from tests.orders.conftest import order_payload
from tests.orders.test_order_bad_input import nothing_written

URL = "/publications/police-population-relations/order"


def form(**overrides: str) -> dict[str, str]:
    """What the page posts, filled in as in the seed's order form (a member's address)."""
    data = {key: str(value) for key, value in order_payload(2).items() if key != "lines"}
    data.update(copies="2", website="")
    data.update(overrides)
    return data


def invalid_fields(html: str) -> set[str]:
    return set(re.findall(r'id="f-([\w-]+)"[^>]*aria-invalid="true"', html, flags=re.S))


def summary_links(html: str) -> set[str]:
    return set(re.findall(r'<a href="#f-([\w-]+)">', html))


def test_the_page_is_in_the_language_asked_for_and_may_be_framed_by_the_cms(orders, make_publication):
    make_publication()
    page = orders.get(f"{URL}?lang=fr")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "<h1>Relations police-population : défis, pratiques locales et recommandations</h1>" in html
    for label in ("Nombre d’exemplaires", "Prénom", "Adresse", "Code postal", "Pays", "Envoyer ma commande"):
        assert label in html, label
    assert 'name="copies" value="1"' in html and 'type="number"' in html and 'max="100"' in html
    assert '<option value="fr" selected>' in html
    assert 'action="/publications/police-population-relations/order?lang=fr"' in html
    assert "frame-ancestors 'self' http://localhost:9999" in page.headers["Content-Security-Policy"]
    german = orders.get(URL, headers={"Accept-Language": "de-AT,de;q=0.9"}).get_data(as_text=True)
    assert '<html lang="de">' in german and "Anzahl der Exemplare" in german


def test_a_member_gets_three_copies_free_and_pays_postage_for_the_others(orders, make_publication, make_member, staff):
    make_publication()
    make_member()
    page = orders.post(f"{URL}?lang=en", data=form(copies="5"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Your order is received" in html
    number = re.search(r"Order (ORD-\d+)\. A confirmation email is on its way to ana.silva@cm-lisboa.pt", html)
    assert number, html
    assert "3 copies are free of charge for your organisation." in html
    assert "Postage to pay: €16.00. An invoice will follow." in html
    [stored] = orders.get("/api/v1/orders", headers=staff).json
    assert (stored["number"], stored["channel"], stored["member"], stored["total_cents"]) == (number[1], "web", True, 1600)
    assert [(line["free_copies"], line["paid_copies"]) for line in stored["lines"]] == [(3, 2)]


def test_a_member_within_the_quota_pays_nothing(orders, make_publication, make_member):
    make_publication()
    make_member()
    html = orders.post(f"{URL}?lang=pt", data=form(copies="3", language="pt")).get_data(as_text=True)
    assert "Recebemos a sua encomenda" in html
    assert "Os exemplares são gratuitos para a sua organização." in html


def test_a_non_member_pays_postage_for_every_copy_in_their_language(orders, make_publication, staff):
    make_publication()
    page = orders.post(f"{URL}?lang=fr", data=form(email="john.smith@leeds.gov.uk", country="GB", language="fr"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Votre commande est enregistrée" in html
    assert "16,00\u00a0€" in html and "gratuit" not in html
    [stored] = orders.get("/api/v1/orders", headers=staff).json
    assert (stored["email"], stored["member"], stored["total_cents"], stored["language"]) == ("john.smith@leeds.gov.uk", False, 1600, "fr")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"copies": ""}, "copies"),
    ({"copies": "0"}, "copies"),
    ({"copies": "-2"}, "copies"),
    ({"copies": "two"}, "copies"),
    ({"copies": "2.5"}, "copies"),
    ({"copies": "1001"}, "copies"),
    ({"first_name": " "}, "first_name"),
    ({"last_name": "x" * 101}, "last_name"),
    ({"occupation": "x" * 201}, "occupation"),
    ({"organisation": "a\nb"}, "organisation"),
    ({"address": ""}, "address"),
    ({"city": ""}, "city"),
    ({"postcode": ""}, "postcode"),
    ({"country": ""}, "country"),
    ({"country": "XX"}, "country"),
    ({"email": "ana@example"}, "email"),
    ({"telephone": "call me"}, "telephone"),
    ({"language": "klingon"}, "language"),
])
def test_each_bad_field_is_named_beside_it_and_in_the_summary_and_nothing_is_written(orders, make_publication, orders_app,
                                                                                    overrides, field):
    make_publication()
    page = orders.post(f"{URL}?lang=en", data=form(**overrides))
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert invalid_fields(html) == {field} == summary_links(html)
    assert f'id="f-{field}-error"' in html and 'role="alert"' in html
    # what was typed stays
    assert 'value="Ana"' in html or field == "first_name"
    assert nothing_written(orders_app)


def test_several_errors_are_each_named_in_the_persons_language(orders, make_publication, orders_app):
    make_publication()
    page = orders.post(f"{URL}?lang=de", data=form(copies="", email="ana@", country=""))
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert invalid_fields(html) == {"copies", "email", "country"} == summary_links(html)
    assert "Es gibt ein Problem" in html and "Dieses Feld ist ein Pflichtfeld." in html
    assert nothing_written(orders_app)


def test_a_number_of_copies_out_of_range_says_the_range_in_the_persons_language(orders, make_publication):
    make_publication()
    html = orders.post(f"{URL}?lang=fr", data=form(copies="0")).get_data(as_text=True)
    assert '<p class="error" id="f-copies-error">Entre 1 et 1000.</p>' in html, html


def test_more_copies_than_left_are_refused_on_the_copies(orders, make_publication, orders_app):
    make_publication(stock=4)
    page = orders.post(f"{URL}?lang=en", data=form(copies="5"))
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert invalid_fields(html) == {"copies"} and "Only 4 copies are left." in html
    assert nothing_written(orders_app)


def test_an_out_of_stock_publication_says_so_instead_of_the_form(orders, make_publication):
    make_publication(stock=0)
    html = orders.get(f"{URL}?lang=it").get_data(as_text=True)
    assert "<form" not in html and "eupolnet@efus.eu" in html
    assert "Esaurito" in html


def test_the_honeypot_and_other_sites_posting_are_refused(orders, make_publication, orders_app):
    make_publication()
    assert orders.post(URL, data=form(website="http://spam.example")).status_code == 422
    foreign = orders.post(URL, data=form(), headers={"Origin": "http://localhost:9999"})
    assert foreign.status_code == 403 and "could not be sent" in foreign.get_data(as_text=True)
    assert nothing_written(orders_app)
    assert orders.post(URL, data=form(), headers={"Origin": "http://localhost"}).status_code == 200


def test_an_unknown_publication_is_not_found(orders, make_publication, orders_app):
    make_publication()
    assert orders.get("/publications/no-such-book/order").status_code == 404
    assert orders.post("/publications/no-such-book/order", data=form()).status_code == 404
    assert nothing_written(orders_app)
