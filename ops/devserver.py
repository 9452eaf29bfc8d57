"""`make run`: the whole system on one machine, in the foreground, for development.

Starts an embedded Redis when `REDIS_URL` is not set, migrates every database, then runs
each service under gunicorn, the outbox relay, the Dramatiq workers and, while SMTP_HOST
keeps its default (localhost), the development mail sink on SMTP_PORT (default 8025) that
writes every email to `var/mail/`. It says "running" once every service's `/readyz`
answers, and stops everything if one does not within `READY_TIMEOUT` seconds (default 90).
Ctrl-C stops everything it started.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Callable

import requests

import ops.processes
from ops.databases import migrated_services
from ops.redis_server import RedisServer, port_is_open
from shared.auth import save_staff_account
from shared.config import VAR_DIR, Settings
from shared.migrations import upgrade

#: the admin account `make run` keeps in development (never in production)
DEVELOPMENT_LOGIN = ("admin@efus.eu", "eupolnet-dev")
#: port of the embedded Redis (not 6379, which may be a machine-wide Redis)
EMBEDDED_REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "6390"))
#: where the development mail sink writes every email it receives
MAIL_DIR = VAR_DIR / "mail"
#: seconds `make run` waits for every service to answer /readyz before it gives up
READY_TIMEOUT = float(os.environ.get("READY_TIMEOUT", "90"))


def wait_until_ready(urls: dict[str, str], children: dict[str, subprocess.Popen], timeout: float,
                     stopping: Callable[[], bool] = lambda: False) -> str | None:
    """Wait until each service (name -> base URL) answers 200 on `/readyz`. Returns None then;
    otherwise why not: a process that exited, or the services still not ready after `timeout`
    seconds with their last answer. Returns None at once when `stopping()` (Ctrl-C)."""
    last = {service: "no answer" for service in urls}
    waiting = dict(urls)
    deadline = time.monotonic() + timeout
    while waiting and not stopping():
        for name, child in children.items():
            if child.poll() is not None:
                return f"{name} exited with code {child.returncode} before every service was ready."
        for service, url in list(waiting.items()):
            try:
                response = requests.get(f"{url}/readyz", timeout=2)
            except requests.RequestException as error:
                last[service] = f"no answer ({type(error).__name__})"
                continue
            if response.status_code == 200:
                del waiting[service]
            else:
                last[service] = f"HTTP {response.status_code} {response.text.strip()[:200]}"
        if waiting and time.monotonic() >= deadline:
            return "\n".join([f"Not ready after {timeout:g} s (READY_TIMEOUT):",
                              *(f"  {service}: {urls[service]}/readyz: {last[service]}" for service in waiting)])
        if waiting:
            time.sleep(0.3)
    return None


def uses_mail_sink(settings: Settings) -> bool:
    """No SMTP server configured (SMTP_HOST left at localhost) and none listening on SMTP_PORT:
    the development mail sink takes that port. A local server already there is used as is."""
    return settings.smtp_host == "localhost" and not port_is_open(settings.smtp_port)


def processes(settings: Settings) -> dict[str, list[str]]:
    """The commands to run, by name: the production process list (ops.processes), plus
    the development mail sink when no SMTP server is configured."""
    commands = ops.processes.commands(settings)
    if uses_mail_sink(settings):
        commands["mailsink"] = [
            sys.executable, "-m", "ops.mailsink", "--host", settings.smtp_host,
            "--port", str(settings.smtp_port), "--directory", str(MAIL_DIR),
        ]
    return commands


def run_all(settings: Settings) -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    environ = dict(os.environ)
    redis_server = None
    if not settings.redis_url:
        if port_is_open(EMBEDDED_REDIS_PORT):
            print(f"An embedded Redis from an earlier run is still on port {EMBEDDED_REDIS_PORT}; using it.")
        else:
            redis_server = RedisServer(VAR_DIR / "redis", port=EMBEDDED_REDIS_PORT, persistent=True).start()
        environ["REDIS_URL"] = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
    services = migrated_services()
    for service in services:
        upgrade(service, settings.database_url(service))
    if not settings.production:
        email, password = DEVELOPMENT_LOGIN
        save_staff_account(settings.database_url("registration"), email, "admin", password)
    children: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        commands = processes(settings)
        for name, command in commands.items():
            children[name] = subprocess.Popen(command, env=environ)
        urls = {service: settings.service_urls[service] for service in services}
        if problem := wait_until_ready(urls, children, READY_TIMEOUT, lambda: stopping):
            print(f"{problem}\nStopping everything.", file=sys.stderr)
            raise SystemExit(1)
        if stopping:
            return
        print("\nEU-POLNET is running:")
        for service in services:
            print(f"  {service:<13} {settings.service_urls[service]}  (API docs: {settings.service_urls[service]}/docs/)")
        print(f"  {'back office':<13} {settings.service_urls['registration']}/staff/  (development login: {' / '.join(DEVELOPMENT_LOGIN)})")
        print(f"  {'redis':<13} {environ['REDIS_URL']}{' (embedded, data in var/redis)' if redis_server else ''}")
        if "mailsink" in commands:
            print(f"  {'mail':<13} every email is written to {MAIL_DIR}/ (SMTP sink on {settings.smtp_host}:{settings.smtp_port})")
        print("Press Ctrl-C to stop.\n", flush=True)
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with code {child.returncode}; stopping everything.", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        if redis_server:
            redis_server.stop()
        print("Stopped.")
