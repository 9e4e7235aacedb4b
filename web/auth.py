"""Who is calling: a bearer token (API clients) or the signed-in browser session.

A browser session holds a server-side token (the same kind the API issues), so signing out or an
administrator's revocation ends it at once, and it lapses after DUBAN_SESSION_IDLE_MINUTES without
a request: the server counts that on the token, so a copied cookie (or its token sent as a bearer
token) lapses too. The cookie is `Secure` when the request came over HTTPS, or always with
DUBAN_SECURE_COOKIES. Cookie-authenticated requests that change anything must carry the session's
CSRF token (form field `csrf_token` or header `X-CSRF-Token`); bearer requests need none, as no
browser sends that header on its own.

Someone whose password was set by another person (a reset) must change it first: until then every
API call answers 403 `password_change_required` and every page leads to /account/password, except
changing the password and signing out.
"""
from __future__ import annotations

import base64
import secrets

from flask import abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from engine import services
from engine.errors import AuthenticationFailed, Forbidden
from engine.services import SESSION, WORKER, SessionIdle
from engine.texts import text

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Pages that take a form before anyone is signed in (login CSRF is still checked).
ANONYMOUS_FORMS = {"/login"}
# What someone who must change their password may still do: change it, and sign out.
WHILE_PASSWORD_CHANGE = {"password.OwnPassword", "auth.Token", "pages.password", "pages.logout"}


class SessionExpired(AuthenticationFailed):
    """Raised when a browser session has been idle longer than DUBAN_SESSION_IDLE_MINUTES."""


class PasswordChangeRequired(Forbidden):
    """Raised when the caller's password was set by someone else and is not changed yet (403)."""

    code = "password_change_required"


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, `Secure` over HTTPS (or always, with DUBAN_SECURE_COOKIES)."""

    def open_session(self, app, request):
        # An API client sends no cookie: an empty session at once, without building the signer.
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app) -> bool:
        return bool(super().get_cookie_secure(app) or app.extensions["duban"].settings.secure_cookies
                    or request.is_secure)


def duban():
    return current_app.extensions["duban"]


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[len("Bearer "):].strip() if header.startswith("Bearer ") else None


def current_actor():
    """The caller, or AuthenticationFailed (401); PasswordChangeRequired (403, or for a page a
    redirect to /account/password) while their password, set by someone else, is not changed."""
    actor = _signed_in()
    if g.get("password_change_required") and request.endpoint not in WHILE_PASSWORD_CHANGE:
        if not request.path.startswith("/api"):
            abort(redirect(url_for("pages.password")))
        raise PasswordChangeRequired(text("auth.password_change_required"))
    if actor.roles == frozenset({WORKER}) and request.blueprint not in WORKER_BLUEPRINTS:
        raise Forbidden(text("external.worker_only_endpoints"))  # a program's account: its endpoints only
    return actor


def optional_actor():
    """The signed-in caller, or None (for page decoration: no password-change check)."""
    try:
        return _signed_in()
    except AuthenticationFailed:
        return None


def current_token() -> str | None:
    """The token this request came with: the bearer token, else the session's."""
    return _bearer() or session.get("token")


# External task workers (Camunda's clients) may also sign each request with HTTP Basic, there only.
BASIC_BLUEPRINTS = {"external_tasks"}
# What a worker's service account (role worker and nothing else) may call.
WORKER_BLUEPRINTS = BASIC_BLUEPRINTS | {"auth"}


def _basic():
    """(username, password) of an `Authorization: Basic` header on an endpoint that takes it, else None."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic ") or request.blueprint not in BASIC_BLUEPRINTS:
        return None
    try:
        username, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        raise AuthenticationFailed(text("external.basic_refused")) from None
    return username, password


def _signed_in():
    actor = getattr(g, "actor", None)
    if actor is not None:
        return actor
    token = _bearer()
    basic = None if token else _basic()
    if token:
        caller = services.auth.caller_for_token(duban(), token)
    elif basic:
        caller = services.auth.basic_caller(duban(), *basic, ip=request.remote_addr)
    elif session.get("token"):
        caller = _session_caller()
    else:
        raise AuthenticationFailed(text("auth.sign_in_first"))
    g.actor, g.password_change_required = caller.actor, caller.password_change_required
    return g.actor


def _session_caller():
    now = duban().clock.now().timestamp()
    idle = duban().settings.session_idle_minutes * 60
    if now - session.get("seen", 0) > idle:
        end_session()
        raise SessionExpired(text("auth.session_idle"))
    try:
        caller = services.auth.caller_for_token(duban(), session["token"])
    except SessionIdle as error:
        session.clear()
        raise SessionExpired(error.message) from None
    except AuthenticationFailed:
        session.clear()
        raise
    session["seen"] = now
    return caller


def begin_session(actor, ip: str | None = None) -> None:
    """Sign the browser in: a fresh session (no fixation), a server-side token, a new CSRF token."""
    token, _ = services.issue_token(duban(), actor, ip=ip, kind=SESSION)
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
                           [{"field": "csrf_token", "message": text("auth.csrf_field")}])
