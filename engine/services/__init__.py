"""The engine's use cases: the one surface web/ and workers/ reach the engine through.

Each takes the `Duban` context first, then ids and plain values; each change is one transaction.

web/ and workers/ import from here and nothing deeper: `from engine import services` (then
`services.list_items(...)`), or `from engine.services import <name>` for a name in `__all__` below — a
use-case module (`ledger`, `stats`, …), a contract function, or a word of the vocabulary callers pass and
read back (roles, item statuses and lights, China's time zone). Never `engine.services.<module>`, never
`engine.domain`, `engine.models` or `engine.bpmn`. A name is imported under its own name, or as
`<name>_service` where a view of the same name would hide it. Besides this package they may import
`engine.config` (the settings), `engine.errors` (what they map to HTTP answers), `engine.texts` (the
message catalogue) and `engine.untrusted` (checks on what a request carries); the process entry points
(web/__init__.py, web/gunicorn_conf.py, workers/runner.py, workers/scheduler.py) also `engine.bootstrap`,
`engine.logs` and `duban.cli`. tests/unit/test_engine_surface.py holds web/ and workers/ to this.
"""
from ..clock import CHINA
from ..domain.items import CATEGORIES, CLASSIFICATIONS, DROPPED_STATUSES, ENDED_STATUSES, LIGHTS, SOURCES, STATUSES
from ..domain.main_process import KEY as MAIN_PROCESS_KEY
from ..domain.roles import (
    ADMIN,
    DESIGNER,
    LANE_ROLES,
    OFFICE,
    ROLES,
    SECADMIN,
    SUPERVISORS,
    SYSTEM_ADMINS,
    UNIT,
    WORKER,
)
from . import (
    accounts,
    archive,
    assessment,
    audit,
    audit_export,
    bulletins,
    calendar,
    checklists,
    connector_tasks,
    connectors,
    decisions,
    documents,
    dossier,
    export,
    external_tasks,
    files,
    items,
    ledger,
    modeler,
    notifications,
    operations,
    org,
    people,
    print_sheet,
    progress,
    public,
    replies,
    starting,
    stats,
    timers,
    user_import,
    users,
)
from .auth import SESSION, SessionIdle, actor_for_token, issue_token, login, revoke_token
from .deploy import definition_forms, definition_xml, deploy, latest_version, list_definitions, validate
from .duplicates import close_items
from .export import XLSX
from .extensions import list_extensions, request_extension
from .instances import get_instance, list_instances, start_instance
from .items import get_item, list_items, register_item
from .ledger import SORT_KEYS
from .messages import send_message
from .org import list_units, seed_demo
from .tasks import claim_task, complete_task, get_task, list_tasks, unclaim_task
from .withdrawal import may_withdraw_item, withdraw_item

__all__ = [
    # use-case modules
    "accounts", "archive", "assessment", "audit", "audit_export", "bulletins", "calendar", "checklists",
    "connector_tasks", "connectors", "decisions", "documents", "dossier", "export", "external_tasks", "files",
    "items", "ledger", "modeler", "notifications", "operations", "org", "people", "print_sheet", "progress",
    "public", "replies", "starting", "stats", "timers", "user_import", "users",
    # the contract's use cases, and a few more
    "actor_for_token", "claim_task", "close_items", "complete_task", "definition_forms", "definition_xml",
    "deploy", "get_instance", "get_item", "get_task", "issue_token", "latest_version", "list_definitions",
    "list_extensions", "list_instances", "list_items", "list_tasks", "list_units", "login",
    "may_withdraw_item", "register_item", "request_extension", "revoke_token", "seed_demo", "send_message",
    "start_instance", "unclaim_task", "validate", "withdraw_item",
    # vocabulary
    "ADMIN", "CATEGORIES", "CHINA", "CLASSIFICATIONS", "DESIGNER", "DROPPED_STATUSES", "ENDED_STATUSES",
    "LANE_ROLES", "LIGHTS", "MAIN_PROCESS_KEY", "OFFICE", "ROLES", "SECADMIN", "SESSION", "SORT_KEYS", "SOURCES",
    "STATUSES", "SUPERVISORS", "SYSTEM_ADMINS", "SessionIdle", "UNIT", "WORKER", "XLSX",
]
