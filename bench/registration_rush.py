"""Registration rush: our POST /events/{slug}/registrations against a bare Flask floor.

Both run under gunicorn with the same workers on the same database, loaded by wrk with the
same body; the event has 50 seats, so almost every request ends on the waiting list, as in
a real rush. Prints registrations per second, p50/p99 latency and the ratio.
Run: `make bench` (or `python bench/registration_rush.py`).
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Result, ratio_line, wrk  # noqa: E402
from ops.redis_server import RedisServer  # noqa: E402
from ops.testing import ServiceProcess, TestDatabases, backend, test_environment  # noqa: E402
from tests.conftest import event_payload  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
GOAL = 0.60


def main() -> list[Result]:
    kind = backend()
    workers = 4 if kind == "postgresql" else 2
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp) / "redis").start()
        databases = TestDatabases(kind, Path(tmp), tag=f"bench{os.getpid()}").create()
        environ = test_environment(databases, redis_server.url, BENCH_DATABASE_URL=databases.urls["registration"])
        try:
            floor = _floor(environ, workers)
            ours = _ours(environ, workers, databases)
        finally:
            databases.drop()
            redis_server.stop()
    print(f"Registration rush on {kind}, gunicorn -w {workers}, wrk -c32, {SECONDS}s each:")
    print(floor.line())
    print(ours.line())
    print(ratio_line(ours, floor, GOAL))
    return [floor, ours]


def _floor(environ: dict[str, str], workers: int) -> Result:
    engine = sa.create_engine(environ["BENCH_DATABASE_URL"])
    from bench.floor_app import Row

    Row.__table__.create(engine)
    engine.dispose()
    server = _Floor(environ, workers).start()
    try:
        wrk(f"{server.url}/register", "warm-up", seconds=2)
        return wrk(f"{server.url}/register", "floor: bare Flask validate + INSERT", seconds=SECONDS)
    finally:
        server.stop()


def _ours(environ: dict[str, str], workers: int, databases: TestDatabases) -> Result:
    with start_ours(environ, workers, databases) as server:
        wrk(f"{server.url}/api/v1/events/warm-up/registrations", "warm-up", seconds=2)
        return wrk(f"{server.url}/api/v1/events/rush/registrations", "ours: POST /events/{slug}/registrations", seconds=SECONDS)


@contextlib.contextmanager
def start_ours(environ: dict[str, str], workers: int, databases: TestDatabases) -> Iterator[ServiceProcess]:
    """The registration service under gunicorn, with the events `warm-up` and `rush` (50 seats each)."""
    from shared.auth import issue_token, StaffAccount
    from sqlalchemy.orm import Session

    engine = sa.create_engine(databases.urls["registration"])
    with Session(engine, expire_on_commit=False) as session:
        account = StaffAccount(email="bench@efus.eu", role="admin")
        session.add(account)
        session.commit()
    engine.dispose()
    token = issue_token(account, environ["SECRET_KEY"])
    server = ServiceProcess("registration", environ, workers=workers).start()
    try:
        for slug in ("warm-up", "rush"):
            response = requests.post(f"{server.url}/api/v1/events", json=event_payload(slug=slug, capacity=50),
                                     headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
        yield server
    finally:
        server.stop()


class _Floor(ServiceProcess):
    def __init__(self, environ: dict[str, str], workers: int):
        super().__init__("floor", environ, workers=workers)

    def start(self, timeout: float = 30.0) -> "ServiceProcess":
        import subprocess
        import time

        command = [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "--chdir", str(Path(__file__).resolve().parent.parent), "bench.floor_app:create_app()"]
        self.process = subprocess.Popen(command, env={**os.environ, **self.environ})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(self.url, timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("floor app did not start")


if __name__ == "__main__":
    floor, ours = main()
    sys.exit(0 if ours.per_second >= GOAL * floor.per_second else 1)
