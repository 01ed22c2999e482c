"""Roles on every route, CSRF, sessions, tokens and response headers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlmodel import select

from hookline.app import create_app
from hookline.auth import PERMISSIONS, allowed, create_token
from hookline.auth.web import PUBLIC_ENDPOINTS
from hookline.clock import utcnow
from hookline.jobs import enqueue
from hookline.models import (
    Channel,
    Character,
    Episode,
    Localization,
    LocalizedCut,
    MediaAsset,
    Publication,
    Role,
    Series,
    SubtitleLine,
    User,
)

from testkit import PASSWORD, make_settings

ROLES = [r.value for r in Role]


@pytest.fixture
def library(sqlite_db, users):
    """A series, an episode, a dead job and a token, so every route has something to show."""
    with sqlite_db.transaction() as session:
        series = Series(title="The Contract Bride", slug="the-contract-bride")
        session.add(series)
        session.flush()
        episode = Episode(series_id=series.id, number=1, title="The Deal")
        session.add(episode)
        session.flush()
        localization = Localization(episode_id=episode.id, language="es")
        character = Character(series_id=series.id, name="Lena")
        session.add_all([localization, character])
        asset = MediaAsset(sha256="1" * 64, size_bytes=1, kind="video")
        channel = Channel(platform="youtube", name="Dramas ES", language="es", sandbox=True)
        session.add_all([asset, channel])
        session.flush()
        line = SubtitleLine(localization_id=localization.id, position=1, start_s=0.0, end_s=1.0)
        session.add(line)
        cut = LocalizedCut(localization_id=localization.id, kind="burned_in", asset_id=asset.id)
        session.add(cut)
        session.flush()
        publication = Publication(
            cut_id=cut.id,
            channel_id=channel.id,
            scheduled_at=utcnow() + timedelta(days=1),
            idempotency_key="pub-roles",
        )
        session.add(publication)
        job = enqueue(session, "noop")
        job.status = "dead"
        session.add(job)
        session.flush()
        admin = session.get_one(User, users["admin"])
        token, _ = create_token(session, admin, "ci")
        return {
            "series_id": series.id,
            "episode_id": episode.id,
            "job_id": job.id,
            "user_id": users["reviewer"],
            "localization_id": localization.id,
            "character_id": character.id,
            "line_id": line.id,
            "token_id": token.id,
            "channel_id": channel.id,
            "publication_id": publication.id,
            "sha256": "0" * 64,
            "brief_id": 1,
            "term_id": 1,
            "fmt": "md",
        }


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def route_urls(app: Flask, ids: dict) -> list[tuple[str, str, str]]:
    """Return (method, url, endpoint) for every route, filled with real ids."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in PUBLIC_ENDPOINTS:
                continue
            values = {arg: ids[arg] for arg in rule.arguments}
            url = app.url_for(rule.endpoint, **values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, url, rule.endpoint))
    return found


def permission_of(app: Flask, endpoint: str) -> str:
    return app.view_functions[endpoint].permission


def test_every_route_declares_a_known_permission(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        permission = getattr(app.view_functions[rule.endpoint], "permission", None)
        assert permission in PERMISSIONS, (
            f"{rule.rule} ({rule.endpoint}) declares no known permission"
        )


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_what_it_should_and_nothing_else(app, library, role):
    app.config["WTF_CSRF_ENABLED"] = False  # the CSRF test below covers tokens
    client = app.test_client()
    assert login(client, role).status_code == 302
    for method, url, endpoint in route_urls(app, library):
        if endpoint == "auth.logout":
            continue  # would end the session mid-test
        response = client.open(url, method=method, data={})
        may = allowed([role], permission_of(app, endpoint))
        if may:
            assert response.status_code != 403, f"{role} was refused {method} {url}"
        else:
            assert response.status_code == 403, (
                f"{role} reached {method} {url}: {response.status_code}"
            )


def test_signed_out_visitors_are_sent_to_sign_in_and_api_calls_get_401(app, library):
    client = app.test_client()
    for method, url, _ in route_urls(app, library):
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
            assert "Bearer" in response.get_json()["message"]
        elif method == "GET":
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
        else:
            # Forms need a CSRF token before anything else; either way nothing happens.
            assert response.status_code in (302, 400), url


def test_a_forged_form_is_rejected_and_changes_nothing(app, sqlite_db, users):
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert (
        client.post(
            "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )

    forged = client.post(
        "/admin/users",
        data={"username": "mallory", "password": "x" * 12, "roles": "admin"},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 400
    assert "CSRF" in forged.get_data(as_text=True)
    with sqlite_db.session() as session:
        assert session.exec(select(User).where(User.username == "mallory")).first() is None

    page = client.get("/admin/users").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    real = client.post(
        "/admin/users",
        data={"username": "mallory", "password": "x" * 12, "roles": "analyst", "csrf_token": token},
    )
    assert real.status_code == 302
    with sqlite_db.session() as session:
        assert session.exec(select(User).where(User.username == "mallory")).one().roles == [
            "analyst"
        ]


def test_login_with_a_wrong_password_says_so(app, users):
    app.config["WTF_CSRF_ENABLED"] = False
    response = login(app.test_client(), "admin", "wrong password!")
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(app, users, target):
    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post(
        f"/login?next={target}", data={"username": "admin", "password": PASSWORD}
    )
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_security_headers_and_cookie_flags(app, users):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = login(client, "admin")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert (
        "default-src 'self'" in csp
        and "script-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
    )
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page.get_data(as_text=True)  # no inline scripts for the CSP to block


def test_https_deployments_get_secure_cookies_and_hsts(tmp_path, sqlite_db, users):
    settings = make_settings(
        tmp_path, str(sqlite_db.engine.url), public_url="https://hookline.studio.example"
    )
    app = create_app(settings, db=sqlite_db)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = login(client, "admin")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "max-age" in client.get("/healthz").headers["Strict-Transport-Security"]


def test_changing_the_password_signs_out_other_sessions(app, users):
    app.config["WTF_CSRF_ENABLED"] = False
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "reviewer")
    login(phone, "reviewer")
    assert phone.get("/").status_code == 200
    changed = laptop.post(
        "/account/password", data={"current": PASSWORD, "new": "a much longer secret"}
    )
    assert changed.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302  # back to sign-in


def test_inactive_users_cannot_sign_in(app, sqlite_db, users):
    app.config["WTF_CSRF_ENABLED"] = False
    with sqlite_db.transaction() as session:
        user = session.get_one(User, users["analyst"])
        user.active = False
        session.add(user)
    assert login(app.test_client(), "analyst").status_code == 401


def test_api_tokens_act_with_their_owners_roles_and_die_when_revoked(app, sqlite_db, users):
    with sqlite_db.transaction() as session:
        analyst = session.get_one(User, users["analyst"])
        token, secret = create_token(session, analyst, "dashboard-kiosk")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/v1/me", headers=auth)
    assert me.status_code == 200
    assert me.get_json()["roles"] == ["analyst"]
    assert "analytics.view" in me.get_json()["permissions"]
    # No CSRF token needed with a bearer token, but the role still decides.
    assert client.post("/api/v1/jobs", json={"kind": "noop"}, headers=auth).status_code == 403
    assert client.get("/api/v1/jobs", headers=auth).status_code == 200
    assert (
        client.get("/api/v1/me", headers={"Authorization": "Bearer hl_not-a-token"}).status_code
        == 401
    )

    with sqlite_db.transaction() as session:
        from hookline.auth import revoke_token

        revoke_token(session, session.get_one(User, users["analyst"]), token.id)
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_a_token_request_ignores_the_session_cookie(app, users):
    """A browser session cannot be ridden by adding a bogus Authorization header."""
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login(client, "admin")
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_api_session_callers_need_the_csrf_header(app, users):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert client.post("/api/v1/jobs", json={"kind": "noop"}).status_code == 400
    ok = client.post("/api/v1/jobs", json={"kind": "noop"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_admin_cannot_lock_themselves_out(app, users):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login(client, "admin")
    response = client.post(f"/admin/users/{users['admin']}", data={"roles": ["analyst"]})
    assert response.status_code == 400
    assert "cannot remove your own admin role" in response.get_data(as_text=True)


def test_unknown_routes_are_404_and_forbidden_pages_explain(app, users):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login(client, "analyst")
    assert client.get("/no/such/page").status_code == 404
    forbidden = client.get("/admin/users")
    assert forbidden.status_code == 403
    assert "Ask an admin for the role you need" in forbidden.get_data(as_text=True)


def test_permissions_table_names_only_real_roles():
    for permission, roles in PERMISSIONS.items():
        assert roles <= set(Role), permission
    assert allowed(["admin"], "users.manage") and not allowed(["publisher"], "users.manage")
    assert not allowed(["admin"], "no.such.permission")
