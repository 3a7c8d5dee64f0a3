"""End-to-end fixtures: the real SMTP server and Prism fixtures of tests/channels, plus a recording proxy."""

from __future__ import annotations

import importlib.util
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

_CHANNELS = Path(__file__).resolve().parent.parent / "channels"
sys.path.insert(0, str(_CHANNELS))
_spec = importlib.util.spec_from_file_location("channels_test_conftest", _CHANNELS / "conftest.py")
assert _spec and _spec.loader
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
smtp_server = _mod.smtp_server
prism = _mod.prism


class RecordingProxy:
    """Forwards every request to ``upstream`` (Prism) and keeps the form bodies it saw: a real HTTP hop that
    lets a test read the SMS text the twilio client sent."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.forms: list[dict[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.forms.append({k: v[0] for k, v in parse_qs(body.decode()).items()})
                req = urllib.request.Request(proxy.upstream + self.path, data=body, method="POST",
                                             headers={k: v for k, v in self.headers.items()
                                                      if k.lower() in ("authorization", "content-type", "accept")})
                try:
                    with urllib.request.urlopen(req, timeout=15) as resp:
                        status, payload, ctype = resp.status, resp.read(), resp.headers.get("Content-Type")
                except urllib.error.HTTPError as exc:
                    status, payload, ctype = exc.code, exc.read(), exc.headers.get("Content-Type")
                self.send_response(status)
                self.send_header("Content-Type", ctype or "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio_proxy(prism) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(prism.base_url)
    yield proxy
    proxy.stop()
