"""The caller's notifications (通知) as a page, filtered by read state, kind and item; the header shows
the unread count."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from engine.services import notifications as notifications_service
from engine.texts import text

from .common import current_actor, duban, page_number

STATES = {"unread": "未读", "all": "全部"}
FILTERS = ("state", "kind", "item")


def routes(bp) -> None:
    bp.add_url_rule("/notifications", "notifications", notifications)
    bp.add_url_rule("/notifications/read", "read_all", read_all, methods=["POST"])
    bp.add_url_rule("/notifications/<int:notification_id>/read", "read_one", read_one, methods=["POST"])


def notifications():
    actor = current_actor()
    state = request.args.get("state") if request.args.get("state") in STATES else "all"
    kind = request.args.get("kind") or None
    item_id = request.args.get("item", type=int)
    page = page_number()
    rows, total = notifications_service.list_for(duban(), actor, unread=state == "unread", page=page, per_page=100,
                                   kind=kind, item_id=item_id)
    return render_template("notifications.html", notifications=rows, total=total, page=page, states=STATES,
                           filters={"state": state, "kind": kind, "item": item_id},
                           facets=notifications_service.facets(duban(), actor))


def read_all():
    notifications_service.mark_read(duban(), current_actor())
    flash(text("toast.notifications_read"))
    return redirect(url_for("pages.notifications"))


def read_one(notification_id):
    notifications_service.mark_read(duban(), current_actor(), notification_id)
    flash(text("toast.notification_read"))
    return redirect(url_for("pages.notifications", **_kept_filters()))


def _kept_filters() -> dict:
    """The list's filters, sent back with the form, so marking one read keeps the view it was done in."""
    return {name: request.form[name] for name in FILTERS if request.form.get(name)}
