"""The CAP routes in the OpenAPI document (``api.registry.document``; imported by ``create_app``): the views in
``cap_views`` stay plain Flask views with XML bodies; their errors are problem+json like every other."""

from __future__ import annotations

from ..api.registry import Media, document
from . import cap_views

document(cap_views.bp, "/cap/<alert_id>.xml", "GET", view=cap_views.cap_alert, tag="public",
         summary="The alert as OASIS CAP 1.2 (Alert, then Update or Cancel with references)",
         responses={200: Media(cap_views.CAP_TYPE)})
document(cap_views.bp, "/cap/index.atom", "GET", view=cap_views.cap_index, tag="public",
         summary="Atom index of the current alerts, each entry linking its CAP document",
         responses={200: Media("application/atom+xml")})
