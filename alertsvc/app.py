"""``create_app(settings)``: wiring only. Nothing happens at import."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from sqlalchemy.engine import Engine

from channels import Channel

from . import api, context
from .api import guards
from .api.errors import register_error_handlers
from .clock import Clock
from .log import configure_logging, get_logger
from .runtime import Runtime, build_runtime
from .settings import Settings, load_settings
from .web import (
    cap_docs,  # noqa: F401  (describes the CAP routes in the OpenAPI document)
    cap_views,
    pages,
    webhooks,
)

log = get_logger("alertsvc.http")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               engine: Engine | None = None, runtime: Runtime | None = None,
               channels: dict[str, Channel] | None = None) -> Flask:
    settings = settings or (runtime.settings if runtime else load_settings())
    configure_logging(settings.logging.level)
    rt = runtime or build_runtime(settings, clock=clock, engine=engine, channels=channels)
    settings = rt.settings  # with the secret key settled (resolve_secret_key)

    app = Flask("alertsvc", template_folder=None)
    guards.install(app)  # first: no merged slashes, well-formed path values, storable strings, HTML headers
    app.config.update(
        SECRET_KEY=settings.security.secret_key.get_secret_value(),
        MAX_CONTENT_LENGTH=settings.server.max_request_bytes,
        JSON_SORT_KEYS=False,
    )

    register_error_handlers(app)
    api.register(app)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(cap_views.bp)
    context.install(app, rt)  # the runtime, and the limiter enforcing the rate limits declared on the views

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status":"ok"}', mimetype="application/json")

    @app.before_request
    def _start_timer() -> None:
        g.t0 = time.perf_counter()

    @app.after_request
    def _log_request(resp: Response) -> Response:
        t0 = g.get("t0")
        duration = round((time.perf_counter() - t0) * 1000, 1) if t0 else None
        log.info("request", extra={"method": request.method, "endpoint": request.endpoint,
                                   "status": resp.status_code, "duration_ms": duration})
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    return app
