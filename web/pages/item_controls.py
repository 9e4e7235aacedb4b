"""The office's controls on one item's page: 撤销 (withdraw, with a reason) and the 知悉范围 of a secret
item, people chosen by name (web/static/people.js over GET /api/v1/users)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for

from engine.errors import DubanError
from engine.services import (
    ADMIN,
    ENDED_STATUSES,
    OFFICE,
    SYSTEM_ADMINS,
    items as items_service,
    may_withdraw_item,
    withdraw_item,
)

from .common import current_actor, duban

# Refusals that are pages of their own (403/404/401); the rest are said above the item.
_PAGE_ERRORS = ("forbidden", "not_found", "unauthenticated")


def routes(bp) -> None:
    bp.add_url_rule("/items/<int:item_id>/withdraw", "withdraw_item", withdraw, methods=["POST"])
    bp.add_url_rule("/items/<int:item_id>/designees", "designate", designate, methods=["POST"])
    bp.app_context_processor(lambda: {"item_controls": item_controls})


def item_controls(item: dict) -> dict:
    """What the signed-in person may do here: withdraw the item, change who is designated."""
    me = current_actor()
    running = item["status"] not in ENDED_STATUSES
    return {"can_withdraw": may_withdraw_item(duban(), me, item),
            "can_designate": running and item["classification"] == "secret" and me.has(OFFICE, ADMIN, *SYSTEM_ADMINS),
            "me": me.username}


def withdraw(item_id):
    try:
        withdraw_item(duban(), current_actor(), item_id, request.form.get("reason"))
    except DubanError as error:
        if error.code in _PAGE_ERRORS:
            raise
        return redirect(url_for("pages.item", item_id=item_id, problem=error.message))
    flash("事项已撤销")
    return redirect(url_for("pages.item", item_id=item_id))


def designate(item_id):
    username, remove = request.form.get("username", "").strip(), request.form.get("action") == "remove"
    try:
        items_service.designate(duban(), current_actor(), item_id, username, remove=remove)
    except DubanError as error:
        if error.code in _PAGE_ERRORS:
            raise
        return redirect(url_for("pages.item", item_id=item_id, problem=error.message))
    flash("已移出知悉范围" if remove else "已加入知悉范围")
    return redirect(url_for("pages.item", item_id=item_id))
