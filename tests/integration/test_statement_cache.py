"""Every statement of the main path is one SQLAlchemy can cache: compiling a statement costs more CPU than
running it (the audit records' VALUES, compiled anew at every step, were ~5 ms of a step on PostgreSQL)."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine.default import NO_CACHE_KEY

from .flow import RECEIVE, REPORT, complete, through_assignment


def _main_path(duban, org) -> None:
    item = through_assignment(duban, org)
    for user, unit in (("unit_a", "fgj"), ("unit_b", "czj")):
        complete(duban, org[user], "unit_receive", RECEIVE, unit, item["instance_id"])
        complete(duban, org[user], "unit_report", REPORT, unit, item["instance_id"])
        complete(duban, org["office"], "office_review", {"decision": "accept"}, unit, item["instance_id"])
    complete(duban, org["office"], "feedback", {"summary": "已反馈"}, instance_id=item["instance_id"])


def test_the_main_path_sends_only_statements_sqlalchemy_caches(duban, org):
    uncached = []

    def seen(_conn, _cursor, statement, _parameters, context, _many):
        if context.compiled is not None and context.cache_hit is NO_CACHE_KEY:
            uncached.append(statement.split("\n")[0][:120])

    _main_path(duban, org)  # the first path compiles what the later ones reuse
    event.listen(duban.db.engine, "after_cursor_execute", seen)
    try:
        _main_path(duban, org)
    finally:
        event.remove(duban.db.engine, "after_cursor_execute", seen)
    assert uncached == []
