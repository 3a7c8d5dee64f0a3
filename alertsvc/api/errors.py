"""Every error, from anywhere in the app, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from ..inputs import printable
from ..log import get_logger

log = get_logger("alertsvc.api")
PROBLEM = "application/problem+json"


def problem_response(status: int, type_: str, title: str, detail: str, *,
                     extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
    body = {"type": f"https://alertsvc.example/problems/{type_}", "title": title, "status": status,
            "detail": detail, **(extra or {})}
    try:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate echoed from the request (a field name): \u-escaped instead
        data = json.dumps(body).encode("ascii")
    return Response(data, status=status, mimetype=PROBLEM, headers=headers)


def _http_type(code: int) -> str:
    return {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
            405: "method-not-allowed", 409: "conflict", 413: "payload-too-large", 415: "unsupported-media-type",
            422: "validation-failed", 429: "too-many-requests"}.get(code, "http-error")


@dataclass(frozen=True)
class PageErrors:
    """How the pages render errors (``web/ui.py``): for a request that ``wants_page``, an HTML page instead of
    problem+json."""
    wants_page: Callable[[], bool]
    domain: Callable[[DomainError], Response]
    http: Callable[[int, str | None], Response]
    server: Callable[[str], Response]


def register_error_handlers(app: Flask, pages: PageErrors | None = None) -> None:
    def as_page() -> bool:
        return pages is not None and pages.wants_page()

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        if pages is not None and as_page():
            return pages.domain(exc)
        return problem_response(exc.status, exc.type, exc.title, exc.detail, extra=exc.extra, headers=exc.headers)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = exc.code or 500
        headers: dict[str, str] = {}
        if code == 405 and exc.valid_methods if hasattr(exc, "valid_methods") else False:
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        if code == 429:
            retry = getattr(exc, "retry_after", None)
            original = exc.get_response()
            if original is not None and original.headers.get("Retry-After"):
                headers["Retry-After"] = original.headers["Retry-After"]
            elif retry:
                headers["Retry-After"] = str(int(retry))
        if pages is not None and as_page():
            return pages.http(code, headers.get("Retry-After"))
        detail = exc.description or exc.name
        if code == 404:
            detail = f"Nothing at {printable(request.path)[:200]}."
        elif code == 405:
            detail = f"{request.method} is not allowed on {printable(request.path)[:200]}."
        elif code == 413:
            detail = "The request body is too large."
        elif code == 429:
            detail = f"Rate limit exceeded ({exc.description})."
        return problem_response(code, _http_type(code), exc.name, detail, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        correlation_id = uuid.uuid4().hex
        log.error("request.failed", exc_info=exc, extra={"correlation_id": correlation_id,
                                                         "method": request.method, "endpoint": request.endpoint,
                                                         "error_type": type(exc).__name__})
        if pages is not None and as_page():
            try:
                return pages.server(correlation_id)
            except Exception:  # the error page itself failed: the plain problem below still answers
                log.error("request.error_page_failed", extra={"correlation_id": correlation_id})
        return problem_response(500, "internal-error", "Internal server error",
                                f"Something went wrong on our side. Quote correlation id {correlation_id}.",
                                extra={"correlation_id": correlation_id})
