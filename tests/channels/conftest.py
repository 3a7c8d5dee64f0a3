"""Fixtures for the channel tests: real servers on loopback, started and stopped here."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from channel_servers import (
    TWILIO_SPEC,
    CannedHttp,
    Prism,
    SilentTcp,
    SmtpFactory,
    TlsFiles,
    ensure_prism,
    free_port,
    wait_listening,
)


@pytest.fixture
def smtp_server() -> Iterator[SmtpFactory]:
    """Start aiosmtpd controllers on 127.0.0.1 (``port=None`` picks a free one);
    all are stopped at the end of the test."""
    started: list[Controller] = []

    def start(handler: Any, port: int | None = None, **smtp_kwargs: Any) -> Controller:
        smtp_kwargs.setdefault("decode_data", False)
        controller = Controller(handler, hostname="127.0.0.1", port=port or free_port(), **smtp_kwargs)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        with contextlib.suppress(AssertionError):  # already stopped by the test
            controller.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1/localhost, made with the openssl CLI
    (the ``cryptography`` package is not a dependency of this project)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the openssl command is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return TlsFiles(cert=cert, key=key)


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    """Prism mock-serving Twilio's OpenAPI spec with ``--errors``: an invalid request
    is answered 422 (401 without credentials) instead of a made-up success.

    Fails (never skips) when Prism cannot be installed or started.
    """
    try:
        executable = ensure_prism()
        if not TWILIO_SPEC.exists():
            raise RuntimeError(f"Twilio spec not found at {TWILIO_SPEC}")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"Prism is required for the Twilio channel tests: {exc}")
    port = free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(executable), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors", str(TWILIO_SPEC)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
        )
    try:
        wait_listening(port, process, log_path)
    except RuntimeError as exc:
        process.kill()
        process.wait()
        pytest.fail(str(exc))
    yield Prism(base_url=f"http://127.0.0.1:{port}", log_path=log_path, process=process)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def canned_http() -> Iterator[CannedHttp]:
    server = CannedHttp()
    yield server
    server.stop()


@pytest.fixture
def silent_tcp() -> Iterator[Callable[[bool], SilentTcp]]:
    servers: list[SilentTcp] = []

    def start(hang_up: bool = False) -> SilentTcp:
        server = SilentTcp(hang_up)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
