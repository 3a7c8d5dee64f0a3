"""`alertsvc serve` starts one dispatch worker process beside gunicorn's HTTP workers and stops it with them."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from .settings import Settings

_PROCESS: dict[str, subprocess.Popen[bytes]] = {}


def start_dispatch_worker(settings: Settings, arbiter: Any, config_path: str | None = None) -> None:
    cmd = [sys.executable, "-m", "alertsvc.cli"]
    if config_path:
        cmd += ["--config", config_path]
    _PROCESS["worker"] = subprocess.Popen([*cmd, "worker"], env=os.environ.copy())


def stop_dispatch_worker(arbiter: Any) -> None:
    proc = _PROCESS.pop("worker", None)
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
