"""Staff sign-in on the page: the token endpoint's rules (lockout, audit), a session cookie that scripts and other
sites cannot use, CSRF on every form, sign-out that really ends the session."""

from __future__ import annotations

from datetime import timedelta

from alertsvc.services import audit_trail

from ..helpers import ApiActions


def test_sign_in_lands_on_the_queue_and_the_header_names_user_role_and_profile(browser, rt):
    b = browser("supervisor")
    r = b.get("/console")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'data-testid="staff-user">sara<' in html
    assert 'data-testid="staff-role">' in html
    assert rt.active_profile.version[:12] in html and rt.active_profile.title in html


def test_signed_out_staff_page_goes_to_sign_in_and_comes_back(browser, app):
    b = browser()
    r = b.get("/console/cases/new")
    assert r.status_code == 302 and r.headers["Location"].startswith("/sign-in?next=/console/cases/new")
    username, password = ApiActions(app).credentials("operator")
    b.get(r.headers["Location"])
    r = b.post("/sign-in", {"username": username, "password": password, "next": "/console/cases/new"})
    assert r.status_code == 303 and r.headers["Location"] == "/console/cases/new"


def test_next_never_leaves_the_site(browser, app):
    username, password = ApiActions(app).credentials("operator")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        b = browser()
        b.get("/sign-in")
        r = b.post("/sign-in", {"username": username, "password": password, "next": target})
        assert r.status_code == 303 and r.headers["Location"] == "/console", target


def test_wrong_password_keeps_the_username_and_shows_the_error_in_a_summary(browser, app):
    username, _ = ApiActions(app).credentials("operator")
    b = browser()
    b.get("/sign-in")
    r = b.post("/sign-in", {"username": username, "password": "not-the-password"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "govuk-error-summary" in html and 'href="#password"' in html
    assert f'value="{username}"' in html and "not-the-password" not in html
    assert "<title>Error: Sign in" in html


def test_the_cookie_is_httponly_and_samesite_strict_and_not_secure_only_on_the_loopback_demo(browser, app):
    b = browser("operator")
    cookie = b.client.get_cookie("alertsvc_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert app.config["SESSION_COOKIE_SECURE"] == (not app.extensions["alertsvc"].settings.server.base_url
                                                   .startswith(("http://127.0.0.1", "http://localhost")))


def test_session_cookie_is_secure_outside_the_demo(settings, clock, engine, outbox):
    from alertsvc.app import create_app

    app = create_app(settings.with_overrides({"server.base_url": "https://alerts.example.org"}), clock=clock,
                     engine=engine, channels={"sms": outbox, "email": outbox})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    demo = create_app(settings.with_overrides({"server.base_url": "http://127.0.0.1:8000"}), clock=clock,
                      engine=engine, channels={"sms": outbox, "email": outbox})
    assert demo.config["SESSION_COOKIE_SECURE"] is False


def test_a_form_without_its_csrf_token_changes_nothing(browser, app):
    username, password = ApiActions(app).credentials("operator")
    b = browser()
    r = b.post("/sign-in", {"username": username, "password": password}, csrf=False)
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert b.client.get_cookie("alertsvc_session") is None or "staff_token" not in str(
        b.client.get_cookie("alertsvc_session").value)
    assert b.get("/console").status_code == 302


def test_lockout_follows_the_token_endpoint_rules_and_is_audited(browser, app, rt):
    username, password = ApiActions(app).credentials("operator")
    limit = rt.settings.security.login_max_failures
    b = browser()
    b.get("/sign-in")
    for _ in range(limit):
        b.post("/sign-in", {"username": username, "password": "wrong-password-123"})
    r = b.post("/sign-in", {"username": username, "password": password})  # right password, but locked
    assert r.status_code == 429 and "locked" in r.get_data(as_text=True)
    assert b.get("/console").status_code == 302
    # the API refuses the same account too: one lock for both ways in
    assert app.test_client().post("/api/v1/auth/token", json={"username": username, "password": password}
                                  ).status_code == 429
    actions = [e.action for e in audit_trail.events(rt, limit=1000)]
    assert actions.count("auth.failed") >= limit and "auth.locked" in actions


def test_sign_out_revokes_the_session_token(browser):
    b = browser("operator")
    stolen = b.client.get_cookie("alertsvc_session").value
    b.get("/console")
    r = b.post("/sign-out")
    assert r.status_code == 303 and r.headers["Location"].startswith("/sign-in")
    assert b.get("/console").status_code == 302
    # the cookie value from before the sign-out no longer signs anyone in
    b.client.set_cookie("alertsvc_session", stolen)
    assert b.get("/console").status_code == 302


def test_sign_out_is_post_only(browser):
    b = browser("operator")
    assert b.get("/sign-out").status_code == 405
    assert b.get("/console").status_code == 200


def test_the_session_slides_and_ends_after_idle_minutes(browser, rt, clock):
    b = browser("operator")
    idle = timedelta(minutes=rt.settings.security.session_idle_minutes)
    clock.advance(seconds=idle.total_seconds() * 0.8)
    assert b.get("/console").status_code == 200  # past half: pushed to now + idle
    clock.advance(seconds=idle.total_seconds() * 0.8)
    assert b.get("/console").status_code == 200
    clock.advance(seconds=idle.total_seconds() + 1)
    assert b.get("/console").status_code == 302


def test_stay_signed_in_extends_the_session_by_script_without_leaving_the_page(browser, rt, clock):
    b = browser("operator")
    b.get("/console")
    r = b.client.post("/session/extend", headers={"Accept": "application/json", "X-CSRFToken": b.csrf()})
    assert r.status_code == 200 and r.json["expires_at"]
    assert b.client.post("/session/extend", headers={"Accept": "application/json"}).status_code == 400  # no CSRF


def test_the_api_takes_the_console_session_only_with_the_csrf_header(browser):
    b = browser("supervisor")
    b.get("/console")
    assert b.client.get("/api/v1/auth/me").status_code == 401  # the cookie alone is not enough
    r = b.client.get("/api/v1/auth/me", headers={"X-CSRFToken": b.csrf()})
    assert r.status_code == 200 and r.json["username"] == "sara"
    assert b.client.get("/api/v1/auth/me", headers={"X-CSRFToken": "forged"}).status_code == 401


def test_pages_carry_the_security_headers(browser):
    r = browser().get("/sign-in")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    # no inline script at all: every script is a file of the site (so a public page's bytes are the same for all)
    html = r.get_data(as_text=True)
    assert html.count("<script") == html.count("<script type=\"module\" src=") + html.count("<script src=")
    assert r.headers["Referrer-Policy"] == "same-origin" and r.headers["X-Content-Type-Options"] == "nosniff"


def test_language_from_switch_cookie_and_accept_language(browser):
    b = browser()
    assert 'lang="sr-Latn"' in b.get("/sign-in", headers={"Accept-Language": "sr-Latn-RS"}).get_data(as_text=True)
    assert 'lang="sr-Cyrl"' in b.get("/sign-in", headers={"Accept-Language": "sr-Cyrl-RS,en;q=0.5"}
                                     ).get_data(as_text=True)
    assert 'lang="en"' in b.get("/sign-in", headers={"Accept-Language": "de-DE,en;q=0.8"}).get_data(as_text=True)
    assert 'lang="sr-Latn"' in b.get("/sign-in", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    r = b.client.post("/language", data={"lang": "sr-Cyrl", "next": "/sign-in"})
    assert r.status_code == 303 and r.headers["Location"] == "/sign-in"
    html = b.get("/sign-in", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="sr-Cyrl"' in html
    r = b.client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert r.headers["Location"] == "/"
