"""督查通报 pages: the list with downloads, and the office's forms to preview, issue and void (/bulletins)."""
from __future__ import annotations

import io
from datetime import datetime

from flask import redirect, render_template, request, send_file, url_for

from engine.errors import Conflict, InvalidInput
from engine.services import CHINA, OFFICE, bulletins

from .common import current_actor, duban

MONTHS_OFFERED, QUARTERS_OFFERED = 12, 4


def routes(bp) -> None:
    bp.add_url_rule("/bulletins", "bulletins", listing, methods=["GET", "POST"])
    bp.add_url_rule("/bulletins/<int:bulletin_id>.docx", "bulletin_docx", download)
    bp.add_url_rule("/bulletins/<int:bulletin_id>/void", "bulletin_void", void, methods=["POST"])


def periods(now: datetime) -> list[tuple[str, str]]:
    """(code, label) of the periods one may issue for: this month back a year, this quarter back four."""
    local = now.astimezone(CHINA)
    months, quarters = [], []
    year, month = local.year, local.month
    for _ in range(MONTHS_OFFERED):
        months.append(f"{year}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    year, quarter = local.year, (local.month - 1) // 3 + 1
    for _ in range(QUARTERS_OFFERED):
        quarters.append(f"{year}-Q{quarter}")
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return [(code, bulletins.parse_period(code).label) for code in months + quarters]


def listing():
    """The list; ?preview=1&period=P shows what that period's bulletin would say; POST issues one (a
    period with a bulletin in force asks for confirmation first: 409 with the confirm box)."""
    actor = current_actor()
    error, status, preview, chosen = None, 200, None, request.values.get("period")
    if request.method == "POST":
        try:
            issued = bulletins.generate(duban(), actor, chosen or "", request.form.get("confirm_reissue") == "1")
        except InvalidInput as invalid:
            error, status = invalid.message, 422
        except Conflict as conflict:
            error, status = conflict.message, 409
            preview = bulletins.preview(duban(), actor, chosen)
        else:
            return redirect(url_for("pages.bulletins", issued=issued["id"]))
    elif request.args.get("preview"):
        try:
            preview = bulletins.preview(duban(), actor, chosen or "")
        except InvalidInput as invalid:
            error, status = invalid.message, 422
    return _render(actor, error, status, preview=preview, chosen=chosen)


def _render(actor, error=None, status=200, **extra):
    rows = bulletins.list_bulletins(duban(), actor)
    offered = periods(duban().clock.now())
    issued = request.args.get("issued", type=int)
    # Last month is the usual choice: a bulletin reports a period that has ended.
    chosen = extra.pop("chosen", None)
    chosen = chosen if chosen in dict(offered) else offered[1][0]
    return render_template("bulletins.html", bulletins=rows, periods=offered, chosen=chosen, error=error,
                           issued=next((b for b in rows if b["id"] == issued), None),
                           voided=request.args.get("voided", type=int),
                           can_issue=actor.has(OFFICE), **extra), status


def void(bulletin_id):
    actor = current_actor()
    try:
        bulletins.void(duban(), actor, bulletin_id, request.form.get("reason", ""))
    except InvalidInput as invalid:
        return _render(actor, invalid.message, 422, void_open=bulletin_id)
    except Conflict as conflict:
        return _render(actor, conflict.message, 409)
    return redirect(url_for("pages.bulletins", voided=bulletin_id))


def download(bulletin_id):
    name, content = bulletins.document(duban(), current_actor(), bulletin_id)
    return send_file(io.BytesIO(content), mimetype=bulletins.DOCX, as_attachment=True, download_name=name)
