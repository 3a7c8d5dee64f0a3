"""What a view reaches through the current Flask app, the one way for the API and the pages alike: the runtime
(``runtime()``) and rate limits declared on the views (``rate_limited``), both installed by ``create_app``
(``install``).

Each app has its own ``Limiter`` (counters in its own storage: by default its database, see
``alertsvc/ratelimit.py``), so the limits are declared here, at import, and enforced by the limiter of the app
that serves the request: ``install`` builds, once per app, flask-limiter's ``limiter.limit`` decorations of
every limited view it finds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .ratelimit import limiter_storage
from .runtime import Runtime
from .settings import Settings

RUNTIME = "alertsvc"
# The console session's key for the staff token (web pages; the API accepts it only with a CSRF header).
SESSION_TOKEN = "staff_token"
LIMITER = "alertsvc.limiter"
_LIMITED = "alertsvc.limited"  # per app: limited view -> the view under that app's limiter decorations
_DECLARED = "__alertsvc_rate_limits__"


def runtime() -> Runtime:
    """The runtime of the app serving this request."""
    rt: Runtime = current_app.extensions[RUNTIME]
    return rt


@dataclass(frozen=True)
class RateLimit:
    """One limit: its value from the settings (``"5 per minute"``) and the key it counts by (default: the
    client's IP address)."""
    setting: Callable[[Settings], str]
    key: Callable[[], str] | None = None


def rate_limited(*limits: RateLimit) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare rate limits on a view (the outermost first, as stacked ``limiter.limit`` decorators would be)."""
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def view(*args: Any, **kwargs: Any) -> Any:
            return current_app.extensions[_LIMITED][view](*args, **kwargs)

        setattr(view, _DECLARED, (fn, limits))
        return view

    return deco


def install(app: Flask, rt: Runtime) -> Limiter:
    """Attach the runtime and this app's limiter; call after every blueprint is registered."""
    app.extensions[RUNTIME] = rt
    settings = rt.settings
    storage_uri, storage_options = limiter_storage(rt)  # default: counters in the service's database
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage_uri, storage_options=storage_options,
                      key_prefix=settings.ratelimit.key_prefix,
                      headers_enabled=True, strategy="fixed-window", default_limits=[])
    app.extensions[LIMITER] = limiter
    limited: dict[Callable[..., Any], Callable[..., Any]] = {}
    for view in app.view_functions.values():
        declared = getattr(view, _DECLARED, None)
        if declared is None or view in limited:
            continue
        fn, limits = declared
        for limit in reversed(limits):
            fn = limiter.limit(limit.setting(settings), key_func=limit.key)(fn)
        limited[view] = fn
    app.extensions[_LIMITED] = limited
    return limiter
