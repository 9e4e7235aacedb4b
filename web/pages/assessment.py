"""考核 pages: the year's ranking (/assessment), one unit's lines, the Excel export, the rules.

Who sees which scores, and how they are counted, is engine/services/assessment.py's.
"""
from __future__ import annotations

import io

from flask import redirect, render_template, request, send_file, url_for

from engine.errors import InvalidInput
from engine.services import CHINA, SYSTEM_ADMINS, assessment

from .common import current_actor, duban

YEARS_SHOWN = 5


def routes(bp) -> None:
    bp.add_url_rule("/assessment", "assessment", board)
    bp.add_url_rule("/assessment/<int(min=1, max=9999):year>.xlsx", "assessment_export", export)
    bp.add_url_rule("/assessment/<int(min=1, max=9999):year>/units/<unit_id>", "assessment_unit", unit)
    bp.add_url_rule("/assessment/rules", "assessment_rules", rules, methods=["GET", "POST"])


def _years() -> list[int]:
    this_year = duban().clock.now().astimezone(CHINA).year
    return list(range(this_year, this_year - YEARS_SHOWN, -1))


def board():
    actor = current_actor()
    years = _years()
    year = request.args.get("year", years[0], type=int)
    scores = assessment.scores(duban(), actor, year)
    return render_template("assessment.html", board=scores, year=year, years=sorted({year, *years}, reverse=True),
                           pts=assessment.points_text, can_edit=actor.has(*SYSTEM_ADMINS))


def unit(year, unit_id):
    explained = assessment.unit_lines(duban(), current_actor(), year, unit_id)
    return render_template("assessment_unit.html", unit=explained, year=year, pts=assessment.points_text)


def export(year):
    data = assessment.xlsx(duban(), current_actor(), year)
    return send_file(io.BytesIO(data), mimetype=assessment.XLSX, as_attachment=True,
                     download_name=f"考核-{year}.xlsx")


def rules():
    actor = current_actor()
    error, status = None, 200
    if request.method == "POST":
        code = request.form.get("code", "")
        try:
            assessment.update_rule(duban(), actor, code, request.form.get("points", "").strip(),
                                   active=request.form.get("active") == "1", name=request.form.get("name") or None)
        except InvalidInput as invalid:
            error, status = f"{code}：{invalid.message}", 422
        else:
            return redirect(url_for("pages.assessment_rules", saved=code))
    listed = assessment.list_rules(duban(), actor)
    return render_template("assessment_rules.html", rules=listed, pts=assessment.points_text, error=error,
                           saved=request.args.get("saved"), can_edit=actor.has(*SYSTEM_ADMINS)), status
