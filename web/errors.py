"""One JSON error shape for the API, mapped once from the engine's errors and HTTP errors."""
from __future__ import annotations

import logging
import re

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from engine import errors, untrusted
from engine.texts import text

from .pages.common import page_error_response

log = logging.getLogger(__name__)

STATUS = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.AuthenticationFailed: 401,
    errors.Forbidden: 403,
    errors.Conflict: 409,
    errors.ProcessError: 422,
}
HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
              422: "invalid_input", 429: "too_many_requests"}


# The exception names Camunda 7's REST API gives its errors, by status (external task endpoints).
CAMUNDA_TYPES = {400: "InvalidRequestException", 401: "AuthenticationException", 403: "AuthorizationException",
                 404: "RestException", 409: "BadUserRequestException", 422: "InvalidRequestException",
                 500: "ProcessEngineException"}


def status_of(error: errors.DubanError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


# At most this many details: a form or a deployment with thousands of faults needs only the first ones.
MAX_DETAILS = 50


def capped_details(details) -> list:
    """The first MAX_DETAILS details, each text in them cut to untrusted.MAX_MESSAGE_CHARS."""
    return [{key: untrusted.cap(value) if isinstance(value, str) else value for key, value in detail.items()}
            if isinstance(detail, dict) else untrusted.cap(detail) for detail in (details or [])[:MAX_DETAILS]]


def error_response(status: int, code: str, message: str, details=None):
    # Capped here, once: an error's text may come from a script's exception or echo what was sent.
    body = {"error": code, "message": untrusted.cap(message), "details": capped_details(details)}
    if "/external-task" in request.path:  # Camunda's clients read `type` beside the message
        body["type"] = CAMUNDA_TYPES.get(status, "RestException")
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="duban"'
    return response


_CHINESE = re.compile(r"[\u3400-\u9fff]")

# marshmallow's (webargs') words for a field, by the start of its English message.
_FIELD_WORDS = (("Missing data for required field", "http.field.required"),
                ("Field may not be null", "http.field.null"),
                ("Unknown field", "http.field.unknown"), ("Not a valid integer", "http.field.integer"),
                ("Not a valid number", "http.field.number"), ("Not a valid string", "http.field.string"),
                ("Not a valid boolean", "http.field.boolean"), ("Not a valid list", "http.field.list"),
                ("Not a valid mapping", "http.field.object"), ("Invalid input type", "http.field.type"))


def chinese(status: int, message: str) -> str:
    """The message people read: as given when it is Chinese, else the catalogue's words for the status
    (werkzeug's English descriptions, refusals whose code has no catalogue key yet)."""
    if isinstance(message, str) and _CHINESE.search(message):
        return message
    return text(f"http.{status}") if f"http.{status}" in _STATUS_KEYS else text("http.error")


_STATUS_KEYS = {f"http.{code}" for code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429)}


def _field_message(message: str) -> str:
    if _CHINESE.search(message):
        return message
    for start, key in _FIELD_WORDS:
        if message.startswith(start):
            return text(key)
    for pattern, key in _FIELD_LIMITS:
        found = pattern.match(message)
        if found:
            return text(key, **found.groupdict())
    return text("http.field.invalid")


# marshmallow's validators (Length, Range, OneOf) and date fields, with the limits they name.
_FIELD_LIMITS = tuple((re.compile(pattern), key) for pattern, key in (
    (r"Shorter than minimum length 1\.", "http.field.required"),
    (r"Shorter than minimum length (?P<min>\d+)\.", "http.field.min_length"),
    (r"Longer than maximum length (?P<max>\d+)\.", "http.field.max_length"),
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.", "http.field.length"),
    (r"Must be greater than or equal to (?P<min>-?[\d.]+) and less than or equal to (?P<max>-?[\d.]+)\.",
     "http.field.range"),
    (r"Must be greater than or equal to (?P<min>-?[\d.]+)\.", "http.field.at_least"),
    (r"Must be less than or equal to (?P<max>-?[\d.]+)\.", "http.field.at_most"),
    (r"Must be one of: (?P<choices>.+)\.", "http.field.one_of"),
    (r"Not a valid (?:datetime|date)\.", "http.field.date"),
))


def _wants_json() -> bool:
    return request.path.startswith("/api") or request.path == "/healthz" \
        or request.accept_mimetypes.best == "application/json"


def register(app) -> None:
    @app.errorhandler(errors.DubanError)
    def _duban_error(error):
        status = status_of(error)
        if not _wants_json():
            return page_error_response(status, chinese(status, error.message), error)
        return error_response(status, error.code, chinese(status, error.message), error.details)

    @app.errorhandler(HTTPException)
    def _http_error(error):
        if not _wants_json():
            return page_error_response(error.code or 500, chinese(error.code, error.description))
        details = []
        data = getattr(error, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if messages:
            # webargs/marshmallow: {"json": {"field": ["message"]}} -> [{"field", "message"}]
            for location, fields in messages.items():
                for field, said in (fields.items() if isinstance(fields, dict) else [(None, fields)]):
                    for one in said if isinstance(said, list) else [said]:
                        details.append({"field": field, "location": location, "message": _field_message(str(one))})
        message = details[0]["message"] if details else chinese(error.code, error.description)
        if details and details[0]["field"]:
            message = f"{details[0]['field']}：{message}"
        return error_response(error.code or 500, HTTP_CODES.get(error.code, "error"), message, details)

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_response(500, "internal_error", "服务器内部错误，已记录，请稍后再试。")
        return page_error_response(500, "服务器内部错误，已记录，请稍后再试。")
