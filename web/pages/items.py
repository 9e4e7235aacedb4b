"""立项 (/items/new), the ledger (/items) and one item (/items/<id>)."""
from __future__ import annotations

import io

from flask import redirect, render_template, request, send_file, url_for

from engine import services
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.services import (
    ADMIN,
    CATEGORIES,
    CLASSIFICATIONS,
    DROPPED_STATUSES,
    LIGHTS,
    OFFICE,
    SOURCES,
    STATUSES,
    close_items,
    documents as documents_service,
    dossier,
    export,
    files as files_service,
    ledger as ledger_service,
    print_sheet,
)
from engine.texts import text

from .common import current_actor, duban, field_errors, page_number

FIELDS = ("title", "content", "source", "category", "classification", "deadline", "designees")
PER_PAGE = 50
LIGHT_NAMES = LIGHTS
# The sort select (phones have no column headers to click).
SORTS = {"-id": "编号：新→旧", "id": "编号：旧→新", "deadline": "时限：近→远", "-deadline": "时限：远→近",
         "-created_at": "立项：新→旧", "created_at": "立项：旧→新", "title": "事项：升序", "-title": "事项：降序",
         "status": "状态：升序", "-status": "状态：降序"}
CHOICES = {"sources": SOURCES, "categories": CATEGORIES, "classifications": CLASSIFICATIONS, "statuses": STATUSES}


def routes(bp) -> None:
    bp.add_url_rule("/items", "items", ledger)
    bp.add_url_rule("/items/export.xlsx", "items_export", ledger_export)
    bp.add_url_rule("/items/new", "new_item", new_item, methods=["GET", "POST"])
    bp.add_url_rule("/items/<int:item_id>", "item", item)
    bp.add_url_rule("/items/<int:item_id>/print", "item_print", item_print)


def ledger():
    """台账: every filter in one GET form, sortable headers, pages, and the same query as Excel."""
    actor = current_actor()
    page = page_number()
    error, rows, total = None, [], 0
    try:
        filters = ledger_service.LedgerFilter.from_args(request.args)
    except InvalidInput as invalid:
        filters, error = ledger_service.LedgerFilter(), invalid.message
    else:
        rows, total = ledger_service.list_items(duban(), actor, filters, page, PER_PAGE)
    units = [u for u in services.list_units(duban()) if u["kind"] == "unit"]
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    return render_template("items.html", items=rows, total=total, page=page, pages=pages, filters=filters,
                           units=units, error=error, lights=LIGHT_NAMES, sorts=SORTS, **CHOICES), 422 if error else 200


def ledger_export():
    """The ledger's current query as .xlsx, with the session's visibility (the API's export.xlsx)."""
    actor = current_actor()
    data = export.items_xlsx(duban(), actor, ledger_service.LedgerFilter.from_args(request.args))
    return send_file(io.BytesIO(data), mimetype=export.XLSX, as_attachment=True,
                     download_name=export.filename(duban()))


def new_item():
    actor = current_actor()
    if not actor.has(OFFICE, ADMIN):
        raise Forbidden("只有督查室可以立项")
    values, errors, similar = {"source": "instruction", "category": "normal", "classification": "internal"}, {}, []
    if request.method == "POST":
        values = {key: request.form.get(key, "").strip() for key in FIELDS}
        fields = {**values, "deadline": values["deadline"] or None}
        # 重复提醒: a title close to an open item's comes back once, to be confirmed before it is registered.
        if not request.form.get("confirm_duplicate"):
            similar = close_items(duban(), actor, values["title"])
        try:
            if similar:
                raise InvalidInput(text("duplicate.confirm"), [{"field": None, "message": text("duplicate.confirm")}])
            created = services.register_item(duban(), actor, fields)
        except InvalidInput as error:
            errors = field_errors(error)
        else:
            return redirect(url_for("pages.item", item_id=created["id"], created=1))
    status = 409 if similar else 422 if errors else 200
    return render_template("item_new.html", values=values, errors=errors, similar=similar, **CHOICES), status


def item(item_id):
    return item_page(item_id)


def item_page(item_id, **extension_form):
    actor = current_actor()
    record = services.get_item(duban(), actor, item_id)
    try:
        instance = services.get_instance(duban(), actor, record["instance_id"]) if record["instance_id"] else None
    except NotFound:
        instance = None
    extensions = services.list_extensions(duban(), actor, item_id)
    # The unit's own part, while it runs and has no request waiting: it may ask for more time.
    mine = next((p for p in record["units"] if actor.has("unit") and p["unit"] == actor.unit_id), None)
    can_extend = (record["status"] == "in_progress" and mine is not None and mine["accepted_at"] is None
                  and not any(e["unit"] == actor.unit_id and e["status"] == "pending" for e in extensions))
    documents = documents_service.list_documents(duban(), actor, item_id)  # 文书, with download links
    item_files = files_service.list_item_files(duban(), actor, item_id)  # 佐证材料
    can_attach = files_service.may_attach(actor, record["created_by"], [p["unit"] for p in record["units"]],
                                          record["status"])
    steps_record = dossier.item_record(duban(), actor, item_id)  # 办理记录, as this person may read it
    return render_template("item.html", item=record, instance=instance, created=request.args.get("created"),
                           record=steps_record,
                           documents=documents, files=item_files, can_attach=can_attach,
                           # a 督办单 for an item withdrawn, refused or terminated would ask for work nobody owes
                           can_print=record["status"] not in DROPPED_STATUSES,
                           extensions=extensions, can_extend=can_extend,
                           extension_sent=request.args.get("extension"),
                           extension_errors=extension_form.get("extension_errors") or {},
                           extension_values=extension_form.get("extension_values") or {})


def item_print(item_id):
    """督查督办通知单: the item on one page as the office's paper form, for printing (404 as the item)."""
    return render_template("item_print.html", sheet=print_sheet.supervision_sheet(duban(), current_actor(), item_id))
