"""The supervisors' dashboard (/dashboard): cards, charts, on-time rates per unit, the overdue list.

The figures and who sees which are engine/services/stats.py's; the charts are drawn by
web/static/dashboard.js from a JSON block (the CSP allows no inline script).
"""
from __future__ import annotations

from flask import render_template, request

from engine.services import CHINA, replies, stats

from .common import current_actor, duban, page_number

PER_PAGE = 20
YEARS_SHOWN = 5


def routes(bp) -> None:
    bp.add_url_rule("/dashboard", "dashboard", dashboard)


def dashboard():
    actor = current_actor()
    this_year = duban().clock.now().astimezone(CHINA).year
    years = list(range(this_year, this_year - YEARS_SHOWN, -1))
    year = request.args.get("year", type=int)
    year = year if year in years else None
    page = page_number()
    board = stats.dashboard(duban(), actor, year=year, page=page, per_page=PER_PAGE)
    charts = {
        "units": [{k: u[k] for k in ("unit_name", "total", "open", "overdue", "completed")} for u in board["units"]],
        "statuses": [s for s in board["summary"]["statuses"] if s["count"]],
        "trend": board["trend"],
    }
    # 省长信箱, 人大建议, 政协提案: reply and satisfaction rates (engine/services/replies.py), its own panel.
    sources = replies.source_stats(duban(), actor, year=year)
    return render_template("dashboard.html", board=board, charts=charts, year=year, years=years, page=page,
                           per_page=PER_PAGE, sources=sources)
