"""Statistics (统计) for the supervisors' dashboard: aggregate SQL over the items a caller may see.

Every query is a GROUP BY or a conditional sum, filtered by `access.items_visible(actor)`, so it
stays fast at 100,000 items and never counts an item the caller may not see. Only the page of the
overdue list that is returned is looked at row by row (for its working days).

Definitions (the figures are about units' parts 承办任务, i.e. `ItemUnit` rows, unless said otherwise):

- **period**: `year`, or `since`/`until` (inclusive dates, Beijing time) select items by the time
  they were registered (立项, `Item.created_at`); every figure except the trend is over those items.
- **open 在办** items: status in `OPEN_STATUSES`; **closed 已办结**: status `closed` (销号).
- **done**, **due** (effective deadline), **overdue 逾期** (now, or at a month's end) and **on time
  按期** are engine/domain/deadlines.py's rules, shared with 通报, 考核 and the ledger: a part is
  overdue when its item is open, it is not done, and now is past its effective deadline (the urge
  limit once urged, else its deadline) — the ledger's red light. An item is overdue when it is open
  and one of its parts (in the caller's scope) is, or it has no parts yet and is past its own deadline.
- **days overdue**: working days (`duban.calendar`, with 调休) after the effective deadline's day up
  to today, so a part due at 17:30 today and unreported at 18:00 is overdue by 0 working days.
- **按期办结率 on-time rate** = parts finished on time ÷ parts finished (accepted); `None` when none
  finished.
- **urges 催办**: parts for which a 催办单 was issued (`urged_at`); **escalations 问责**: parts
  referred to 纪委 (`escalated_at`); **criticisms 通报批评**: `Criticism` rows (any reason).
- Parts of items the leader rejected (不予立项) were never assigned and are left out of part figures.
- **scope**: supervisors (office, leader, admin) see every part of the items visible to them; a
  handling unit sees only its own parts; 纪委 sees the escalated parts. Status counts are of items.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import pairwise

from sqlalchemy import and_, case, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased

from ..access import Actor, items_visible
from ..clock import CHINA
from ..domain import deadlines
from ..domain.items import DROPPED_STATUSES, OPEN_STATUSES, STATUSES, UNREGISTERED_STATUSES
from ..domain.roles import DISCIPLINE, SUPERVISORS, UNIT
from ..errors import Forbidden, InvalidInput
from ..models import Criticism, Item, ItemUnit, Unit
from ..texts import text
from .ledger import page_total

MAX_MONTHS = 36
# Units' parts under a name of their own: items_visible() correlates its own ItemUnit subquery to
# Item alone, which it could not do if the outer query selected from item_units itself.
Part = aliased(ItemUnit, name="part")


# ---- who and what ---------------------------------------------------------------------------------

def _check(actor: Actor) -> None:
    if not actor.has(*SUPERVISORS, UNIT, DISCIPLINE):
        raise Forbidden(text("stats.forbidden"))


def _part_scope(actor: Actor):
    """Whose figures a caller sees among the parts of visible items (visibility is items_visible's)."""
    if actor.has(*SUPERVISORS):
        return true()
    clauses = []
    if actor.has(UNIT) and actor.unit_id:
        clauses.append(Part.unit_id == actor.unit_id)
    if actor.has(DISCIPLINE):
        clauses.append(Part.escalated_at.is_not(None))
    return or_(*clauses) if clauses else false()


def period(year: int | None = None, since: date | None = None, until: date | None = None) -> tuple:
    """(start, end) aware datetimes, end exclusive, either None; InvalidInput if they cross."""
    if year is not None:
        if since or until:
            raise InvalidInput(text("stats.year_or_range"), [{"field": "year", "message": text("stats.year_or_range")}])
        since, until = date(year, 1, 1), date(year, 12, 31)
    start = datetime.combine(since, time(), CHINA) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), CHINA) if until else None
    if start and end and start >= end:
        raise InvalidInput(text("stats.since_after_until"),
                           [{"field": "since", "message": text("stats.since_after_until")}])
    return start, end


def _items_where(actor: Actor, span: tuple) -> list:
    start, end = span
    clauses = [items_visible(actor)]
    if start is not None:
        clauses.append(Item.created_at >= start)
    if end is not None:
        clauses.append(Item.created_at < end)
    return clauses


# ---- conditions on a part (`Part`, joined to its Item) ---------------------------------------------

def _assigned():
    """Parts of items that were not rejected at approval nor withdrawn as mistaken (撤销)."""
    return Item.status.not_in(UNREGISTERED_STATUSES)


def _effective_deadline():
    return deadlines.due_at_sql(Part)


def _open_item():
    return Item.status.in_(OPEN_STATUSES)


def _overdue(now: datetime):
    return deadlines.overdue_now_sql(now, Part, Item)


def _finished():
    return deadlines.finished_sql(Part)


def _on_time():
    return deadlines.on_time_sql(Part)


def count_where(condition):
    """SQL: how many rows of the query meet `condition` (0 of none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def rate(part: int, whole: int) -> float | None:
    """part ÷ whole to four places; None when whole is 0 (no rate, rather than 0 %)."""
    return round(part / whole, 4) if whole else None


# ---- the figures ----------------------------------------------------------------------------------

def summary(duban, actor: Actor, year=None, since=None, until=None) -> dict:
    """Status counts, totals, overdue, on-time rate, urges and escalations over the period."""
    _check(actor)
    span, now = period(year, since, until), duban.clock.now()
    with duban.db.reading() as session:
        return _summary(session, actor, span, now)


def _summary(session, actor, span, now, units: list | None = None, criticisms: int | None = None) -> dict:
    """`units`, when the caller has _by_unit's rows already, spares the parts' aggregate (their sums);
    `criticisms`, the count of criticisms (the sum of _criticisms_by_unit's), its query."""
    where, scope = _items_where(actor, span), _part_scope(actor)
    by_status = dict(session.execute(select(Item.status, func.count()).where(*where).group_by(Item.status)).all())
    # Two disjoint counts, each a plain join or anti-join (an OR of EXISTS would run per item).
    overdue_items = session.scalar(select(func.count(func.distinct(Part.item_id))).join(
        Item, Item.id == Part.item_id).where(*where, scope, _overdue(now)))
    overdue_items += session.scalar(select(func.count()).select_from(Item).where(
        *where, _open_item(), Item.deadline < now, ~exists(select(Part.id).where(Part.item_id == Item.id))))
    if units is None:
        parts = session.execute(select(
            func.count(Part.id), count_where(_overdue(now)), count_where(_finished()), count_where(_on_time()),
            count_where(Part.urged_at.is_not(None)), count_where(Part.escalated_at.is_not(None)),
        ).select_from(Part).join(Item, Item.id == Part.item_id).where(*where, scope, _assigned())).one()
    else:
        keys = ("total", "overdue", "completed", "on_time", "urges", "escalations")
        parts = [sum(u[key] for u in units) for key in keys]
    if criticisms is None:
        criticisms = session.scalar(select(func.count(Criticism.id)).join(Item, Item.id == Criticism.item_id)
                                    .where(*where, _criticism_scope(actor)))
    total_parts, overdue_parts, finished, on_time, urges, escalations = (int(v) for v in parts)
    statuses = [{"status": key, "name": name, "count": by_status.get(key, 0)} for key, name in STATUSES.items()]
    return {
        "total": sum(by_status.values()),
        "open": sum(by_status.get(s, 0) for s in OPEN_STATUSES),
        "closed": by_status.get("closed", 0),
        "overdue": overdue_items,
        "statuses": statuses,
        "parts": total_parts, "overdue_parts": overdue_parts, "finished_parts": finished,
        "on_time_parts": on_time, "on_time_rate": rate(on_time, finished),
        "urges": urges, "escalations": escalations, "criticisms": criticisms,
        "as_of": now,
    }


def _criticism_scope(actor: Actor):
    if actor.has(*SUPERVISORS):
        return true()
    clauses = []
    if actor.has(UNIT) and actor.unit_id:
        clauses.append(Criticism.unit_id == actor.unit_id)
    if actor.has(DISCIPLINE):
        clauses.append(exists(select(Part.id).where(
            Part.item_id == Criticism.item_id, Part.unit_id == Criticism.unit_id,
            Part.escalated_at.is_not(None))))
    return or_(*clauses) if clauses else false()


def by_unit(duban, actor: Actor, year=None, since=None, until=None) -> list[dict]:
    """Per unit: parts total, open, overdue, finished, on time, on-time rate, urges, escalations."""
    _check(actor)
    span, now = period(year, since, until), duban.clock.now()
    with duban.db.reading() as session:
        return _by_unit(session, actor, span, now)


def _by_unit(session, actor, span, now, criticised: dict | None = None) -> list[dict]:
    where = [*_items_where(actor, span), _part_scope(actor), _assigned()]
    rows = session.execute(
        select(Part.unit_id, Unit.name, func.count(Part.id),
               count_where(and_(_open_item(), ~_finished())), count_where(_overdue(now)), count_where(_finished()),
               count_where(_on_time()), count_where(Part.urged_at.is_not(None)),
               count_where(Part.escalated_at.is_not(None)))
        .join(Item, Item.id == Part.item_id).join(Unit, Unit.id == Part.unit_id)
        .where(*where).group_by(Part.unit_id, Unit.name, Unit.sort).order_by(Unit.sort, Part.unit_id)
    ).all()
    if criticised is None:
        criticised = _criticisms_by_unit(session, actor, span)
    result = []
    for unit_id, name, total, open_, overdue, finished, on_time, urged, escalated in rows:
        finished, on_time = int(finished), int(on_time)
        result.append({
            "unit": unit_id, "unit_name": name, "total": int(total), "open": int(open_),
            "overdue": int(overdue), "completed": finished, "on_time": on_time,
            "on_time_rate": rate(on_time, finished), "urges": int(urged), "escalations": int(escalated),
            "criticisms": criticised.get(unit_id, 0),
        })
    return result


def _criticisms_by_unit(session, actor, span) -> dict:
    """{unit id: criticisms} over the period, of the items and units the caller sees."""
    return dict(session.execute(
        select(Criticism.unit_id, func.count(Criticism.id)).join(Item, Item.id == Criticism.item_id)
        .where(*_items_where(actor, span), _criticism_scope(actor)).group_by(Criticism.unit_id)).all())


def overdue(duban, actor: Actor, unit: str | None = None, page: int = 1, per_page: int = 50,
            year=None, since=None, until=None) -> tuple[list[dict], int]:
    """Overdue parts, longest overdue first, with their item, unit and working days overdue."""
    _check(actor)
    span, now = period(year, since, until), duban.clock.now()
    with duban.db.reading() as session:
        return _overdue_page(session, duban.calendar, actor, span, now, unit, page, per_page)


def _overdue_page(session, calendar, actor, span, now, unit, page, per_page,
                  total: int | None = None) -> tuple[list[dict], int]:
    """`total`, when the caller knows it (the sum of _by_unit's overdue parts), spares counting."""
    where = [*_items_where(actor, span), _part_scope(actor), _overdue(now)]
    if unit:
        where.append(Part.unit_id == unit)
    page = max(page, 1)
    rows = session.execute(
        select(Item.id, Item.title, Item.status, Item.category, Part.unit_id, Unit.name, Part.role,
               Part.deadline, Part.urge_limit, Part.urged_at, Part.escalated_at)
        .join(Item, Item.id == Part.item_id).join(Unit, Unit.id == Part.unit_id).where(*where)
        .order_by(_effective_deadline(), Item.id, Part.unit_id)
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    if total is None:
        total = page_total(session, select(func.count(Part.id)).join(Item, Item.id == Part.item_id).where(*where),
                           page, per_page, len(rows))
    return [_overdue_row(calendar, now, row) for row in rows], total


def _overdue_row(calendar, now, row) -> dict:
    item_id, title, status, category, unit_id, unit_name, role, deadline, limit, urged, escalated = row
    due = limit or deadline  # deadlines.due_at, on the selected columns
    return {
        "item_id": item_id, "title": title, "status": status, "status_name": STATUSES.get(status),
        "category": category, "unit": unit_id, "unit_name": unit_name, "role": role,
        "deadline": deadline, "urge_limit": limit, "due_at": due, "urged_at": urged, "escalated_at": escalated,
        "overdue_workdays": calendar.workdays_between(due, now),
    }


def trend(duban, actor: Actor, months: int = 12) -> list[dict]:
    """The last `months` calendar months (Beijing), oldest first: registered, closed, overdue at month end.

    `overdue` counts the parts overdue at the month's end (or now, for this month), by
    deadlines.overdue_sql, as 通报 counts them: rejected and terminated items never count. Reports
    that were later returned cannot be replayed: it is an estimate.
    """
    _check(actor)
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(text("stats.months", limit=MAX_MONTHS),
                           [{"field": "months", "message": text("stats.months", limit=MAX_MONTHS)}])
    now = duban.clock.now()
    bounds = _month_bounds(now, months)
    with duban.db.reading() as session:
        return _trend(session, actor, now, bounds)


def _month_bounds(now: datetime, months: int) -> list[datetime]:
    """months + 1 month starts in Beijing time, the last being next month's."""
    local = now.astimezone(CHINA)
    year, month = local.year, local.month
    starts = []
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=CHINA))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    starts.reverse()
    last = starts[-1]
    starts.append(datetime(last.year + (last.month == 12), last.month % 12 + 1, 1, tzinfo=CHINA))
    return starts


def _trend(session, actor, now, bounds) -> list[dict]:
    months = list(pairwise(bounds))
    visible = items_visible(actor)
    in_month = lambda column, a, b: and_(column >= a, column < b)  # noqa: E731
    registered = session.execute(select(*[count_where(in_month(Item.created_at, a, b)) for a, b in months])
                                 .where(visible, Item.created_at >= bounds[0], Item.created_at < bounds[-1])).one()
    closed = session.execute(select(*[count_where(in_month(Item.closed_at, a, b)) for a, b in months])
                             .where(visible, Item.status == "closed", Item.closed_at >= bounds[0],
                                    Item.closed_at < bounds[-1])).one()
    cutoffs = [min(end, now) for _, end in months]
    overdue = session.execute(
        select(*[count_where(_overdue_at(cutoff)) for cutoff in cutoffs])
        .select_from(Part).join(Item, Item.id == Part.item_id)
        .where(visible, _part_scope(actor), Part.deadline < now, Item.status.not_in(DROPPED_STATUSES),
               or_(Item.closed_at.is_(None), Item.closed_at >= bounds[0]),
               or_(Part.accepted_at.is_(None), Part.accepted_at >= bounds[0]),
               or_(Part.reported_at.is_(None), Part.reported_at >= bounds[0]))
    ).one()
    return [{"month": f"{start:%Y-%m}", "registered": int(r), "closed": int(c), "overdue": int(o)}
            for (start, _), r, c, o in zip(months, registered, closed, overdue, strict=True)]


def _overdue_at(cutoff: datetime):
    return deadlines.overdue_sql(cutoff, Part, Item)


def dashboard(duban, actor: Actor, year=None, since=None, until=None, page: int = 1, per_page: int = 20) -> dict:
    """Everything the /dashboard page shows, read in one session."""
    _check(actor)
    span, now = period(year, since, until), duban.clock.now()
    with duban.db.reading() as session:
        # Each figure once: the overdue list's length and the criticisms are the units' sums.
        criticised = _criticisms_by_unit(session, actor, span)
        units = _by_unit(session, actor, span, now, criticised)
        rows, total = _overdue_page(session, duban.calendar, actor, span, now, None, page, per_page,
                                    sum(u["overdue"] for u in units))
        return {"summary": _summary(session, actor, span, now, units, sum(criticised.values())), "units": units,
                "overdue": rows, "overdue_total": total, "trend": _trend(session, actor, now, _month_bounds(now, 12))}
