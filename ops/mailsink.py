"""A development SMTP server that keeps every email it receives as a file a person can open.

`make run` starts it on SMTP_HOST:SMTP_PORT when those are the defaults (localhost:8025):
each email lands in `var/mail/` as `<time>-<number>-<subject>.eml`, which any mail client
(or a text editor) opens, and a line naming it is printed. Nothing is ever relayed onwards.

    python -m ops.mailsink --port 8025 --directory var/mail
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import re
import signal
import threading
import unicodedata
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.config import VAR_DIR


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "no-subject"


class MailSink:
    """aiosmtpd handler: accept every message and write it to `directory`."""

    def __init__(self, directory: Path, announce: bool = True) -> None:
        self.directory = Path(directory)
        self.announce = announce
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        subject = str(BytesHeaderParser(policy=policy.default).parsebytes(content).get("Subject", ""))
        recipients = ", ".join(envelope.rcpt_tos)
        # Who the message was for on the envelope (Bcc included), as a delivering server notes it.
        headers = f"X-Envelope-From: <{envelope.mail_from}>\r\nX-Envelope-To: {recipients}\r\n".encode()
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%f")
        path = self.directory / f"{stamp}-{next(self.numbers):05d}-{_slug(subject)}.eml"
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(headers + content)
        partial.rename(path)  # a reader never sees half an email
        if self.announce:
            print(f"mail to {recipients}: {subject}  ->  {path}", flush=True)
        return "250 Message accepted for delivery"


def start(host: str, port: int, directory: Path, announce: bool = True) -> Controller:
    """Run the sink in a background thread; `stop()` the returned controller to end it."""
    controller = Controller(
        MailSink(directory, announce), hostname=host, port=port, enable_SMTPUTF8=True,
        server_hostname="mailsink.localhost",
    )
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Development SMTP sink: emails become .eml files.")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--directory", type=Path, default=VAR_DIR / "mail")
    parser.add_argument("--quiet", action="store_true", help="do not print a line per email")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller = start(args.host, args.port, args.directory, announce=not args.quiet)
    print(f"mail sink on {args.host}:{args.port}, emails written to {args.directory}/", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
