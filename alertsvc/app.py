"""``create_app(settings)``: wiring only. Nothing happens at import."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy.engine import Engine

from . import api
from .api.subscriptions import address_limit_key
from .api import guards
from .api.errors import register_error_handlers
from channels import Channel

from .clock import Clock
from .log import configure_logging, get_logger
from .ratelimit import limiter_storage
from .runtime import Runtime, build_runtime
from .settings import Settings, load_settings

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
    app.extensions["alertsvc"] = rt

    storage_uri, storage_options = limiter_storage(rt)  # default: counters in the service's database
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage_uri, storage_options=storage_options,
                      key_prefix=settings.ratelimit.key_prefix,
                      headers_enabled=True, strategy="fixed-window", default_limits=[])
    app.extensions["alertsvc.limiter"] = limiter

    register_error_handlers(app)
    api.register(app)
    from .web import cap_views, pages, webhooks

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(cap_views.bp)
    app.view_functions["api.issue_token"] = limiter.limit(settings.ratelimit.token_per_ip)(
        app.view_functions["api.issue_token"])
    subscribe_view = limiter.limit(settings.ratelimit.subscribe_per_ip)(app.view_functions["api.subscribe"])
    app.view_functions["api.subscribe"] = limiter.limit(
        settings.ratelimit.subscribe_per_address, key_func=address_limit_key)(subscribe_view)

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
