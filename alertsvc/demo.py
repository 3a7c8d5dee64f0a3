"""Demo staff and cases for trying the service (``alertsvc demo``). Never loads into a database with cases."""

from __future__ import annotations

from datetime import timedelta

from . import audit, store
from .runtime import Runtime
from .schemas import CaseIn
from .services import cases, staff
from .store import cases as case_rows
from .store import staff as staff_rows

DEMO_STAFF = (
    # Never the username inside the password (services/staff.py password_problem refuses that).
    ("ana", "operator", "linden-operator-demo"),
    ("petar", "operator", "maple-operator-demo"),
    ("marko", "supervisor", "birch-supervisor-demo"),
    ("jelena", "supervisor", "cedar-supervisor-demo"),
    ("admin", "admin", "walnut-keeper-demo"),
)


class DemoRefused(Exception):
    pass


def load_demo(rt: Runtime) -> list[tuple[str, str, str]]:
    with store.read(rt) as s:
        if case_rows.count(s):
            raise DemoRefused("the database already has cases; demo data goes only into an empty database")
        existing = staff_rows.all_usernames(s)
    for username, role, password in DEMO_STAFF:
        if username not in existing:
            staff.add_user(rt, username, role, password)
    with store.read(rt) as s:
        ana = staff_rows.by_username(s, "ana")
        assert ana is not None
        actor = audit.Actor(ana.id, ana.username, ana.role)
    now = rt.clock.now()
    cases.open_case(rt, actor, CaseIn.model_validate({
        "child": {"name": "Demo Dete", "age": 9, "sex": "f",
                  "description": "Demo: plava jakna, roze ranac, kratka smeđa kosa."},
        "last_seen": {"lat": 44.8125, "lon": 20.4612, "place": "Demo: Trg republike, Beograd",
                      "at": (now - timedelta(hours=2)).isoformat()},
        "circumstances": {"abduction_suspected": True, "abduction_witnessed": True, "imminent_danger": True,
                          "medical_or_disability": False, "suspect": "Demo: muškarac, oko 40 godina",
                          "vehicle": "Demo: sivi karavan", "plate": "BG-000-DE"},
        "police": {"confirmed": True, "reference": "DEMO-PU-BG-1"},
        "reporter": {"name": "Demo Roditelj", "phone": "+381 60 0000000"},
    }, strict=False))
    cases.open_case(rt, actor, CaseIn.model_validate({
        "child": {"name": "Demo Mladić", "age": 15, "sex": "m", "description": "Demo: crna trenerka."},
        "last_seen": {"lat": 45.2671, "lon": 19.8335, "place": "Demo: Novi Sad",
                      "at": (now - timedelta(hours=20)).isoformat()},
        "circumstances": {"abduction_suspected": False, "imminent_danger": False},
        "police": {"confirmed": True, "reference": "DEMO-PU-NS-2"},
        "reporter": {"name": "Demo Staratelj", "phone": "+381 21 000000"},
    }, strict=False))
    return list(DEMO_STAFF)
