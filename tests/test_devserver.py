"""`make run` says "running" only once every service answers /readyz (ops/devserver.py)."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from ops.devserver import wait_until_ready


@pytest.fixture
def service() -> Iterator[tuple[str, dict]]:
    """A real HTTP server whose /readyz answers 503 until `state["ready"]` is set."""
    state = {"ready": False}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            ready = self.path == "/readyz" and state["ready"]
            body = b'{"status": "ok"}' if ready else b'{"database": "not migrated"}'
            self.send_response(200 if ready else 503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", state
    server.shutdown()
    server.server_close()


@pytest.fixture
def child() -> Iterator[subprocess.Popen]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_it_waits_until_every_service_is_ready(service, child):
    url, state = service
    threading.Timer(1.0, state.update, kwargs={"ready": True}).start()
    started = time.monotonic()
    assert wait_until_ready({"registration": url, "orders": url}, {"web": child}, timeout=20) is None
    assert time.monotonic() - started >= 0.9, "not before /readyz says 200"


def test_a_service_that_does_not_come_up_is_named_with_its_last_answer(service, child):
    url, _ = service
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
    problem = wait_until_ready({"orders": url, "notify": closed}, {"web": child}, timeout=1.5)
    assert problem.startswith("Not ready after 1.5 s (READY_TIMEOUT):")
    assert f"orders: {url}/readyz: HTTP 503" in problem and "not migrated" in problem
    assert f"notify: {closed}/readyz: no answer (ConnectionError)" in problem


def test_a_process_that_exits_meanwhile_stops_the_wait(service):
    url, _ = service
    crashed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    crashed.wait()
    assert wait_until_ready({"registration": url}, {"relay": crashed}, timeout=20) == \
        "relay exited with code 3 before every service was ready."
