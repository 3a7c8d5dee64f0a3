"""Declared API endpoints: one decorator parses and validates input with pydantic models, enforces roles,
and records the declaration from which ``spec.py`` generates the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, get_args, get_origin

from flask import Blueprint, Response, g, request
from pydantic import BaseModel, ValidationError

from ..context import RateLimit, rate_limited, runtime
from ..errors import MAX_LISTED_ERRORS, BadRequest, DomainError, Forbidden, ValidationFailed
from ..inputs import TooDeep, load_json, string_problems
from ..services.alerts import record_refusal
from .auth import current_actor

JSON_TYPES = ("application/json",)


@dataclass(frozen=True)
class Endpoint:
    blueprint: str
    rule: str
    method: str
    name: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, Any]
    roles: tuple[str, ...] | None
    errors: tuple[int, ...]
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


ENDPOINTS: list[Endpoint] = []


@dataclass(frozen=True)
class Media:
    """A response body that is not JSON (CAP XML, an Atom feed...): its media type and the schema of its text."""
    type: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


def document(bp: Blueprint, rule: str, method: str, *, view: Callable[..., Any], summary: str, tag: str,
             responses: dict[int, Any], roles: Sequence[str] | None = None, errors: Sequence[int] = (),
             description: str = "") -> None:
    """Describe in the OpenAPI document a plain Flask view that ``endpoint`` does not wrap (its own blueprint,
    a body that is not JSON: ``responses={200: Media("application/cap+xml")}``). Every error is problem+json.
    ``tests/api/test_openapi.py`` checks that each description names a route of the app."""
    auto_errors = set(errors) | {500}
    if roles is not None:
        auto_errors |= {401, 403}
    if "<" in rule:
        auto_errors |= {404}
    ENDPOINTS.append(Endpoint(bp.name, (bp.url_prefix or "") + rule, method, view.__name__, summary, tag, None, None,
                              dict(responses), tuple(roles) if roles is not None else None,
                              tuple(sorted(auto_errors)), description or (view.__doc__ or "").strip()))


class UnsupportedMediaType(DomainError):
    status, type, title = 415, "unsupported-media-type", "Unsupported media type"


def _loc(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def validation_errors(exc: ValidationError, prefix: str = "", limit: int | None = None) -> list[dict[str, str]]:
    """The first ``limit`` (default: all) of pydantic's errors as ``{"field", "message"}``."""
    errors = []
    for err in exc.errors(include_url=False, include_input=False)[:limit]:
        loc = [p for p in err["loc"] if p not in ("function-after", "tagged-union")]
        field_path = _loc(loc)
        if prefix:
            field_path = prefix if field_path == "body" else f"{prefix}.{field_path}"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "extra_forbidden":
            msg = "is not a known field"
        errors.append({"field": field_path, "message": msg})
    return errors


def parse_json_body(model: type[BaseModel]) -> BaseModel:
    if not request.mimetype or not (request.mimetype in JSON_TYPES or request.mimetype.endswith("+json")):
        raise UnsupportedMediaType("Send the body as application/json.")
    raw = request.get_data(cache=True)
    try:
        data = load_json(raw)  # at most MAX_JSON_DEPTH deep, checked before parsing
    except TooDeep as exc:
        raise BadRequest(str(exc)) from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    bad_strings = [{"field": _loc(loc), "message": message} for loc, message in string_problems(data)]
    if bad_strings:  # NUL or a lone surrogate: nothing could store or send it
        raise ValidationFailed(bad_strings)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:  # 20,000 unknown keys are 20,000 errors: list the first few, count them all
        raise ValidationFailed(validation_errors(exc, limit=MAX_LISTED_ERRORS), count=exc.error_count()) from None


def _repeatable(model: type[BaseModel], name: str) -> bool:
    """Whether the query model's field ``name`` takes a list (``?status=a&status=b``)."""
    info = model.model_fields.get(name)
    if info is None:
        return False
    tp = info.annotation
    return get_origin(tp) is list or any(get_origin(a) is list for a in get_args(tp))


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string as ``model``: a repeated parameter is a list for list fields; elsewhere its first value."""
    data: dict[str, Any] = {key: request.args.getlist(key) if _repeatable(model, key) else request.args[key]
                            for key in request.args}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc, limit=MAX_LISTED_ERRORS), count=exc.error_count()) from None


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    elif isinstance(payload, list):
        payload = [p.model_dump(mode="json") if isinstance(p, BaseModel) else p for p in payload]
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    resp = Response(body, status=status, mimetype="application/json", headers=headers)
    return resp


def endpoint(bp: Blueprint, rule: str, method: str, *, summary: str, tag: str,
             responses: dict[int, Any], body: type[BaseModel] | None = None,
             query: type[BaseModel] | None = None, roles: Sequence[str] | None = None,
             errors: Sequence[int] = (), description: str = "",
             refusal: str | None = None,
             limits: Sequence[RateLimit] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn(actor, body, query, **path)`` for ``method rule``.

    ``roles=None`` makes the endpoint public; otherwise a bearer token of one of these roles is required.
    ``refusal`` names the decision an endpoint takes on an alert (``alert.approval``...): a signed-in staff
    member of the wrong role is then refused *and audited* as ``<refusal>_refused`` (the service audits the
    other refusals). ``limits`` are rate limits (``context.RateLimit``), checked before anything else of the
    request. The view returns ``(payload, status)`` or a payload (200) or a ``Response``.
    """
    role_tuple = tuple(roles) if roles is not None else None

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def view(**path: Any) -> Response:
            try:
                actor = current_actor(role_tuple) if role_tuple is not None else None
            except Forbidden as exc:
                if refusal and exc.actor is not None and "alert_id" in path:
                    record_refusal(runtime(), exc.actor, refusal, str(path["alert_id"]), exc,
                                   path.get("update_id"))
                raise
            g.actor = actor
            kwargs: dict[str, Any] = dict(path)
            if body is not None:
                kwargs["body"] = parse_json_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            if role_tuple is not None:
                kwargs["actor"] = actor
            result = fn(**kwargs)
            if isinstance(result, Response):
                return result
            if isinstance(result, tuple):
                return json_response(*result)
            return json_response(result)

        routed: Callable[..., Any] = rate_limited(*limits)(view) if limits else view
        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=routed, methods=[method])
        auto_errors = set(errors) | {500}
        if body is not None:
            auto_errors |= {400, 413, 415, 422}
        if query is not None:
            auto_errors |= {422}
        if role_tuple is not None:
            auto_errors |= {401, 403}
        if "{" in rule or "<" in rule:
            auto_errors |= {404}
        ENDPOINTS.append(Endpoint(bp.name, (bp.url_prefix or "") + rule, method, fn.__name__, summary, tag,
                                  body, query, dict(responses), role_tuple, tuple(sorted(auto_errors)),
                                  description or (fn.__doc__ or "").strip()))
        return routed

    return deco

