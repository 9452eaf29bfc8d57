"""The development mail sink that `make run` starts: every email becomes a readable .eml file."""
from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
from email import policy

from ops.devserver import MAIL_DIR, processes
from ops.redis_server import free_port, port_is_open
from services.notify.smtp import SmtpSettings, deliver
from shared.config import load_settings
from tests.notify.conftest import registration_envelope, wait_for


def test_each_email_is_written_to_a_file_a_person_can_open(tmp_path):
    from services.notify.emails import compose

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "ops.mailsink", "--host", "127.0.0.1", "--port", str(port),
         "--directory", str(tmp_path / "mail")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        wait_for(lambda: port_is_open(port))
        message = compose(registration_envelope(lang="fr"), mail_from="EU-POLNET <noreply@efus.eu>")
        deliver(message, SmtpSettings(host="127.0.0.1", port=port, timeout=5))
        [path] = wait_for(lambda: list((tmp_path / "mail").glob("*.eml")))
    finally:
        sink.send_signal(signal.SIGTERM)
        output, _ = sink.communicate(timeout=10)
    assert "inscription-confirmee" in path.name
    saved = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert saved["X-Envelope-To"] == "ana@madrid.es"
    assert saved["Subject"] == message["Subject"] and saved["Content-Language"] == "fr"
    assert saved.get_body(("plain",)).get_content().replace("\r\n", "\n") == message.get_body(("plain",)).get_content()
    assert f"mail to ana@madrid.es: {message['Subject']}" in output and str(path) in output


def test_make_run_starts_the_sink_unless_an_smtp_server_is_configured_or_listening():
    port = free_port()
    default = processes(load_settings({"SMTP_PORT": str(port)}))
    assert default["mailsink"][-4:] == ["--port", str(port), "--directory", str(MAIL_DIR)]
    assert default["worker"][1:5] == ["--processes", str(os.cpu_count() or 1), "--threads", "16"]
    configured = processes(load_settings({"SMTP_HOST": "smtp.efus.eu", "SMTP_PORT": "587"}))
    assert "mailsink" not in configured
    with socket.create_server(("127.0.0.1", port)):  # a local SMTP server of the developer's own
        assert "mailsink" not in processes(load_settings({"SMTP_PORT": str(port)}))
