"""The production topology across hosts (tests/deploy/cluster.py): two web hosts behind
nginx, one worker host, PostgreSQL and Redis, every process as `eupolnet process NAME`
runs it in production mode. Through the load balancer, over TLS:

- 1,000 registrations for 50 seats from 64 clients, one web host killed (`kill -9`)
  halfway: every answered registration is in the database, exactly 50 are confirmed,
  every registrant gets exactly one email, and no 5xx came from the surviving host;
- the same with the worker host killed and restarted mid-rush;
- the rate limit counts each client's own address, not the proxy's.

Then a backup (`pg_dump`) restored into an empty database serves the same registrations.
The figures are printed (`-s` shows them) and asserted.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
import urllib3
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

from shared.auth import issue_token, save_staff_account
from tests.conftest import event_payload, person
from tests.deploy.cluster import EUPOLNET, Mailbox, Network, Postgres, Redis, can_run, nginx_config, sh

pytestmark = [pytest.mark.deploy, pytest.mark.skipif(bool(can_run()), reason=can_run() or "")]

PUBLIC_HOST = "registrations.test"
PEOPLE, SEATS, CLIENTS = 1000, 50, 64
RETRYABLE = {502, 503, 504}


class Cluster:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.network = Network()
        self.postgres: Postgres | None = None
        self.redis: Redis | None = None
        self.mailbox: Mailbox | None = None
        self.nginx: subprocess.Popen | None = None

    def start(self) -> "Cluster":
        net = self.network.create(client_addresses=2 * CLIENTS + 8)
        root = net.address("root")
        self.postgres = Postgres(root, "eupolnet", secrets.token_urlsafe(16)).start()
        self.redis = Redis(root, self.directory / "redis").start()
        self.mailbox = Mailbox(root).start()
        self.environ = {
            "PATH": os.environ["PATH"], "EUPOLNET_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
            "BIND_HOST": "0.0.0.0", "WEB_CONCURRENCY": "2", "WORKER_PROCESSES": "1", "WORKER_THREADS": "16",
            "POSTGRES_HOST": root, "POSTGRES_PORT": str(self.postgres.port), "POSTGRES_USER": self.postgres.user,
            "POSTGRES_PASSWORD": self.postgres.password, "REDIS_URL": self.redis.url, "TRUSTED_PROXIES": "1",
            "REGISTRATION_URL": "http://127.0.0.1:8001", "ORDERS_URL": "http://127.0.0.1:8002", "NOTIFY_URL": "http://127.0.0.1:8003",
            "PUBLIC_BASE_URL": f"https://{PUBLIC_HOST}", "PUBLIC_ORDERS_URL": f"https://{PUBLIC_HOST}",
            "SMTP_HOST": root, "SMTP_PORT": str(self.mailbox.port), "SMTP_TLS": "none",
            "EMBED_ALLOWED_ORIGINS": "https://www.example.org", "INVOICE_SELLER_SIRET": "12345678900011",
            "INVOICE_BANK_IBAN": "FR7610278060310002052830146", "EUPOLNET_VAR_DIR": str(self.directory / "var"),
        }
        migrate = net.run("worker", [EUPOLNET, "migrate", "--wait", "60"], self.environ, self.directory / "migrate.log")
        assert migrate.wait(120) == 0, (self.directory / "migrate.log").read_text()
        for host in ("web1", "web2"):
            self.start_web(host)
        self.start_worker()
        self.nginx = net.run("lb", ["nginx", "-c", str(nginx_config(self.directory / "nginx", [net.address("web1"), net.address("web2")],
                                                                      PUBLIC_HOST))], self.environ, self.directory / "nginx.log")
        for host in ("web1", "web2"):
            self.wait_ready(host)
        return self

    def start_web(self, host: str) -> None:
        for service in ("registration", "orders", "notify"):
            # two gunicorn workers for the rush; one is plenty for the services it does not reach
            environ = {**self.environ, "WEB_CONCURRENCY": "2" if service == "registration" else "1"}
            self.network.run(host, [EUPOLNET, "process", service], environ, self.directory / f"{host}-{service}.log")

    def start_worker(self) -> None:
        for process in ("relay", "worker"):
            self.network.run("worker", [EUPOLNET, "process", process], self.environ, self.directory / f"worker-{process}.log")

    def wait_ready(self, host: str, timeout: float = 90) -> float:
        """Seconds until every service of `host` answers /readyz with 200."""
        started = time.monotonic()
        http = urllib3.PoolManager(retries=False, timeout=2)
        for port in (8001, 8002, 8003):
            while True:
                try:
                    if http.request("GET", f"http://{self.network.address(host)}:{port}/readyz").status == 200:
                        break
                except urllib3.exceptions.HTTPError:
                    pass
                assert time.monotonic() - started < timeout, f"{host}:{port} is not ready"
                time.sleep(0.1)
        return time.monotonic() - started

    def engine(self, service: str) -> sa.Engine:
        return sa.create_engine(self.postgres.url(service))

    def access_log(self) -> list[dict]:
        return [json.loads(line) for line in (self.directory / "nginx" / "access.log").read_text().splitlines()]

    def stop(self) -> None:
        self.network.destroy()
        for part in (self.mailbox, self.redis, self.postgres):
            if part is not None:
                part.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    started = time.monotonic()
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        running.start()
        print(f"\ncluster up in {time.monotonic() - started:.1f} s")
        yield running
    finally:
        running.stop()


class Client:
    """A visitor's browser: its own source address, one kept-alive TLS connection to nginx."""

    def __init__(self, cluster: Cluster, source: str) -> None:
        self.source = source
        self.pool = urllib3.HTTPSConnectionPool(
            cluster.network.address("lb"), 443, maxsize=1, retries=False, timeout=urllib3.Timeout(connect=5, read=60),
            source_address=(source, 0), ca_certs=str(cluster.directory / "nginx" / "tls" / "fullchain.pem"),
            server_hostname=PUBLIC_HOST, assert_hostname=PUBLIC_HOST,
        )

    def post(self, path: str, body: dict) -> urllib3.BaseHTTPResponse:
        return self.pool.request("POST", path, body=json.dumps(body), headers={
            "Host": PUBLIC_HOST, "Content-Type": "application/json", "Origin": "https://www.example.org"})


def rush(cluster: Cluster, slug: str, first_client: int, numbers: range, midway) -> dict:  # noqa: ANN001
    """POST every person in `numbers` from CLIENTS clients (each its own share: 16 at most,
    under the limit of 20 a minute per address); `midway()` runs once half are answered. A
    client whose request failed in transit (a 502 from nginx, the connection cut) sends it
    again, as the embedded form lets its visitor do."""
    answers: dict[int, tuple[int, dict]] = {}
    failures: list[tuple[float, int | str]] = []
    lock = threading.Lock()
    half = threading.Event()

    def visitor(index: int) -> None:
        client = Client(cluster, cluster.network.client_address(first_client + index))
        for n in numbers[index::CLIENTS]:
            for _attempt in range(4):
                try:
                    response = client.post(f"/api/v1/events/{slug}/registrations", person(n))
                except urllib3.exceptions.HTTPError as error:
                    with lock:
                        failures.append((time.monotonic(), type(error).__name__))
                    continue
                if response.status in RETRYABLE:
                    with lock:
                        failures.append((time.monotonic(), response.status))
                    continue
                with lock:
                    answers[n] = (response.status, response.json())
                    if len(answers) >= len(numbers) // 2:
                        half.set()
                break

    def run_midway() -> None:
        half.wait()
        midway()

    started = time.monotonic()
    trigger = threading.Thread(target=run_midway)
    trigger.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(visitor, range(CLIENTS)))
    half.set()
    trigger.join()
    return {"answers": answers, "failures": failures, "seconds": time.monotonic() - started}


def registrations(cluster: Cluster, slug: str) -> list[dict]:
    engine = cluster.engine("registration")
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT r.public_id, r.email, r.status FROM registration r JOIN event e ON e.id = r.event_id WHERE e.slug = :slug"),
            {"slug": slug}).mappings().all()
    engine.dispose()
    return [dict(row) for row in rows]


def wait_for_emails(cluster: Cluster, addresses: set[str], timeout: float = 120) -> float:
    started = time.monotonic()
    while not addresses <= {r for recipients, _ in cluster.mailbox.received for r in recipients}:
        assert time.monotonic() - started < timeout, "not every registrant got an email"
        time.sleep(0.1)
    time.sleep(1)  # a duplicate would arrive now
    return time.monotonic() - started


def deliveries_sent(cluster: Cluster) -> int:
    engine = cluster.engine("notify")
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM delivery WHERE status = 'sent'")).scalar()
    engine.dispose()
    return count


def create_event(cluster: Cluster, slug: str, capacity: int | None) -> None:
    """Staff create events over the internal network (the staff API is not published)."""
    account = save_staff_account(cluster.postgres.url("registration"), "events@efus.eu", "events", None)
    token = issue_token(account, cluster.environ["SECRET_KEY"])
    response = urllib3.request("POST", f"http://{cluster.network.address('web2')}:8001/api/v1/events",
                               json=event_payload(slug=slug, capacity=capacity), headers={"Authorization": f"Bearer {token}"})
    assert response.status == 201, response.data


def check_outcome(cluster: Cluster, slug: str, numbers: range, result: dict) -> Counter:
    answers = result["answers"]
    assert len(answers) == len(numbers), "every visitor got an answer"
    codes = Counter(status for status, _ in answers.values())
    assert set(codes) <= {200, 201}, codes  # 200: the retry of a registration that had gone through
    rows = registrations(cluster, slug)
    by_id = {row["public_id"]: row for row in rows}
    assert all(body["id"] in by_id for status, body in answers.values()), "every answered registration is in the database"
    assert all(by_id[body["id"]]["status"] == body["status"] for status, body in answers.values() if status == 201)
    assert Counter(row["email"] for row in rows) == Counter(person(n)["email"] for n in numbers), "one registration per person"
    statuses = Counter(row["status"] for row in rows)
    assert statuses == {"confirmed": SEATS, "waitlisted": len(numbers) - SEATS}
    return codes


def test_cluster_survives_a_killed_web_host_and_a_killed_worker_host(cluster: Cluster):
    net = cluster.network
    # 1. One web host killed halfway through the rush.
    create_event(cluster, "rush-web", SEATS)
    killed: dict[str, float] = {}

    def kill_web1() -> None:
        killed["web1"] = time.monotonic()
        net.kill_host("web1")

    first = range(PEOPLE)
    result = rush(cluster, "rush-web", 0, first, kill_web1)
    codes = check_outcome(cluster, "rush-web", first, result)
    addresses = {person(n)["email"] for n in first}
    email_seconds = wait_for_emails(cluster, addresses)
    received = Counter(r for recipients, _ in cluster.mailbox.received for r in recipients)
    assert {address: received[address] for address in addresses} == dict.fromkeys(addresses, 1), "exactly one email each"
    log = [line for line in cluster.access_log() if "/registrations" in line["uri"]]
    web1, web2 = f"{net.address('web1')}:8001", f"{net.address('web2')}:8001"
    errors = [line for line in log if line["status"] >= 500]
    assert not [line for line in errors if web2 in line["upstream"].split(", ")[-1]], "no 5xx from the surviving host"
    assert all(line["upstream"].split(", ")[0] == web1 for line in errors)
    # One request id from nginx to the email: its access log, the outbox message, the delivery row.
    # A registration the killed host committed but could not answer carries the id of that
    # unanswered request (the visitor's retry was answered 200 by the other host).
    seen = {line["request_id"] for line in log if "rush-web" in line["uri"]}
    engine = cluster.engine("notify")
    with engine.connect() as connection:
        carried = connection.execute(sa.text("SELECT envelope FROM delivery WHERE message_type LIKE 'registration.%'")).scalars().all()
    engine.dispose()
    carried_ids = [(json.loads(e) if isinstance(e, str) else e).get("request_id") for e in carried]
    assert len(set(carried_ids)) == len(carried_ids) == PEOPLE and set(carried_ids) <= seen
    recovered_after = max((at for at, _ in result["failures"]), default=killed["web1"]) - killed["web1"]
    print(f"\nweb host killed: {len(log)} requests at nginx, {codes[201]} answered 201, {codes[200]} answered 200 (a retry),"
          f" {len(registrations(cluster, 'rush-web'))} rows, {SEATS} confirmed, {len(addresses)} emails once each,"
          f" {len(errors)} 5xx (all from the killed host), {len(result['failures'])} failed attempts retried;"
          f" last failure {recovered_after:.2f} s after the kill; rush {result['seconds']:.1f} s, emails done {email_seconds:.1f} s later")

    # The killed host comes back.
    cluster.start_web("web1")
    print(f"web1 restarted: every service ready {cluster.wait_ready('web1'):.1f} s after its start")

    # 2. The worker host killed mid-rush and restarted.
    create_event(cluster, "rush-worker", SEATS)
    second = range(PEOPLE, 2 * PEOPLE)
    worker: dict[str, float] = {}

    def kill_worker_host() -> None:
        # Out of the one window no system closes (the SMTP server accepted, the worker died
        # before it wrote "sent"; see services/notify/operations.py): the server holds every
        # new DATA unanswered, and the kill comes once all it accepted is recorded as sent.
        cluster.mailbox.hold()
        deadline = time.monotonic() + 30
        while not (cluster.mailbox.held and deliveries_sent(cluster) == len(cluster.mailbox.received)):
            assert time.monotonic() < deadline, "the workers never waited on the SMTP server"
            time.sleep(0.02)
        worker["sent before"] = len(cluster.mailbox.received)
        worker["killed"] = time.monotonic()
        net.kill_host("worker")
        while cluster.mailbox.held:
            time.sleep(0.02)
        cluster.mailbox.release()
        time.sleep(1)
        cluster.start_worker()
        worker["restarted"] = time.monotonic()
        requeue_from_dead_workers(cluster.redis.url)

    result = rush(cluster, "rush-worker", CLIENTS, second, kill_worker_host)
    codes = check_outcome(cluster, "rush-worker", second, result)
    assert codes == {201: PEOPLE} and result["failures"] == [], "the web hosts did not notice"
    addresses = {person(n)["email"] for n in second}
    assert worker["sent before"] < 2 * PEOPLE, "emails were still to send at the kill"
    wait_for_emails(cluster, addresses)
    done = time.monotonic() - worker["restarted"]
    received = Counter(r for recipients, _ in cluster.mailbox.received for r in recipients)
    assert {address: received[address] for address in addresses} == dict.fromkeys(addresses, 1), "exactly one email each"
    log = [line for line in cluster.access_log() if "rush-worker" in line["uri"]]
    assert [line for line in log if line["status"] >= 500] == []
    assert {line["upstream"] for line in log} == {web1, web2}, "the restarted web host takes requests again"
    print(f"worker host killed mid-rush and restarted 1 s later: {codes[201]} answered 201,"
          f" {len(registrations(cluster, 'rush-worker'))} rows, {SEATS} confirmed, {len(addresses)} emails once each, 0 5xx;"
          f" {2 * PEOPLE - int(worker['sent before'])} emails were still to send at the kill, the last one"
          f" {done:.1f} s after the restart; rush {result['seconds']:.1f} s")


def requeue_from_dead_workers(redis_url: str) -> None:
    """What Dramatiq's maintenance does once a dead worker missed its heartbeats for 60 s
    (`heartbeat_timeout`): its fetched messages go back to their queue. Here at once, with a
    one-second timeout (as in tests/notify/test_worker_crash.py)."""
    time.sleep(1.2)
    janitor = RedisBroker(url=redis_url, heartbeat_timeout=1000, maintenance_chance=MAINTENANCE_SCALE)
    for name in ("notify", "notify.DQ"):
        janitor.do_qsize(name)
    janitor.close()


def test_rate_limit_counts_each_visitor_not_the_proxy(cluster: Cluster):
    create_event(cluster, "open-day", None)
    first, second = (Client(cluster, cluster.network.client_address(2 * CLIENTS + n)) for n in range(2))
    codes = [first.post("/api/v1/events/open-day/registrations", person(5000 + n)).status for n in range(21)]
    assert codes == [201] * 20 + [429]
    assert second.post("/api/v1/events/open-day/registrations", person(6000)).status == 201, "another visitor is not limited"
    limited = [line for line in cluster.access_log() if line["uri"] == "/api/v1/events/open-day/registrations" and line["status"] == 429]
    assert [line["client"] for line in limited] == [first.source]
    # Straight to a web host, from an address that is no proxy and sends no header: limited too.
    direct = urllib3.PoolManager(retries=False)
    web2 = f"http://{cluster.network.address('web2')}:8001/api/v1/events/open-day/registrations"
    codes = [direct.request("POST", web2, json=person(7000 + n)).status for n in range(21)]
    assert codes == [201] * 20 + [429]


def test_backup_restored_into_an_empty_database_serves_the_same_registrations(cluster: Cluster, tmp_path):
    """deploy/README.md's backup and restore, for the registration database."""
    pg = cluster.postgres
    environ = {**os.environ, "PGHOST": pg.address, "PGPORT": str(pg.port), "PGUSER": pg.user, "PGPASSWORD": pg.password}
    dump = tmp_path / "registration.dump"
    sh("pg_dump", "--format=custom", f"--file={dump}", "eupolnet_registration", env=environ)
    sh("createdb", "eupolnet_restored", env=environ)
    sh("pg_restore", "--no-owner", "--dbname=eupolnet_restored", str(dump), env=environ)
    url = pg.url("registration").replace("eupolnet_registration", "eupolnet_restored")
    env = {**cluster.environ, "REGISTRATION_DATABASE_URL": url}
    ready = subprocess.run([EUPOLNET, "ready", "registration"], env=env, capture_output=True, text=True)
    assert ready.returncode == 0, ready.stdout
    from services.registration import create_app
    from shared.config import load_settings

    client = create_app(load_settings(env)).test_client()
    event = client.get("/api/v1/events/rush-web").json
    assert event["slug"] == "rush-web"
    original, restored = cluster.engine("registration"), sa.create_engine(url)
    query = sa.text("SELECT id, email, status, queued_at FROM registration ORDER BY id")
    with original.connect() as a, restored.connect() as b:
        assert a.execute(query).all() == b.execute(query).all()
    original.dispose()
    restored.dispose()
    # and goes on: the next registration joins the waiting list after everyone restored
    after = client.post("/api/v1/events/rush-web/registrations", json=person(9000))
    assert after.status_code == 201 and after.json["status"] == "waitlisted"
