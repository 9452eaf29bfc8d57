"""Cost as data grows: the same requests on an empty and on a large PostgreSQL database.

Two sets of databases are migrated side by side. Both get what is current: the 50 upcoming
events (one of them, `event-5000`, with 4,800 seats) and one member organisation. The large
set also gets the history, loaded with INSERT ... SELECT generate_series (no ORM): 5,000
events in all, 500,000 registrations (5,000 of them at `event-5000`) with their sent outbox
rows, 250 member organisations with 2,000 domains, 50,000 orders and 200,000 deliveries.

Then, with a registration service under gunicorn on each set:
- the registration rush (bench/registration_rush.py's server and wrk) on both, taking
  turns: the large rate is to stay >= 0.9 of the empty one;
- `/events` and the member lookup under wrk on both: flat (the same ratio);
- the participants of the 5,000-person event (API list and back-office page, their first
  and last pages, and the XLSX export of all) each answer in under 1 s, and so do the
  staff's events (API and page) and the last page of the past events;
- EXPLAIN of every statement those requests send (captured in-process), and of the
  relay's and the notify scheduler's queries: none may Seq Scan a table of 1,000 rows or
  more. The key lines of each plan are printed.
Run: `make bench-large` (also part of `make bench`), or `python bench/large_data.py`.
`BENCH_KEEP_LARGE=1` keeps the loaded large set as PostgreSQL template databases
(`eupolnet_benchlargetemplate_*`) and later runs with it clone them (a file copy, seconds)
instead of loading again, then bring them to the current migrations; drop them with
`BENCH_KEEP_LARGE=drop`.
"""
from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH, report, wrk  # noqa: E402
from bench.registration_rush import start_ours  # noqa: E402
from ops.redis_server import RedisServer  # noqa: E402
from ops.databases import migrated_services  # noqa: E402
from ops.testing import TestDatabases, backend, postgres_url, test_environment, test_settings  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
#: "1": keep the loaded large set as templates and clone them in later runs; "drop": drop them
KEEP_LARGE = os.environ.get("BENCH_KEEP_LARGE", "")
TEMPLATE_TAG = "benchlargetemplate"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
#: the large database's rate over the empty one's, for the rush and the public reads
FLAT_GOAL = 0.90
#: seconds for the participants of the 5,000-person event
PARTICIPANTS_GOAL_S = 1.0
#: a Seq Scan on a table of at least this many rows fails the benchmark
BIG_TABLE_ROWS = 1000
EVENTS, UPCOMING, BIG_EVENT_PEOPLE, BIG_EVENT_SEATS = 5000, 50, 5000, 4800
BIG_EVENT = f"event-{EVENTS}"
REGISTRATIONS, ORGANISATIONS, DOMAINS, ORDERS, DELIVERIES = 500_000, 250, 2000, 50_000, 200_000
PASSWORD = "bench password, long enough"
#: a member's address, under a subdomain of its domain (what the lookup and the rush ask)
MEMBER_EMAIL = "officer@police.bench-city.example.eu"

# --- loading ----------------------------------------------------------------------------
# Events 1..5000 start one a day, the last UPCOMING of them in the future; every fourth has
# 150 seats, the last one BIG_EVENT_SEATS. Events :first..:last are loaded at a time.
EVENTS_AND_SEATS = (
    """INSERT INTO event (id, slug, kind, title, description, starts_at, ends_at, timezone, venue, capacity,
                          members_only, double_opt_in, extra_fields, published, created_at, updated_at)
       SELECT i, 'event-' || i, (ARRAY['webconference', 'academy', 'assembly', 'conference'])[1 + i % 4],
              json_build_object('en', 'Event ' || i, 'fr', 'Évènement ' || i), '{"en": "A day on urban security."}',
              now() + (i - :last_past) * interval '1 day', now() + (i - :last_past) * interval '1 day' + interval '7 hours',
              'Europe/Paris', 'Hôtel de ville', CASE WHEN i = :events THEN :big_seats WHEN i % 4 = 0 THEN 150 END,
              false, false,
              CASE WHEN i = :events THEN '[{"name": "diet", "type": "text", "required": false, "label": {"en": "Diet"}}]'
                   ELSE '[]' END::json,
              i % 50 <> 7, now(), now()
       FROM generate_series(:first, :last) AS i""",
    """INSERT INTO seat (event_id, number)
       SELECT event.id, number FROM event, generate_series(1, event.capacity) AS number WHERE event.id BETWEEN :first AND :last""",
)
#: what both sets hold: the upcoming events (ids up to EVENTS: the bench's own come after them) and one member
REGISTRATION_CURRENT = (
    """INSERT INTO member_organisation (id, name, country, active, created_at)
       VALUES (1, 'Bench City Police', 'FR', true, now())""",
    "INSERT INTO member_domain (organisation_id, domain) VALUES (1, 'bench-city.example.eu')",
    *EVENTS_AND_SEATS,
    "SELECT setval(pg_get_serial_sequence('event', 'id'), :events)",
)
REGISTRATION_HISTORY = (
    *EVENTS_AND_SEATS,
    """INSERT INTO member_organisation (id, name, country, active, created_at)
       SELECT 1 + i, 'Member organisation ' || i, (ARRAY['FR', 'ES', 'IT', 'DE', 'PT', 'BE'])[1 + i % 6], i % 25 <> 0, now()
       FROM generate_series(1, :organisations - 1) AS i""",
    """INSERT INTO member_domain (organisation_id, domain)
       SELECT 1 + i % :organisations, 'city' || i || '.example.eu' FROM generate_series(1, :domains - 1) AS i""",
    """INSERT INTO member_address (organisation_id, email)
       SELECT 1 + i % :organisations, 'officer' || i || '@mail.example.com' FROM generate_series(1, 500) AS i""",
    # 495,000 people spread over events 1..4999, then the 5,000 of the big event
    """INSERT INTO registration (public_id, event_id, status, first_name, last_name, email, organisation, position, city,
                                 country, language, answers, consent_version, consented_at, member_organisation_id,
                                 queued_at, created_at, confirmed_at, cancelled_at, revision)
       SELECT md5('registration' || g), event.id, r.status, 'First' || g, 'Last' || g,
              'person' || g || '@city' || g % :domains || '.example.eu', 'Police municipale', 'Inspector', 'Lyon', 'FR', 'fr',
              '{}', 'v1', event.starts_at - interval '20 days', CASE WHEN g % 3 = 0 THEN 1 + g % :organisations END,
              event.starts_at - interval '20 days' + g * interval '1 second', event.starts_at - interval '20 days',
              CASE WHEN r.status = 'confirmed' THEN event.starts_at - interval '20 days' END,
              CASE WHEN r.status = 'cancelled' THEN event.starts_at - interval '10 days' END, 1
       FROM generate_series(1, :registrations - :big_people) AS g
       JOIN event ON event.id = 1 + (g - 1) % (:events - 1)
       CROSS JOIN LATERAL (SELECT CASE WHEN g % 20 = 0 THEN 'cancelled' WHEN g % 20 IN (1, 2) THEN 'waitlisted'
                                       ELSE 'confirmed' END AS status) AS r""",
    """INSERT INTO registration (public_id, event_id, status, first_name, last_name, email, organisation, position, city,
                                 country, language, answers, consent_version, consented_at, member_organisation_id,
                                 queued_at, created_at, confirmed_at, cancelled_at, revision)
       SELECT md5('big' || k), :events, r.status, 'Prénom' || k, 'Nom' || k, 'delegate' || k || '@city' || k % :domains || '.example.eu',
              'Ville de Lyon', 'Chef de service', 'Lyon', 'FR', 'fr', json_build_object('diet', 'none'), 'v1', now(),
              CASE WHEN k % 3 = 0 THEN 1 + k % :organisations END, now() + k * interval '1 second', now(),
              CASE WHEN r.status = 'confirmed' THEN now() END, CASE WHEN r.status = 'cancelled' THEN now() END, 1
       FROM generate_series(1, :big_people) AS k
       CROSS JOIN LATERAL (SELECT CASE WHEN k <= :big_seats THEN 'confirmed' WHEN k <= :big_people - 50 THEN 'waitlisted'
                                       ELSE 'cancelled' END AS status) AS r""",
    # the confirmed sit in the seats of events with a capacity, in order
    """UPDATE seat SET holder = seated.public_id
       FROM (SELECT public_id, event_id, row_number() OVER (PARTITION BY event_id ORDER BY id) AS number
             FROM registration WHERE status = 'confirmed') AS seated
       WHERE seat.event_id = seated.event_id AND seat.number = seated.number""",
    """INSERT INTO outbox_message (id, message_type, idempotency_key, envelope, created_at, sent_at, attempts)
       SELECT md5('outbox' || id), 'registration.' || status, 'registration:' || public_id || ':1', '{}', created_at,
              created_at + interval '1 second', 1
       FROM registration""",
)
ORDERS_HISTORY = (
    """INSERT INTO publication (slug, title, languages, stock, active, created_at, updated_at)
       SELECT 'bench-publication-' || i, json_build_object('en', 'Publication ' || i), '["en", "fr"]', 1000, true, now(), now()
       FROM generate_series(0, 19) AS i""",
    """INSERT INTO publication_order (status, channel, first_name, last_name, organisation, address, city, postcode, country,
                                      email, language, membership, member, created_at)
       SELECT (ARRAY['received', 'approved', 'invoiced', 'paid', 'shipped', 'shipped', 'shipped', 'cancelled'])[1 + o % 8],
              'web', 'First' || o, 'Last' || o, 'Ville ' || o % 500, o || ' rue de la Paix', 'Paris', '75002', 'FR',
              'reader' || o || '@city' || o % :domains || '.example.eu', 'fr', 'verified', o % 3 = 0,
              now() - (:orders - o) * interval '1 hour'
       FROM generate_series(1, :orders) AS o""",
    """INSERT INTO order_line (order_id, publication_id, copies, free_copies, paid_copies, postage_cents)
       SELECT publication_order.id, publication.id, 1 + publication_order.id % 3, 0, 1 + publication_order.id % 3,
              800 * (1 + publication_order.id % 3)
       FROM publication_order JOIN publication ON publication.slug = 'bench-publication-' || publication_order.id % 20""",
)
NOTIFY_HISTORY = (
    """INSERT INTO delivery (idempotency_key, message_type, recipient, template, language, status, retries, attempts,
                             envelope, created_at, sent_at)
       SELECT 'delivery:' || d, t.message_type, 'person' || d || '@city' || d % :domains || '.example.eu',
              'notify/fr/' || t.message_type, 'fr', CASE WHEN d % 100 = 0 THEN 'failed' ELSE 'sent' END, 0, 1, '{}',
              now() - (:deliveries - d) * interval '10 minutes', now() - (:deliveries - d) * interval '10 minutes'
       FROM generate_series(1, :deliveries) AS d
       CROSS JOIN LATERAL (SELECT (ARRAY['registration.confirmed', 'registration.waitlisted', 'event.reminder',
                                         'order.received'])[1 + d % 4] AS message_type) AS t""",
)

PARAMETERS = {"events": EVENTS, "last_past": EVENTS - UPCOMING, "big_seats": BIG_EVENT_SEATS, "big_people": BIG_EVENT_PEOPLE,
              "registrations": REGISTRATIONS, "organisations": ORGANISATIONS, "domains": DOMAINS, "orders": ORDERS,
              "deliveries": DELIVERIES}


def load(databases: TestDatabases, *, history: bool) -> float:
    """Fill `databases` with what is current, or (`history`) with the past of the large set;
    then VACUUM ANALYZE them. Returns the seconds it took."""
    started = time.monotonic()
    if history:
        steps = {"registration": REGISTRATION_HISTORY, "orders": ORDERS_HISTORY, "notify": NOTIFY_HISTORY}
        events = {"first": 1, "last": EVENTS - UPCOMING}
    else:
        steps, events = {"registration": REGISTRATION_CURRENT}, {"first": EVENTS - UPCOMING + 1, "last": EVENTS}
    for service, statements in steps.items():
        engine = sa.create_engine(databases.urls[service])
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(_with_sizes(statement, {**PARAMETERS, **events}))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # as a database in service: statistics, visibility map and hint bits up to date
            # (no autovacuum, nor first reads writing hint bits, during the measurements)
            connection.execute(sa.text("VACUUM ANALYZE"))
        engine.dispose()
    return time.monotonic() - started


def _template(service: str) -> str:
    return f"eupolnet_{TEMPLATE_TAG}_{service}"


def _admin(statement: str) -> list[tuple]:
    admin = sa.create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        rows = connection.execute(sa.text(statement))
        result = list(rows) if rows.returns_rows else []
    admin.dispose()
    return result


def kept_templates() -> bool:
    """Whether a previous run kept the loaded large set (every service's template)."""
    names = {name for name, in _admin("SELECT datname FROM pg_database")}
    return all(_template(service) in names for service in migrated_services())


def keep_as_templates(databases: TestDatabases) -> None:
    """Copy the loaded large set (nobody connected to it) into the templates."""
    for service, url in databases.urls.items():
        _admin(f'DROP DATABASE IF EXISTS "{_template(service)}"')
        _admin(f'CREATE DATABASE "{_template(service)}" TEMPLATE "{sa.make_url(url).database}"')


def clone_templates(databases: TestDatabases) -> TestDatabases:
    """`databases` created as copies of the kept templates, brought to the current migrations."""
    for service in migrated_services():
        name = f"eupolnet_{databases.tag}_{service}"
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{_template(service)}"')
        databases.urls[service] = sa.make_url(postgres_url()).set(database=name).render_as_string(hide_password=False)
        upgrade(service, databases.urls[service])
    return databases


def _with_sizes(statement: str, sizes: dict[str, int]) -> str:
    """`statement` with its `:name`s replaced by the integers of `sizes` (bound parameters
    would be smallints to PostgreSQL, which then finds generate_series ambiguous)."""
    return re.sub(r"(?<!:):([a-z_]+)", lambda name: str(int(sizes[name.group(1)])), statement).replace("%", "%%")


def _staff(databases: TestDatabases, secret_key: str) -> str:
    """Give the bench's staff account (made by start_ours) a password; returns its API token."""
    from sqlalchemy.orm import Session

    from shared.auth import StaffAccount, issue_token

    engine = sa.create_engine(databases.urls["registration"])
    with Session(engine) as session:
        account = session.scalars(sa.select(StaffAccount)).one()
        account.password_hash = generate_password_hash(PASSWORD)
        session.commit()
        token = issue_token(account, secret_key)
    engine.dispose()
    return token


def back_office(base_url: str, email: str = "bench@efus.eu") -> requests.Session:
    """A requests session logged in to the back office."""
    browser = requests.Session()
    page = browser.get(f"{base_url}/staff/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    browser.post(f"{base_url}/staff/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf},
                 allow_redirects=False).raise_for_status()
    return browser


# --- EXPLAIN ----------------------------------------------------------------------------

def hot_statements(environ: dict[str, str], token: str) -> list[tuple[str, str, str, dict]]:
    """(what, service, SQL, parameters) of every statement the hot requests send, run
    in-process on the registration service of `environ`, and of the registration outbox
    relay's and the notify scheduler's periodic queries."""
    from dramatiq.brokers.redis import RedisBroker
    from sqlalchemy.orm import Session

    from services.notify.scheduler import queue_due
    from services.registration import create_app
    from shared.db import db
    from shared.outbox import relay_pending

    captured: list[tuple[str, str, str, dict]] = []
    doing = {"what": "", "service": "registration"}

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE", "WITH")):
            captured.append((doing["what"], doing["service"], statement, parameters))

    app = create_app(test_settings(environ))
    client = app.test_client()
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", capture)
    page = client.get("/staff/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/staff/login", data={"email": "bench@efus.eu", "password": PASSWORD, "csrf_token": csrf})
    captured.clear()  # not the login
    auth = {"Authorization": f"Bearer {token}"}
    calls = {
        "register": lambda: client.post("/api/v1/events/rush/registrations", json=_person("explain@bench.example.org")),
        "events": lambda: client.get("/api/v1/events"),
        "member lookup": lambda: client.get(f"/api/v1/members/lookup?email={MEMBER_EMAIL}"),
        "participants API": lambda: client.get(f"/api/v1/events/{BIG_EVENT}/registrations", headers=auth),
        "participants XLSX": lambda: client.get(f"/api/v1/events/{BIG_EVENT}/registrations.xlsx", headers=auth),
        "participants page": lambda: client.get(f"/staff/events/{BIG_EVENT}?page=25"),
        "staff events API": lambda: client.get("/api/v1/staff/events", headers=auth),
        "staff events page": lambda: client.get("/staff/events"),
        # the first page, which people open: on the last one nearly every event is before it, and
        # PostgreSQL rightly reads the small table whole (its time is measured below)
        "past events": lambda: client.get("/api/v1/events?past=true"),
    }
    for what, call in calls.items():
        doing["what"] = what
        response = call()
        if response.status_code >= 300:
            raise RuntimeError(f"{what}: {response.status_code} {response.get_data(as_text=True)[:500]}")
    broker = RedisBroker(url=environ["REDIS_URL"])
    doing["what"] = "outbox relay"
    with app.app_context():
        relay_pending(db.session, broker)
        db.session.rollback()
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    notify = sa.create_engine(environ["NOTIFY_DATABASE_URL"])
    sa.event.listen(notify, "before_cursor_execute", capture)
    doing.update(what="notify scheduler", service="notify")
    with Session(notify) as session:
        queue_due(session, broker)
    notify.dispose()
    return captured


def _person(email: str) -> dict:
    return {"first_name": "Ana", "last_name": "Silva", "email": email, "language": "en", "consent": True}


def explain(urls: dict[str, str], statements: list[tuple[str, str, str, dict]]) -> list[str]:
    """Print the key lines of the plan of each distinct statement; returns the Seq Scans on
    big tables (BIG_TABLE_ROWS), as "what: table"."""
    failures: list[str] = []
    seen: set[str] = set()
    engines = {service: sa.create_engine(url) for service, url in urls.items()}
    print("EXPLAIN of the hot queries on the large database (scans and index lines):")
    for what, service, statement, parameters in statements:
        if statement in seen:
            continue
        seen.add(statement)
        with engines[service].connect() as connection:
            cursor = connection.connection.cursor()
            cursor.execute("EXPLAIN " + statement, parameters)
            plan = [row[0] for row in cursor.fetchall()]
            sizes = dict(connection.execute(sa.text("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")).all())
            connection.rollback()
        summary = " ".join(statement.split())[:110]
        print(f"  [{what}] {summary}")
        for line in plan:
            if "Scan" in line or "Index Cond" in line:
                print(f"      {line.strip()}")
            table = re.search(r"Seq Scan on (\w+)", line)
            if table and sizes.get(table.group(1), 0) >= BIG_TABLE_ROWS:
                failures.append(f"{what}: {table.group(1)}")
    for engine in engines.values():
        engine.dispose()
    return failures


# --- timing -----------------------------------------------------------------------------

def seconds_of(get, url: str, times: int = 3) -> float:
    """The median time of `times` GETs of `url` (after one not counted)."""
    get(url).raise_for_status()
    spent = []
    for _ in range(times):
        started = time.monotonic()
        get(url).raise_for_status()
        spent.append(time.monotonic() - started)
    return statistics.median(spent)


def main() -> int:
    if backend() != "postgresql":
        print("The large-data benchmark runs on PostgreSQL only (TEST_DATABASE=postgresql).")
        return 1
    if KEEP_LARGE == "drop":
        for service in migrated_services():
            _admin(f'DROP DATABASE IF EXISTS "{_template(service)}"')
        return 0
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        redis_server = RedisServer(Path(tmp) / "redis").start()
        stack.callback(redis_server.stop)
        empty = TestDatabases("postgresql", Path(tmp), tag=f"benchempty{os.getpid()}").create()
        stack.callback(empty.drop)
        large = TestDatabases("postgresql", Path(tmp), tag=f"benchlarge{os.getpid()}")
        stack.callback(large.drop)
        load(empty, history=False)
        started = time.monotonic()
        if KEEP_LARGE == "1" and kept_templates():
            clone_templates(large)
            how = "Cloned the large database kept by an earlier run (BENCH_KEEP_LARGE=1)"
        else:
            large.create()
            load(large, history=False)
            load(large, history=True)
            how = "Loaded the large database"
            if KEEP_LARGE == "1":
                keep_as_templates(large)
        print(f"{how} in {time.monotonic() - started:.0f} s: {EVENTS} events, {REGISTRATIONS} registrations, "
              f"{ORGANISATIONS} member organisations with {DOMAINS} domains, {ORDERS} orders, {DELIVERIES} deliveries")
        sets = {"empty": empty, "large": large}
        environs = {name: test_environment(databases, redis_server.url) for name, databases in sets.items()}
        servers = {name: stack.enter_context(start_ours(environs[name], 4, databases)) for name, databases in sets.items()}
        token = _staff(large, environs["large"]["SECRET_KEY"])
        _staff(empty, environs["empty"]["SECRET_KEY"])
        rates = _rates(servers)
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"
        base = servers["large"].url
        staff_pages = back_office(base)
        participants = {
            "participants list, API, first page": seconds_of(api.get, f"{base}/api/v1/events/{BIG_EVENT}/registrations"),
            "participants list, API, last page": seconds_of(api.get, f"{base}/api/v1/events/{BIG_EVENT}/registrations?page=50"),
            "participants page, back office, first page": seconds_of(staff_pages.get, f"{base}/staff/events/{BIG_EVENT}"),
            "participants page, back office, last page": seconds_of(staff_pages.get, f"{base}/staff/events/{BIG_EVENT}?page=25"),
            "participants XLSX export": seconds_of(api.get, f"{base}/api/v1/events/{BIG_EVENT}/registrations.xlsx"),
        }
        lists = {
            "staff events list, API": seconds_of(api.get, f"{base}/api/v1/staff/events"),
            "staff events page, back office": seconds_of(staff_pages.get, f"{base}/staff/events"),
            "past events, last page": seconds_of(requests.get, f"{base}/api/v1/events?past=true&page=50"),
        }

        failures = explain(large.urls, hot_statements(environs["large"], token))
    return _verdict(rates, participants, lists, failures)


#: what is compared under wrk on both sets: (name, path, the rush script or plain GETs)
LOADS = (
    ("registration rush", "/api/v1/events/rush/registrations", True),
    ("GET /events", "/api/v1/events", False),
    ("member lookup", f"/api/v1/members/lookup?email={MEMBER_EMAIL}", False),
)


def _rates(servers: dict) -> dict[str, list[tuple[float, float, float]]]:
    """(empty rate, large rate, large p99) of each of LOADS, in ROUNDS rounds taking turns."""
    for name in ("empty", "large"):
        wrk(f"{servers[name].url}/api/v1/events/warm-up/registrations", "warm-up", seconds=2)
    rates: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _, _ in LOADS}
    for _ in range(ROUNDS):
        for name, path, rush in LOADS:
            script = BENCH / "rush.lua" if rush else None
            on_empty = wrk(servers["empty"].url + path, f"{name}, empty", seconds=SECONDS, script=script)
            on_large = wrk(servers["large"].url + path, f"{name}, large", seconds=SECONDS, script=script)
            rates[name].append((on_empty.per_second, on_large.per_second, on_large.p99_ms))
    return rates


def _verdict(rates: dict, participants: dict[str, float], lists: dict[str, float], failures: list[str]) -> int:
    met_all = not failures
    print(f"Cost as data grows (gunicorn -w4, wrk -c32, {ROUNDS} rounds of {SECONDS}s, empty and large taking turns):")
    for name, rounds in rates.items():
        ratio = statistics.median(large / empty for empty, large, _ in rounds)
        ratios = sorted(large / empty for empty, large, _ in rounds)
        empty_rate = statistics.median(empty for empty, _, _ in rounds)
        large_rate = statistics.median(large for _, large, _ in rounds)
        p99 = statistics.median(p99 for _, _, p99 in rounds)
        met = ratio >= FLAT_GOAL
        met_all &= met
        print(f"  {name:<22} empty {empty_rate:8.1f}/s  large {large_rate:8.1f}/s (p99 {p99:.1f} ms)  "
              f"ratio {ratio:.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f}): {'meets' if met else 'BELOW'} the goal of {FLAT_GOAL:.2f}")
        report(f"{name}, large vs empty database", f"{empty_rate:.1f}/s (empty)", f"{large_rate:.1f}/s, p99 {p99:.1f} ms",
               f">= {FLAT_GOAL:.2f}", met, ratio=round(ratio, 3), spread=f"{ratios[0]:.2f}-{ratios[-1]:.2f}")
    for name, seconds in participants.items():
        met = seconds < PARTICIPANTS_GOAL_S
        met_all &= met
        print(f"  {name} of {BIG_EVENT_PEOPLE} people: {seconds * 1000:.0f} ms: "
              f"{'meets' if met else 'BELOW'} the goal of < {PARTICIPANTS_GOAL_S:.0f} s")
        report(f"{name}, {BIG_EVENT_PEOPLE} people, large database", "", f"{seconds * 1000:.0f} ms",
               f"< {PARTICIPANTS_GOAL_S * 1000:.0f} ms", met)
    for name, seconds in lists.items():
        met = seconds < PARTICIPANTS_GOAL_S
        met_all &= met
        print(f"  {name}: {seconds * 1000:.0f} ms: {'meets' if met else 'BELOW'} the goal of < {PARTICIPANTS_GOAL_S:.0f} s")
        report(f"{name}, large database", "", f"{seconds * 1000:.0f} ms", f"< {PARTICIPANTS_GOAL_S * 1000:.0f} ms", met)
    print(f"  Seq Scans on big tables: {', '.join(failures) if failures else 'none'}")
    report("EXPLAIN of the hot queries, large database", "", ", ".join(failures) or "every scan uses an index",
           "no Seq Scan on a big table", not failures)
    return 0 if met_all else 1


if __name__ == "__main__":
    sys.exit(main())
