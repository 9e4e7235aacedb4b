"""The Flask app: REST API, pages, health. Build it with `create_app()`."""
from __future__ import annotations

import logging
import time

from flask import Flask, current_app, g, jsonify, request
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.bootstrap import Duban, bootstrap
from engine.config import Settings

from . import api, errors, pages
from .auth import SessionCookies, check_csrf


def create_app(settings: Settings | None = None, duban: Duban | None = None) -> Flask:
    duban = duban or bootstrap(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=duban.settings.secret_key,
        # An upload is one file plus its multipart framing; larger bodies are a 413 before they are read.
        MAX_CONTENT_LENGTH=max(duban.settings.max_bpmn_bytes * 4, duban.settings.max_file_bytes + 64 * 1024),
        JSON_AS_ASCII=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.json.ensure_ascii = False
    app.extensions["duban"] = duban
    app.session_interface = SessionCookies()  # `Secure` over HTTPS
    if duban.settings.trusted_proxies:
        # Behind N proxies: the client's address and scheme are what the nearest N said, so the audit
        # log names the client (not the proxy) and cookies are `Secure` when the client used HTTPS.
        hops = duban.settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.before_request(_started)
    app.before_request(check_csrf)
    app.after_request(_security_headers)
    app.after_request(_log_request)
    api.register(app)
    pages.register(app)
    errors.register(app)  # after the API, so our JSON error shape replaces flask-smorest's
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.add_url_rule("/healthz/live", "healthz_live", _live)
    app.add_url_rule("/healthz/ready", "healthz_ready", _ready)
    # Browsers ask for /favicon.ico whatever the page links: the same SVG, not a 404 in every log.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    return app


def _security_headers(response):
    """Pages load only this server's scripts and cannot be framed (clickjacking); no sniffing."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        # form-js and bpmn-js set inline styles, hence 'unsafe-inline' for styles only.
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                    "frame-ancestors 'none'; form-action 'self'")
    if response.mimetype == "text/html" or request.path.startswith("/api"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


request_log = logging.getLogger("duban.request")


def _started():
    g.started = time.perf_counter()


def _log_request(response):
    """One line per request: method, path (without the query, which may carry search terms), status,
    time taken and who asked (from the request's own sign-in, if it had one)."""
    actor = g.get("actor")
    fields = {"method": request.method, "path": request.path, "status": response.status_code,
              "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
              "user": actor.username if actor is not None else "-", "ip": request.remote_addr}
    # A load balancer asks for health every few seconds on every node: heard at DEBUG only.
    level = logging.DEBUG if request.path.startswith("/healthz") else logging.INFO
    request_log.log(level, "%(method)s %(path)s %(status)s %(duration_ms).1fms %(user)s %(ip)s", fields, extra=fields)
    return response


def _database_ok(duban) -> bool:
    try:
        with duban.db.reading() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - health reports, it does not raise
        return False


def _broker(duban) -> str:
    if not duban.settings.redis_url:
        return "embedded"
    from workers.broker import ping

    return "ok" if ping(duban.settings.redis_url) else "error"


def _healthz():
    """The whole installation, for monitoring: 503 when the database or Redis is down."""
    duban = current_app.extensions["duban"]
    status, code = {"status": "ok", "database": "ok", "broker": _broker(duban)}, 200
    if not _database_ok(duban):
        status.update(status="error", database="error")
        code = 503
    if status["broker"] == "error":
        status["status"], code = "error", 503
    return jsonify(status), code


def _live():
    """Liveness: the process answers. Nothing else is asked, so a database outage does not get every
    web process restarted."""
    return jsonify({"status": "ok"}), 200


def _ready():
    """Readiness, for a load balancer: the API works when the database does. Without Redis timers and
    mail wait (the scheduler sends them again later) but people still work, so Redis is only reported."""
    duban = current_app.extensions["duban"]
    broker = _broker(duban)
    body = {"status": "ok", "database": "ok", "redis": {"ok": "ok", "error": "down"}.get(broker, broker)}
    if not _database_ok(duban):
        body.update(status="error", database="error")
        return jsonify(body), 503
    return jsonify(body), 200
