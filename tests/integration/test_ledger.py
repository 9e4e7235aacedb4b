"""The ledger (台账): filters, sorting, pages, the light filter against each item's own light, and the
Excel export read back, on SQLite and on PostgreSQL."""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text as sql, update

from engine import services
from engine.calendar import WorkCalendar
from engine.clock import CHINA
from engine.domain.items import light as domain_light
from engine.errors import InvalidInput
from engine.models import Item, ItemUnit
from engine.services import export, ledger
from engine.services.ledger import LedgerFilter, yellow_ranges
from tests.support.items import add_item

US = timedelta(microseconds=1)


def at(day: date, clock_time: time = time(17, 30)) -> datetime:
    return datetime.combine(day, clock_time, CHINA)


def ids(duban, actor, **filters) -> list[int]:
    rows, total = services.list_items(duban, actor, per_page=200, **filters)
    assert total == len(rows)
    return [row["id"] for row in rows]


# --- the yellow window, against domain.items.light itself ----------------------------------------------

@pytest.mark.parametrize("now", [
    at(date(2026, 9, 28), time(9, 0)), at(date(2026, 9, 29), time(10, 0)), at(date(2026, 9, 30), time(17, 30)),
    at(date(2026, 10, 3), time(12, 0)), at(date(2026, 10, 9), time(0, 0)), at(date(2026, 10, 10), time(23, 59)),
    at(date(2026, 10, 11), time(8, 0)), at(date(2026, 12, 31), time(16, 0, 0, 1)),
])
@pytest.mark.parametrize("workdays", [0, 1, 2, 3])
def test_yellow_ranges_are_exactly_the_deadlines_light_calls_yellow(now, workdays):
    calendar = WorkCalendar.official()
    ranges = yellow_ranges(calendar, now, workdays)
    local = now.astimezone(CHINA)
    candidates = [now - US, now, now + US]
    for offset in range(-2, 16):
        day = local.date() + timedelta(days=offset)
        for clock_time in (time(0), time(8, 30), time(17, 30), time(23, 59, 59, 999999), local.time()):
            moment = at(day, clock_time)
            candidates += [moment - US, moment, moment + US]
    for deadline in candidates:
        inside = any(low <= deadline <= high if closed else low <= deadline < high for low, high, closed in ranges)
        assert inside == (domain_light(calendar, deadline, now, workdays) == "yellow"), (deadline, ranges)


# --- the light filter, against every item's own light ---------------------------------------------------

def _light_corpus(duban) -> None:
    """Items whose deadlines sit on and around every threshold of the coming weeks."""
    start = duban.clock.now().astimezone(CHINA)
    deadlines = []
    for offset in range(-2, 14):
        day = start.date() + timedelta(days=offset)
        for clock_time in (time(0), time(9, 0), time(10, 0), time(17, 30), time(23, 59, 59, 999999)):
            deadlines.append(at(day, clock_time))
    far = at(start.date() + timedelta(days=60))
    for n, deadline in enumerate(deadlines):
        kind = n % 6
        if kind == 0:  # no units yet: the item's own deadline
            add_item(duban, status="drafting", deadline=deadline)
        elif kind == 1:  # one unit
            add_item(duban, deadline=far, parts=[("fgj", {"deadline": deadline})])
        elif kind == 2:  # an urged unit: the urge's limit rules
            add_item(duban, deadline=far, parts=[("czj", {"deadline": deadline - timedelta(days=9),
                                                         "urge_limit": deadline})])
        elif kind == 3:  # the worst part rules; a reported part is not late
            add_item(duban, parts=[("fgj", {"deadline": deadline - timedelta(days=20),
                                            "reported_at": deadline - timedelta(days=21)}),
                                   ("czj", {"deadline": deadline}), ("jyj", {"deadline": far})])
        elif kind == 4:  # finished items are green, whatever their deadlines
            add_item(duban, status=("closed", "rejected", "terminated")[n % 3], deadline=deadline,
                     parts=[("fgj", {"deadline": deadline})] if n % 2 else ())
        else:  # an accepted part is done; the open co-unit decides
            add_item(duban, parts=[("zjj", {"deadline": deadline, "accepted_at": deadline}),
                                   ("fgj", {"deadline": deadline + timedelta(hours=1)})])


@pytest.mark.parametrize("moves", [
    [], [{"days": 1, "hours": 1}], [{"days": 2, "hours": 8, "minutes": 30}], [{"days": 10, "hours": 1}],
])
def test_the_light_filter_agrees_with_each_items_light(duban, org, moves):
    _light_corpus(duban)
    office = org["office"]
    for move in moves:
        duban.clock.advance(**move)
    everything = ids(duban, office)
    expected = {"green": set(), "yellow": set(), "red": set()}
    for item_id in everything:
        expected[services.get_item(duban, office, item_id)["light"]].add(item_id)
    assert expected["yellow"] and expected["red"] and expected["green"], expected  # the corpus straddles them
    for name, wanted in expected.items():
        assert set(ids(duban, office, light=name)) == wanted, name
    # page by page (the light's page and total come from one query)
    paged, page = [], 1
    while rows := services.list_items(duban, office, light="green", sort="deadline", per_page=7, page=page)[0]:
        paged += [row["id"] for row in rows]
        page += 1
    assert paged == [i for i in ids(duban, office, sort="deadline") if i in expected["green"]]
    assert services.list_items(duban, office, light="green", per_page=7, page=page) == ([], len(expected["green"]))
    # the same filter scoped by visibility: a unit's items only
    mine = set(ids(duban, org["unit_a"]))
    assert set(ids(duban, org["unit_a"], light="red")) == expected["red"] & mine


def test_a_later_part_inside_a_weekend_gap_of_the_window_makes_the_item_yellow(duban, org):
    """On Thursday 10:00, two working days ahead reach into the weekend only up to 10:00 of each day: a
    part due on Saturday afternoon is not yet yellow, one due on Sunday morning is. An item whose first
    open part falls in such a gap is yellow when a later part is inside (the filter reads its parts)."""
    duban.clock.set(at(date(2026, 1, 8), time(10, 0)))
    gap, inside = at(date(2026, 1, 10), time(15, 0)), at(date(2026, 1, 11), time(9, 0))
    made = {
        "later part inside": add_item(duban, deadline=gap, parts=[("fgj", {"deadline": gap}),
                                                                  ("czj", {"deadline": inside})]),
        "only in the gap": add_item(duban, deadline=gap, parts=[("fgj", {"deadline": gap})]),
        "no part, inside": add_item(duban, deadline=inside),
        "no part, in the gap": add_item(duban, deadline=gap),
    }
    office = org["office"]
    lights = {name: services.get_item(duban, office, item_id)["light"] for name, item_id in made.items()}
    assert lights == {"later part inside": "yellow", "only in the gap": "green", "no part, inside": "yellow",
                      "no part, in the gap": "green"}
    for light in ("yellow", "green"):
        assert set(ids(duban, office, light=light)) == {made[name] for name, seen in lights.items() if seen == light}


# --- filters, sorting, pages ------------------------------------------------------------------------------

@pytest.fixture
def ledger_items(duban, org):
    """Six items of different kinds, registered on different days."""
    base = duban.clock.now()
    made = {
        "road": add_item(duban, "道路改造", source="instruction", category="major",
                         created_at=base - timedelta(days=40), deadline=base + timedelta(days=3),
                         parts=[("fgj", {}), ("czj", {})]),
        "school": add_item(duban, "学校建设", content="新建 100% 达标的校舍", source="npc_suggestion",
                           classification="public", created_at=base - timedelta(days=20),
                           deadline=base + timedelta(days=10), parts=[("jyj", {})]),
        "budget": add_item(duban, "预算执行", source="meeting", created_at=base - timedelta(days=5),
                           deadline=base - timedelta(days=1), parts=[("czj", {})]),
        "closed": add_item(duban, "已办结事项", status="closed", created_at=base - timedelta(days=90),
                           deadline=base - timedelta(days=60), closed_at=base - timedelta(days=61),
                           parts=[("fgj", {"reported_at": base - timedelta(days=62),
                                           "accepted_at": base - timedelta(days=61)})]),
        "draft": add_item(duban, "拟办中事项", status="drafting", category="urgent", created_at=base,
                          deadline=base + timedelta(hours=8)),
        "percent": add_item(duban, "完成率_100%", created_at=base - timedelta(days=1),
                            deadline=base + timedelta(days=20), parts=[("zjj", {})]),
    }
    return made


def test_filters(duban, org, ledger_items):
    office, made = org["office"], ledger_items
    assert set(ids(duban, office)) == set(made.values())
    assert ids(duban, office, status="closed") == [made["closed"]]
    assert set(ids(duban, office, unit="czj")) == {made["road"], made["budget"]}  # lead or co-unit
    assert ids(duban, office, source="npc_suggestion") == [made["school"]]
    assert ids(duban, office, category="urgent") == [made["draft"]]
    assert ids(duban, office, classification="public") == [made["school"]]
    assert ids(duban, office, text="校舍") == [made["school"]]  # content too
    assert ids(duban, office, text="100%") == [made["percent"], made["school"]]  # % is literal text
    assert ids(duban, office, text="_100") == [made["percent"]]
    assert ids(duban, office, light="red") == [made["budget"]]
    assert ids(duban, office, unit="czj", light="green") == [made["road"]]


def postgres_plan(duban, actor, filters: LedgerFilter, *settings: str) -> str:
    """PostgreSQL's plan for the ledger's count under `filters`, with `settings` (SET LOCAL) in force."""
    where = ledger.conditions(duban, actor, filters, duban.clock.now())
    with duban.db.reading() as session:
        for setting in settings:
            session.execute(sql(f"SET LOCAL {setting}"))
        query = select(func.count(Item.id)).where(*where).compile(session.bind, compile_kwargs={"literal_binds": True})
        return "\n".join(session.scalars(sql(f"EXPLAIN {query}")))


@pytest.mark.parametrize("search", ["校舍", "100%", "第4242号"])
def test_text_search_reads_the_trigram_indexes_on_postgresql(duban_pg, org_pg, search):
    """The ledger's search (LIKE '%…%', escaped) can be answered from the title and content trigram
    indexes (0022), Chinese included: with sequential scans priced out, PostgreSQL reads them."""
    add_item(duban_pg, "学校建设", content="新建 100% 达标的校舍")
    plan = postgres_plan(duban_pg, org_pg["office"], LedgerFilter(text=search), "enable_seqscan = off")
    assert "ix_items_title_trgm" in plan and "ix_items_content_trgm" in plan, plan


@pytest.mark.parametrize("actor", ["office", "unit_a"])
def test_a_light_count_reads_only_indexes_on_postgresql(duban_pg, org_pg, actor):
    """Counting the red items an office or a unit may see is a range of the open items' first due times and
    needs no table row on PostgreSQL: the index carries what the visibility rule reads (0022, 0023)."""
    from sqlalchemy import text as sql_text

    now = duban_pg.clock.now()
    add_item(duban_pg, "逾期事项", deadline=now - timedelta(days=1), parts=[("fgj", {})])
    add_item(duban_pg, "拟办中逾期", status="drafting", deadline=now - timedelta(days=1))
    with duban_pg.db.transaction() as session:
        session.execute(sql_text("ANALYZE items"))
    plan = postgres_plan(duban_pg, org_pg[actor], LedgerFilter(light="red"), "enable_seqscan = off",
                         "enable_bitmapscan = off")
    assert "Index Only Scan using ix_items_open_due" in plan and "Index Cond: ((due_first IS NOT NULL) AND " \
        "(due_first <" in plan, plan
    assert "ix_item_units_open_deadline" not in plan, plan  # no part is looked at


def test_date_ranges_are_beijing_days_with_both_ends_included(duban, org, ledger_items):
    office, made = org["office"], ledger_items
    today = duban.clock.now().astimezone(CHINA).date()
    assert set(ids(duban, office, registered_from=today - timedelta(days=5))) == \
        {made["budget"], made["draft"], made["percent"]}
    assert ids(duban, office, registered_from=today - timedelta(days=20), registered_to=today - timedelta(days=20)) \
        == [made["school"]]
    assert ids(duban, office, registered_to=today - timedelta(days=41)) == [made["closed"]]
    assert set(ids(duban, office, deadline_from=today, deadline_to=today + timedelta(days=3))) == \
        {made["draft"], made["road"]}
    # the whole of a Beijing day: yesterday 09:00 is inside a range that ends yesterday
    assert ids(duban, office, deadline_to=today - timedelta(days=1), deadline_from=today - timedelta(days=1)) \
        == [made["budget"]]


def test_sorting_and_pages(duban, org, ledger_items):
    office, made = org["office"], ledger_items
    by_deadline = ids(duban, office, sort="deadline")
    assert by_deadline == [made[k] for k in ("closed", "budget", "draft", "road", "school", "percent")]
    assert ids(duban, office, sort="-deadline") == by_deadline[::-1]
    assert ids(duban, office) == sorted(made.values(), reverse=True)  # newest first by default
    assert ids(duban, office, sort="id") == sorted(made.values())
    assert ids(duban, office, sort="-created_at")[0] == made["draft"]
    assert ids(duban, office, sort="status")[0] == made["closed"]  # closed < drafting < in_progress
    titles = [row["title"] for row in services.list_items(duban, office, sort="title", per_page=200)[0]]
    assert titles == sorted(titles)
    first, total = services.list_items(duban, office, sort="deadline", per_page=4)
    second, _ = services.list_items(duban, office, sort="deadline", per_page=4, page=2)
    assert total == 6 and [r["id"] for r in first + second] == by_deadline
    assert services.list_items(duban, office, page=3, per_page=4) == ([], 6)
    assert len(services.list_items(duban, office, per_page=10_000)[0]) == 6  # capped at 200, not refused


@pytest.mark.parametrize("filters", [{"sort": "content"}, {"sort": "--id"}, {"sort": "id; DROP TABLE items"},
                                     {"status": "lost"}, {"light": "orange"}, {"source": "rumour"},
                                     {"text": "x" * 201}])
def test_unknown_values_are_refused(duban, org, filters):
    with pytest.raises(InvalidInput) as refused:
        services.list_items(duban, org["office"], **filters)
    assert refused.value.details[0]["field"] == next(iter(filters))


def test_filters_from_a_query_string():
    parsed = LedgerFilter.from_args({"from": "2026-09-01", "to": "", "light": "red", "sort": "-deadline", "page": "2"})
    assert parsed == LedgerFilter(registered_from=date(2026, 9, 1), light="red", sort="-deadline")
    assert parsed.args() == {"from": "2026-09-01", "light": "red", "sort": "-deadline"}
    assert parsed.args(sort="-id") == {"from": "2026-09-01", "light": "red"}
    with pytest.raises(InvalidInput):
        LedgerFilter.from_args({"deadline_to": "2026-13-01"})


def test_units_and_discipline_see_only_their_own(duban, org, ledger_items):
    made = ledger_items
    assert set(ids(duban, org["unit_b"])) == {made["road"], made["budget"]}
    assert ids(duban, org["unit_b"], unit="jyj") == []
    assert ids(duban, org["discipline"]) == []


# --- the Excel export ---------------------------------------------------------------------------------------

def read(data: bytes):
    book = load_workbook(io.BytesIO(data))
    return book.active


def test_export_reads_back(duban, org, ledger_items):
    made = ledger_items
    with duban.db.transaction() as session:
        session.execute(update(ItemUnit).where(ItemUnit.item_id == made["road"], ItemUnit.unit_id == "fgj")
                        .values(responsible="王科长", handler="李科员"))
        session.execute(update(ItemUnit).where(ItemUnit.item_id == made["road"], ItemUnit.unit_id == "czj")
                        .values(responsible="赵科长"))
    add_item(duban, "=HYPERLINK(\"http://evil.example\",\"点我\")", parts=[("fgj", {})])
    sheet = read(export.items_xlsx(duban, org["office"], LedgerFilter(sort="deadline")))
    header = [cell.value for cell in sheet[1]]
    assert header == ["编号", "事项", "来源", "类别", "密级", "牵头单位", "配合单位", "责任人", "承办人", "办结时限",
                      "状态", "灯", "立项时间", "办结时间"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 40
    assert sheet.max_row == 1 + 7
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    road = rows[made["road"]]
    assert road[1:9] == ("道路改造", "领导批示", "重大疑难件", "内部", "发改局", "财政局",
                         "发改局：王科长；财政局：赵科长", "李科员")
    deadline = services.get_item(duban, org["office"], made["road"])["deadline"].astimezone(CHINA)
    assert road[9] == deadline.replace(tzinfo=None)  # a real date, in Beijing time
    assert road[10:12] == ("办理中", "正常")
    assert isinstance(road[12], datetime) and road[13] is None
    assert rows[made["budget"]][11] == "逾期"
    closed = rows[made["closed"]]
    assert closed[10] == "已销号" and isinstance(closed[13], datetime)
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert cells[made["road"]][9].number_format == export.DATE_FORMAT
    evil = next(row for row in cells.values() if str(row[1].value).startswith("="))
    assert evil[1].data_type == "s"  # text, never a formula
    # the list's order, filters and visibility
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)][:2] == [made["closed"], made["budget"]]
    only_red = read(export.items_xlsx(duban, org["office"], LedgerFilter(light="red")))
    assert [row[0] for row in only_red.iter_rows(min_row=2, values_only=True)] == [made["budget"]]


def test_an_export_never_holds_what_its_reader_cannot_see(duban, org, ledger_items):
    made = ledger_items
    exported = read(export.items_xlsx(duban, org["unit_b"]))
    assert {row[0] for row in exported.iter_rows(min_row=2, values_only=True)} == {made["road"], made["budget"]}
    assert all("财政局" in f"{row[5]}{row[6]}" for row in exported.iter_rows(min_row=2, values_only=True))
    assert read(export.items_xlsx(duban, org["discipline"])).max_row == 1  # the header only
    with duban.db.transaction() as session:  # 纪委 learns of an item once it is escalated to them
        session.execute(update(ItemUnit).where(ItemUnit.item_id == made["budget"])
                        .values(escalated_at=duban.clock.now()))
    exported = read(export.items_xlsx(duban, org["discipline"]))
    assert [row[0] for row in exported.iter_rows(min_row=2, values_only=True)] == [made["budget"]]


def test_an_export_too_large_is_refused_not_cut(duban, org, ledger_items, monkeypatch):
    monkeypatch.setattr(export, "MAX_ROWS", 5)
    with pytest.raises(InvalidInput):
        export.items_xlsx(duban, org["office"])
    assert read(export.items_xlsx(duban, org["office"], LedgerFilter(unit="czj"))).max_row == 3


def test_the_inbox_is_paged_in_the_database(duban, org):
    from tests.integration.flow import register

    for n in range(7):
        register(duban, org, title=f"事项{n}")
    everything, total = services.list_tasks(duban, org["office"], per_page=200)
    assert total == 7 and len(everything) == 7
    pages = [services.list_tasks(duban, org["office"], page=p, per_page=3) for p in (1, 2, 3)]
    assert [t["id"] for rows, _ in pages for t in rows] == [t["id"] for t in everything]
    assert all(count == 7 for _, count in pages)
    assert [t["due_at"] for t in everything] == sorted(t["due_at"] for t in everything)
    # One statement serves every call (built once per person): each call's instance and page are its own.
    for task in everything:
        rows, count = services.list_tasks(duban, org["office"], instance_id=task["instance_id"], per_page=1)
        assert [row["id"] for row in rows] == [task["id"]] and count == 1
