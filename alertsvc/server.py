"""Gunicorn as a library: ``alertsvc serve`` runs the app factory in each HTTP worker."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from .settings import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app

        return create_app(self._settings)


def run_server(settings: Settings, *, host: str, port: int, workers: int, with_worker: bool,
               config_path: str | None = None) -> None:
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "graceful_timeout": 20,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "forwarded_allow_ips": "*" if settings.server.trust_proxy_headers else "127.0.0.1",
        "limit_request_line": 8190,
    }
    if with_worker:
        from .dispatch_process import start_dispatch_worker, stop_dispatch_worker

        options["when_ready"] = lambda arbiter: start_dispatch_worker(settings, arbiter, config_path)
        options["on_exit"] = stop_dispatch_worker
    _Gunicorn(settings, options).run()
