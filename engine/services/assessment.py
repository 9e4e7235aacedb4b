"""考核 assessment: each handling unit's yearly score, from what the ledger records, explained line by line.

**Where the points come from.** The seeds require scoring but give no numbers:
002 六、纳入考核 — "对办理及时、办理质量高并获得…表彰及肯定批示的责任科室（单位）予以表扬、加分；对未按时办结、
办理质量差被通报批评及责令整改的责任科室（单位）予以批评、减分并进行全系统通报批评"; 001 10、责任追究制 —
"督查结果与目标管理、年度考评相结合… 在催办的时限内没有按要求落实的，予以通报批评，并与年终目标责任制考评挂钩，
对情节特别严重的，提请县纪委、县监察局追究责任"; 001 8、 "月检查、季通报、年考核". 000 names a 考核奖惩制度
whose text is missing from our copy. So `DEFAULT_RULES` are this product's defaults, ordered as the seeds
order the sanctions (a referral to 纪委 weighs more than a criticism, which weighs more than lateness);
system administrators set the local values (`update_rule`, audited).

**Events** (each is one line of a unit's explanation; it counts in the year, Beijing time, it happened):

- `on_time` 按期办结 +2: a unit's part (`ItemUnit`) whose report was accepted in the year (`accepted_at`)
  and had been submitted (`reported_at`) on or before the part's deadline (`ItemUnit.deadline`, which an
  approved extension moves; not the urge limit: a unit that needed urging was already late). This is
  engine/domain/deadlines.py's on-time rule, the dashboard's 按期办结率 and 通报's 按期办结.
- `late` 逾期办结 −2: accepted in the year, submitted after the deadline.
- `praised` 领导表扬 +3: a leader's praise of the unit's work on an item (`Praise`, one per item and unit).
- `criticised` 通报批评 −5: each `Criticism` row. The process records one on every escalation; the
  office may record others.
- `escalated` 移送纪委问责 −10: the part was referred to 纪委 (`escalated_at`). An escalated unit is
  therefore criticised too (−15 by default): 001 10、 makes the referral a step beyond the criticism.

A part still unfinished at the year's end scores nothing for completion until its report is accepted
(by then it has been urged and, failing that, criticised and escalated, which do score). An inactive
rule scores nothing and adds no lines. Totals are plain sums of lines; the rank is competition ranking
(1, 1, 3) over the handling units, highest total first.

**Who sees what.** Supervisors (office, leader, admin) see every unit, ranked; a handling unit sees its
own unit only, without a rank (a rank would tell it about the others); everyone else is refused.

**保密.** Scores are computed over the items the caller may see (`access.items_visible`), secret items
included only for those cleared for them (their designated people, system administrators). Everyone
else gets totals that leave those items out entirely: a total that differed from the sum of the lines
shown would itself betray that something hidden exists. The complete figures are the ones an
administrator sees.
"""
from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.orm import aliased

from ..access import Actor, items_visible, visible_item
from ..clock import CHINA, readable
from ..domain import deadlines
from ..domain.items import ASSIGNED_STATUSES
from ..domain.roles import LEADER, SUPERVISORS, SYSTEM_ADMINS, UNIT
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import AssessmentRule, Criticism, Item, ItemUnit, Praise, Unit, User
from ..texts import text
from . import audit, org
from .files import XLSX  # noqa: F401 - re-exported: the web layer serves its exports under it

# code, name, default points
DEFAULT_RULES = (
    ("on_time", "按期办结", Decimal("2")),
    ("praised", "领导表扬", Decimal("3")),
    ("late", "逾期办结", Decimal("-2")),
    ("criticised", "通报批评", Decimal("-5")),
    ("escalated", "移送纪委问责", Decimal("-10")),
)
EVENTS = tuple(code for code, _, _ in DEFAULT_RULES)
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_POINTS = Decimal("1000")
CENT = Decimal("0.01")
MAX_NOTE = 2000
# Praise is for work actually handed to the unit: the item was assigned (交办).
PRAISABLE = ASSIGNED_STATUSES
# Parts under a name of their own: items_visible() correlates its own ItemUnit subquery to Item.
Part = aliased(ItemUnit, name="part")


# ---- rules -------------------------------------------------------------------------------------------

def list_rules(duban, actor: Actor) -> list[dict]:
    """The scoring rules with their current points (readable by whoever may see scores, and admins)."""
    if not actor.has(*SYSTEM_ADMINS):
        _scope(actor)
    with duban.db.reading() as session:
        return list(_rules(session).values())


def _rules(session) -> dict[str, dict]:
    """Every rule, a code without a stored row at its default."""
    stored = {row.code: row for row in session.scalars(select(AssessmentRule))}
    rules = {}
    for code, name, default in DEFAULT_RULES:
        row, points = stored.get(code), default.quantize(CENT)
        rules[code] = {
            "code": code, "name": row.name if row else name,
            "points": Decimal(row.points).quantize(CENT) if row else points,
            "default_points": points, "active": row.active if row else True,
            "updated_at": row.updated_at if row else None, "updated_by": row.updated_by if row else None,
        }
    return rules


def update_rule(duban, actor: Actor, code: str, points, active: bool | None = None, name: str | None = None) -> dict:
    """Set a rule's points (and whether it counts, and its name): system administrators only, audited."""
    if not actor.has(*SYSTEM_ADMINS):
        raise Forbidden(text("assessment.rules_forbidden"))
    if code not in EVENTS:
        raise NotFound(text("assessment.no_rule", code=code))
    points = _points(points)
    name = None if name is None else name.strip()
    if name is not None and not 1 <= len(name) <= 100:
        raise InvalidInput(text("assessment.rule_name"), [{"field": "name", "message": text("assessment.rule_name")}])
    now = duban.clock.now()
    with duban.db.transaction() as session:
        before = _rules(session)[code]
        row = session.get(AssessmentRule, code)
        if row is None:
            row = AssessmentRule(code=code, name=before["name"], active=True, sort=EVENTS.index(code) + 1)
            session.add(row)
        row.points = points
        row.active = before["active"] if active is None else bool(active)
        row.name = name or row.name
        row.updated_at, row.updated_by = now, actor.username
        audit.append(session, actor.username, "assessment.rule", f"assessment_rule:{code}", {
            "before": {"points": str(before["points"]), "active": before["active"], "name": before["name"]},
            "after": {"points": str(points), "active": row.active, "name": row.name}}, at=now)
    with duban.db.reading() as session:
        return _rules(session)[code]


def _points(value) -> Decimal:
    try:
        points = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError, TypeError):
        points = None
    if points is None or not points.is_finite() or abs(points) > MAX_POINTS:
        message = text("assessment.points", limit=MAX_POINTS)
        raise InvalidInput(message, [{"field": "points", "message": message}])
    return points


# ---- praise ------------------------------------------------------------------------------------------

def praise(duban, actor: Actor, item_id: int, unit_id: str, note: str = "") -> dict:
    """领导表扬: a leader praises a unit's work on an item (once per item and unit), audited."""
    if not actor.has(LEADER):
        raise Forbidden(text("assessment.praise_forbidden"))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(text("assessment.note_too_long", limit=MAX_NOTE),
                           [{"field": "note", "message": text("field.max_length", limit=MAX_NOTE)}])
    now = duban.clock.now()
    with duban.db.transaction() as session:
        item = visible_item(session, actor, item_id)
        if unit_id not in {part.unit_id for part in item.units}:
            raise InvalidInput(text("assessment.unit_not_in_item", unit=unit_id),
                               [{"field": "unit", "message": text("assessment.unit_field")}])
        if item.status not in PRAISABLE:
            raise Conflict(text("assessment.not_assigned"))
        if session.scalar(select(Praise.id).where(Praise.item_id == item_id, Praise.unit_id == unit_id)):
            raise Conflict(text("assessment.praised_already"))
        row = Praise(item_id=item_id, unit_id=unit_id, by=actor.username, note=note, at=now)
        session.add(row)
        session.flush()
        audit.append(session, actor.username, "item.praise", f"item:{item_id}", {"unit": unit_id}, at=now)
        unit_name = session.get(Unit, unit_id).name
        return {"id": row.id, "item_id": item_id, "unit": unit_id, "unit_name": unit_name, "by": actor.username,
                "by_name": actor.display_name or actor.username, "note": note, "at": now}


# ---- scores ------------------------------------------------------------------------------------------

def _scope(actor: Actor) -> str | None:
    """None: every unit (supervisors); a unit id: that unit only; Forbidden otherwise."""
    if actor.has(*SUPERVISORS):
        return None
    if actor.has(UNIT) and actor.unit_id:
        return actor.unit_id
    raise Forbidden(text("assessment.scores_forbidden"))


def year_span(year: int) -> tuple[datetime, datetime]:
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        message = text("assessment.year", min=MIN_YEAR, max=MAX_YEAR)
        raise InvalidInput(message, [{"field": "year", "message": message}])
    return datetime(year, 1, 1, tzinfo=CHINA), datetime(year + 1, 1, 1, tzinfo=CHINA)


def scores(duban, actor: Actor, year: int) -> dict:
    """Per unit: the count of each event, the total and (for supervisors) the rank."""
    scope = _scope(actor)
    span = year_span(year)
    with duban.db.reading() as session:
        rules = _rules(session)
        units = _ranking(session, actor, scope, span, rules)
    return {"year": year, "as_of": duban.clock.now(), "rules": list(rules.values()), "units": units}


def unit_lines(duban, actor: Actor, year: int, unit_id: str) -> dict:
    """One unit's score explained: every line (item, event, points), oldest first, and the total."""
    scope = _scope(actor)
    span = year_span(year)
    with duban.db.reading() as session:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(text("assessment.unit_not_found", unit=unit_id))
        if scope is not None and scope != unit_id:
            raise Forbidden(text("assessment.own_unit_only"))
        unit_name = unit.name
        rules = _rules(session)
        lines = _lines(session, actor, unit_id, span, rules)
        ranked = {u["unit"]: u for u in _ranking(session, actor, scope, span, rules)}
    total = sum((line["points"] for line in lines), Decimal(0).quantize(CENT))
    counts = {code: sum(1 for line in lines if line["event"] == code) for code in EVENTS}
    rank = ranked[unit_id]["rank"] if unit_id in ranked else None
    return {"year": year, "unit": unit_id, "unit_name": unit_name, "total": total, "rank": rank,
            "counts": counts, "lines": lines}


def all_lines(duban, actor: Actor, year: int) -> tuple[dict, list[dict]]:
    """The ranking and every line of every unit the caller may see (the Excel export)."""
    scope = _scope(actor)
    span = year_span(year)
    with duban.db.reading() as session:
        rules = _rules(session)
        ranking = _ranking(session, actor, scope, span, rules)
        lines = _lines(session, actor, scope, span, rules)
    board = {"year": year, "as_of": duban.clock.now(), "rules": list(rules.values()), "units": ranking}
    return board, lines


def _in(column, span):
    return and_(column >= span[0], column < span[1])


def _unit_is(column, unit_id: str | None):
    return true() if unit_id is None else column == unit_id


def _part_events(span) -> dict:
    """The SQL condition on a part for each of its events in the year."""
    accepted = _in(Part.accepted_at, span)
    return {"on_time": and_(accepted, deadlines.on_time_sql(Part)),
            "late": and_(accepted, deadlines.late_sql(Part)),
            "escalated": _in(Part.escalated_at, span)}


def _counts(session, actor: Actor, unit_id: str | None, span) -> dict:
    """{(unit, event): count}, by aggregate SQL over the items the caller may see."""
    visible, events = items_visible(actor), _part_events(span)
    counts = {}
    rows = session.execute(
        select(Part.unit_id, *[func.coalesce(func.sum(case((c, 1), else_=0)), 0) for c in events.values()])
        .join(Item, Item.id == Part.item_id)
        .where(visible, _unit_is(Part.unit_id, unit_id), or_(*events.values())).group_by(Part.unit_id))
    for unit, *numbers in rows:
        for event, number in zip(events, numbers, strict=True):
            counts[(unit, event)] = int(number)
    for event, model, at in (("criticised", Criticism, Criticism.created_at), ("praised", Praise, Praise.at)):
        for unit, number in session.execute(
                select(model.unit_id, func.count(model.id)).join(Item, Item.id == model.item_id)
                .where(visible, _unit_is(model.unit_id, unit_id), _in(at, span)).group_by(model.unit_id)):
            counts[(unit, event)] = int(number)
    return counts


def _ranking(session, actor: Actor, scope: str | None, span, rules: dict) -> list[dict]:
    counts = _counts(session, actor, scope, span)
    query = select(Unit.id, Unit.name).order_by(Unit.sort, Unit.id)
    if scope is None:
        scored = {unit for unit, _ in counts}
        query = query.where(or_(Unit.kind == "unit", Unit.id.in_(scored)))
    else:
        query = query.where(Unit.id == scope)
    rows = []
    for unit_id, name in session.execute(query):
        numbers = {code: counts.get((unit_id, code), 0) for code in EVENTS}
        total = sum((rules[code]["points"] * n for code, n in numbers.items() if rules[code]["active"]),
                    Decimal(0).quantize(CENT))
        rows.append({"unit": unit_id, "unit_name": name, "counts": numbers, "total": total, "rank": None})
    rows.sort(key=lambda row: -row["total"])  # stable: ties keep the units' own order
    if scope is None:
        for row in rows:
            row["rank"] = 1 + sum(1 for other in rows if other["total"] > row["total"])
    return rows


def _lines(session, actor: Actor, unit_id: str | None, span, rules: dict) -> list[dict]:
    """Every scoring line of one unit (or of every unit when None) on the items the caller may see."""
    visible, events = items_visible(actor), _part_events(span)
    names = org.unit_names(session)
    lines = []

    def add(event, item_id, title, unit, at, detail):
        rule = rules[event]
        if rule["active"]:
            lines.append({"item_id": item_id, "title": title, "unit": unit, "unit_name": names.get(unit, unit),
                          "event": event, "event_name": rule["name"], "at": at, "points": rule["points"],
                          "detail": detail})

    part_columns = (Item.id, Item.title, Part.unit_id, Part.deadline, Part.reported_at, Part.accepted_at,
                    Part.urge_limit, Part.escalated_at)
    for event in ("on_time", "late"):
        for item_id, title, unit, deadline, reported, accepted, _, _ in session.execute(
                select(*part_columns).join(Item, Item.id == Part.item_id)
                .where(visible, _unit_is(Part.unit_id, unit_id), events[event])):
            add(event, item_id, title, unit, accepted,
                text("assessment.line.done", reported=_day(reported or accepted), deadline=_day(deadline),
                     accepted=_day(accepted)))
    for item_id, title, unit, _, _, _, limit, escalated in session.execute(
            select(*part_columns).join(Item, Item.id == Part.item_id)
            .where(visible, _unit_is(Part.unit_id, unit_id), events["escalated"])):
        add("escalated", item_id, title, unit, escalated,
            text("assessment.line.escalated", limit=_day(limit)) if limit else text("assessment.line.referred"))
    for item_id, title, unit, at, note in session.execute(
            select(Item.id, Item.title, Criticism.unit_id, Criticism.created_at, Criticism.note)
            .join(Item, Item.id == Criticism.item_id)
            .where(visible, _unit_is(Criticism.unit_id, unit_id), _in(Criticism.created_at, span))):
        add("criticised", item_id, title, unit, at, note or "通报批评")
    for item_id, title, unit, at, by, by_name, note in session.execute(
            select(Item.id, Item.title, Praise.unit_id, Praise.at, Praise.by, User.display_name, Praise.note)
            .join(Item, Item.id == Praise.item_id).outerjoin(User, User.username == Praise.by)
            .where(visible, _unit_is(Praise.unit_id, unit_id), _in(Praise.at, span))):
        add("praised", item_id, title, unit, at, f"{by_name or by}表扬" + (f"：{note}" if note else ""))
    lines.sort(key=lambda line: (line["at"], line["item_id"], EVENTS.index(line["event"]), line["unit"]))
    return lines


def _day(value: datetime | None) -> str:
    return readable(value, day=True) if value else "—"


def points_text(value: Decimal) -> str:
    """+2, -0.5, 0: points as people write them."""
    if value == 0:
        return "0"
    return f"{value:+.2f}".rstrip("0").rstrip(".")


# ---- Excel ---------------------------------------------------------------------------------------------

_WIDTHS = {"totals": [6, 16, 10, 10, 10, 10, 12, 8], "lines": [12, 9, 40, 12, 17, 7, 50]}


def xlsx(duban, actor: Actor, year: int) -> bytes:
    """The year's 考核 as a workbook: a sheet of totals and ranks, a sheet of every line."""
    board, lines = all_lines(duban, actor, year)
    names = {rule["code"]: rule["name"] for rule in board["rules"]}
    book = Workbook()
    totals = book.active
    totals.title = f"{year}年考核得分"
    _append(totals, ["排名", "单位", *[names[code] for code in EVENTS], "得分"])
    for unit in board["units"]:
        _append(totals, [unit["rank"], unit["unit_name"], *[unit["counts"][code] for code in EVENTS],
                         float(unit["total"])])
    detail = book.create_sheet("计分明细")
    _append(detail, ["单位", "事项编号", "事项", "计分事由", "时间", "分值", "说明"])
    for line in lines:
        _append(detail, [line["unit_name"], line["item_id"], line["title"], line["event_name"],
                         line["at"].astimezone(CHINA).replace(tzinfo=None), float(line["points"]), line["detail"]])
        detail.cell(detail.max_row, 5).number_format = "yyyy-mm-dd hh:mm"
    for sheet, widths in ((totals, _WIDTHS["totals"]), (detail, _WIDTHS["lines"])):
        sheet.freeze_panes = "A2"
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    audit.record_file(duban, actor, "assessment.export", f"assessment:{year}", out.getvalue(),
                      units=len(board["units"]), lines=len(lines))
    return out.getvalue()


def _append(sheet, values: list) -> None:
    """A row whose text stays text: a title starting with "=" is never a formula; no XML-illegal characters."""
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
