"""A Plone 6.2 virtualenv and a real Zope instance, driven from the project's own venv.

The Plone side runs in its own virtualenv (pinned by ../constraints.txt) so that a Plone
dependency never meets the services' dependencies; the tests only talk to it over HTTP
and through `zconsole` scripts.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

PLUGIN = Path(__file__).resolve().parents[2]
REPO = PLUGIN.parents[1]
VENV = Path(os.environ.get("PLONE_VENV", REPO / "var" / "plone-venv"))


def venv_key() -> str:
    """Changes when the pins or the add-on's own metadata change: then the venv is rebuilt."""
    digest = hashlib.sha256()
    for name in ("constraints.txt", "pyproject.toml"):
        digest.update((PLUGIN / name).read_bytes())
    return digest.hexdigest()[:16]


def ensure_venv(venv: Path = VENV) -> Path:
    """Build the Plone virtualenv unless one with the same pins exists (~2 min the first time)."""
    stamp = venv / f".installed-{venv_key()}"
    if stamp.exists():
        return venv
    print(f"Building the Plone virtualenv in {venv} (pinned by constraints.txt)...", file=sys.stderr, flush=True)
    subprocess.run(["rm", "-rf", str(venv)], check=True)
    subprocess.run([str(Path(sys.base_prefix) / "bin" / "python3"), "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "-c", str(PLUGIN / "constraints.txt"), "Plone==6.2.*", "-e", f"{PLUGIN}[test]"], check=True
    )
    stamp.touch()
    return venv


ZOPE_INI = """\
[app:zope]
use = egg:Zope#main
zope_conf = %(here)s/zope.conf

[server:main]
use = egg:waitress#main
listen = localhost:{port}
threads = 4

[pipeline:main]
pipeline =
    egg:Zope#httpexceptions
    zope

[loggers]
keys = root

[handlers]
keys = eventlog

[formatters]
keys = generic

[logger_root]
level = INFO
handlers = eventlog

[handler_eventlog]
class = FileHandler
args = (r'{directory}/event.log', 'a')
level = INFO
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
"""


class PloneInstance:
    """One Zope instance with one Plone site (of `distribution`: classic or volto), in
    `directory`, served on localhost:`port`."""

    site_id = "plone"  # as in create_site.py

    def __init__(
        self, venv: Path, directory: Path, port: int, password: str = "admin-secret", distribution: str = "classic"
    ):
        self.venv = venv
        self.distribution = distribution
        self.directory = directory
        self.port = port
        self.password = password
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        # The Classic UI theme is not applied on 127.0.0.1 (a Plone default): use localhost.
        return f"http://localhost:{self.port}/{self.site_id}"

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def create(self) -> "PloneInstance":
        subprocess.run(
            [self.bin("mkwsgiinstance"), "-d", str(self.directory), "-u", f"admin:{self.password}"],
            check=True, stdout=subprocess.DEVNULL,
        )
        (self.directory / "etc" / "zope.ini").write_text(ZOPE_INI.format(port=self.port, directory=self.directory))
        self.run_script(Path(__file__).with_name("create_site.py"))
        return self

    def run_script(self, script: Path) -> str:
        """Run a script with `app` bound, through zconsole (the server must be stopped:
        a FileStorage has one writer)."""
        result = subprocess.run(
            [self.bin("zconsole"), "run", str(self.directory / "etc" / "zope.conf"), str(script)],
            capture_output=True, text=True, env={**os.environ, "PLONE_DISTRIBUTION": self.distribution},
        )
        if result.returncode:
            raise RuntimeError(f"{script.name} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, timeout: float = 90.0) -> "PloneInstance":
        self.log = open(self.directory / "runwsgi.log", "ab")
        self.process = subprocess.Popen(
            [self.bin("runwsgi"), str(self.directory / "etc" / "zope.ini")], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.url, timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Plone did not start; see {self.directory}/runwsgi.log and event.log")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


if __name__ == "__main__":
    print(f"Plone virtualenv ready: {ensure_venv()}")
