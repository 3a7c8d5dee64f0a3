"""Hostile bodies against a real server: how long `alertsvc serve` (gunicorn, 2 HTTP workers) takes to answer a
body with 20,000 unknown keys (422 listing 50 errors), 5,000 nested arrays and 3,000 nested objects (400), from
4 clients at once; and the nesting scan of a 1 MB body in process.

    .venv/bin/python bench/bench_hostile_input.py [REQUESTS_PER_BODY=200]

Targets (SECURITY.md): every such request answered within 1 s, the scan of 1 MB under 0.2 s. SQLite in a
temporary folder; the sign-in rate limit is raised so that the limiter does not answer first.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from alertsvc.inputs import nesting_exceeds

BODIES = {
    "20,000 unknown keys": (json.dumps({"username": "x", "password": "y",
                                        **{f"unknown_{i}": i for i in range(20_000)}}).encode(), 422),
    "5,000 nested arrays": (b"[" * 5000 + b"]" * 5000, 400),
    "3,000 nested objects": (b'{"a":' * 3000 + b"1" + b"}" * 3000, 400),
}
CLIENTS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(port: int, body: bytes, status: int) -> float:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    if resp.status != status:
        raise SystemExit(f"expected {status}, got {resp.status}")
    return time.perf_counter() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    raw = b"[" + b"[]," * 350_000 + b"[]]"
    scans = []
    for _ in range(5):
        started = time.perf_counter()
        nesting_exceeds(raw)
        scans.append(time.perf_counter() - started)
    print(f"nesting scan of {len(raw):,} bytes: median {statistics.median(scans) * 1000:.1f} ms (target 200 ms)")

    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTSVC_")}
        env.update(ALERTSVC_DATABASE_URL=f"sqlite:///{tmp}/bench.db", ALERTSVC_RATELIMIT_TOKEN_PER_IP="100000/minute",
                   ALERTSVC_LOGGING_LEVEL="WARNING")
        proc = subprocess.Popen([sys.executable, "-m", "alertsvc.cli", "serve", "--port", str(port), "--workers", "2",
                                 "--no-worker"], cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            for _ in range(150):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit("the server did not start")
            for name, (body, status) in BODIES.items():
                with ThreadPoolExecutor(CLIENTS) as pool:
                    started = time.perf_counter()
                    times = sorted(pool.map(_post, [port] * n, [body] * n, [status] * n))
                    wall = time.perf_counter() - started
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                print(f"{name} ({len(body):,} bytes) -> {status}, {n} requests from {CLIENTS} clients: "
                      f"median {statistics.median(times) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
                      f"max {times[-1] * 1000:.0f} ms, {n / wall:.0f} requests/s (target: each within 1 s)")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
