"""Authentication and role checks for API views: a bearer token, or (for the console's own scripts) the console
session together with its CSRF token in an ``X-CSRFToken`` header. A session cookie without that header
authenticates nothing, so another site cannot make a signed-in browser call the API."""

from __future__ import annotations

from datetime import timedelta

from flask import request, session
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from .. import audit
from ..context import SESSION_TOKEN, runtime
from ..errors import Forbidden, Unauthorized
from ..services import staff


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _session_actor() -> audit.Actor | None:
    token = session.get(SESSION_TOKEN)
    header = request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
    if not isinstance(token, str) or not header:
        return None
    try:
        validate_csrf(header)
    except ValidationError:
        return None
    rt = runtime()
    found = staff.session_for_token(rt, token, timedelta(minutes=rt.settings.security.session_idle_minutes))
    return found.actor if found else None


def current_actor(roles: tuple[str, ...]) -> audit.Actor:
    """The authenticated staff member; 401 without a valid token (or console session), 403 with the wrong role."""
    token = bearer_token()
    if token is None:
        actor = _session_actor()
        if actor is None:
            raise Unauthorized()
    else:
        actor = staff.actor_for_token(runtime(), token)
    if actor is None:
        raise Unauthorized("The token is invalid, expired or revoked.")
    if roles and actor.role not in roles:
        raise Forbidden(f"This action needs the role {' or '.join(roles)}; you are {actor.role}.", actor=actor)
    return actor
