"""Every statement of the main path is one SQLAlchemy can cache: compiling a statement costs more CPU than
running it (the audit records' VALUES, compiled anew at every step, were ~5 ms of a step on PostgreSQL)."""
from __future__ import annotations

from psycopg import _queries
from sqlalchemy import event
from sqlalchemy.engine.default import NO_CACHE_KEY

from tests.support.statements import statements_sent

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


def test_psycopg_converts_each_statement_of_the_main_path_once(duban_pg, org_pg, monkeypatch):
    """psycopg turns %(name)s into $n by a regex, by itself remembering it only for statements within 4 KB
    and 50 parameters; a step's audit statement is longer (db.make_engine widens those bounds)."""
    converted = []
    unremembered = _queries._query2pg_nocache

    def converting(query, encoding):
        converted.append(query)
        return unremembered(query, encoding)

    _main_path(duban_pg, org_pg)
    monkeypatch.setattr(_queries, "_query2pg_nocache", converting)  # what convert calls past the bounds
    misses = _queries._query2pg.cache_info().misses
    with statements_sent(duban_pg) as sent:
        _main_path(duban_pg, org_pg)
    assert converted == [] and _queries._query2pg.cache_info().misses == misses
    folded = [statement for statement in sent if statement.startswith("WITH")]
    assert folded and max(len(statement) for statement in folded) > 4096
