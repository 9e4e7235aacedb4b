"""Signing in and out (登录、退出)."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from engine import services
from engine.errors import AuthenticationFailed

from ..auth import begin_session, end_session, optional_actor
from .common import duban, safe_next


def routes(bp) -> None:
    bp.add_url_rule("/", "home", lambda: redirect(url_for("pages.inbox")))
    bp.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])


def login():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if optional_actor() is not None:
            return redirect(target)
        return render_template("login.html", next=target, notice=request.args.get("reason"))
    username = request.form.get("username", "").strip()
    try:
        actor = services.login(duban(), username, request.form.get("password", ""), ip=request.remote_addr)
    except AuthenticationFailed as error:
        return render_template("login.html", next=target, error=error.message, username=username), 401
    begin_session(actor, ip=request.remote_addr)
    return redirect(target)


def logout():
    end_session(ip=request.remote_addr)
    return redirect(url_for("pages.login"))
