"""GET /openapi.json, generated from the endpoint declarations and their pydantic models."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask import Response
from pydantic import BaseModel, TypeAdapter

from .. import __version__
from ..schemas import Problem
from .blueprint import bp
from .registry import ENDPOINTS, Media, endpoint, json_response

REF = "#/components/schemas/{model}"
PROBLEM_TITLES = {400: "Malformed request", 401: "No or invalid credentials", 403: "Wrong role or rule",
                  404: "Unknown id", 405: "Method not allowed", 409: "Wrong state for the action",
                  413: "Body too large", 415: "Body is not JSON", 422: "Invalid fields",
                  429: "Rate or fatigue limit", 500: "Unexpected error (with a correlation id)"}


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, tp: Any, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        self.components.update(schema.pop("$defs", {}))
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            self.components[tp.__name__] = schema
            return {"$ref": REF.format(model=tp.__name__)}
        return schema


def _path(rule: str) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """The OpenAPI path and each path parameter with its schema (``<int:x>`` is an integer)."""
    params = [(name, {"type": "integer", "minimum": 0} if conv == "int" else {"type": "string"})
              for conv, name in re.findall(r"<(?:([^:<>]+):)?([^<>]+)>", rule)]
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule), params


def build_spec() -> dict[str, Any]:
    schemas = _Schemas()
    problem_ref = schemas.ref(Problem, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for ep in sorted(ENDPOINTS, key=lambda e: (e.rule, e.method)):
        path, names = _path(ep.rule)
        op: dict[str, Any] = {"operationId": ep.name, "summary": ep.summary, "tags": [ep.tag]}
        if ep.description:
            op["description"] = ep.description
        params = [{"name": n, "in": "path", "required": True, "schema": schema} for n, schema in names]
        if ep.query is not None:
            qschema = ep.query.model_json_schema(mode="validation")
            required = set(qschema.get("required", []))
            for name, prop in qschema.get("properties", {}).items():
                params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
        if params:
            op["parameters"] = params
        if ep.body is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": schemas.ref(ep.body, "validation")}}}
        responses: dict[str, Any] = {}
        for code, model in ep.responses.items():
            entry: dict[str, Any] = {"description": "Success" if code < 300 else "Redirect"}
            if isinstance(model, Media):
                entry["content"] = {model.type: {"schema": model.schema}}
            elif model is not None:
                entry["content"] = {"application/json": {"schema": schemas.ref(model, "serialization")}}
            responses[str(code)] = entry
        for code in ep.errors:
            responses[str(code)] = {"description": PROBLEM_TITLES.get(code, "Error"),
                                    "content": {"application/problem+json": {"schema": problem_ref}}}
        op["responses"] = responses
        op["security"] = [] if ep.roles is None else [{"bearerAuth": []}]
        if ep.roles:
            op["x-roles"] = list(ep.roles)
        paths.setdefault(path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "alertsvc API", "version": __version__,
                 "description": "Missing-child alert dispatch: criteria, four-eyes approval, region-limited alerts."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas.components,
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }


@cache
def _cached_spec() -> dict[str, Any]:
    return build_spec()


@endpoint(bp, "/openapi.json", "GET", summary="This OpenAPI document", tag="meta", responses={200: None})
def openapi() -> Response:
    return json_response(_cached_spec())
