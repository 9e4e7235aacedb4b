"""The Flask app: REST API, pages, health. Build it with `create_app()`."""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request
from sqlalchemy import text

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
    app.before_request(check_csrf)
    app.after_request(_security_headers)
    api.register(app)
    pages.register(app)
    errors.register(app)  # after the API, so our JSON error shape replaces flask-smorest's
    app.add_url_rule("/healthz", "healthz", _healthz)
    # Browsers ask for /favicon.ico whatever the page links: the same SVG, not a 404 in every log.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    logging.getLogger("waitress").setLevel(logging.INFO)
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


def _healthz():
    duban = current_app.extensions["duban"]
    status, code = {"status": "ok", "database": "ok", "broker": "embedded"}, 200
    try:
        with duban.db.reading() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - health reports, it does not raise
        status.update(status="error", database="error")
        code = 503
    if duban.settings.redis_url:
        from workers.broker import ping

        status["broker"] = "ok" if ping(duban.settings.redis_url) else "error"
        if status["broker"] == "error":
            status["status"], code = "error", 503
    return jsonify(status), code
