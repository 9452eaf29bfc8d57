"""Test support shared by every service's tests: real databases and a real Redis.

`TEST_DATABASE=postgresql` (the default when PostgreSQL answers) runs against fresh
databases on `TEST_POSTGRES_URL`; `TEST_DATABASE=sqlite` against files in a temporary folder.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from ops.databases import migrated_services
from ops.redis_server import free_port
from shared.config import Settings, load_settings
from shared.migrations import upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(postgres_url(), connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


def backend() -> str:
    return os.environ.get("TEST_DATABASE") or ("postgresql" if postgres_available() else "sqlite")


class TestDatabases:
    """One fresh, migrated database per service for a test session."""

    __test__ = False

    def __init__(self, kind: str, directory: Path, tag: str = "test"):
        self.kind = kind
        self.directory = directory
        self.tag = tag
        self.urls: dict[str, str] = {}

    def create(self) -> "TestDatabases":
        for service in migrated_services():
            if self.kind == "postgresql":
                name = f"eupolnet_{self.tag}_{service}"
                admin = sa.create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
                admin.dispose()
                url = sa.make_url(postgres_url()).set(database=name).render_as_string(hide_password=False)
            else:
                url = f"sqlite:///{self.directory / service}.sqlite3"
            upgrade(service, url)
            self.urls[service] = url
        return self

    def clean(self) -> None:
        """Empty every table (kept: the schema and Alembic's version)."""
        for url in self.urls.values():
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                tables = [t for t in sa.inspect(connection).get_table_names() if t != "alembic_version"]
                if self.kind == "postgresql":
                    connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                else:
                    connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
                    for table in tables:
                        connection.execute(sa.text(f"DELETE FROM {table}"))
            engine.dispose()

    def drop(self) -> None:
        if self.kind != "postgresql":
            return
        admin = sa.create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for url in self.urls.values():
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def test_environment(databases: TestDatabases, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment variables a service process needs to run against the test parts."""
    environ = {f"{service.upper()}_DATABASE_URL": url for service, url in databases.urls.items()}
    environ.update(
        REDIS_URL=redis_url,
        SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
        PUBLIC_BASE_URL="http://localhost:8001",
        EMBED_ALLOWED_ORIGINS="http://localhost:9999",
    )
    environ.update(extra)
    return environ


def test_settings(environ: dict[str, str]) -> Settings:
    return load_settings(environ)


class ServiceProcess:
    """A service running under gunicorn on a free port, as in production."""

    __test__ = False

    def __init__(self, service: str, environ: dict[str, str], workers: int = 4, threads: int = 1):
        self.service = service
        self.environ = environ
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "ServiceProcess":
        command = [
            sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--threads", str(self.threads),
            "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "--backlog", "2048",
            f"services.{self.service}:create_app()",
        ]
        self.process = subprocess.Popen(command, env={**os.environ, **self.environ})
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.service} did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
