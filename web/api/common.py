"""Helpers shared by the API resources."""
from __future__ import annotations

from flask_smorest import Blueprint

from ..auth import current_actor, duban

__all__ = ["Blueprint", "actor", "duban", "paged", "authenticated_blueprint"]


def actor():
    return current_actor()


def authenticated_blueprint(name: str, import_name: str, description: str, url_prefix: str = "") -> Blueprint:
    """A blueprint whose every endpoint requires a signed-in caller (401 otherwise)."""
    blp = Blueprint(name, import_name, description=description, url_prefix=url_prefix)

    @blp.before_request
    def _require_caller():
        current_actor()

    return blp


# Any page past this is past the end of any list; it keeps OFFSET inside SQL's 64-bit integers.
MAX_PAGE = 10**9


def paged(pagination_parameters, fetch):
    """Run `fetch(page, per_page)` -> (rows, total) under flask-smorest's pagination."""
    rows, total = fetch(min(pagination_parameters.page, MAX_PAGE), pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return rows
