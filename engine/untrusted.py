"""Reading what people send: JSON of bounded depth, text a database can store, messages of bounded size.

Every request body and uploaded form passes through here before it reaches a service, so that a
hostile document is refused with a Chinese message (422) instead of ending as a 500: Python's JSON
decoder raises RecursionError past ~1000 levels, and text holding a lone UTF-16 surrogate cannot be
encoded as UTF-8 (PostgreSQL and SQLite both fail on it).
"""
from __future__ import annotations

import json
import re

from .texts import text

# Deepest JSON accepted in a request or a form file. Task data is at most 16 levels (engine/forms.py);
# a form-js form nests a group in a few levels. Each level costs a frame wherever the value is walked.
MAX_JSON_DEPTH = 32
# Longest message an error carries (API `message`, `details`, an incident's text): a script's exception
# may be megabytes long, and every list and page that shows it would carry it too.
MAX_MESSAGE_CHARS = 500

_SURROGATE = re.compile("[\ud800-\udfff]")


class Unreadable(ValueError):
    """Raised when untrusted JSON cannot be accepted; `path` names where, when known."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path


class TooDeep(Unreadable):
    """Raised when JSON nests deeper than allowed."""


def parse_json(data: bytes | str, max_depth: int = MAX_JSON_DEPTH):
    """json.loads that refuses documents nested deeper than `max_depth` and undecodable bytes.

    Bytes may be UTF-8 (with or without BOM), UTF-16 or UTF-32, as JSON allows.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode(json.detect_encoding(data))
        except (UnicodeDecodeError, LookupError):
            raise Unreadable(text("input.not_text")) from None
    data = data.removeprefix("\ufeff")
    try:
        value = json.loads(data)
    except RecursionError:
        raise TooDeep(text("input.json_too_deep", limit=max_depth)) from None
    except ValueError as error:
        raise Unreadable(text("input.json_invalid", reason=error)) from None
    if depth_exceeds(value, max_depth):
        raise TooDeep(text("input.json_too_deep", limit=max_depth))
    return value


def depth_exceeds(value, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists and objects nest deeper than `max_depth`, walked without recursion."""
    stack = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, (dict, list, tuple)):
            if depth >= max_depth:
                return True
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, tuple)))
    return False


def unstorable(value) -> tuple[str, str] | None:
    """(dotted path, Chinese reason) of the first string or key no database can store, or None.

    NUL (U+0000) is refused by PostgreSQL's text; a lone surrogate cannot be encoded as UTF-8.
    Walked without recursion, so any depth is safe.
    """
    stack = [("", value)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, str):
            problem = _text_problem(current)
            if problem:
                return path, problem
        elif isinstance(current, dict):
            for key, item in current.items():
                name = f"{path}.{key}" if path else str(key)
                problem = _text_problem(key) if isinstance(key, str) else None
                if problem:
                    return _printable(name), problem
                stack.append((name, item))
        elif isinstance(current, (list, tuple)):
            stack.extend((f"{path}[{i}]" if path else f"[{i}]", item) for i, item in enumerate(current))
    return None


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return text("input.nul")
    if _SURROGATE.search(value):
        return text("input.surrogate")
    return None


def _printable(name: str) -> str:
    """A path fit for a message: its NULs and surrogates shown as escapes."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", name.replace("\x00", "\\x00"))


def cap(message, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`message` as text of at most `limit` characters, an ellipsis marking the cut."""
    message = message if isinstance(message, str) else str(message)
    return message if len(message) <= limit else message[:limit - 1] + "…"
