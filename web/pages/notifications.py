"""The caller's notifications (通知) as a page; the header shows the unread count."""
from __future__ import annotations

from flask import redirect, render_template, url_for

from engine.services import notifications as service

from .common import current_actor, duban


def routes(bp) -> None:
    bp.add_url_rule("/notifications", "notifications", notifications)
    bp.add_url_rule("/notifications/read", "read_all", read_all, methods=["POST"])


def notifications():
    rows, total = service.list_for(duban(), current_actor(), page=1, per_page=100)
    return render_template("notifications.html", notifications=rows, total=total)


def read_all():
    service.mark_read(duban(), current_actor())
    return redirect(url_for("pages.notifications"))
