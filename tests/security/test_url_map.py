"""Every route of every service's URL map that is not public refuses a caller without the
right: anonymously, with a wrong role, with the old token of an account since demoted and
with the token of an account revoked by `eupolnet staff revoke` (the command, really run).
A new route is refused by default: it is either listed in PUBLIC or this test fails.

Also: the command's revoke and deactivate end old tokens at once, on every service, and the
public member lookup is rate-limited like the submissions."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest
from werkzeug.routing import Rule

from shared.auth import ROLES
from tests.backoffice.conftest import PASSWORD, csrf
from tests.conftest import event_payload

#: (method, rule) anyone may call, per service
HEALTH = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/openapi.json"), ("GET", "/static/<path:filename>"),
          # the landing page and the API documentation (shared/pages.py)
          ("GET", "/"), ("GET", "/docs/"), ("GET", "/docs/swagger-ui/<path:filename>"), ("GET", "/docs/static/<path:filename>")}
PUBLIC = {
    "registration": HEALTH | {
        ("GET", "/api/v1/events"), ("GET", "/api/v1/events/<slug>"), ("GET", "/api/v1/events/<slug>/form"),
        ("POST", "/api/v1/events/<slug>/registrations"), ("GET", "/api/v1/members/lookup"),
        # a registrant's own, by the unguessable token of their emailed link
        ("GET", "/api/v1/registrations/<token>"), ("PATCH", "/api/v1/registrations/<token>"),
        ("POST", "/api/v1/registrations/<token>/cancel"), ("POST", "/api/v1/registrations/<token>/verify"),
        ("GET", "/api/v1/registrations/<token>/certificate.pdf"),
        ("GET", "/manage/<token>"), ("POST", "/manage/<token>/cancel"), ("POST", "/manage/<token>/update"),
        ("POST", "/manage/<token>/verify"), ("GET", "/manage/<token>/certificate.pdf"),
        # a group's contact, by the unguessable token of their emailed link
        ("POST", "/api/v1/events/<slug>/groups"), ("GET", "/api/v1/groups/<token>"),
        ("POST", "/api/v1/groups/<token>/participants/<participant>/cancel"),
        ("GET", "/groups/<token>"), ("POST", "/groups/<token>/participants/<public_id>/cancel"),
        ("GET", "/embed.js"), ("GET", "/events/<slug>/register"), ("POST", "/events/<slug>/register"),
        ("GET", "/staff/login"), ("POST", "/staff/login"), ("POST", "/staff/logout"), ("GET", "/staff/static/<path:filename>"),
    },
    "orders": HEALTH | {("GET", "/api/v1/publications"), ("GET", "/api/v1/publications/<slug>"), ("POST", "/api/v1/orders")},
    "notify": HEALTH,
}
#: values for the routes' variables (the seeded event; any other id or name)
VALUES = {"slug": "police-academy-lisbon", "format_": "csv", "action": "cancel", "filename": "pages.js"}
#: a role that is not enough for a route needing the key (admins may do everything)
WRONG_ROLE = {"events": "publications", "publications": "events", "admin": "events"}


def path_of(rule: Rule) -> str:
    values = {name: 1 if type(converter).__name__ == "IdConverter" else VALUES.get(name, "x")
              for name, converter in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def guarded(app, service: str) -> Iterator[tuple[str, Rule, Callable]]:
    """(method, rule, view) of each route that is not public."""
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, rule.rule) in PUBLIC[service]:
                continue
            view = app.view_functions[rule.endpoint]
            view = getattr(getattr(view, "view_class", None), method.lower(), view)
            yield method, rule, view


def call(client, method: str, path: str, headers: dict[str, str] | None = None):
    body = {"json": {"probe": True}} if method in {"POST", "PUT", "PATCH", "DELETE"} and path.startswith("/api/") else {}
    return client.open(path, method=method, headers=headers or {}, **body)


def eupolnet(environ: dict[str, str], *args: str) -> None:
    """Run the `eupolnet` command as an operator does."""
    command = Path(sys.executable).with_name("eupolnet")
    result = subprocess.run([str(command), *args], env={**os.environ, **environ}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def tokens(staff_token) -> dict[str, str]:
    return {role: staff_token(role) for role in ROLES}


def test_every_api_route_that_is_not_public_refuses_who_may_not(apps, tokens, staff_token, environ):
    assert apps["registration"].test_client().post("/api/v1/events", json=event_payload(),
                                                   headers={"Authorization": f"Bearer {tokens['admin']}"}).status_code == 201
    demoted, revoked = staff_token("admin", "demoted@efus.eu"), staff_token("admin", "revoked@efus.eu")
    for token in (demoted, revoked):  # the notify service asks the accounts service, like the orders service
        assert apps["notify"].test_client().get("/api/v1/deliveries", headers=bearer(token)).status_code == 200
    eupolnet(environ, "staff", "create", "demoted@efus.eu", "--role", "publications")
    eupolnet(environ, "staff", "revoke", "revoked@efus.eu")

    checked: dict[str, int] = {}
    wrong: dict[str, int] = {}
    for service, app in apps.items():
        client = app.test_client()
        for method, rule, view in guarded(app, service):
            path = path_of(rule)
            if not path.startswith("/api/"):
                continue
            label = f"{service} {method} {rule.rule}"
            assert hasattr(view, "staff_role"), f"{label} is neither public nor behind staff_required"
            answers = {"anonymous": call(client, method, path), "demoted": call(client, method, path, bearer(demoted)),
                       "revoked": call(client, method, path, bearer(revoked))}
            if view.staff_role is not None:
                answers["wrong role"] = call(client, method, path, bearer(tokens[WRONG_ROLE[view.staff_role]]))
                wrong[label] = answers["wrong role"].status_code
            for caller, response in answers.items():
                expected = 403 if caller == "wrong role" else 401
                assert response.status_code == expected, f"{label} {caller}: {response.status_code} {response.get_data(as_text=True)[:200]}"
            assert answers["revoked"].json["code"] == answers["demoted"].json["code"] == "token_revoked", label
            checked[label] = answers["anonymous"].status_code
    assert len(checked) >= 40 and len(wrong) >= 38, (len(checked), len(wrong))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def log_in(client, databases, role: str, email: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session
    from werkzeug.security import generate_password_hash

    from shared.auth import StaffAccount

    engine = sa.create_engine(databases.urls["registration"])
    with Session(engine) as session:
        session.add(StaffAccount(email=email, role=role, password_hash=generate_password_hash(PASSWORD)))
        session.commit()
    engine.dispose()
    page = client.get("/staff/login").get_data(as_text=True)
    response = client.post("/staff/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf(page)})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_every_back_office_page_refuses_anonymous_wrong_role_and_revoked_sessions(apps, databases, environ, tokens):
    app = apps["registration"]
    assert app.test_client().post("/api/v1/events", json=event_payload(), headers=bearer(tokens["admin"])).status_code == 201
    sessions = {"anonymous": app.test_client(), "revoked": app.test_client()}
    log_in(sessions["revoked"], databases, "admin", "revoked.desk@efus.eu")
    for role in ("events", "publications"):
        sessions[role] = app.test_client()
        log_in(sessions[role], databases, role, f"{role}.desk@efus.eu")
    csrf_tokens = {name: csrf(client.get("/staff/events" if name != "publications" else "/staff/orders").get_data(as_text=True))
                   for name, client in sessions.items() if name != "anonymous"}
    eupolnet(environ, "staff", "revoke", "revoked.desk@efus.eu")
    pages = wrong = 0
    for method, rule, view in guarded(app, "registration"):
        path = path_of(rule)
        if not path.startswith("/staff/"):
            continue
        pages += 1
        role = getattr(view, "staff_role", None)
        assert role is not None or rule.rule == "/staff/", f"{method} {rule.rule} is neither public nor behind role_required"
        callers = ["anonymous", "revoked"] + ([WRONG_ROLE[role]] if role else [])
        for caller in callers:
            data = {"csrf_token": csrf_tokens[caller]} if method == "POST" and caller != "anonymous" else None
            response = sessions[caller].open(path, method=method, data=data)
            label = f"{method} {rule.rule} {caller}: {response.status_code}"
            if caller in WRONG_ROLE.values():
                wrong += 1
                assert response.status_code == 403, label
            elif method == "GET" or caller == "revoked":
                assert response.status_code == 302 and "/staff/login" in response.headers["Location"], label
            else:  # an anonymous POST has no session, so no CSRF token to match: refused before any view
                assert response.status_code == 400, label
    assert pages > 20 and wrong > 20, (pages, wrong)


@pytest.mark.parametrize("command", ["revoke", "deactivate"])
def test_the_command_ends_old_tokens_at_once_on_every_service(apps, staff_token, environ, command):
    token = bearer(staff_token("admin", "ana.admin@efus.eu"))
    calls = {"registration": "/api/v1/staff/events", "orders": "/api/v1/free-copies", "notify": "/api/v1/deliveries"}
    for service, path in calls.items():
        assert apps[service].test_client().get(path, headers=token).status_code == 200, service
    eupolnet(environ, "staff", command, "ana.admin@efus.eu")
    for service, path in calls.items():
        response = apps[service].test_client().get(path, headers=token)
        assert response.status_code == 401 and response.json["code"] == "token_revoked", service
    if command == "deactivate":
        result = subprocess.run([str(Path(sys.executable).with_name("eupolnet")), "staff", "token", "ana.admin@efus.eu"],
                                env={**os.environ, **environ}, capture_output=True, text=True, timeout=60)
        assert result.returncode != 0, "a deactivated account gets no new token"


def test_member_lookup_is_rate_limited_per_client(settings):
    from services.registration import create_app

    client = create_app(dataclasses.replace(settings, trusted_proxies=1)).test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the reverse proxy

    def lookup(address: str):
        return client.get("/api/v1/members/lookup?email=chief@police.lyon.fr", headers={"X-Forwarded-For": address})

    assert [lookup("203.0.113.7").status_code for _ in range(20)] == [200] * 20
    refused = lookup("203.0.113.7")
    assert refused.status_code == 429 and refused.json["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    assert lookup("203.0.113.8").status_code == 200, "another client is not affected"
