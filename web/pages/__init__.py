"""The handlers' pages (server-rendered, in Chinese): sign-in, inbox, task forms, 立项, items.

Views are thin: they read the signed-in actor, call a service, render a template. Refusals from
the services (403, 404) become HTML error pages; a missing or lapsed session goes to /login.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlencode

from flask import Blueprint, g

from engine import services
from engine.services import CHINA, dossier

from ..auth import csrf_token, optional_actor
from . import (
    account,
    admin,
    assessment,
    bulletins,
    connectors,
    dashboard,
    documents,
    extensions,
    instances,
    item_controls,
    items,
    modeler,
    notifications,
    praise,
    progress,
    public,
    start,
    tasks,
)
from .common import LIGHTS, duban, page_error_response

bp = Blueprint("pages", __name__)
for module in (account, admin, tasks, items, extensions, praise, instances, modeler, notifications, dashboard,
               documents, public, assessment, bulletins, progress, start, item_controls, connectors):
    module.routes(bp)


ACTIONS = {"started": "启动", "completed": "办理", "timer_fired": "到期", "claimed": "领取", "message": "收到消息",
           "incident": "出错", "task_cancelled": "撤销", "task_created": "生成任务", "suspended": "挂起",
           "resumed": "恢复",
           "terminated": "终止", "retried": "重试", "migrated": "迁移版本", "completed_instance": "流程结束",
           "extension_requested": "申请延期", "extension_approved": "同意延期", "extension_refused": "不同意延期",
           "withdrawn": "撤销事项", "external_task_created": "等待外部任务", "external_task_completed": "外部任务完成",
           "external_task_failed": "外部任务失败", "external_task_bpmn_error": "外部任务报告业务错误",
           "external_task_cancelled": "外部任务取消"}


def register(app) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(_local, "local")
    app.add_template_filter(readable, "readable")
    app.add_template_filter(_pager, "pager")
    app.add_template_filter(_person, "person")
    app.add_template_filter(_unit_name, "unit_name")

    @app.context_processor
    def _page_globals():
        return {"me": optional_actor(), "csrf_token": csrf_token, "LIGHTS": LIGHTS, "ACTIONS": ACTIONS,
                "may_start": start.may_start_anything}


def _local(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as Beijing time (deadlines are Beijing working days, whatever the server's zone)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime(fmt)


def readable(value, day: bool = False) -> str:
    """A time as people read it, in Beijing time: 2026年12月3日 17:30 (or 2026年12月3日 with `day`, and
    for a date). The API keeps ISO 8601; this is for pages only."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(CHINA)
        if not day:
            return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    return f"{value.year}年{value.month}月{value.day}日"


def _person(username: str | None) -> str:
    """A person by name (张科长), never by username; read once per request."""
    if "person_names" not in g:
        g.person_names = dossier.people_names(duban())
    return g.person_names.get(username) or username or ""


def _unit_name(unit_id: str | None) -> str:
    """A unit by name (财政局), never by its code."""
    if "unit_names" not in g:
        g.unit_names = services.org.names(duban())
    return g.unit_names.get(unit_id) or unit_id or ""


def _pager(args, page: int) -> str:
    return urlencode({**args.to_dict(), "page": page})


__all__ = ["register", "page_error_response"]
