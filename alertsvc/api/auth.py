"""Bearer-token authentication and role checks for API views (no cookies)."""

from __future__ import annotations

from flask import current_app, request
from sqlmodel import Session

from .. import audit
from ..errors import Forbidden, Unauthorized
from ..services import staff


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_actor(roles: tuple[str, ...]) -> audit.Actor:
    """The authenticated staff member; 401 without a valid token, 403 with the wrong role."""
    token = bearer_token()
    if token is None:
        raise Unauthorized()
    rt = current_app.extensions["alertsvc"]
    with Session(rt.engine) as s:
        user = staff.authenticate(s, token, rt.clock.now())
        if user is None:
            raise Unauthorized("The token is invalid, expired or revoked.")
        actor = audit.Actor(user.id, user.username, user.role)
    if roles and actor.role not in roles:
        raise Forbidden(f"This action needs the role {' or '.join(roles)}; you are {actor.role}.", actor=actor)
    return actor
