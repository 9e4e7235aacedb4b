"""Refuse what a request sends that no service could handle, before anything reaches the database.

Checked for every request (API and pages), each with a 422 naming the field, in Chinese:
- a JSON body nested deeper than engine.untrusted.MAX_JSON_DEPTH (Python's decoder raises
  RecursionError at ~1000 levels; anything that walks the value later would too);
- NUL characters (U+0000) anywhere: PostgreSQL's text columns cannot hold them;
- lone UTF-16 surrogates (a JSON "\\ud800" escape): no database can encode them as UTF-8.
The path's parameters, the query string, form fields and the JSON body are all looked at. Uploaded
files are left to their parsers (XML, YAML, CSV and form files refuse such text themselves).
"""
from __future__ import annotations

from flask import request
from werkzeug.exceptions import UnprocessableEntity

from engine import untrusted


def reject_unreadable() -> None:
    sources = [("path", request.view_args or {}), ("query", request.args.to_dict(flat=False))]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(("form", request.form.to_dict(flat=False)))
    if request.is_json:
        sources.append(("json", _json_body()))
    for location, values in sources:
        found = untrusted.unstorable(values)
        if found is not None:
            field, problem = found
            raise _refusal(location, field or None, problem)


def _json_body():
    """The parsed JSON body; None when it is not JSON at all (the endpoint's own parser says so)."""
    data = request.get_data(cache=True)
    if not data:
        return None
    try:
        return untrusted.parse_json(data)
    except untrusted.TooDeep as error:
        raise _refusal("json", None, str(error)) from None
    except untrusted.Unreadable:
        return None  # not JSON: the endpoint's parser answers as it always did


def _refusal(location: str, field: str | None, problem: str) -> UnprocessableEntity:
    error = UnprocessableEntity(f"{field}: {problem}" if field else problem)
    error.data = {"messages": {location: {(field.split("[")[0] if field else None): [problem]}}}
    return error
