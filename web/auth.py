"""Who is calling: a bearer token (API clients) or the signed-in browser session.

A browser session holds a server-side token (the same kind the API issues), so signing out or an
administrator's revocation ends it at once, and it lapses after DUBAN_SESSION_IDLE_MINUTES without
a request. Cookie-authenticated requests that change anything must carry the session's CSRF token
(form field `csrf_token` or header `X-CSRF-Token`); bearer requests need none, as no browser sends
that header on its own.
"""
from __future__ import annotations

import secrets

from flask import current_app, g, request, session

from engine import services
from engine.errors import AuthenticationFailed, Forbidden

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Pages that take a form before anyone is signed in (login CSRF is still checked).
ANONYMOUS_FORMS = {"/login"}


class SessionExpired(AuthenticationFailed):
    """Raised when a browser session has been idle longer than DUBAN_SESSION_IDLE_MINUTES."""


def duban():
    return current_app.extensions["duban"]


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[len("Bearer "):].strip() if header.startswith("Bearer ") else None


def current_actor():
    """The caller, or AuthenticationFailed (401)."""
    actor = getattr(g, "actor", None)
    if actor is not None:
        return actor
    token = _bearer()
    if token:
        g.actor = services.actor_for_token(duban(), token)
        return g.actor
    if session.get("token"):
        g.actor = _session_actor()
        return g.actor
    raise AuthenticationFailed("sign in first: send Authorization: Bearer <token>")


def optional_actor():
    """The signed-in caller, or None."""
    try:
        return current_actor()
    except AuthenticationFailed:
        return None


def _session_actor():
    now = duban().clock.now().timestamp()
    idle = duban().settings.session_idle_minutes * 60
    if now - session.get("seen", 0) > idle:
        end_session()
        raise SessionExpired("会话已超时，请重新登录")
    try:
        actor = services.actor_for_token(duban(), session["token"])
    except AuthenticationFailed:
        session.clear()
        raise
    session["seen"] = now
    return actor


def begin_session(actor, ip: str | None = None) -> None:
    """Sign the browser in: a fresh session (no fixation), a server-side token, a new CSRF token."""
    token, _ = services.issue_token(duban(), actor, ip=ip)
    session.clear()
    session.permanent = False
    session.update(token=token, seen=duban().clock.now().timestamp(), csrf=secrets.token_urlsafe(32))


def end_session(ip: str | None = None) -> None:
    token = session.get("token")
    if token:
        services.revoke_token(duban(), token, ip=ip)
    session.clear()


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Before every request: refuse a cookie-authenticated change without the session's token."""
    if request.method not in UNSAFE or _bearer():
        return
    if not session.get("token") and request.path not in ANONYMOUS_FORMS:
        return  # not signed in by cookie: nothing to forge; the request fails its own auth check
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    if not expected or not secrets.compare_digest(sent, expected):
        raise Forbidden("页面已过期或请求来源不可信（CSRF 校验失败），请刷新后重试",
                           [{"field": "csrf_token", "message": "missing or invalid"}])
