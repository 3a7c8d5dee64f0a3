"""``create_app(settings)``: wiring only. Nothing happens at import."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import jinja2
from flask import Flask, Response, g, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.engine import Engine

from channels import Channel

from . import api, context
from .api import guards
from .api.errors import PageErrors, register_error_handlers
from .clock import Clock
from .log import configure_logging, get_logger
from .runtime import Runtime, build_runtime
from .settings import Settings, load_settings
from .templating import templates_dir
from .web import (
    cap_docs,  # noqa: F401  (describes the CAP routes in the OpenAPI document)
    cap_views,
    citizen,
    console,
    console_alerts,  # noqa: F401  (declares the alert pages on the console blueprint)
    i18n,
    maps,
    pages,
    signin,
    ui,
    webhooks,
)

log = get_logger("alertsvc.http")
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               engine: Engine | None = None, runtime: Runtime | None = None,
               channels: dict[str, Channel] | None = None) -> Flask:
    settings = settings or (runtime.settings if runtime else load_settings())
    configure_logging(settings.logging.level)
    rt = runtime or build_runtime(settings, clock=clock, engine=engine, channels=channels)
    settings = rt.settings  # with the secret key settled (resolve_secret_key)

    app = Flask("alertsvc", template_folder=str(templates_dir()), static_folder=str(STATIC), static_url_path="/static")
    guards.install(app)  # first: no merged slashes, well-formed path values, storable strings
    sec = settings.security
    app.config.update(
        SECRET_KEY=sec.secret_key.get_secret_value(),
        MAX_CONTENT_LENGTH=settings.server.max_request_bytes,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_NAME="alertsvc_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=ui.session_cookie_secure(settings),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=sec.token_ttl_minutes),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session: a form left open is not lost
    )
    app.jinja_env.undefined = jinja2.StrictUndefined  # a misspelt variable is an error, not an empty field
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.do")

    register_error_handlers(app, PageErrors(ui.wants_page, ui.domain_error_page, ui.http_error_page,
                                            ui.server_error_page))
    api.register(app)
    for blueprint in (webhooks.bp, pages.bp, cap_views.bp, i18n.bp, signin.bp, console.bp, citizen.bp, maps.bp):
        app.register_blueprint(blueprint)
    csrf = CSRFProtect(app)  # every form of every page; the API checks the header itself (api/auth.py)
    for exempt in (api.blueprint.bp, webhooks.bp, cap_views.bp):
        csrf.exempt(exempt)
    csrf.exempt(pages.unsubscribe_page)  # RFC 8058 one-click POST from mail clients: the URL's token is the key
    # The language switch changes only how this browser shows pages (a forged one harms nobody); a token would put
    # a session cookie on the public pages, which must stay cacheable for the crowd an alert sends.
    csrf.exempt(i18n.choose_language)
    i18n.install(app)
    ui.install(app)
    app.jinja_env.globals.update(area_svg=maps.area_svg, area_geometry_json=maps.area_geometry_json)
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
