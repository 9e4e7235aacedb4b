"""The ledger (台账), the inbox, the dashboard and 通报 at 100,000 items on PostgreSQL: latency of the
service calls.

The data is written by bulk SQL (generate_series), not through the workflow, with a fixed seed:
100,000 items (DUBAN_BENCH_ITEMS) over three years across 8 handling units, 55 % closed and 30 % in
progress, lead and co-units with deadlines around "now" (so all three lights occur), reported and
accepted parts, urge limits and escalations, completed task history and the open tasks each status
implies, 通报批评 of the escalated parts, 领导表扬 of some accepted ones, replies to the 信箱/建议/提案
items, and the office designated on some secret items. Then ~200 ledger queries (first pages with
filters, light=red and yellow, text search, sorted by deadline, one unit, as the office and as units)
and ~100 inbox queries (`list_tasks` for the office, a leader and units) run through the service
functions, and the 95th percentiles are reported in milliseconds; then the dashboard (the service
calls of /dashboard: stats.dashboard and replies.source_stats, for the office over all years and one
year and a later page of the overdue list, a leader, a unit and 纪委; p95), and 通报 (preview and
issue, .docx included, of a past month, this month and a quarter; medians).
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url

from engine import services
from engine.bootstrap import bootstrap
from engine.clock import FixedClock
from engine.config import Settings
from engine.domain import deadlines
from engine.migrate import upgrade
from engine.models import Definition, Item, Unit, User
from engine.services import bulletins, calendar as calendar_service, replies, stats
from engine.services.auth import actor_of

COUNT = int(os.environ.get("DUBAN_BENCH_ITEMS", "100000"))
# A Friday morning in Beijing, a week before a deadline-heavy month end.
NOW = datetime(2026, 11, 20, 10, 0)
UNITS = ["fgj", "czj", "jyj", "zjj", "wjj", "gaj", "sfj", "nyj"]
MORE_UNITS = [("wjj", "卫健局"), ("gaj", "公安局"), ("sfj", "司法局"), ("nyj", "农业农村局")]
TOPICS = ["优化营商环境", "重点项目建设", "乡村振兴", "安全生产", "民生实事", "生态环境整治", "招商引资",
          "教育均衡发展", "老旧小区改造", "防汛抗旱"]

# Item attributes drawn once per item; everything else is derived from them in SQL.
_GEN = """
CREATE TEMP TABLE gen AS
SELECT n, st AS status,
       CASE WHEN st IN ('closed', 'rejected', 'terminated')
            THEN :now - make_interval(days => 60 + floor(r_age * 1000)::int, secs => r_sec * 36000)
            ELSE :now - make_interval(days => floor(r_age * 45)::int, secs => r_sec * 36000) END AS created_at,
       r_src, r_cat, r_cls, r_unit, r_co, r_dl
FROM (SELECT n, random() AS r_age, random() AS r_sec, random() AS r_src, random() AS r_cat, random() AS r_cls,
             random() AS r_unit, random() AS r_co, random() AS r_dl,
             CASE WHEN s < 0.55 THEN 'closed' WHEN s < 0.85 THEN 'in_progress' WHEN s < 0.87 THEN 'drafting'
                  WHEN s < 0.89 THEN 'approving' WHEN s < 0.91 THEN 'assigning' WHEN s < 0.93 THEN 'signoff'
                  WHEN s < 0.95 THEN 'feedback' WHEN s < 0.98 THEN 'rejected' ELSE 'terminated' END AS st
      FROM (SELECT n, random() AS s FROM generate_series(1, :count) AS n) AS draws) AS drawn
"""
_INSTANCES = """
INSERT INTO instances (id, definition_id, definition_key, status, state, data, trail, started_by, started_at,
                       updated_at, ended_at, version)
SELECT n, :definition, 'duban_main',
       CASE status WHEN 'closed' THEN 'completed' WHEN 'rejected' THEN 'completed'
                   WHEN 'terminated' THEN 'terminated' ELSE 'running' END,
       '{}', '{}', '[]', 'office', created_at, created_at,
       CASE WHEN status IN ('closed', 'rejected', 'terminated') THEN created_at + interval '20 days' END, 1
FROM gen
"""
_ITEMS = """
INSERT INTO items (id, instance_id, title, content, source, category, classification, deadline,
                   deadline_explicit, deadline_provisional, status, lead_unit_id, created_by, created_at, closed_at)
SELECT n, n, '关于' || (CAST(:topics AS text[]))[1 + n % 10] || '的督办事项（第' || n || '号）',
       '按照县委常委会议定事项推进' || (CAST(:topics AS text[]))[1 + (n / 10) % 10] || '，按月报告进展。',
       (ARRAY['decision','document','meeting','instruction','target','style','statistics','mailbox',
              'npc_suggestion','cppcc_proposal','other'])[1 + floor(r_src * 11)::int],
       CASE WHEN r_cat < 0.8 THEN 'normal' WHEN r_cat < 0.95 THEN 'major' ELSE 'urgent' END,
       CASE WHEN r_cls < 0.3 THEN 'public' WHEN r_cls < 0.95 THEN 'internal' ELSE 'secret' END,
       (date_trunc('day', created_at AT TIME ZONE 'Asia/Shanghai')
        + make_interval(days => 10 + floor(r_dl * 30)::int) + interval '17 hours 30 minutes')
         AT TIME ZONE 'Asia/Shanghai',
       false, false, status,
       CASE WHEN status IN ('in_progress', 'signoff', 'feedback', 'closed', 'terminated')
            THEN (CAST(:units AS text[]))[1 + floor(r_unit * 8)::int] END,
       'office', created_at,
       CASE WHEN status IN ('closed', 'rejected', 'terminated') THEN created_at + interval '20 days' END
FROM gen
"""
# Lead units, then one co-unit for half the items and a second for a fifth of them.
_PARTS = """
INSERT INTO item_units (item_id, unit_id, role, deadline, committed_date, first_responsible, responsible,
                        handler, received_at, reported_at, accepted_at)
SELECT i.id, (CAST(:units AS text[]))[1 + (floor(g.r_unit * 8)::int + p.offset_) % 8], p.role, i.deadline, NULL,
       '局长', '科长' || i.id % 50, '科员' || i.id % 97, i.created_at + interval '2 days',
       CASE WHEN i.status IN ('closed', 'signoff', 'feedback') OR (i.status = 'in_progress' AND random() < 0.35)
            THEN i.created_at + interval '8 days' END,
       NULL
FROM items i JOIN gen g ON g.n = i.id
CROSS JOIN LATERAL (VALUES (0, 'lead', true),
                           (1 + floor(g.r_co * 12)::int % 6, 'co', g.r_co < 0.5),
                           (7, 'co', g.r_co < 0.2)) AS p(offset_, role, present)
WHERE p.present AND i.status IN ('in_progress', 'signoff', 'feedback', 'closed', 'terminated')
"""
_PROGRESS = [
    # accepted reports; overdue parts urged with a new limit, some escalated to 纪委
    "UPDATE item_units SET accepted_at = reported_at + interval '1 day' "
    "WHERE reported_at IS NOT NULL AND (item_id % 3 <> 0 OR item_id IN "
    "(SELECT id FROM items WHERE status <> 'in_progress'))",
    "UPDATE item_units SET urged_at = deadline, urge_limit = deadline + interval '5 days' "
    "WHERE reported_at IS NULL AND deadline < :now AND item_id % 2 = 0 "
    "AND item_id IN (SELECT id FROM items WHERE status = 'in_progress')",
    "UPDATE item_units SET escalated_at = urge_limit WHERE urge_limit < :now AND item_id % 4 = 0",
]
_TASKS = """
INSERT INTO tasks (id, instance_id, item_id, element_id, name, lane, role, unit_id, assignee, form_key, state,
                   due_at, created_at, claimed_at, completed_at, completed_by)
{select}
"""
_TASK_SELECTS = [
    # history: the office's draft and the leader's approval of every item past them
    "SELECT gen_random_uuid()::text, id, id, e.element, e.name, e.role, e.role, NULL, e.who, e.element, "
    "'completed', created_at + interval '1 day', created_at, NULL, created_at + e.after, e.who "
    "FROM items CROSS JOIN (VALUES ('draft_opinion', '拟办', 'office', 'office', interval '1 hour'), "
    "('leader_approval', '领导审批', 'leader', 'leader', interval '5 hours')) AS e(element, name, role, who, after) "
    "WHERE status NOT IN ('drafting')",
    # open tasks of items still before assignment, or after the units
    "SELECT gen_random_uuid()::text, id, id, e.element, e.name, e.role, e.role, NULL, NULL, e.element, 'open', "
    "created_at + interval '1 day', created_at, NULL, NULL, NULL FROM items JOIN (VALUES "
    "('drafting', 'draft_opinion', '拟办', 'office'), ('approving', 'leader_approval', '领导审批', 'leader'), "
    "('assigning', 'assign', '交办', 'office'), ('signoff', 'leader_signoff', '领导签发', 'leader'), "
    "('feedback', 'feedback', '反馈销号', 'office')) AS e(status, element, name, role) ON e.status = items.status",
    # units' open reports (a fifth claimed by a person), and the office's reviews of reported parts
    "SELECT gen_random_uuid()::text, p.item_id, p.item_id, 'unit_report', '办结报告', 'unit', 'unit', p.unit_id, "
    "CASE WHEN p.unit_id = 'fgj' AND p.id % 5 = 0 THEN 'unit_a' END, 'unit_report', 'open', "
    "coalesce(p.urge_limit, p.deadline), p.received_at, NULL, NULL, NULL "
    "FROM item_units p JOIN items i ON i.id = p.item_id WHERE i.status = 'in_progress' AND p.reported_at IS NULL",
    "SELECT gen_random_uuid()::text, p.item_id, p.item_id, 'office_review', '审核', 'office', 'office', p.unit_id, "
    "NULL, 'office_review', 'open', p.reported_at + interval '3 days', p.reported_at, NULL, NULL, NULL "
    "FROM item_units p JOIN items i ON i.id = p.item_id "
    "WHERE i.status = 'in_progress' AND p.reported_at IS NOT NULL AND p.accepted_at IS NULL",
    # 催办 for urged parts, waiting in the office's inbox until the limit
    "SELECT gen_random_uuid()::text, p.item_id, p.item_id, 'urge', '催办', 'office', 'office', p.unit_id, NULL, "
    "'urge', CASE WHEN p.item_id % 3 = 0 THEN 'open' ELSE 'completed' END, p.urge_limit, p.urged_at, NULL, "
    "CASE WHEN p.item_id % 3 = 0 THEN NULL ELSE p.urged_at + interval '1 hour' END, "
    "CASE WHEN p.item_id % 3 = 0 THEN NULL ELSE 'office' END FROM item_units p WHERE p.urged_at IS NOT NULL",
]


# 通报批评 of every escalated part, 领导表扬 of a tenth of the accepted lead parts, replies (and
# satisfaction) to three quarters of the 信箱/建议/提案 items, the office designated on a third of the
# secret items.
_EXTRAS = [
    "INSERT INTO criticisms (item_id, unit_id, reason, note, created_at) "
    "SELECT item_id, unit_id, 'escalated', '', escalated_at FROM item_units WHERE escalated_at IS NOT NULL",
    "INSERT INTO praises (item_id, unit_id, by, note, at) "
    "SELECT item_id, unit_id, 'leader', '按期高质量完成', accepted_at + interval '1 day' FROM item_units "
    "WHERE role = 'lead' AND accepted_at IS NOT NULL AND item_id % 10 = 0 AND accepted_at + interval '1 day' < :now",
    "INSERT INTO source_replies (item_id, requester_name, requester_contact, reply_text, replied_at, replied_by, "
    "satisfaction, satisfaction_on, satisfaction_by, satisfaction_note, updated_at, history) "
    "SELECT id, '来信人' || id % 100, '', CASE WHEN id % 4 <> 0 THEN '已答复' END, "
    "CASE WHEN id % 4 <> 0 THEN created_at + make_interval(days => id % 30) END, "
    "CASE WHEN id % 4 <> 0 THEN 'office' END, "
    "CASE WHEN id % 4 <> 0 THEN (ARRAY['satisfied', 'basically_satisfied', 'dissatisfied'])[1 + id % 3] END, "
    "NULL, NULL, '', created_at, '[]' FROM items "
    "WHERE source IN ('mailbox', 'npc_suggestion', 'cppcc_proposal') AND created_at + interval '30 days' < :now",
    "INSERT INTO item_designees (item_id, user_id, added_by, added_at) "
    "SELECT i.id, u.id, 'office', i.created_at FROM items i JOIN users u ON u.username = 'office' "
    "WHERE i.classification = 'secret' AND i.id % 3 = 0",
]


def measures(postgres_url: str) -> dict:
    """{"ledger_p95_100k": (ms, "ms"), "inbox_p95_100k": ..., "dashboard_p95_100k": ...,
    "bulletin_preview_100k": ..., "bulletin_issue_100k": ...} on a fresh database."""
    with _database(postgres_url) as url, tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        duban = _prepare(url, Path(folder))
        print(f"ledger bench: {COUNT} items prepared in {time.perf_counter() - started:.1f} s")
        try:
            actors = _actors(duban)
            ledger = _p95([lambda q=q: services.list_items(duban, actors[q[0]], **q[1]) for q in _ledger_queries()])
            inbox = _p95([lambda q=q: services.list_tasks(duban, actors[q[0]], **q[1]) for q in _inbox_queries()])
            dashboard = _p95([lambda q=q: _dashboard(duban, actors[q[0]], **q[1]) for q in _dashboard_queries()],
                             warm_up=6)
            office = actors["office"]
            preview = _median([lambda p=p: bulletins.preview(duban, office, p) for p in _BULLETIN_PERIODS * 3])
            issue = _median([lambda p=p: bulletins.generate(duban, office, p, confirm_reissue=True)
                             for p in _BULLETIN_PERIODS * 3])
        finally:
            duban.db.dispose()
    return {"ledger_p95_100k": (ledger, "ms"), "inbox_p95_100k": (inbox, "ms"),
            "dashboard_p95_100k": (dashboard, "ms"), "bulletin_preview_100k": (preview, "ms"),
            "bulletin_issue_100k": (issue, "ms")}


@contextmanager
def _database(base_url: str):
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    name = f"duban_bench_ledger_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepare(url: str, folder: Path):
    clock = FixedClock(NOW)
    duban = bootstrap(Settings.from_env({}, var_dir=folder, database_url=url, secret_key="bench"), clock=clock)
    upgrade(duban.db)
    calendar_service.sync_official(duban)
    services.seed_demo(duban)
    root = Path(__file__).resolve().parents[1] / "bpmn"
    services.deploy(duban, {"duban_main.bpmn": (root / "duban_main.bpmn").read_bytes()},
                    {p.name: p.read_bytes() for p in (root / "forms").glob("*.form")})
    now = clock.now()
    with duban.db.transaction() as session:
        for sort, (unit_id, name) in enumerate(MORE_UNITS, start=20):
            session.add(Unit(id=unit_id, name=name, kind="unit", sort=sort))
        definition = session.scalar(select(Definition.id).where(Definition.key == "duban_main"))
        run = lambda sql, **params: session.execute(text(sql), params)  # noqa: E731
        run("SELECT setseed(0.42)")
        run(_GEN, now=now, count=COUNT)
        run(_INSTANCES, definition=definition)
        run(_ITEMS, topics=TOPICS, units=UNITS)
        run(_PARTS, units=UNITS)
        for sql in _PROGRESS:
            run(sql, now=now)
        for select_sql in _TASK_SELECTS:
            run(_TASKS.format(select=select_sql))
        for sql in _EXTRAS:
            run(sql, now=now)
        # Rows written past the ORM set their first due time here (planned with the new rows' statistics).
        run("ANALYZE items, item_units")
        session.execute(update(Item).values(due_first=deadlines.first_due_sql()))
        for table in ("instances", "items", "item_units"):
            run(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with duban.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # The table compact again after the first due times were written (an UPDATE leaves every old row
        # behind), as a database whose rows were written once by the ORM is.
        connection.execute(text("VACUUM FULL items"))
        connection.execute(text("VACUUM ANALYZE"))
    return duban


def _actors(duban) -> dict:
    with duban.db.reading() as session:
        return {u.username: actor_of(u) for u in session.scalars(select(User))}


def _ledger_queries() -> list[tuple[str, dict]]:
    today = NOW.date()
    month_ago = today - timedelta(days=30)
    shapes = [
        ("office", {}),
        ("office", {"light": "red"}),
        ("office", {"light": "yellow"}),
        ("office", {"light": "red", "unit": "jyj"}),
        ("office", {"text": "营商环境"}),
        ("office", {"text": "第4242号"}),
        ("office", {"sort": "deadline", "status": "in_progress"}),
        ("office", {"sort": "-deadline"}),
        ("office", {"unit": "czj"}),
        ("office", {"unit": "gaj", "status": "in_progress", "sort": "deadline"}),
        ("office", {"status": "closed", "source": "instruction"}),
        ("office", {"registered_from": month_ago, "registered_to": today}),
        ("office", {"deadline_from": today, "deadline_to": today + timedelta(days=14), "sort": "deadline"}),
        ("office", {"classification": "secret", "category": "major"}),
        ("office", {"page": 20}),
        ("office", {"sort": "title"}),
        ("unit_a", {}),
        ("unit_a", {"light": "red"}),
        ("unit_b", {"status": "in_progress", "sort": "deadline"}),
        ("discipline", {}),
    ]
    return [shapes[i % len(shapes)] for i in range(200)]


def _inbox_queries() -> list[tuple[str, dict]]:
    shapes = [("office", {}), ("office", {"page": 3}), ("leader", {}), ("unit_a", {}), ("unit_a", {"scope": "mine"}),
              ("unit_b", {}), ("unit_b", {"scope": "unit"}), ("discipline", {})]
    return [shapes[i % len(shapes)] for i in range(100)]


def _dashboard(duban, actor, year=None, page=1) -> None:
    """What /dashboard asks of the services (web/pages/dashboard.py)."""
    stats.dashboard(duban, actor, year=year, page=page, per_page=20)
    replies.source_stats(duban, actor, year=year)


def _dashboard_queries() -> list[tuple[str, dict]]:
    shapes = [("office", {}), ("office", {"year": NOW.year}), ("office", {"page": 5}), ("leader", {}),
              ("unit_a", {}), ("discipline", {})]
    return shapes * 5


# A month past, this month (as of now) and a quarter.
_BULLETIN_PERIODS = [f"{NOW.year}-{NOW.month - 1:02d}", f"{NOW.year}-{NOW.month:02d}", f"{NOW.year}-Q3"]


def _timings(calls, warm_up: int) -> list[float]:
    for call in calls[:warm_up]:
        call()
    timings = []
    for call in calls:
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _p95(calls, warm_up: int = 25) -> float:
    """Milliseconds under which 95 % of the calls finished (after a warm-up pass over the first ones)."""
    return statistics.quantiles(_timings(calls, warm_up), n=20)[-1]


def _median(calls) -> float:
    """The median in milliseconds (after one warm-up call)."""
    return statistics.median(_timings(calls, 1))


def main() -> None:
    """`python -m bench.ledger`: these measures alone."""
    url = os.environ.get("DUBAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    for name, (value, unit) in measures(url).items():
        print(f"{name:<28}{value:>12.2f}  {unit}")


if __name__ == "__main__":
    main()
