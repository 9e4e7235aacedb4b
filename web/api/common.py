"""Helpers shared by the API resources."""
from __future__ import annotations

import marshmallow
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from ..auth import current_actor, duban

__all__ = ["Blueprint", "actor", "duban", "paged", "authenticated_blueprint"]


class _Parser(FlaskParser):
    """webargs makes a new instance of a schema class for every request it parses (flask-smorest hands
    it classes: the arguments and the page parameters); one instance per class serves them all here
    (a schema keeps nothing of the request it loads)."""

    def __init__(self):
        super().__init__()
        self._schemas: dict = {}

    def _get_schema(self, argmap, req):
        if isinstance(argmap, type) and issubclass(argmap, marshmallow.Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas.setdefault(argmap, argmap())
            return schema
        return super()._get_schema(argmap, req)


class Blueprint(SmorestBlueprint):
    """flask-smorest's blueprint, without building schemas on every request."""

    ARGUMENTS_PARSER = PAGINATION_ARGUMENTS_PARSER = _Parser()

    @staticmethod
    def _make_pagination_metadata(page, page_size, item_count):
        # flask-smorest's, which builds a PaginationMetadataSchema per request to dump these integers.
        metadata = {"total": item_count, "total_pages": 0}
        if item_count:
            last = (item_count - 1) // page_size + 1
            metadata.update(total_pages=last, first_page=1, last_page=last)
            if page <= last:
                metadata["page"] = page
                if page > 1:
                    metadata["previous_page"] = page - 1
                if page < last:
                    metadata["next_page"] = page + 1
        return metadata


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
