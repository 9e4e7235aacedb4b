"""领导表扬 from the item page: a leader praises a unit's work (it counts in 考核)."""
from __future__ import annotations

from flask import redirect, request, url_for

from engine.errors import Conflict, InvalidInput
from engine.services import assessment

from .common import current_actor, duban


def routes(bp) -> None:
    bp.add_url_rule("/items/<int:item_id>/praise", "praise", praise, methods=["POST"])


def praise(item_id):
    actor = current_actor()
    unit = request.form.get("unit", "")
    try:
        assessment.praise(duban(), actor, item_id, unit, request.form.get("note", ""))
    except (Conflict, InvalidInput) as error:
        return redirect(url_for("pages.item", item_id=item_id, praise_error=error.message))
    return redirect(url_for("pages.item", item_id=item_id, praised=unit))
