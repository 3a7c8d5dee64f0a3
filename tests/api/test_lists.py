"""GET /cases and GET /alerts: the console's work queues (filters, keyset paging, progress per alert)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from alertsvc.dispatch.worker import Dispatcher
from alertsvc.services import alerts as alert_service
from alertsvc.services import cases as case_service

from ..helpers import add_subscriber, approval_body

PROBLEM = "application/problem+json"
BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}
NIS = {"lat": 43.3209, "lon": 21.8958}  # RS-20
IN_BELGRADE_BOX_NOT_BELGRADE = {"lat": 44.9418, "lon": 20.6926}  # RS-04, inside RS-00's bounding box


def _pages(client, url, limit, **params):
    """Every page of a list: (the items' ids per page, the last response)."""
    pages, cursor = [], None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = client.get(url, query_string=query)
        assert r.status_code == 200, r.json
        pages.append([i["id"] for i in r.json["items"]])
        cursor = r.json["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50


def _request(api, case_id, area=None):
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": area or BELGRADE})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _approve(api, rt, alert_id, who="supervisor"):
    r = api.as_(who).post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))
    assert r.status_code == 200, r.json


# --- cases ----------------------------------------------------------------------------------------------
def test_case_list_shows_a_queue_summary_without_personal_data(api, rt, factories, clock):
    met = factories.case()
    clock.advance(minutes=1)
    unmet = factories.case(abduction_suspected=False, abduction_witnessed=False, age=12)
    _request(api, met)
    r = api.as_supervisor().get("/api/v1/cases")
    assert r.status_code == 200, r.json
    assert r.json["next_cursor"] is None
    first, second = r.json["items"]
    assert [first["id"], second["id"]] == [unmet, met]  # newest first
    assert first["reference"] == "RS-2026-000002" and first["status"] == "open"
    assert first["opened_by"] == "olga" and first["opened_at"].startswith("2026-11-23T13:31:00")
    assert first["district"] == "RS-00" and first["child_age"] == 12 and first["revision"] == 1
    assert first["evaluation"] == {"profile": "abduction", "version": rt.active_profile.version, "met": False}
    assert second["evaluation"]["met"] is True
    assert first["alerts"]["total"] == 0
    assert second["alerts"] == {"total": 1, "pending_approval": 1, "active": 0, "rejected": 0, "resolved": 0,
                                "expired": 0, "withdrawn": 0}
    text = r.get_data(as_text=True)
    for personal in ("Milica", "Plava jakna", "Knez Mihailova", "Jovana", "+381 64", "BG-123-AB", "PU-BG"):
        assert personal not in text


def test_case_list_filters_by_status_and_district(api, factories, clock):
    belgrade = factories.case()
    clock.advance(minutes=1)
    nis = factories.case(**NIS)
    clock.advance(minutes=1)
    closed = factories.case()
    assert api.as_operator().post(f"/api/v1/cases/{closed}/close", json={"outcome": "found"}).status_code == 200
    sup = api.as_supervisor()

    def ids(**query):
        r = sup.get("/api/v1/cases", query_string=query)
        assert r.status_code == 200, r.json
        return [i["id"] for i in r.json["items"]]

    assert ids() == [closed, nis, belgrade]
    assert ids(status="open") == [nis, belgrade]
    assert ids(status="closed") == [closed]
    assert ids(status="open,closed") == [closed, nis, belgrade]
    assert ids(status=["closed", "open"]) == [closed, nis, belgrade]  # ?status=closed&status=open
    assert ids(district="RS-00") == [closed, belgrade]
    assert ids(district="RS-20") == [nis]
    assert ids(district="RS-00", status="open") == [belgrade]
    assert ids(district="RS-06") == []
    assert sup.get("/api/v1/cases", query_string={"district": "RS-20"}).json["items"][0]["district"] == "RS-20"


@pytest.mark.parametrize(("query", "field"), [
    ({"district": "XX-99"}, "district"),
    ({"status": "open,lost"}, "status[1]"),  # the second status named
    ({"status": ""}, "status[0]"),
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"colour": "red"}, "colour"),
])
def test_case_list_rejects_bad_parameters_by_field(api, factories, query, field):
    factories.case()
    r = api.as_operator().get("/api/v1/cases", query_string=query)
    assert r.status_code == 422 and r.mimetype == PROBLEM, r.json
    assert [e["field"] for e in r.json["errors"]] == [field]


@pytest.mark.parametrize("same_moment", [False, True], ids=["one-a-minute", "all-at-once"])
def test_case_pages_neither_repeat_nor_skip(api, factories, clock, same_moment):
    made = []
    for _ in range(7):
        made.append(factories.case())
        if not same_moment:
            clock.advance(minutes=1)
    pages = _pages(api.as_operator(), "/api/v1/cases", 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    every = [i for p in pages for i in p]
    assert sorted(every) == sorted(made) and len(set(every)) == 7
    if not same_moment:
        assert every == made[::-1]
    assert every == [i["id"] for i in api.as_operator().get("/api/v1/cases?limit=200").json["items"]]


def test_a_case_opened_between_pages_does_not_shift_the_next_page(api, factories, clock):
    for _ in range(7):
        factories.case()
        clock.advance(minutes=1)
    op = api.as_operator()
    everything = [i["id"] for i in op.get("/api/v1/cases").json["items"]]
    first = op.get("/api/v1/cases?limit=3").json
    assert [i["id"] for i in first["items"]] == everything[:3]
    newcomer = factories.case()
    second = op.get("/api/v1/cases", query_string={"limit": 3, "cursor": first["next_cursor"]}).json
    assert [i["id"] for i in second["items"]] == everything[3:6]
    third = op.get("/api/v1/cases", query_string={"limit": 3, "cursor": second["next_cursor"]}).json
    assert [i["id"] for i in third["items"]] == everything[6:] and third["next_cursor"] is None
    assert op.get("/api/v1/cases?limit=1").json["items"][0]["id"] == newcomer


def test_district_pages_skip_cases_outside_the_district_but_inside_its_box(api, factories, clock):
    inside = []
    for i in range(12):
        if i % 4 == 0:
            inside.append(factories.case())
        else:
            factories.case(**IN_BELGRADE_BOX_NOT_BELGRADE)
        clock.advance(minutes=1)
    pages = _pages(api.as_operator(), "/api/v1/cases", 2, district="RS-00")
    assert pages == [inside[::-1][:2], inside[::-1][2:]]
    assert len(_pages(api.as_operator(), "/api/v1/cases", 2, district="RS-04")[0]) == 2


def test_case_list_needs_a_staff_token(api, factories):
    factories.case()
    assert api.client.get("/api/v1/cases").status_code == 401
    r = api.client.get("/api/v1/cases", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.mimetype == PROBLEM
    for who in ("operator", "supervisor", "admin"):  # every staff role, as for one case
        assert api.as_(who).get("/api/v1/cases").status_code == 200


def test_list_cases_service_returns_typed_records(rt, factories):
    case_id = factories.case()
    page = case_service.list_cases(rt, statuses=["open"], limit=10)
    assert page.next_cursor is None
    item = page.items[0]
    assert isinstance(item, case_service.CaseSummary) and item.id == case_id
    assert item.evaluation is not None and item.evaluation.met is True
    assert item.alerts["total"] == 0 and item.district == "RS-00"


# --- alerts ---------------------------------------------------------------------------------------------
def test_alert_list_shows_decisions_and_delivery_progress(api, rt, factories, outbox):
    for i in range(3):
        add_subscriber(rt, f"+38164100000{i}")
    case_id = factories.case()
    active = _request(api, case_id)
    _approve(api, rt, active)
    Dispatcher(rt, batch_size=1).run_once()  # one sent, two still queued
    pending = _request(api, factories.case())
    r = api.as_operator().post(f"/api/v1/alerts/{active}/updates", json={"text": "Viđena kod Slavije"})
    assert r.status_code == 201
    got = {i["id"]: i for i in api.as_operator().get("/api/v1/alerts").json["items"]}
    a = got[active]
    assert a["case_id"] == case_id and a["case_reference"] == "RS-2026-000001" and a["status"] == "active"
    assert a["requested_by"] == "olga" and a["decided_by"] == "sara" and a["decided_at"] and a["activated_at"]
    assert a["territories"] == ["RS-00"] and a["estimated_recipients"] == {"sms": 3, "email": 0, "total": 3}
    assert a["deliveries"] == {"queued": 2, "sending": 0, "sent": 1, "delivered": 0, "failed": 0,
                               "suppressed": 0, "cancelled": 0}
    assert a["pending_updates"] == 1
    p = got[pending]
    assert p["status"] == "pending_approval" and p["deliveries"] is None and p["pending_updates"] == 0
    assert p["decided_by"] is None and p["decided_at"] is None


def test_progress_of_a_whole_page_is_one_grouped_query(api, rt, factories):
    add_subscriber(rt, "+381641000001")
    for who in ("supervisor", "supervisor2", "supervisor3"):
        _approve(api, rt, _request(api, factories.case()), who)
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(rt.engine, "before_cursor_execute", seen)
    try:
        r = api.as_supervisor().get("/api/v1/alerts?status=active")
    finally:
        sa.event.remove(rt.engine, "before_cursor_execute", seen)
    assert r.status_code == 200 and len(r.json["items"]) == 3
    assert all(i["deliveries"]["queued"] == 1 for i in r.json["items"])
    assert sum("FROM delivery" in s for s in statements) == 1
    assert sum("alert_update" in s for s in statements) == 1


def test_alert_list_filters_by_status_district_and_case(api, rt, factories, clock):
    belgrade_case = factories.case()
    first = _request(api, belgrade_case)
    clock.advance(minutes=1)
    nis = _request(api, factories.case(**NIS), area={"circle": {**NIS, "radius_km": 3}})
    clock.advance(minutes=1)
    regions = _request(api, belgrade_case, area={"regions": ["RS-00", "RS-20"]})
    clock.advance(minutes=1)
    rejected = _request(api, factories.case())
    r = api.as_supervisor().post(f"/api/v1/alerts/{rejected}/reject", json={"reason": "Custody dispute"})
    assert r.status_code == 200
    sup = api.as_supervisor()

    def ids(**query):
        r = sup.get("/api/v1/alerts", query_string=query)
        assert r.status_code == 200, r.json
        return [i["id"] for i in r.json["items"]]

    assert ids() == [rejected, regions, nis, first]
    assert ids(status="rejected") == [rejected]
    assert ids(status="pending_approval,rejected") == [rejected, regions, nis, first]
    assert ids(district="RS-20") == [regions, nis]
    assert ids(district="RS-00", status="pending_approval") == [regions, first]
    assert ids(case_id=belgrade_case) == [regions, first]
    assert ids(case_id=belgrade_case, district="RS-20") == [regions]
    r = sup.get("/api/v1/alerts?district=RS-99")
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["district"]


def test_approval_queue_oldest_first_pages_without_gaps(api, rt, factories, clock):
    made = []
    for _ in range(7):
        made.append(_request(api, factories.case()))
        clock.advance(minutes=1)
    _approve(api, rt, made[2])
    waiting = [a for a in made if a != made[2]]
    sup = api.as_supervisor()
    pages = _pages(sup, "/api/v1/alerts", 3, status="pending_approval", order="oldest")
    assert pages == [waiting[:3], waiting[3:]]
    newest = _pages(sup, "/api/v1/alerts", 3)
    assert [i for p in newest for i in p] == made[::-1] and [len(p) for p in newest] == [3, 3, 1]
    # a cursor belongs to its order
    cursor = sup.get("/api/v1/alerts?limit=3&order=oldest").json["next_cursor"]
    r = sup.get("/api/v1/alerts", query_string={"limit": 3, "cursor": cursor})
    assert r.status_code == 422 and r.mimetype == PROBLEM and r.json["errors"][0]["field"] == "cursor"


def test_an_alert_requested_between_pages_does_not_shift_the_next_page(api, factories, clock):
    for _ in range(5):
        _request(api, factories.case())
        clock.advance(minutes=1)
    sup = api.as_supervisor()
    everything = [i["id"] for i in sup.get("/api/v1/alerts").json["items"]]
    first = sup.get("/api/v1/alerts?limit=2").json
    _request(api, factories.case())
    second = sup.get("/api/v1/alerts", query_string={"limit": 2, "cursor": first["next_cursor"]}).json
    assert [i["id"] for i in second["items"]] == everything[2:4]


def test_resolved_and_rejected_alerts(api, rt, factories, clock):
    resolved = _request(api, factories.case())
    _approve(api, rt, resolved)
    assert api.as_operator().post(f"/api/v1/alerts/{resolved}/resolve", json={"outcome": "found"}).status_code == 200
    clock.advance(minutes=1)
    rejected = _request(api, factories.case())
    api.as_supervisor().post(f"/api/v1/alerts/{rejected}/reject", json={"reason": "Custody dispute"})
    _request(api, factories.case())
    items = api.as_operator().get("/api/v1/alerts?status=resolved&status=rejected").json["items"]
    assert [(i["id"], i["status"]) for i in items] == [(rejected, "rejected"), (resolved, "resolved")]
    assert items[1]["resolved_at"] and items[1]["deliveries"]["queued"] == 0
    assert items[0]["deliveries"] is None and items[0]["decided_by"] == "sara"


def test_alert_list_needs_a_staff_token(api, factories):
    _request(api, factories.case())
    r = api.client.get("/api/v1/alerts")
    assert r.status_code == 401 and r.mimetype == PROBLEM
    for who in ("operator", "supervisor", "admin"):
        assert api.as_(who).get("/api/v1/alerts").status_code == 200


def test_list_alerts_service_for_the_console(rt, api, factories, clock):
    older = _request(api, factories.case())
    clock.advance(minutes=1)
    newer = _request(api, factories.case())
    page = alert_service.list_alerts(rt, statuses=["pending_approval"], oldest_first=True, limit=1)
    assert [a.id for a in page.items] == [older] and page.next_cursor
    assert isinstance(page.items[0], alert_service.AlertSummary) and page.items[0].deliveries is None
    rest = alert_service.list_alerts(rt, statuses=["pending_approval"], oldest_first=True, limit=1,
                                     cursor=page.next_cursor)
    assert [a.id for a in rest.items] == [newer] and rest.next_cursor is None
