"""Registration rush: our POST /events/{slug}/registrations against a bare Flask floor.

Both run under gunicorn with the same workers on the same database, loaded by wrk with the
same body; the event has 50 seats, so almost every request ends on the waiting list, as in
a real rush. Prints registrations per second, p50/p99 latency and the ratio.
Run: `make bench` (or `python bench/registration_rush.py`).
"""
from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import children, report, rss_mb, wrk  # noqa: E402
from ops.redis_server import RedisServer  # noqa: E402
from ops.testing import ServiceProcess, TestDatabases, backend, test_environment  # noqa: E402
from tests.conftest import event_payload  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
#: floor and ours take turns, so that both see the same load on a shared machine
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
GOAL = 0.60
P99_GOAL_MS = 100.0
RSS_GOAL_MB = 100.0


def main() -> int:
    kind = backend()
    workers = 4 if kind == "postgresql" else 2
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp) / "redis").start()
        databases = TestDatabases(kind, Path(tmp), tag=f"bench{os.getpid()}").create()
        environ = test_environment(databases, redis_server.url, BENCH_DATABASE_URL=databases.urls["registration"])
        try:
            engine = sa.create_engine(environ["BENCH_DATABASE_URL"])
            from bench.floor_app import Row

            Row.__table__.create(engine)
            engine.dispose()
            floor_server = _Floor(environ, workers).start()
            try:
                with start_ours(environ, workers, databases) as server:
                    floor_url, ours_url = f"{floor_server.url}/register", f"{server.url}/api/v1/events/rush/registrations"
                    wrk(floor_url, "warm-up", seconds=2)
                    wrk(f"{server.url}/api/v1/events/warm-up/registrations", "warm-up", seconds=2)
                    rss = max(rss_mb(pid) for pid in children(server.process.pid))
                    rounds = [(wrk(floor_url, "floor: bare Flask validate + INSERT", seconds=SECONDS),
                               wrk(ours_url, "ours: POST /events/{slug}/registrations", seconds=SECONDS)) for _ in range(ROUNDS)]
            finally:
                floor_server.stop()
        finally:
            databases.drop()
            redis_server.stop()
    ratios = sorted(ours.per_second / floor.per_second for floor, ours in rounds)
    ratio = statistics.median(ratios)
    floor = statistics.median(f.per_second for f, _ in rounds)
    ours_rate = statistics.median(o.per_second for _, o in rounds)
    p99 = statistics.median(o.p99_ms for _, o in rounds)
    floor_p99 = statistics.median(f.p99_ms for f, _ in rounds)
    print(f"Registration rush on {kind}, gunicorn -w {workers}, wrk -c32, {ROUNDS} rounds of {SECONDS}s each, taking turns:")
    for floor_round, ours_round in rounds:
        print(floor_round.line())
        print(ours_round.line())
    spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}"
    met = ratio >= GOAL and (kind != "postgresql" or p99 < P99_GOAL_MS)
    print(f"  ratio {ratio:.2f} of the floor (median; rounds {spread}), p99 {p99:.1f} ms: "
          f"{'meets' if met else 'BELOW'} the goal of {GOAL:.2f}" + (f", p99 < {P99_GOAL_MS:.0f} ms" if kind == "postgresql" else ""))
    print(f"  registration web worker RSS after warm-up: {rss:.0f} MB (goal < {RSS_GOAL_MB:.0f} MB)")
    goal = f">= {GOAL:.2f}" + (f", p99 < {P99_GOAL_MS:.0f} ms" if kind == "postgresql" else "")
    report(f"registration rush, {kind}, -w{workers}, wrk -c32", f"{floor:.1f}/s, p99 {floor_p99:.1f} ms",
           f"{ours_rate:.1f}/s, p99 {p99:.1f} ms", goal, met, ratio=round(ratio, 3), spread=spread)
    report(f"registration web worker RSS, {kind}", "", f"{rss:.0f} MB", f"< {RSS_GOAL_MB:.0f} MB", rss < RSS_GOAL_MB)
    return 0 if met else 1


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
    sys.exit(main())
