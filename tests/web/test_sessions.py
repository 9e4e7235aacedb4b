"""Browser sessions: the idle timeout is kept on the server, and the cookie is `Secure` over HTTPS."""
from sqlalchemy import select

from engine.config import Settings
from engine.models import AuditRecord
from tests.support.org import make_duban, seed
from tests.support.web import Browser, assert_error, csrf_of
from web import create_app


def _token_in_cookie(app, browser) -> str:
    """What someone who copied the session cookie can read out of it (it is signed, not encrypted)."""
    cookie = browser.client.get_cookie("session")
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)["token"]


def test_a_copied_session_token_lapses_after_the_idle_time_on_the_server(app, duban_sqlite):
    browser = Browser(app, "office")
    thief = {"Authorization": f"Bearer {_token_in_cookie(app, browser)}"}
    assert app.test_client().get("/api/v1/me", headers=thief).status_code == 200
    duban_sqlite.clock.advance(minutes=31)
    body = assert_error(app.test_client().get("/api/v1/me", headers=thief), 401, "unauthenticated")
    assert body["message"] == "会话已超时，请重新登录"
    assert browser.get("/tasks").headers["Location"].startswith("/login")
    with duban_sqlite.db.reading() as session:
        assert session.scalars(select(AuditRecord.actor).where(AuditRecord.action == "token.idle_expired")).all() == [
            "office"]


def test_a_session_in_use_goes_on(app, duban_sqlite):
    browser = Browser(app, "office")
    token = _token_in_cookie(app, browser)
    for _ in range(4):  # two hours in all, never 30 minutes idle
        duban_sqlite.clock.advance(minutes=29)
        assert browser.get("/tasks").status_code == 200
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_bearer_tokens_have_no_idle_timeout(client, duban_sqlite):
    token = client.post("/api/v1/auth/token", json={"username": "office", "password": "duban-demo"}).json["token"]
    duban_sqlite.clock.advance(hours=11)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def _sign_in(app, base_url: str):
    client = app.test_client()
    form = client.get("/login", base_url=base_url).text
    return client.post("/login", base_url=base_url,
                       data={"username": "office", "password": "duban-demo", "csrf_token": csrf_of(form)})


def _cookie_flags(response) -> list[str]:
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    return [part.strip() for part in header.split(";")]


def test_session_cookies_are_secure_over_https(app):
    over_https = _sign_in(app, "https://duban.example")
    assert over_https.status_code == 302
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(_cookie_flags(over_https))
    assert "Secure" not in _cookie_flags(_sign_in(app, "http://127.0.0.1"))


def test_secure_cookies_can_be_required(sqlite_url, clock, tmp_path):
    # Behind a proxy that ends TLS, requests reach us as http: DUBAN_SECURE_COOKIES marks the cookie anyway.
    assert Settings.from_env({"DUBAN_SECURE_COOKIES": "1"}, secret_key="x").secure_cookies
    assert not Settings.from_env({}, secret_key="x").secure_cookies
    context = make_duban(sqlite_url, clock, tmp_path, secure_cookies=True)
    try:
        seed(context)
        assert "Secure" in _cookie_flags(_sign_in(create_app(duban=context), "http://127.0.0.1"))
    finally:
        context.db.dispose()
