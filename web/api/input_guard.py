"""Refuse NUL characters (U+0000) in what a request sends, before anything reaches the database.

PostgreSQL's text columns cannot hold NUL, so a title, a note, a unit filter or a form field with one
would otherwise end as a 500 ("PostgreSQL text fields cannot contain NUL (0x00) bytes"). Checked for
every request (API and pages): the path's parameters, the query string, form fields, the JSON body.
Uploaded files are left to their parsers (XML, YAML and CSV reject NUL themselves).
"""
from __future__ import annotations

from flask import request
from werkzeug.exceptions import UnprocessableEntity

MESSAGE = "must not contain NUL characters (U+0000)"


def _find_nul(value) -> str | None:
    """The dotted path of the first string (or key) holding a NUL, walking without recursion."""
    stack = [("", value)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, str):
            if "\x00" in current:
                return path
        elif isinstance(current, dict):
            for key, item in current.items():
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and "\x00" in key:
                    return name
                stack.append((name, item))
        elif isinstance(current, (list, tuple)):
            stack.extend((f"{path}[{i}]" if path else f"[{i}]", item) for i, item in enumerate(current))
    return None


def reject_nul() -> None:
    sources = [("path", request.view_args or {}), ("query", request.args.to_dict(flat=False))]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(("form", request.form.to_dict(flat=False)))
    if request.is_json:
        sources.append(("json", request.get_json(silent=True)))
    for location, values in sources:
        field = _find_nul(values)
        if field is not None:
            error = UnprocessableEntity(f"{field}: {MESSAGE}")
            error.data = {"messages": {location: {field.split("[")[0]: [MESSAGE]}}}
            raise error
