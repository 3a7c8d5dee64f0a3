"""Bearer-token authentication and role checks for API views (no cookies)."""

from __future__ import annotations

from flask import request

from .. import audit
from ..context import runtime
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
    actor = staff.actor_for_token(runtime(), token)
    if actor is None:
        raise Unauthorized("The token is invalid, expired or revoked.")
    if roles and actor.role not in roles:
        raise Forbidden(f"This action needs the role {' or '.join(roles)}; you are {actor.role}.", actor=actor)
    return actor
