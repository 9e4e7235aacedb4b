"""月度进展, 六有 and 答复 on the item page, and the office's monthly summary (/progress).

The item page (web/pages/items.py) includes _progress.html and _reply.html; they ask
`item_sections(item)` for what the signed-in person may see and do there. A refused form is shown
again on the item page with its errors beside the fields (422); a saved one redirects back.
"""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from engine import services
from engine.errors import Forbidden, InvalidInput
from engine.services import ADMIN, OFFICE, SUPERVISORS, UNIT, checklists, progress, replies

from .common import current_actor, duban, field_errors, page_number

PER_PAGE = 100


def routes(bp) -> None:
    bp.add_url_rule("/progress", "progress", month_summary)
    bp.add_url_rule("/items/<int:item_id>/progress", "report_progress", report_progress, methods=["POST"])
    bp.add_url_rule("/items/<int:item_id>/checklist", "fill_checklist", fill_checklist, methods=["POST"])
    bp.add_url_rule("/items/<int:item_id>/reply", "record_reply", record_reply, methods=["POST"])
    bp.add_url_rule("/items/<int:item_id>/satisfaction", "record_satisfaction", record_satisfaction,
                    methods=["POST"])
    bp.app_context_processor(lambda: {"item_sections": item_sections, "CHECKS": checklists.CHECKS,
                                      "SATISFACTION": replies.SATISFACTION})


# ---- the item page's sections -------------------------------------------------------------------------

def item_sections(item: dict) -> dict:
    """What the 月度进展, 六有 and 答复 sections show the signed-in person, and the forms they may use
    (read once per request, however many sections ask)."""
    cache = g.setdefault("item_sections", {})
    if item["id"] not in cache:
        cache[item["id"]] = _sections(item)
    return cache[item["id"]]


def _sections(item: dict) -> dict:
    actor, context = current_actor(), duban()
    month = progress.month_of(context.clock.now())
    mine = next((p for p in item["units"] if actor.has(UNIT) and p["unit"] == actor.unit_id), None)
    reports = progress.list_reports(context, actor, item["id"])
    form, errors, values = getattr(g, "section_form", (None, {}, {}))
    own = next((r for r in reports if mine and r["unit"] == mine["unit"] and r["month"] == month), None)
    sections = {
        "month": month, "reports": reports, "errors": errors if form else {}, "form": form,
        "can_report": item["status"] == "in_progress" and mine is not None and mine["accepted_at"] is None,
        "progress_values": values if form == "progress" else (own or {}),
        "checklists": checklists.list_checklists(context, actor, item["id"]),
        "can_checklist": item["status"] in checklists.WRITABLE and mine is not None,
        "mine": mine, "saved": request.args.get("saved"),
        "reply": None, "can_reply": False,
    }
    checklist_values = next((c for c in sections["checklists"] if mine and c["unit"] == mine["unit"]), {})
    sections["checklist_values"] = values if form == "checklist" else checklist_values
    if item["source"] in replies.REPLY_SOURCES:
        sections["reply"] = replies.get_reply(context, actor, item["id"])
        sections["can_reply"] = actor.has(OFFICE, ADMIN) and item["status"] != "rejected"
        sections["reply_values"] = values if form == "reply" else sections["reply"]
        sections["satisfaction_values"] = values if form == "satisfaction" else sections["reply"]
    return sections


def _again(item_id: int, form: str, error: InvalidInput, values: dict):
    """The item page again, with the refused form's values and its errors beside the fields."""
    from .items import item_page

    g.section_form = (form, field_errors(error), values)
    return item_page(item_id), 422


def _saved(item_id: int, what: str, anchor: str):
    return redirect(url_for("pages.item", item_id=item_id, saved=what, _anchor=anchor))


def report_progress(item_id):
    actor = current_actor()
    values = {name: request.form.get(name, "") for name in ("text", "percent", "problems", "next_steps")}
    month = request.form.get("month", "")
    try:
        progress.put_report(duban(), actor, item_id, month, {**values, "unit": actor.unit_id})
    except InvalidInput as error:
        return _again(item_id, "progress", error, values)
    return _saved(item_id, "progress", "progress")


def fill_checklist(item_id):
    actor = current_actor()
    values = {"unit": actor.unit_id}
    for key in checklists.CHECKS:
        values[key] = request.form.get(key) == "1"
        values[f"{key}_note"] = request.form.get(f"{key}_note", "")
    try:
        checklists.put_checklist(duban(), actor, item_id, values)
    except InvalidInput as error:
        return _again(item_id, "checklist", error, values)
    return _saved(item_id, "checklist", "checklist")


def record_reply(item_id):
    values = {name: request.form.get(name, "").strip()
              for name in ("requester_name", "requester_contact", "text", "replied_at")}
    try:
        replies.put_reply(duban(), current_actor(), item_id, {**values, "replied_at": values["replied_at"] or None})
    except InvalidInput as error:
        return _again(item_id, "reply", error, values)
    return _saved(item_id, "reply", "reply")


def record_satisfaction(item_id):
    values = {name: request.form.get(name, "").strip() for name in ("satisfaction", "date", "note")}
    try:
        replies.put_satisfaction(duban(), current_actor(), item_id, {**values, "date": values["date"] or None})
    except InvalidInput as error:
        return _again(item_id, "satisfaction", error, values)
    return _saved(item_id, "satisfaction", "reply")


# ---- /progress: the office's monthly summary ----------------------------------------------------------------

def month_summary():
    actor = current_actor()
    if not actor.has(*SUPERVISORS):
        raise Forbidden("月度进展汇总仅供督查室和领导查看")
    this_month = progress.month_of(duban().clock.now())
    month = request.args.get("month") or this_month
    unit = request.args.get("unit") or None
    missing = request.args.get("missing") == "1"
    page = page_number()
    error, summary = None, None
    try:
        summary = progress.aggregate(duban(), actor, month, unit=unit, missing=missing, page=page, per_page=PER_PAGE)
    except InvalidInput as invalid:
        month_wrong = invalid.details and invalid.details[0].get("field") == "month"
        error = "月份格式应为 YYYY-MM，且不能晚于本月" if month_wrong else invalid.message
    units = [u for u in services.list_units(duban()) if u["kind"] == "unit"]
    pages = max(((summary or {}).get("total", 0) + PER_PAGE - 1) // PER_PAGE, 1)
    return render_template("progress.html", summary=summary, month=month, this_month=this_month, unit=unit,
                           missing=missing, units=units, page=page, pages=pages, error=error), 422 if error else 200
