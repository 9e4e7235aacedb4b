"""What every page view needs: the signed-in actor, services, error pages."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import redirect, render_template, request, url_for

from engine import untrusted
from engine.errors import AuthenticationFailed, InvalidInput
from engine.services import LIGHTS  # noqa: F401 - the domain's names, as exports and the API use them; for the pages

from ..auth import SessionExpired, current_actor, duban  # noqa: F401 - re-exported for the page modules

MAX_PAGE = 10**6
ERROR_TITLES = {400: "请求有误", 403: "无权访问", 404: "未找到", 405: "不支持的操作", 409: "操作冲突",
                413: "内容过大", 422: "输入有误", 500: "服务器内部错误"}


def page_number() -> int:
    """The `page` query argument, from 1 to MAX_PAGE (past the end of any list; it keeps OFFSET a number
    the database takes)."""
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def field_errors(error: InvalidInput) -> dict:
    """{field: message} of a refused form, shown beside its fields; an error naming no field is the
    form's own ({None: message}), shown above them."""
    return {d.get("field"): d.get("message") for d in error.details} or {None: error.message}


def safe_next(target: str | None) -> str:
    """Only local paths: a login link must not send the user to another site."""
    if not target:
        return url_for("pages.inbox")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.inbox")
    return target


def page_error_response(status: int, message: str, error=None):
    """An HTML error page; an unauthenticated visitor is sent to sign in instead."""
    if isinstance(error, AuthenticationFailed) or status == 401:
        reason = message if isinstance(error, SessionExpired) else None
        return redirect(url_for("pages.login", next=request.full_path.rstrip("?"), reason=reason))
    title = ERROR_TITLES.get(status, "出错了")
    return render_template("error.html", status=status, title=title, message=untrusted.cap(message)), status
