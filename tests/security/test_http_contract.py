"""What the HTTP answers promise beyond their bodies: `Allow` on a 405, a 400 for a PATCH
that changes nothing (every PATCH route, nothing written), and an OpenAPI document that
says which token a route needs, what it refuses and what content it answers."""
from __future__ import annotations

import sqlalchemy as sa
import pytest

from tests.conftest import event_payload, person
from tests.orders.conftest import publication_payload


def count(databases, service: str, table: str) -> int:
    engine = sa.create_engine(databases.urls[service])
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
    finally:
        engine.dispose()


@pytest.mark.parametrize(("service", "path", "allowed"), [
    ("registration", "/api/v1/events", {"GET", "POST"}),
    ("registration", "/api/v1/events/police-academy-lisbon", {"GET", "PATCH"}),
    ("orders", "/api/v1/orders/1", {"GET"}),
    ("notify", "/api/v1/deliveries", {"GET"}),
])
def test_method_not_allowed_says_which_are(apps, service, path, allowed):
    response = apps[service].test_client().delete(path)
    assert response.status_code == 405 and response.json["code"] == "method_not_allowed"
    assert allowed <= {method.strip() for method in response.headers["Allow"].split(",")}


def patch_routes(app) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules() if "PATCH" in (rule.methods or ()))


def test_every_patch_route_refuses_an_empty_change_and_writes_nothing(apps, staff_token, databases):
    from services.notify.webhooks import EVENT_TYPES

    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    registration, orders, notify = (apps[name].test_client() for name in ("registration", "orders", "notify"))
    assert registration.post("/api/v1/events", json=event_payload(), headers=admin).status_code == 201
    created = registration.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1))
    token = created.json["manage_url"].rsplit("/", 1)[1]
    assert orders.post("/api/v1/publications", json=publication_payload(), headers=admin).status_code == 201
    webhook = notify.post("/api/v1/webhooks", json={"url": "http://localhost:9/hook", "event_types": [EVENT_TYPES[0]]}, headers=admin)
    assert webhook.status_code == 201, webhook.json
    #: (service, rule): (the PATCH's path, where to read the resource)
    targets = {
        ("registration", "/api/v1/events/<slug>"): ("/api/v1/events/police-academy-lisbon", "/api/v1/events/police-academy-lisbon/staff"),
        ("registration", "/api/v1/registrations/<token>"): (f"/api/v1/registrations/{token}", f"/api/v1/registrations/{token}"),
        ("orders", "/api/v1/publications/<slug>"): ("/api/v1/publications/police-population-relations",
                                                    "/api/v1/publications/police-population-relations"),
        ("notify", "/api/v1/webhooks/<int:endpoint_id>"): (f"/api/v1/webhooks/{webhook.json['id']}", "/api/v1/webhooks"),
    }
    found = {(name, rule) for name, app in apps.items() for rule in patch_routes(app)}
    assert found == set(targets), "a new PATCH route: add it here"
    audit = {name: count(databases, name, "audit_entry") for name in apps}
    outbox = {name: count(databases, name, "outbox_message") for name in ("registration", "orders")}
    for (service, _), (path, resource) in targets.items():
        client = apps[service].test_client()
        before = client.get(resource, headers=admin).json
        for body in ({"data": b"", "content_type": "application/json"}, {"json": {}}):
            response = client.patch(path + "?lang=fr", headers=admin, **body)
            assert response.status_code == 400, (path, response.json)
            assert response.json["code"] == "nothing_to_change" and response.json["codes"] == {"body": ["nothing_to_change"]}
            assert response.json["errors"]["body"] == ["Indiquez au moins un champ à modifier."]
        assert client.get(resource, headers=admin).json == before, path
    assert {name: count(databases, name, "audit_entry") for name in audit} == audit
    assert {name: count(databases, name, "outbox_message") for name in outbox} == outbox


def test_a_patch_with_a_change_still_works(apps, staff_token):
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    client = apps["registration"].test_client()
    assert client.post("/api/v1/events", json=event_payload(), headers=admin).status_code == 201
    response = client.patch("/api/v1/events/police-academy-lisbon", json={"capacity": 5}, headers=admin)
    assert response.status_code == 200 and response.json["capacity"] == 5


def spec(apps, service: str) -> dict:
    return apps[service].test_client().get("/openapi.json").json


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method.upper(), path, operation


@pytest.mark.parametrize("service", ["registration", "orders", "notify"])
def test_openapi_declares_the_staff_token_and_its_refusals(apps, service):
    document = spec(apps, service)
    assert document["components"]["securitySchemes"]["staffToken"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["staffToken"]["description"]}
    secured = [(method, path, op) for method, path, op in operations(document) if op.get("security")]
    assert secured
    for method, path, operation in secured:
        assert operation["security"] == [{"staffToken": []}]
        assert "401" in operation["responses"], (method, path)
        assert operation["responses"]["401"] == {"$ref": "#/components/responses/UNAUTHORIZED"}
    error = document["components"]["schemas"]["Error"]["properties"]
    assert {"errors", "codes", "message", "code"} <= set(error)
    public = {(method, path) for method, path, op in operations(document) if not op.get("security")}
    assert not any("/audit" in path or "/deliveries" in path or "/staff/me" in path for _, path in public)


def test_openapi_documents_contents_and_response_schemas(apps):
    registration = spec(apps, "registration")
    paths = registration["paths"]
    register = paths["/api/v1/events/{slug}/registrations"]["post"]["responses"]
    assert {"200", "201"} <= set(register)
    assert "text/csv" in paths["/api/v1/events/{slug}/registrations.csv"]["get"]["responses"]["200"]["content"]
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in \
        paths["/api/v1/events/{slug}/registrations.xlsx"]["get"]["responses"]["200"]["content"]
    for path in ("/api/v1/registrations/{token}/certificate.pdf", "/api/v1/certificates/{registration_id}.pdf"):
        assert "application/pdf" in paths[path]["get"]["responses"]["200"]["content"]
    for path, method, schema in (("/api/v1/events/{slug}/form", "get", "FormOut"), ("/api/v1/personal-data", "get", "PersonalDataOut"),
                                 ("/api/v1/personal-data", "delete", "ErasedOut"), ("/api/v1/staff/me", "get", "StaffMeOut")):
        content = paths[path][method]["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{schema}"}, path
    assert "403" not in paths["/api/v1/staff/me"]["get"]["responses"], "any staff account may ask who it is"
    orders = spec(apps, "orders")["paths"]
    for path in ("/api/v1/orders/{order_id}/invoice.pdf", "/api/v1/invoices/{number}.pdf", "/api/v1/credit-notes/{number}.pdf"):
        assert "application/pdf" in orders[path]["get"]["responses"]["200"]["content"]
        assert "403" in orders[path]["get"]["responses"]
