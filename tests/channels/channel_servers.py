"""Real servers for the channel tests (the fixtures using them are in conftest.py):
an aiosmtpd handler, Prism mock-serving Twilio's own OpenAPI spec, and tiny HTTP/TCP
servers for the failure modes Prism cannot produce.

Nothing here patches our code or the twilio client: channels are pointed at these
servers through their constructor arguments.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

REPO = Path(__file__).resolve().parents[2]
PRISM_DIR = REPO / "tools" / "prism"
TWILIO_SPEC = (REPO / ".." / "shared" / "data" / "twilio" / "twilio_api_v2010.json").resolve()
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- SMTP ---------------------------------------------------------------------------


@dataclass
class Received:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    session_id: int

    @property
    def email(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Inbox:
    """aiosmtpd handler that keeps what it receives; ``rcpt_reply`` / ``data_reply``
    make it refuse recipients or data with a given SMTP reply instead."""

    rcpt_reply: str | None = None
    data_reply: str | None = None
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        assert envelope.original_content is not None
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content,
                session_id=id(session),
            )
        )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


SmtpFactory = Callable[..., Controller]
"""The ``smtp_server`` fixture: ``start(handler, port=None, **aiosmtpd_kwargs)``."""


# --- Prism --------------------------------------------------------------------------


def ensure_prism(prism_dir: Path = PRISM_DIR) -> Path:
    """The Prism executable, running ``npm ci`` first when node_modules is missing.

    A file lock keeps parallel test workers from installing at the same time.
    """
    executable = prism_dir / "node_modules" / ".bin" / "prism"
    if executable.exists():
        return executable
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install Prism (tools/prism)")
    with open(prism_dir / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not executable.exists():
            result = subprocess.run(
                [npm, "ci", "--prefix", str(prism_dir), "--no-audit", "--no-fund"],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if result.returncode != 0 or not executable.exists():
                raise RuntimeError(f"npm ci in tools/prism failed:\n{result.stdout}\n{result.stderr}")
    return executable


@dataclass
class Prism:
    """A running ``prism mock --errors`` of Twilio's API v2010 spec."""

    base_url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_offset(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int, until: tuple[str, ...], deadline_s: float = 10.0) -> str:
        """Prism's log text written after ``offset``, once it contains one of ``until``
        (the lines that end a request). Waits boundedly for the log to be written."""
        end = time.monotonic() + deadline_s
        while True:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", "replace")
            if any(marker in text for marker in until) or time.monotonic() > end:
                return text
            time.sleep(0.05)


def wait_listening(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    for _ in range(600):  # poll for up to about 120 s
        if process.poll() is not None:
            raise RuntimeError(
                f"prism exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"prism did not listen within 120 s:\n{log_path.read_text(errors='replace')}")


# --- small HTTP / TCP servers for failures Prism does not produce -----------------------


@dataclass
class CannedResponse:
    status: int
    body: dict[str, Any]


class CannedHttp:
    """A real HTTP server answering each request with the next canned response
    (Twilio's JSON error format), recording the paths and form bodies it saw."""

    def __init__(self) -> None:
        self.responses: list[CannedResponse] = []
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                outer.requests.append((self.path, body))
                canned = outer.responses.pop(0) if outer.responses else CannedResponse(500, {})
                payload = json.dumps(canned.body).encode()
                self.send_response(canned.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, status: int, body: dict[str, Any]) -> None:
        self.responses.append(CannedResponse(status, body))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SilentTcp:
    """Accepts connections and reads requests but never answers; with
    ``hang_up=True`` it closes each connection once a request has arrived."""

    def __init__(self, hang_up: bool) -> None:
        self.hang_up = hang_up
        self.got_request = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            conn.settimeout(5)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            self.got_request.set()
            if self.hang_up:
                conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for conn in self._conns:
            conn.close()
