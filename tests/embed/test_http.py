"""The HTTP side of embedding: embed.js, CORS for the allowed origins only, the honeypot and
the rate limit on submissions (Redis, or each process's memory when Redis is down)."""
from __future__ import annotations

import dataclasses

import requests

from ops.redis_server import free_port
from tests.conftest import event_payload, person

FORM = "/api/v1/events/police-academy-lisbon/form"
REGISTRATIONS = "/api/v1/events/police-academy-lisbon/registrations"


def preflight(url: str, origin: str, method: str = "POST", headers: str = "content-type") -> requests.Response:
    return requests.options(url, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                          "Access-Control-Request-Headers": headers}, timeout=10)


def test_embed_js_is_served_as_cacheable_javascript(registration_url, services):
    response = requests.get(f"{registration_url}/embed.js", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert f'"ordersUrl": "{services.orders.url}"' in response.text, "the configuration is filled in"
    again = requests.get(f"{registration_url}/embed.js", headers={"If-None-Match": response.headers["ETag"]}, timeout=10)
    assert again.status_code == 304


def test_only_allowed_origins_get_cors_headers(registration_url, services, host, foreign_host, publish_event, staff):
    publish_event()
    allowed = requests.get(registration_url + FORM, headers={"Origin": host.origin}, timeout=10)
    assert allowed.headers["Access-Control-Allow-Origin"] == host.origin
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    refused = requests.get(registration_url + FORM, headers={"Origin": foreign_host.origin}, timeout=10)
    assert refused.status_code == 200 and "Access-Control-Allow-Origin" not in refused.headers

    answer = preflight(registration_url + REGISTRATIONS, host.origin)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == host.origin
    assert answer.headers["Access-Control-Allow-Methods"] == "POST"
    assert answer.headers["Access-Control-Allow-Headers"] == "Content-Type"
    for url, origin, method, headers in (
        (registration_url + REGISTRATIONS, foreign_host.origin, "POST", "content-type"),  # not in the list
        (registration_url + REGISTRATIONS, host.origin, "POST", "content-type,authorization"),  # no staff token
        (registration_url + "/api/v1/events/police-academy-lisbon", host.origin, "PATCH", "content-type"),  # staff route
        (registration_url + "/api/v1/registrations/some-token/cancel", host.origin, "POST", "content-type"),  # self-service
        (services.orders.url + "/api/v1/orders", foreign_host.origin, "POST", "content-type"),
    ):
        assert "Access-Control-Allow-Origin" not in preflight(url, origin, method, headers).headers, (url, origin, method, headers)
    assert preflight(services.orders.url + "/api/v1/orders", host.origin).headers["Access-Control-Allow-Origin"] == host.origin
    listing = requests.get(registration_url + REGISTRATIONS, headers={**staff, "Origin": host.origin}, timeout=10)
    assert listing.status_code == 200 and "Access-Control-Allow-Origin" not in listing.headers


def test_a_foreign_page_cannot_post_a_plain_html_form(registration_url, foreign_host, publish_event, registrations):
    """A plain form post needs no preflight, so the services refuse it whatever the origin."""
    publish_event()
    fields = {"first_name": "Eve", "last_name": "Mallory", "email": "eve@example.org", "consent": "true", "language": "en"}
    api = requests.post(registration_url + REGISTRATIONS, data=fields, headers={"Origin": foreign_host.origin}, timeout=10)
    assert api.status_code == 415 and api.json()["errors"] == {"body": ["Expected application/json."]}
    page = requests.post(f"{registration_url}/events/police-academy-lisbon/register", data=fields,
                         headers={"Origin": foreign_host.origin}, timeout=10)
    assert page.status_code == 403
    same_site = requests.post(f"{registration_url}/events/police-academy-lisbon/register", data=fields,
                              headers={"Origin": registration_url}, timeout=10)
    assert same_site.status_code == 200
    assert [r["email"] for r in registrations("police-academy-lisbon")] == ["eve@example.org"]


def test_filled_honeypot_is_refused_and_nothing_is_written(registration_url, host, publish_event, registrations):
    publish_event()
    response = requests.post(registration_url + REGISTRATIONS, json={**person(1), "website": "http://spam.example"},
                             headers={"Origin": host.origin}, timeout=10)
    assert response.status_code == 422
    assert response.json()["errors"] == {"website": ["Leave this field empty."]}
    assert registrations("police-academy-lisbon") == []


def test_submissions_are_rate_limited_per_client_address(settings, auth, host):
    """Behind TRUSTED_PROXIES=1 proxy, the client is the address the proxy names last; a
    request the proxy sent without X-Forwarded-For counts as the proxy's, never as nobody's."""
    from services.registration import create_app

    client = create_app(dataclasses.replace(settings, trusted_proxies=1, embed_allowed_origins=(host.origin,))).test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the reverse proxy
    assert client.post("/api/v1/events", json=event_payload(capacity=None), headers=auth).status_code == 201

    def register(number: int, client_address: str | None):
        headers = {"Origin": host.origin, **({"X-Forwarded-For": f"10.9.9.9, {client_address}"} if client_address else {})}
        return client.post(REGISTRATIONS, json=person(number), headers=headers)

    assert {register(n, "203.0.113.7").status_code for n in range(20)} == {201}
    refused = register(20, "203.0.113.7")
    assert refused.status_code == 429
    assert refused.json["errors"] == {"body": ["Too many submissions from your address: please wait a minute and try again."]}
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["Access-Control-Allow-Origin"] == host.origin, "the embedded form can read the refusal"
    assert register(21, "203.0.113.8").status_code == 201, "another client is not affected"
    assert [register(22 + n, None).status_code for n in range(21)] == [201] * 20 + [429], "no header: the proxy's own bucket"


def test_local_callers_without_a_proxy_are_not_limited_in_development_only(registration_url, host, publish_event, settings):
    """Scripts and benchmarks on this machine are not limited in development; in production
    every caller is (a proxy on the same machine must not lift the limit)."""
    publish_event(capacity=None)
    codes = {requests.post(registration_url + REGISTRATIONS, json=person(n), headers={"Origin": host.origin}, timeout=10).status_code
             for n in range(25)}
    assert codes == {201}
    from services.registration import create_app

    production = create_app(dataclasses.replace(settings, env="production")).test_client()
    codes = [production.post(REGISTRATIONS, json=person(100 + n), headers={"Origin": host.origin}).status_code for n in range(21)]
    assert codes == [201] * 20 + [429]


def test_rate_limit_counts_in_memory_when_redis_is_down(settings, auth):
    from services.registration import create_app

    app = create_app(dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    client = app.test_client()
    assert client.post("/api/v1/events", json=event_payload(capacity=None), headers=auth).status_code == 201
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    codes = [client.post(REGISTRATIONS, json=person(n)).status_code for n in range(21)]
    assert codes == [201] * 20 + [429]
