"""POST /auth/token, DELETE /auth/token, GET /auth/me."""

from __future__ import annotations

from flask import Response

from .. import audit
from ..context import RateLimit, runtime
from ..models import Role
from ..schemas import TokenIn, TokenOut, WhoAmI
from ..services import staff
from .auth import bearer_token
from .blueprint import bp
from .registry import endpoint

ANY_STAFF = tuple(Role)


@endpoint(bp, "/auth/token", "POST", summary="Exchange username and password for a bearer token", tag="auth",
          body=TokenIn, responses={200: TokenOut}, errors=(401, 429),
          limits=(RateLimit(lambda s: s.ratelimit.token_per_ip),))
def issue_token(body: TokenIn) -> TokenOut:
    issued = staff.issue_token(runtime(), body.username, body.password)
    return TokenOut(token=issued.token, expires_at=issued.expires_at)


@endpoint(bp, "/auth/token", "DELETE", summary="Revoke the bearer token used for this request", tag="auth",
          roles=ANY_STAFF, responses={204: None})
def revoke_token(actor: audit.Actor) -> Response:
    staff.revoke_token(runtime(), bearer_token() or "", actor)
    return Response(status=204)


@endpoint(bp, "/auth/me", "GET", summary="Who the bearer token belongs to", tag="auth",
          roles=ANY_STAFF, responses={200: WhoAmI})
def whoami(actor: audit.Actor) -> WhoAmI:
    return WhoAmI(id=actor.id or 0, username=actor.username, role=actor.role)
