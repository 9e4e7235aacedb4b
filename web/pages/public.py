"""公示 (/public): the public board of published items, for anyone, no sign-in.

What may be shown is engine/services/public.py's and engine/access.py's to decide; this view only
reads the filters, asks, and renders (phones first: the rows become cards on a narrow screen).
"""
from __future__ import annotations

from flask import render_template, request

from engine import services
from engine.errors import InvalidInput
from engine.services import public

from .common import duban, page_number


def routes(bp) -> None:
    bp.add_url_rule("/public", "public", board)


def board():
    page = page_number()
    error, rows, total = None, [], 0
    try:
        filters = public.PublicFilter.from_args(request.args)
    except InvalidInput as invalid:
        filters, error = public.PublicFilter(), invalid.message
    else:
        rows, total = public.list_published(duban(), filters, page, public.PER_PAGE)
    units = [u for u in services.list_units(duban()) if u["kind"] == "unit"]
    pages = max((total + public.PER_PAGE - 1) // public.PER_PAGE, 1)
    return render_template("public.html", items=rows, total=total, page=page, pages=pages, filters=filters,
                           units=units, statuses=public.STATUS_CHOICES, per_page=public.PER_PAGE,
                           error=error), 422 if error else 200
