"""Security headers of every answer (shared/web.py `_security_headers`): a page's
Content-Security-Policy and framing rules, nosniff and Referrer-Policy. In the browser:
tests/embed/test_page_policy.py and tests/backoffice/test_browser.py."""
from __future__ import annotations

import importlib
import re

import pytest

from ops.databases import migrated_services
from tests.conftest import person


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {name: value.strip() for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))}


def assert_common(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_back_office_page_has_a_strict_policy_with_a_fresh_nonce(client, clean):
    first, second = client.get("/staff/login"), client.get("/staff/login")
    assert first.status_code == 200
    assert_common(first)
    policy = directives(first)
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'self'"
    nonce = re.search(r"'nonce-([^']+)'", policy["style-src"]).group(1)
    assert f'<style nonce="{nonce}">' in first.get_data(as_text=True)
    assert nonce not in second.headers["Content-Security-Policy"]
    assert "style=" not in first.get_data(as_text=True) and "<script>" not in first.get_data(as_text=True)


def test_self_service_page_is_not_framed_and_has_no_inline_script(clean, client, make_event):
    make_event()
    created = client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1))
    page = client.get("/manage/" + created.json["manage_url"].rsplit("/", 1)[1])
    assert page.status_code == 200
    assert_common(page)
    assert directives(page)["frame-ancestors"] == "'none'"
    body = page.get_data(as_text=True)
    assert "onsubmit" not in body and "<script>" not in body and "data-confirm=" in body
    certificate = client.get("/manage/" + created.json["manage_url"].rsplit("/", 1)[1] + "/certificate.pdf")
    assert_common(certificate)
    assert directives(certificate)["frame-ancestors"] == "'none'"


def test_form_without_javascript_may_be_framed_by_the_allowed_sites(clean, client, make_event, settings):
    make_event()
    page = client.get("/events/police-academy-lisbon/register")
    assert page.status_code == 200
    assert_common(page)
    assert directives(page)["frame-ancestors"] == " ".join(("'self'", *settings.embed_allowed_origins))
    refused = client.post("/events/police-academy-lisbon/register", data={"first_name": "Ana"})
    assert refused.status_code == 422
    assert directives(refused)["frame-ancestors"] == directives(page)["frame-ancestors"]


@pytest.mark.parametrize("service", migrated_services())
def test_every_service_answers_with_nosniff_and_no_framing(service, settings, clean):
    client = importlib.import_module(f"services.{service}").create_app(settings).test_client()
    for path in ("/healthz", "/openapi.json", "/api/v1/no-such-thing"):
        response = client.get(path)
        assert_common(response)
        assert directives(response) == {"frame-ancestors": "'none'"}
