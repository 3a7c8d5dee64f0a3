"""What the public reads is cacheable: `Cache-Control: public`, an ETag of the bytes, 304 on a matching
If-None-Match, and a new ETag as soon as the content changes (an alert ends)."""

from __future__ import annotations

import pytest

from ..helpers import approval_body


@pytest.fixture
def active_alert(api, rt, factories) -> str:
    case_id = factories.case()
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": {"regions": ["RS-00"]}})
    assert r.status_code == 201, r.json
    assert api.as_supervisor().post(f"/api/v1/alerts/{r.json['id']}/approve",
                                    json=approval_body(rt)).status_code == 200
    return r.json["id"]


def _urls(alert_id: str) -> list[str]:
    return ["/", f"/alerts/{alert_id}", "/api/v1/public/alerts", f"/cap/{alert_id}.xml", "/cap/index.atom"]


def test_public_surfaces_answer_304_to_a_matching_etag(app, active_alert):
    client = app.test_client()
    for url in _urls(active_alert):
        first = client.get(url)
        assert first.status_code == 200, url
        assert first.headers["Cache-Control"].startswith("public, max-age=") and first.headers.get("ETag"), url
        assert "Set-Cookie" not in first.headers, url
        again = client.get(url)
        assert again.headers["ETag"] == first.headers["ETag"], url  # the same bytes for every visitor
        cached = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert cached.status_code == 304 and cached.get_data() == b"", url
        stale = client.get(url, headers={"If-None-Match": '"not-the-tag"'})
        assert stale.status_code == 200 and stale.get_data() == first.get_data(), url


def test_a_change_gives_a_new_etag(app, api, active_alert):
    client = app.test_client()
    before = {url: client.get(url).headers["ETag"] for url in _urls(active_alert)}
    r = api.as_supervisor().post(f"/api/v1/alerts/{active_alert}/resolve", json={"outcome": "found", "note": "Home"})
    assert r.status_code == 200, r.json
    for url, tag in before.items():
        r = client.get(url, headers={"If-None-Match": tag})
        assert r.status_code == 200 and r.headers["ETag"] != tag, url


def test_pages_vary_by_language_and_a_staff_browser_is_never_cached(app, browser, active_alert):
    r = app.test_client().get(f"/alerts/{active_alert}")
    assert {"Accept-Language", "Cookie"} <= set(r.vary)
    staff = browser("operator")
    r = staff.get(f"/alerts/{active_alert}")
    assert r.headers["Cache-Control"] == "private, no-cache"
