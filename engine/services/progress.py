"""月度进展 (002 三(二)): units report progress on their open items each month; 督查室 aggregates.

The rules:

- A unit reports on its own part of an item, one report per item, unit and month (`YYYY-MM`,
  Beijing time), while the item is in progress (办理中) and its part is not yet accepted.
- Only the current month can be written. Until the month ends the unit may correct its report;
  each correction keeps the version it replaces in `history` with who wrote it and when (真实性:
  a report is never changed silently). Once the month is over the report is read-only (409).
- A part **owes** a report for a month when, at the month's cut-off (its end, or now for the
  current month), its item had been assigned (交办) and not terminated, and the unit had neither
  submitted its completion report (办结报告) nor had it accepted. For past months this is read
  from today's timestamps: a completion report returned later counts as never submitted.
- **Month-end reminder**: from 08:30 on the month's last working day (duban.calendar, with 调休)
  to the month's end, each unit owing reports that month is reminded once: every active user of
  the unit hears of the items they may know of (保密). A row in `progress_reminders`, unique per
  unit and month, makes it once, even with two schedulers running.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .. import texts
from ..access import Actor, items_visible, own_part, user_cleared, visible_item
from ..calendar import WORKDAY_START
from ..clock import CHINA
from ..domain.items import DROPPED_STATUSES
from ..domain.roles import SUPERVISORS, UNIT
from ..errors import Conflict, Forbidden, InvalidInput
from ..models import Checklist, HumanTask, Item, ItemUnit, ProgressReminder, ProgressReport, Unit
from . import audit, definitions, org, process
from .checklists import CHECKS
from .notifications import notify, people

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_TEXT = 5000
# No month's last working day comes earlier: the longest holiday (春节) is eight or nine days.
EARLIEST_LAST_WORKDAY = 15
FIELDS = ("text", "percent", "problems", "next_steps")
# See access.items_visible: its ItemUnit subquery correlates to Item, so the outer query names parts apart.
Part = aliased(ItemUnit, name="part")


# ---- months -------------------------------------------------------------------------------------

def parse_month(text: str) -> str:
    """`YYYY-MM` (years 2000-2100) or InvalidInput."""
    match = MONTH.match(text or "")
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise InvalidInput(texts.text("progress.month"), [{"field": "month", "message": texts.text("progress.month")}])
    return text


def month_of(moment: datetime) -> str:
    return f"{moment.astimezone(CHINA):%Y-%m}"


def bounds(month: str) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in Beijing time."""
    year, number = int(month[:4]), int(month[5:])
    start = datetime(year, number, 1, tzinfo=CHINA)
    return start, datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=CHINA)


def last_workday(calendar, month: str) -> date:
    _, end = bounds(month)
    day = end.date() - timedelta(days=1)
    while not calendar.is_workday(day) and day.day > 1:
        day -= timedelta(days=1)
    return day


# ---- who owes a report ----------------------------------------------------------------------------

def _owing(session, month: str, now: datetime):
    """A WHERE clause on Part joined to Item: the part owes a report for `month` (as of now): the item
    was assigned (its 交办 step, as its process declares it, completed) and the part is still open."""
    end = bounds(month)[1]
    if now < end:  # the current month: assigned by now, neither reported nor accepted yet
        assigned_by = HumanTask.completed_at <= now
        open_ = and_(Part.reported_at.is_(None), Part.accepted_at.is_(None))
    else:  # a past month: as it stood at its end
        assigned_by = HumanTask.completed_at < end
        open_ = and_(or_(Part.reported_at.is_(None), Part.reported_at >= end),
                     or_(Part.accepted_at.is_(None), Part.accepted_at >= end))
    assigned = exists(select(HumanTask.id).where(
        HumanTask.item_id == Item.id,
        definitions.is_step(session, HumanTask.instance_id, HumanTask.element_id, "assign"),
        HumanTask.state == "completed", assigned_by))
    return and_(Item.status.not_in(DROPPED_STATUSES), assigned, open_)


# ---- writing ----------------------------------------------------------------------------------------

def put_report(duban, actor: Actor, item_id: int, month: str, fields: dict) -> dict:
    """The caller's unit reports (or corrects) its progress on an item for the current month."""
    month = parse_month(month)
    try:
        with duban.db.transaction() as session:
            report_id = _put(duban, session, actor, item_id, month, fields)
    except IntegrityError:
        raise Conflict(texts.text("progress.saved_meanwhile")) from None
    with duban.db.reading() as session:
        return _view(session.get(ProgressReport, report_id), org.unit_names(session), duban.clock.now())


def _put(duban, session, actor: Actor, item_id: int, month: str, fields: dict) -> int:
    item = visible_item(session, actor, item_id)
    part = own_part(actor, item, fields.get("unit"), texts.text("access.doing.progress"))
    unit_id = part.unit_id
    now = duban.clock.now()
    current = month_of(now)
    if month < current:
        raise Conflict(f"月份 {month} 已结束，月度进展不能再填报或修改")
    if month > current:
        raise InvalidInput(texts.text("progress.month_not_begun"),
                           [{"field": "month", "message": texts.text("progress.month_not_begun")}])
    if item.status != "in_progress" or part.accepted_at is not None:
        raise Conflict(texts.text("progress.no_work"))
    values = _checked(fields)
    query = select(ProgressReport).where(ProgressReport.item_id == item_id, ProgressReport.unit_id == unit_id,
                                         ProgressReport.month == month)
    row = session.scalars(query.with_for_update()).one_or_none()
    if row is None:
        row = ProgressReport(item_id=item_id, unit_id=unit_id, month=month, reported_by=actor.username,
                             reported_at=now, first_reported_at=now, version=1, history=[], **values)
        session.add(row)
    elif any(getattr(row, name) != values[name] for name in FIELDS):
        # 真实性: the replaced version stays, with who wrote it and when.
        row.history = [*row.history, _snapshot(row)]
        for name in FIELDS:
            setattr(row, name, values[name])
        row.reported_by, row.reported_at, row.version = actor.username, now, row.version + 1
    else:
        return row.id  # the same report again: nothing changes, nothing to record
    session.flush()
    audit.append(session, actor.username, "progress.report", f"item:{item_id}",
                 {"unit": unit_id, "month": month, "version": row.version}, at=now)
    return row.id


def _checked(fields: dict) -> dict:
    errors = []
    text = (fields.get("text") or "").strip()
    if not text:
        errors.append({"field": "text", "message": texts.text("progress.text_required")})
    percent = fields.get("percent")
    if isinstance(percent, str) and percent.strip().isdigit():
        percent = int(percent.strip())
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        errors.append({"field": "percent", "message": texts.text("progress.percent")})
    values = {"text": text, "percent": percent}
    for name in ("problems", "next_steps"):
        values[name] = (fields.get(name) or "").strip()
    for name in ("text", "problems", "next_steps"):
        if len(values[name]) > MAX_TEXT:
            errors.append({"field": name, "message": texts.text("field.max_length", limit=MAX_TEXT)})
    if errors:
        raise InvalidInput(errors[0]["message"], errors)
    return values


def _snapshot(row: ProgressReport) -> dict:
    return {"version": row.version, "text": row.text, "percent": row.percent, "problems": row.problems,
            "next_steps": row.next_steps, "reported_by": row.reported_by, "reported_at": row.reported_at.isoformat()}


# ---- reading ----------------------------------------------------------------------------------------

def list_reports(duban, actor: Actor, item_id: int, month: str | None = None) -> list[dict]:
    """An item's reports, newest month first, every unit's (whoever may see the item may read them)."""
    if month is not None:
        month = parse_month(month)
    with duban.db.reading() as session:
        visible_item(session, actor, item_id)
        query = (select(ProgressReport).join(Unit, Unit.id == ProgressReport.unit_id)
                 .where(ProgressReport.item_id == item_id).order_by(ProgressReport.month.desc(), Unit.sort, Unit.id))
        if month is not None:
            query = query.where(ProgressReport.month == month)
        names, now = org.unit_names(session), duban.clock.now()
        return [_view(row, names, now) for row in session.scalars(query)]


def _view(row: ProgressReport, names: dict, now: datetime) -> dict:
    history = [{**version, "reported_at": datetime.fromisoformat(version["reported_at"])} for version in row.history]
    return {"id": row.id, "item_id": row.item_id, "unit": row.unit_id, "unit_name": names.get(row.unit_id, row.unit_id),
            "month": row.month, "text": row.text, "percent": row.percent, "problems": row.problems,
            "next_steps": row.next_steps, "reported_by": row.reported_by, "reported_at": row.reported_at,
            "first_reported_at": row.first_reported_at, "version": row.version, "history": history,
            "editable": row.month == month_of(now)}


def aggregate(duban, actor: Actor, month: str, unit: str | None = None, missing: bool = False,
              page: int = 1, per_page: int = 100) -> dict:
    """督查室's monthly summary: every part of a visible item that owes or made a report for the month."""
    month = parse_month(month)
    if not actor.has(*SUPERVISORS):
        raise Forbidden(texts.text("progress.summary_forbidden"))
    now = duban.clock.now()
    if month > month_of(now):
        raise InvalidInput(texts.text("progress.month_not_begun"),
                           [{"field": "month", "message": texts.text("progress.month_not_begun")}])
    with duban.db.reading() as session:
        owing = _owing(session, month, now)
    report = aliased(ProgressReport, name="report")
    joined = and_(report.item_id == Part.item_id, report.unit_id == Part.unit_id, report.month == month)
    where = [items_visible(actor), or_(owing, report.id.is_not(None))]
    if unit:
        where.append(Part.unit_id == unit)
    base = select(Part.id).select_from(Part).join(Item, Item.id == Part.item_id).outerjoin(report, joined)
    with duban.db.reading() as session:
        due, reported, lacking = _totals(session, base, where, owing, report)
        if missing:
            where.append(and_(owing, report.id.is_(None)))
        total = session.scalar(select(func.count()).select_from(base.where(*where).subquery()))
        rows = session.execute(
            select(Item.id, Item.title, Item.status, Part.unit_id, Unit.name, Part.role, owing, report)
            .select_from(Part).join(Item, Item.id == Part.item_id).join(Unit, Unit.id == Part.unit_id)
            .outerjoin(report, joined).where(*where)
            .order_by(Item.id, Unit.sort, Part.unit_id).offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
        checks = _checklists(session, {(r[0], r[3]) for r in rows})
        names = org.unit_names(session)
        return {"month": month, "due": due, "reported": reported, "missing": lacking, "total": total,
                "page": page, "per_page": per_page, "as_of": now,
                "rows": [_row(r, checks, names, now) for r in rows]}


def _totals(session, base, where, owing, report) -> tuple[int, int, int]:
    """(应报: parts that owed a report or made one, 已报: reports made, 未报: reports owed and missing),
    so that 应报 = 已报 + 未报 over the rows listed (a part that reported and then finished its work
    owes nothing more, yet its report counts)."""
    counted = session.execute(base.with_only_columns(
        func.count(), func.count(report.id),
        func.sum(case((and_(owing, report.id.is_(None)), 1), else_=0))).where(*where)).one()
    return tuple(int(n or 0) for n in counted)


def _row(row, checks: dict, names: dict, now: datetime) -> dict:
    item_id, title, status, unit_id, unit_name, role, owing, report = row
    done = checks.get((item_id, unit_id), 0)
    return {"item_id": item_id, "title": title, "item_status": status, "unit": unit_id, "unit_name": unit_name,
            "role": role, "due": bool(owing), "state": "reported" if report is not None else "missing",
            "report": _view(report, names, now) if report is not None else None,
            "checklist_done": done, "checklist_total": len(CHECKS)}


def _checklists(session, pairs: set) -> dict:
    if not pairs:
        return {}
    item_ids = {item_id for item_id, _ in pairs}
    rows = session.scalars(select(Checklist).where(Checklist.item_id.in_(item_ids)))
    return {(c.item_id, c.unit_id): sum(bool(getattr(c, key)) for key in CHECKS) for c in rows}



# ---- the month-end reminder ---------------------------------------------------------------------------

def reminder_due(duban, now: datetime) -> str | None:
    """The month whose reminders are due now (from 08:30 on its last working day), else None."""
    local = now.astimezone(CHINA)
    if local.day < EARLIEST_LAST_WORKDAY:
        return None  # most days end here, without reading the calendar
    month = month_of(now)
    last = last_workday(duban.calendar, month)
    if local.date() < last or (local.date() == last and local.time() < WORKDAY_START):
        return None
    return month


def remind_monthly_progress(duban) -> int:
    """Remind each unit that owes reports this month, once per unit and month; returns units reminded.

    Cheap when there is nothing to do: off the month's last working days it reads nothing but the
    (cached) calendar; on them, one query, and a write only for units not yet reminded.
    """
    now = duban.clock.now()
    month = reminder_due(duban, now)
    if month is None:
        return 0
    with duban.db.reading() as session:
        if not _owed_by_unit(session, month, now):
            return 0
    try:
        with duban.db.transaction() as session:
            return _remind(duban, session, month, now)
    except IntegrityError:
        return 0  # another scheduler reminded the same unit at the same moment: it stays once


def _owed_by_unit(session, month: str, now: datetime) -> dict:
    """{unit id: [items]} of the parts owing this month's report that has not been made, for units not
    yet reminded this month."""
    reported = exists(select(ProgressReport.id).where(
        ProgressReport.item_id == Part.item_id, ProgressReport.unit_id == Part.unit_id,
        ProgressReport.month == month))
    reminded = exists(select(ProgressReminder.id).where(
        ProgressReminder.unit_id == Part.unit_id, ProgressReminder.month == month))
    rows = session.execute(select(Part.unit_id, Item).join(Item, Item.id == Part.item_id)
                           .where(_owing(session, month, now), ~reported, ~reminded)
                           .order_by(Part.unit_id, Item.id)).all()
    owed = {}
    for unit_id, item in rows:
        owed.setdefault(unit_id, []).append(item)
    return owed


def _remind(duban, session, month: str, now: datetime) -> int:
    owed = _owed_by_unit(session, month, now)
    year, number = month.split("-")
    for unit_id, items in owed.items():
        session.add(ProgressReminder(unit_id=unit_id, month=month, missing=len(items), sent_at=now))
        ctx = process.context(duban, session)
        for user in people(session, UNIT, unit_id):
            # 保密: each person hears only of the items they may know of.
            known = [item for item in items if user_cleared(user.id, user.roles, item)]
            if not known:
                continue
            ctx.item = known[0] if len(known) == 1 else None
            notify(ctx, [user], "progress_reminder",
                   f"月度进展提醒：{year}年{int(number)}月尚有{len(known)}项督办事项未报送进展，请于月底前填报",
                   "\n".join(f"{n}. {item.title}" for n, item in enumerate(known, 1)))
    session.flush()  # the unique key refuses a second reminder here, before anything is sent
    return len(owed)


__all__ = ["aggregate", "bounds", "last_workday", "list_reports", "month_of", "parse_month", "put_report",
           "remind_monthly_progress", "reminder_due"]
