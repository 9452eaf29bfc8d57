"""What every service offers: health, readiness, OpenAPI, JSON errors, production safety."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from ops.databases import migrated_services
from shared.config import ConfigurationError, load_settings


@pytest.fixture(params=migrated_services())
def service_client(request, settings, clean):
    app = importlib.import_module(f"services.{request.param}").create_app(settings)
    return app.test_client()


def test_health_readiness_and_openapi(service_client):
    assert service_client.get("/healthz").json["status"] == "ok"
    ready = service_client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "migrations": "ok", "broker": "ok"}
    spec = service_client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.") and spec["paths"]


def test_unknown_route_answers_json(service_client):
    response = service_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json["message"]


def test_readiness_reports_a_broker_outage(environ, clean):
    from services.registration import create_app

    app = create_app(load_settings({**environ, "REDIS_URL": "redis://127.0.0.1:1/0"}))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["broker"].startswith("error")


def test_production_refuses_a_default_or_short_secret(environ):
    with pytest.raises(ConfigurationError):
        load_settings({**environ, "EUPOLNET_ENV": "production", "SECRET_KEY": ""})
    with pytest.raises(ConfigurationError):
        load_settings({**environ, "EUPOLNET_ENV": "production", "SECRET_KEY": "short"})
    assert load_settings({**environ, "EUPOLNET_ENV": "production", "SECRET_KEY": "x" * 40}).production


def test_staff_create_prints_a_token_that_works(environ, databases, clean, monkeypatch):
    from click.testing import CliRunner

    from ops.cli import main
    from services.registration import create_app

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["staff", "create", "Secretariat@efus.eu", "--role", "events"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    client = create_app(load_settings(environ)).test_client()
    me = client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json == {"id": 1, "email": "secretariat@efus.eu", "role": "events"}


def test_the_retention_job_runs_on_every_service(environ, databases, clean, monkeypatch):
    from click.testing import CliRunner

    from ops.cli import main

    for name, value in {**environ, "RETENTION_DAYS": "30"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["anonymise"])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == ["registration", "orders", "notify"]


def test_a_staff_token_expires_after_staff_token_days(environ, databases, clean, monkeypatch, registration_app):
    import time

    from click.testing import CliRunner
    from itsdangerous.timed import TimestampSigner

    from ops.cli import main

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert CliRunner().invoke(main, ["staff", "create", "desk@efus.eu", "--role", "events"]).exit_code == 0
    client = registration_app.test_client()
    # a token signed 91 days ago (the default lifetime is 90 days)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 91 * 24 * 3600)
    old = CliRunner().invoke(main, ["staff", "token", "desk@efus.eu"]).output.strip().splitlines()[-1]
    monkeypatch.undo()
    response = client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401 and "expired" in response.json["message"]

    result = CliRunner().invoke(main, ["staff", "token", "desk@efus.eu"], env=environ)
    assert result.exit_code == 0 and "valid 90 days" in result.output
    new = result.output.strip().splitlines()[-1]
    assert client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {new}"}).json["email"] == "desk@efus.eu"
    assert CliRunner().invoke(main, ["staff", "token", "nobody@efus.eu"], env=environ).exit_code != 0


def test_the_db_commands_move_one_database_along_its_history(environ, tmp_path, monkeypatch):
    """`eupolnet db`: current, history, downgrade and upgrade on Alembic's own commands."""
    from click.testing import CliRunner

    from ops.cli import main
    from shared.migrations import head_revision

    for name, value in {**environ, "NOTIFY_DATABASE_URL": f"sqlite:///{tmp_path}/notify.sqlite3"}.items():
        monkeypatch.setenv(name, value)
    head = head_revision("notify")

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["db", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert run("current", "notify").strip() == "notify:"
    run("upgrade", "notify")
    assert f"{head} (head)" in run("current", "notify")
    history = run("history", "notify")
    assert f"-> {head} (head) (current)" in history
    previous = history.splitlines()[1].split(" -> ")[1].split(" ")[0].rstrip(",")
    run("downgrade", "notify", "-1")
    assert previous in run("current", "notify") and head not in run("current", "notify")
    run("upgrade", "notify")
    assert f"{head} (head)" in run("current", "notify")


def test_the_example_environment_and_the_readme_give_the_default_of_embed_allowed_origins():
    """No page may embed the forms unless listed: the code, `.env.example` and the README say the same."""
    root = Path(__file__).resolve().parents[1]
    example = dict(line.split("=", 1) for line in (root / ".env.example").read_text().splitlines()
                   if "=" in line and not line.startswith("#"))
    assert load_settings({}).embed_allowed_origins == ()
    assert example["EMBED_ALLOWED_ORIGINS"] == ""
    assert "| `EMBED_ALLOWED_ORIGINS` | none |" in (root / "README.md").read_text()
