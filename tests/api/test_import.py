from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import Session, func, select

from alertsvc.cli import main
from alertsvc.models import Subscription

CIRCLES = """channel,address,language,lat,lon,radius_km
sms,+381641234567,sr-Latn,44.81,20.46,5
email,ana@example.org,en,45.2671,19.8335,10
sms,not-a-number,sr-Latn,44.81,20.46,5
sms,+381641234568,de,44.81,20.46,5
sms,+381641234569,sr-Cyrl,44.81,20.46,0
email,marko@example.org,sr-Cyrl,48.85,2.35,5
sms,0641234570,sr-Cyrl,43.32,21.89,3
sms,+381641234567,sr-Latn,44.81,20.46,5
"""
REGIONS = """channel,address,language,regions
email,jelena@example.org,sr-Latn,RS-00 RS-06
sms,+381651111111,en,RS-20
email,x@example.org,en,RS-99
"""


def _import(settings, path):
    return CliRunner().invoke(main, ["subscribers", "import", str(path)],
                              env={"ALERTSVC_DATABASE_URL": settings.database.url,
                                   "ALERTSVC_SECURITY_SECRET_KEY": settings.security.secret_key.get_secret_value()})


def _count(rt) -> int:
    with Session(rt.engine) as s:
        return s.exec(select(func.count()).select_from(Subscription).where(Subscription.status == "active")).one()


def test_import_reports_bad_rows_and_keeps_good_ones(settings, rt, tmp_path):
    f = tmp_path / "subs.csv"
    f.write_text(CIRCLES)
    r = _import(settings, f)
    assert r.exit_code == 1, r.output  # rows were rejected: a failure, though the good rows went in
    assert "8 rows: 3 imported, 1 already there, 4 rejected" in r.stdout
    for line in (4, 5, 6, 7):
        assert f"subs.csv:{line}:" in r.stderr
    assert "address" in r.output and "language" in r.output and "radius_km" in r.output and "outside" in r.output
    assert _count(rt) == 3
    with Session(rt.engine) as s:
        numbers = set(s.exec(select(Subscription.address).where(Subscription.channel == "sms")).all())
    assert numbers == {"+381641234567", "+381641234570"}


def test_reimport_adds_nothing(settings, rt, tmp_path):
    f = tmp_path / "subs.csv"
    f.write_text(CIRCLES)
    _import(settings, f)
    again = _import(settings, f)
    assert "0 imported, 4 already there" in again.output
    assert _count(rt) == 3


def test_import_regions(settings, rt, tmp_path):
    f = tmp_path / "regions.csv"
    f.write_text(REGIONS)
    r = _import(settings, f)
    assert "3 rows: 2 imported, 0 already there, 1 rejected" in r.output and "RS-99" in r.output
    assert r.exit_code == 1
    with Session(rt.engine) as s:
        regions = sorted(tuple(x) for x in s.exec(select(Subscription.regions)).all())
    assert regions == [("RS-00", "RS-06"), ("RS-20",)]


def test_wrong_header_fails(settings, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("phone,area\n1,2\n")
    r = _import(settings, f)
    assert r.exit_code == 1 and "header" in r.output


def test_a_clean_import_exits_0(settings, rt, tmp_path):
    f = tmp_path / "good.csv"
    f.write_text("channel,address,language,lat,lon,radius_km\nsms,+381641234567,en,44.81,20.46,5\n")
    r = _import(settings, f)
    assert r.exit_code == 0, r.output
    assert "1 rows: 1 imported, 0 already there, 0 rejected" in r.stdout and r.stderr == ""


def test_only_rejected_rows_exit_1_naming_lines_and_reasons_without_addresses(settings, rt, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("channel,address,language,lat,lon,radius_km\n"
                 "sms,+38164999,en,44.81,20.46,5\n"
                 "email,vesna.secret@exa_mple.org,en,44.81,20.46,5\n")
    r = _import(settings, f)
    assert r.exit_code == 1
    assert "2 rows: 0 imported, 0 already there, 2 rejected" in r.stdout
    errors = r.stderr.splitlines()
    assert errors[0].startswith(f"{f}:2: address ") and errors[1].startswith(f"{f}:3: address ")
    assert errors[-1] == f"alertsvc: {f}: 2 of 2 rows rejected; the other rows were imported"
    for secret in ("38164999", "vesna", "secret", "exa_mple"):
        assert secret not in r.output
    assert _count(rt) == 0


def test_rows_with_nul_or_bytes_that_are_not_utf8_are_rejected_by_line(settings, rt, tmp_path):
    f = tmp_path / "odd.csv"
    f.write_bytes(b"channel,address,language,lat,lon,radius_km\n"
                  b"sms,+381641234567,en,44.81,20.46,5\n"
                  b"sms,+38164123\x004568,en,44.81,20.46,5\n"
                  b"email,ana\xff@example.org,en,44.81,20.46,5\n"
                  b"sms,+381641234569,sr-Latn,44.81,20.46,5,\x00extra\n"
                  b"sms,+381641234570,en,44.81,20.46,5\n")
    r = _import(settings, f)
    assert r.exit_code == 1, r.output
    assert "5 rows: 2 imported, 0 already there, 3 rejected" in r.stdout
    assert f"{f}:3: the row contains the NUL character" in r.stderr
    assert f"{f}:4: the row is not UTF-8 text" in r.stderr
    assert f"{f}:5: the row contains the NUL character" in r.stderr
    assert _count(rt) == 2
