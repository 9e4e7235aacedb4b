"""延期申请 from the item page: the unit asks; the leader decides in the inbox (/tasks)."""
from __future__ import annotations

from flask import redirect, request, url_for

from engine import services
from engine.errors import InvalidInput
from engine.services import files

from .common import current_actor, duban, field_errors


def routes(bp) -> None:
    bp.add_url_rule("/items/<int:item_id>/extensions", "request_extension", request_extension, methods=["POST"])


def request_extension(item_id):
    actor = current_actor()
    fields = {"reason": request.form.get("reason", ""), "head": request.form.get("head", ""),
              "head_signed": request.form.get("head_signed") == "1",
              "new_deadline": request.form.get("new_deadline", ""), "unit": actor.unit_id,
              "evidence": [int(v) if v.isdigit() else v for v in request.form.getlist("evidence")]}
    try:
        services.request_extension(duban(), actor, item_id, fields)
    except InvalidInput as error:
        from .items import item_page

        errors = field_errors(error)
        # The files uploaded for it stay chosen (by name) on the form shown again.
        chosen = files.describe_visible(duban(), actor, [v for v in fields["evidence"] if isinstance(v, int)])
        return item_page(item_id, extension_errors=errors, extension_values={**fields, "evidence": chosen}), 422
    return redirect(url_for("pages.item", item_id=item_id, extension="1"))
