"""The production topology as separate hosts on this machine: network namespaces and veth
pairs on a bridge, all made (and removed) by the test, with addresses of its own.

    root namespace   10.231.N.1     PostgreSQL, Redis and the SMTP server started by the test;
                     10.231.N.100+  the clients' own addresses (one per simulated visitor)
    lb               10.231.N.2     nginx from Debian, deploy/nginx/eupolnet.conf.template
    web1, web2       10.231.N.11/12 registration, orders, notify: `eupolnet process NAME`
    worker           10.231.N.21    relay and Dramatiq workers: `eupolnet process NAME`
"""
from __future__ import annotations

import asyncio
import email
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller

from ops.redis_server import free_port
from shared.config import ROOT

EUPOLNET = str(Path(sys.executable).with_name("eupolnet"))
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TAG = os.getpid() % 10000
NET = f"10.231.{os.getpid() % 250}."
HOSTS = {"lb": 2, "web1": 11, "web2": 12, "worker": 21}


def sh(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def can_run() -> str | None:
    """Why the cluster cannot be built here, or None."""
    if os.geteuid() != 0:
        return "needs root (ip netns)"
    for tool in ("ip", "nginx", "openssl", "psql"):
        if not shutil.which(tool):
            return f"{tool} is not installed (make test-deploy installs it)"
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL server binaries in {PG_BIN}"
    return None


class Network:
    """A bridge in the root namespace and one namespace per host, joined by veth pairs."""

    def __init__(self) -> None:
        self.bridge = f"epb{TAG}"
        self.namespaces: dict[str, str] = {}

    def address(self, host: str) -> str:
        return NET + str(HOSTS[host]) if host != "root" else NET + "1"

    def create(self, client_addresses: int) -> "Network":
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{NET}1/24", "dev", self.bridge)
        batch = "".join(f"addr add {NET}{100 + n}/24 dev {self.bridge}\n" for n in range(client_addresses))
        sh("ip", "-batch", "-", input=batch)
        sh("ip", "link", "set", self.bridge, "up")
        for host, octet in HOSTS.items():
            namespace, outside = f"ep{TAG}-{host}", f"eh{TAG}{host[:1]}{octet}"
            sh("ip", "netns", "add", namespace)
            sh("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            sh("ip", "link", "set", outside, "master", self.bridge, "up")
            for command in (("addr", "add", f"{NET}{octet}/24", "dev", "eth0"), ("link", "set", "eth0", "up"), ("link", "set", "lo", "up")):
                sh("ip", "-n", namespace, *command)
            self.namespaces[host] = namespace
        return self

    def client_address(self, n: int) -> str:
        return f"{NET}{100 + n}"

    def run(self, host: str, argv: list[str], environ: dict[str, str], log: Path) -> subprocess.Popen:
        with log.open("a") as stream:
            return subprocess.Popen(["ip", "netns", "exec", self.namespaces[host], *argv], env=environ,
                                    stdout=stream, stderr=subprocess.STDOUT, cwd=ROOT)

    def pids(self, host: str) -> list[int]:
        out = subprocess.run(["ip", "netns", "pids", self.namespaces[host]], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def kill_host(self, host: str) -> None:
        """`kill -9` every process of the host at once, as a power cut would."""
        for pid in self.pids(host):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while self.pids(host) and time.monotonic() < deadline:
            time.sleep(0.05)

    def destroy(self) -> None:
        for host, namespace in self.namespaces.items():
            self.kill_host(host)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


class Postgres:
    """A PostgreSQL server of the test's own, on the bridge, with password authentication,
    its databases created by deploy/postgres-init.sh as the postgres image does."""

    def __init__(self, address: str, user: str, password: str) -> None:
        self.address, self.user, self.password = address, user, password
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="eupolnet-cluster-pg-"))
        account = pwd.getpwnam("postgres")
        os.chown(self.directory, account.pw_uid, account.pw_gid)

    def _as_postgres(self, *argv: str) -> None:
        sh("runuser", "-u", "postgres", "--", *argv)

    def start(self) -> "Postgres":
        secret = self.directory / "password"
        secret.write_text(self.password)
        shutil.chown(secret, "postgres")
        data = self.directory / "data"
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", self.user, f"--pwfile={secret}", "--auth-local=trust",
                          "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {NET}0/24 scram-sha-256\n")
        options = (f"-c listen_addresses={self.address} -c port={self.port} -c unix_socket_directories={self.directory} "
                   "-c fsync=off -c synchronous_commit=off -c max_connections=300")
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.directory / "log"), "-w", "start")
        sh(str(ROOT / "deploy" / "postgres-init.sh"), env={**os.environ, "PGHOST": self.address, "PGPORT": str(self.port),
                                                          "PGPASSWORD": self.password, "POSTGRES_USER": self.user})
        return self

    def url(self, service: str) -> str:
        return f"postgresql+psycopg://{self.user}:{self.password}@{self.address}:{self.port}/eupolnet_{service}"

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"),
                        "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.directory, ignore_errors=True)


class Redis:
    """Redis on the bridge, with its append-only file, as compose runs it."""

    def __init__(self, address: str, directory: Path) -> None:
        self.address, self.directory, self.port = address, directory, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.address}:{self.port}/0"

    def start(self) -> "Redis":
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--bind", self.address, "--port", str(self.port), "--dir", str(self.directory),
             "--appendonly", "yes", "--save", "", "--protected-mode", "no"], stdout=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)


class Mailbox:
    """The SMTP relay: keeps every email it accepts; `hold()` makes each DATA wait unanswered
    until `release()` (a client that disconnects while held has delivered nothing)."""

    def __init__(self, address: str) -> None:
        self.address, self.port = address, free_port()
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.held = 0
        self._holding = False
        self._gate: asyncio.Event | None = None
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 (aiosmtpd's hook)
        if self._holding:
            self.held += 1
            try:
                await self._gate.wait()
            finally:
                self.held -= 1
        self.received.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.original_content, policy=policy.default)))
        return "250 Message accepted for delivery"

    def start(self) -> "Mailbox":
        self._controller = Controller(self, hostname=self.address, port=self.port)
        self._controller.start()
        self._gate = asyncio.Event()
        return self

    def hold(self) -> None:
        self._holding = True

    def release(self) -> None:
        self._holding = False
        self._controller.loop.call_soon_threadsafe(self._gate.set)

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()


def nginx_config(directory: Path, web_hosts: list[str], public_host: str) -> Path:
    """deploy/nginx/eupolnet.conf.template filled in as the nginx image's envsubst does, with
    an upstreams.conf listing the web hosts (the scale-out form), a certificate made here,
    and a main nginx.conf around it. Returns the main file."""
    (directory / "tls").mkdir(parents=True)
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={public_host}",
       "-addext", f"subjectAltName=DNS:{public_host}", "-keyout", str(directory / "tls" / "privkey.pem"),
       "-out", str(directory / "tls" / "fullchain.pem"))
    upstreams = "".join(
        f"upstream {service} {{\n" + "".join(f"    server {host}:{port};\n" for host in web_hosts) + "    keepalive 16;\n}\n"
        for service, port in (("registration", 8001), ("orders", 8002))
    )
    (directory / "upstreams.conf").write_text(upstreams)
    template = (ROOT / "deploy" / "nginx" / "eupolnet.conf.template").read_text()
    site = template.replace("${PUBLIC_HOST}", public_host).replace("${EUPOLNET_NGINX_DIR}", str(directory))
    (directory / "eupolnet.conf").write_text(site.replace("/var/log/nginx/", f"{directory}/"))
    main = directory / "nginx.conf"
    temp = directory / "temp"
    temp.mkdir()
    main.write_text(f"""
user root;
worker_processes 2;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {directory}/eupolnet.conf;
}}
""")
    return main
