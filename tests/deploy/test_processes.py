"""The production processes as `eupolnet process NAME` runs them: one list for `make run`,
the Procfile and compose; migrations that wait for their database; readiness that knows
the migration head; JSON logs with request ids, Prometheus metrics and Sentry reports."""
from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import brotli
import pytest
import requests
import sqlalchemy as sa

from ops import processes
from ops.devserver import processes as make_run_processes
from ops.redis_server import free_port
from ops.testing import postgres_url
from shared.config import load_settings
from tests.conftest import event_payload, person

EUPOLNET = str(Path(sys.executable).with_name("eupolnet"))


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the process exited"
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture
def run_process(tmp_path) -> Iterator:
    """Start `eupolnet process NAME` with `environ`; its stderr goes to a file, returned too."""
    started: list[subprocess.Popen] = []

    def run(name: str, environ: dict[str, str]) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{name}-{len(started)}.log"
        with log.open("w") as stream:
            process = subprocess.Popen([EUPOLNET, "process", name], env={**os.environ, **environ}, stderr=stream)
        started.append(process)
        return process, log

    yield run
    for process in started:
        process.terminate()
        process.wait(20)


def test_make_run_starts_the_production_process_list():
    settings = load_settings({"SMTP_HOST": "smtp.example.org"})
    assert make_run_processes(settings) == {name: processes.command(name, settings) for name in processes.NAMES}
    assert list(processes.NAMES) == ["registration", "orders", "notify", "relay", "worker", "retention"]
    production = load_settings({"BIND_HOST": "0.0.0.0", "WEB_CONCURRENCY": "8", "WORKER_PROCESSES": "3", "WORKER_THREADS": "4"})
    assert processes.command("orders", production)[-5:] == ["--bind", "0.0.0.0:8002", "--workers", "8", "services.orders:create_app()"]
    assert processes.command("worker", production)[1:5] == ["--processes", "3", "--threads", "4"]


class LateDatabase:
    """A TCP port that refuses connections until `open()`, then forwards them to PostgreSQL."""

    def __init__(self) -> None:
        self.port = free_port()
        target = sa.make_url(postgres_url())
        self.target = (target.host or "127.0.0.1", target.port or 5432)
        self.server: socket.socket | None = None

    def open(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.mark.postgresql_only
def test_migrate_waits_for_a_database_that_is_still_starting(tmp_path):
    name = f"eupolnet_late{os.getpid()}"
    admin = sa.create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    late = LateDatabase()
    url = sa.make_url(postgres_url()).set(host="127.0.0.1", port=late.port, database=name).render_as_string(hide_password=False)
    try:
        log = tmp_path / "migrate.log"
        with log.open("w") as stream:
            migrate = subprocess.Popen([EUPOLNET, "migrate", "notify", "--wait", "60"], env={**os.environ, "NOTIFY_DATABASE_URL": url},
                                       stdout=subprocess.PIPE, stderr=stream, text=True)
        deadline = time.monotonic() + 30
        while log.read_text().count("database not reachable yet") < 2:  # it tried, and tried again
            assert migrate.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        late.open()
        out, _ = migrate.communicate(timeout=60)
        assert migrate.returncode == 0, log.read_text()
        assert out.splitlines() == ["notify: database up to date"]
        quick = subprocess.run([EUPOLNET, "migrate", "notify"], capture_output=True, text=True,
                               env={**os.environ, "NOTIFY_DATABASE_URL": url.replace(str(late.port), str(free_port()))})
        assert quick.returncode != 0, "without --wait an unreachable database fails at once"
    finally:
        late.close()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_readiness_names_a_database_that_is_not_migrated(tmp_path, environ):
    from services.registration import create_app

    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    unmigrated = {**environ, "REGISTRATION_DATABASE_URL": url}
    response = create_app(load_settings(unmigrated)).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["migrations"].startswith("error: database at no revision, code expects ")
    ready = subprocess.run([EUPOLNET, "ready", "registration"], env={**os.environ, **unmigrated}, capture_output=True, text=True)
    assert ready.returncode == 1 and "registration: error: database at no revision" in ready.stdout
    subprocess.run([EUPOLNET, "migrate", "registration"], env={**os.environ, **unmigrated}, check=True, capture_output=True)
    ready = subprocess.run([EUPOLNET, "ready", "registration"], env={**os.environ, **unmigrated}, capture_output=True, text=True)
    assert ready.returncode == 0 and ready.stdout.splitlines() == ["registration: ok", "broker: ok"]


def production(environ: dict[str, str], **extra: str) -> dict[str, str]:
    return {**environ, "EUPOLNET_ENV": "production", "REGISTRATION_PORT": str(free_port()), "WEB_CONCURRENCY": "2", **extra}


def test_web_process_logs_json_with_request_ids_and_counts_every_worker_in_metrics(run_process, environ, staff_token, clean):
    env = production(environ, TRUSTED_PROXIES="1")
    url = f"http://127.0.0.1:{env['REGISTRATION_PORT']}"
    process, log = run_process("registration", env)
    wait_until_up(url + "/healthz", process)
    auth = {"Authorization": f"Bearer {staff_token('events')}"}
    assert requests.post(f"{url}/api/v1/events", json=event_payload(capacity=3), headers=auth, timeout=10).status_code == 201
    ids = []
    for n in range(10):
        response = requests.post(f"{url}/api/v1/events/police-academy-lisbon/registrations", json=person(n), timeout=10,
                                 headers={"X-Request-Id": f"proxy-{n}", "X-Forwarded-For": f"198.51.100.{n}"})
        assert response.status_code == 201 and response.headers["X-Request-Id"] == f"proxy-{n}"
        ids.append(response.headers["X-Request-Id"])
    assert len(requests.get(url + "/healthz", headers={"X-Request-Id": "bad id!"}, timeout=5).headers["X-Request-Id"]) == 32

    metrics = requests.get(url + "/metrics", timeout=5).text
    route = 'route="/api/v1/events/<slug>/registrations"'
    answered = [line for line in metrics.splitlines() if line.startswith("eupolnet_http_requests_total{") and route in line]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in answered) == 10, "every gunicorn worker's requests are counted"
    assert f'eupolnet_http_request_duration_seconds_count{{{route},service="registration"}} 10.0' in metrics
    assert 'eupolnet_registrations{status="confirmed"} 3.0' in metrics and 'eupolnet_registrations{status="waitlisted"} 7.0' in metrics
    assert "eupolnet_outbox_pending_messages 11.0" in metrics and "eupolnet_outbox_lag_seconds " in metrics

    engine = sa.create_engine(environ["REGISTRATION_DATABASE_URL"])
    with engine.connect() as connection:
        carried = connection.execute(sa.text("SELECT envelope FROM outbox_message WHERE message_type <> 'event.scheduled'")).scalars().all()
    engine.dispose()
    assert sorted(json.loads(e)["request_id"] if isinstance(e, str) else e["request_id"] for e in carried) == sorted(ids)

    process.terminate()
    process.wait(20)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    requests_logged = [line for line in lines if line["logger"] == "eupolnet.request" and line.get("route") == route[7:-1]]
    assert sorted(line["request_id"] for line in requests_logged) == sorted(ids)
    assert {line["status"] for line in requests_logged} == {201} and all(line["duration_ms"] >= 0 for line in requests_logged)
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines)


class SentryServer:
    """What a Sentry server receives: the envelopes posted to /api/PROJECT/envelope/."""

    def __init__(self) -> None:
        self.envelopes: list[list[dict]] = []
        envelopes = self.envelopes

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding")
                body = gzip.decompress(body) if encoding == "gzip" else brotli.decompress(body) if encoding == "br" else body
                envelopes.append([json.loads(line) for line in body.splitlines() if line.startswith(b"{")])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.dsn = f"http://public@127.0.0.1:{self.server.server_address[1]}/1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [item for envelope in self.envelopes for item in envelope if "exception" in item]


def test_unhandled_errors_are_reported_to_sentry_when_a_dsn_is_set(run_process, environ):
    sentry = SentryServer()
    broken = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing"
    env = production(environ, SENTRY_DSN=sentry.dsn, REGISTRATION_DATABASE_URL=broken)
    url = f"http://127.0.0.1:{env['REGISTRATION_PORT']}"
    process, _ = run_process("registration", env)
    wait_until_up(url + "/healthz", process)
    response = requests.get(f"{url}/api/v1/events/police-academy-lisbon", headers={"X-Request-Id": "failing-1"}, timeout=10)
    assert response.status_code == 500
    deadline = time.monotonic() + 15
    while not sentry.events() and time.monotonic() < deadline:
        time.sleep(0.1)
    sentry.server.shutdown()
    [event] = sentry.events()
    assert event["exception"]["values"][-1]["type"] == "OperationalError"
    assert event["environment"] == "production" and event["request"]["url"].endswith("/api/v1/events/police-academy-lisbon")
