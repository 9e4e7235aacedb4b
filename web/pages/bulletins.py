"""督查通报 pages: the list with downloads, and the office's form to issue one (/bulletins)."""
from __future__ import annotations

import io
from datetime import datetime

from flask import redirect, render_template, request, send_file, url_for

from engine.clock import CHINA
from engine.domain.roles import OFFICE
from engine.errors import InvalidInput
from engine.services import bulletins

from .common import current_actor, duban

MONTHS_OFFERED, QUARTERS_OFFERED = 12, 4


def routes(bp) -> None:
    bp.add_url_rule("/bulletins", "bulletins", listing, methods=["GET", "POST"])
    bp.add_url_rule("/bulletins/<int:bulletin_id>.docx", "bulletin_docx", download)


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
    actor = current_actor()
    error, status = None, 200
    if request.method == "POST":
        try:
            issued = bulletins.generate(duban(), actor, request.form.get("period", ""))
        except InvalidInput as invalid:
            error, status = invalid.message, 422
        else:
            return redirect(url_for("pages.bulletins", issued=issued["id"]))
    rows = bulletins.list_bulletins(duban(), actor)
    issued = request.args.get("issued", type=int)
    offered = periods(duban().clock.now())
    # Last month is the usual choice: a bulletin reports a period that has ended.
    return render_template("bulletins.html", bulletins=rows, periods=offered, chosen=offered[1][0], error=error,
                           issued=next((b for b in rows if b["id"] == issued), None),
                           can_issue=actor.has(OFFICE)), status


def download(bulletin_id):
    name, content = bulletins.document(duban(), current_actor(), bulletin_id)
    return send_file(io.BytesIO(content), mimetype=bulletins.DOCX, as_attachment=True, download_name=name)
