"""Conditional GETs for what the public reads (the start page, each alert's page, the public API, CAP and Atom):
a strong ETag from the body's bytes, ``Cache-Control: public, max-age=N``, and 304 without a body when the
client (or a front cache) already holds those bytes. An SMS with a link sends a crowd at once; a front cache
absorbs it, and our own answers to revalidations are a hash and an empty body."""

from __future__ import annotations

import hashlib

from flask import Response, request

PUBLIC_MAX_AGE = 60  # seconds: an ended alert's page loses the child's details everywhere within a minute


def cacheable(resp: Response, max_age: int = PUBLIC_MAX_AGE, *, vary: tuple[str, ...] = ()) -> Response:
    """Mark a public 200 response cacheable for ``max_age`` seconds with an ETag of its bytes; answer 304 when
    ``If-None-Match`` names it. (A response that is not 200 is returned as it is.)"""
    if resp.status_code != 200:
        return resp
    resp.set_etag(hashlib.sha256(resp.get_data()).hexdigest()[:32])
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    if vary:
        resp.vary.update(vary)
    resp.make_conditional(request)  # in place: 304 without a body when If-None-Match names the ETag
    return resp
