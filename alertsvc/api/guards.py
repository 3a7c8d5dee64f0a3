"""Request and response guards for every route of the app (API, CAP, pages, webhooks), installed by
``create_app`` before any route is added. The limits themselves are in ``alertsvc/inputs.py``.

- Doubled slashes are not merged (``merge_slashes = False``): ``/api/v1/alerts//deliveries`` is a 404
  problem, not a redirect; any routing redirect that remains (a rule's ``strict_slashes``) answers with a
  problem+json body beside its ``Location``, never werkzeug's HTML.
- Path values that cannot name anything (``inputs.path_value_ok``): 404 before any query.
- Query and form values (and names) with NUL or a lone surrogate: 422 naming the parameter.
(The headers of HTML responses, CSP included, are set by ``web/ui.py``.)
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.routing import RequestRedirect

from ..errors import NotFound, ValidationFailed
from ..inputs import path_value_ok, printable, string_problem
from .errors import problem_response

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def install(app: Flask) -> None:
    app.url_map.merge_slashes = False  # before any rule is added: rules take the map's setting when bound

    @app.url_value_preprocessor
    def _well_formed_path(endpoint: str | None, values: dict[str, Any] | None) -> None:
        for name, value in (values or {}).items():
            if not path_value_ok(name, value):
                raise NotFound(f"Nothing at {printable(request.path)[:200]}.")

    @app.before_request
    def _storable_parameters() -> None:
        sources = [request.args, request.form] if request.mimetype in FORM_TYPES else [request.args]
        problems = []
        for multi in sources:
            for name, values in multi.lists():
                for value in [name, *values]:
                    problem = string_problem(value)
                    if problem:
                        problems.append({"field": printable(name), "message": problem})
                        break
        if problems:
            raise ValidationFailed(problems)

    @app.after_request
    def _response_guards(resp: Response) -> Response:
        if isinstance(request.routing_exception, RequestRedirect) and resp.status_code in range(300, 400):
            location = resp.headers.get("Location", "")
            resp = problem_response(resp.status_code, "redirect", "Redirect", f"This resource is at {location}.",
                                    headers={"Location": location})
        return resp
