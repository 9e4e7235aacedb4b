"""The ledger (台账): items filtered, sorted and paged in SQL, their lights included.

The light filter is computed in SQL and agrees exactly with `views.item()`'s light (tested item by
item around every threshold): the yellow window is worked out in Python from the working-day
calendar as a handful of time ranges (`yellow_ranges`), so the database compares plain timestamps.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, bindparam, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session, selectinload

from .. import texts
from ..access import Actor, items_visible
from ..calendar import MAX_SPAN_DAYS, WorkCalendar
from ..clock import CHINA
from ..domain import deadlines
from ..domain.items import CATEGORIES, CLASSIFICATIONS, ENDED_STATUSES, LIGHTS, SOURCES, STATUSES
from ..errors import InvalidInput
from ..models import Item, ItemDesignee, ItemUnit, User
from . import org, views

FINISHED = ENDED_STATUSES
SORTS = {"id": Item.id, "created_at": Item.created_at, "deadline": Item.deadline, "title": Item.title,
         "status": Item.status}
SORT_KEYS = tuple(SORTS)
DEFAULT_SORT = "-id"
MAX_PER_PAGE = 200
MAX_TEXT = 200
_CHOICES = {"status": STATUSES, "source": SOURCES, "category": CATEGORIES, "classification": CLASSIFICATIONS,
            "light": LIGHTS}
_DAYS = ("registered_from", "registered_to", "deadline_from", "deadline_to")


@dataclass(frozen=True)
class LedgerFilter:
    """What a ledger query asks for. Dates are Beijing calendar days, both ends included."""

    status: str | None = None
    unit: str | None = None
    source: str | None = None
    category: str | None = None
    classification: str | None = None
    light: str | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    deadline_from: date | None = None
    deadline_to: date | None = None
    text: str | None = None
    sort: str = DEFAULT_SORT

    @classmethod
    def from_args(cls, args) -> LedgerFilter:
        """From query-string text (a page's form): empty means unset; bad values raise InvalidInput."""
        names = {f.name: f.name for f in fields(cls)} | {"from": "registered_from", "to": "registered_to"}
        values, errors = {}, []
        for key, name in names.items():
            text = (args.get(key) or "").strip()
            if not text:
                continue
            if name in _DAYS:
                try:
                    values[name] = date.fromisoformat(text)
                except ValueError:
                    errors.append({"field": key, "message": texts.text("field.iso.date")})
                    continue
            else:
                values[name] = text
        if errors:
            raise InvalidInput(texts.text("filter.invalid", message=errors[0]["message"]), errors)
        return cls(**values).checked()

    def checked(self) -> LedgerFilter:
        """This filter if every value is one the ledger knows; InvalidInput naming the first bad one."""
        errors = [{"field": name, "message": texts.text("field.one_of", choices="、".join(allowed))}
                  for name, allowed in _CHOICES.items() if getattr(self, name) and getattr(self, name) not in allowed]
        if self.sort.removeprefix("-") not in SORTS:
            errors.append({"field": "sort", "message": texts.text("ledger.sort", choices="、".join(SORTS))})
        if self.text and len(self.text) > MAX_TEXT:
            errors.append({"field": "text", "message": texts.text("field.max_length", limit=MAX_TEXT)})
        for name in _DAYS:
            day = getattr(self, name)
            if day is not None and not date(1900, 1, 1) <= day <= date(9998, 12, 31):
                errors.append({"field": name, "message": texts.text("field.out_of_range")})
        if errors:
            raise InvalidInput(texts.text("filter.invalid", message=errors[0]["message"]), errors)
        # PostgreSQL refuses NUL in text; nobody types one.
        return replace(self, text=self.text.replace("\x00", "")) if self.text else self

    def args(self, **changes) -> dict:
        """The query-string form of this filter (links that keep it: sorting, pages, export)."""
        current = replace(self, **changes) if changes else self
        out = {}
        for f in fields(current):
            value = getattr(current, f.name)
            if value in (None, "") or (f.name == "sort" and value == DEFAULT_SORT):
                continue
            key = {"registered_from": "from", "registered_to": "to"}.get(f.name, f.name)
            out[key] = value.isoformat() if isinstance(value, date) else value
        return out


def list_items(duban, actor: Actor, filters: LedgerFilter | None = None, page: int = 1,
               per_page: int = 50) -> tuple[list[dict], int]:
    """One page of the ledger rows this person may see, and how many rows match in all."""
    filters = (filters or LedgerFilter()).checked()
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(page, 1)
    # Statements of their own (db.lookup), as the inbox's: the page, its items' units and designees, and
    # the count when the page is full, without a transaction's BEGIN and COMMIT round trips.
    with duban.db.lookup() as connection, Session(connection) as session:
        now = duban.clock.now()
        where = conditions(duban, actor, filters, now)
        count = select(func.count(Item.id)).where(*where)
        counted = duban.db.alongside(count)  # the count is read while the page is (PostgreSQL)
        # A page's secret items' designees in one query (views.item names them), not one per item.
        rows = list(session.scalars(select(Item).where(*where).options(_DESIGNEES).order_by(*order(filters.sort))
                                    .offset((page - 1) * per_page).limit(per_page)))
        total = page_total(session, count, page, per_page, len(rows), counted=counted)
        names = org.unit_names(session)
        return [views.item(row, duban, now, names) for row in rows], total


_DESIGNEES = selectinload(Item.designees).joinedload(ItemDesignee.user).lazyload(User.role_rows)


def page_total(session, count, page: int, per_page: int, shown: int, params: dict | None = None,
               counted: Callable[[], int] | None = None) -> int:
    """How many rows match in all: a page that is neither full nor past the end says so itself (a
    search finding a few items reads them once, not once more to count them); else `count` runs
    (with `params`, when its statement takes any), or its answer is taken from `counted` (db.alongside)."""
    if per_page > 0 and (0 < shown < per_page or (page == 1 and shown == 0)):
        return (page - 1) * per_page + shown
    return counted() if counted is not None else session.scalar(count, params)


def conditions(duban, actor: Actor, filters: LedgerFilter, now: datetime) -> list:
    """The WHERE clauses of a ledger query: visibility first, then each filter that is set."""
    clauses = [items_visible(actor)]
    for name in ("status", "source", "category", "classification"):
        if getattr(filters, name):
            clauses.append(getattr(Item, name) == getattr(filters, name))
    if filters.unit:
        # a 不予立项 item's units were only proposed: it is no unit's item
        clauses.append(and_(Item.status != "rejected",
                            exists().where(ItemUnit.item_id == Item.id, ItemUnit.unit_id == filters.unit)))
    clauses += _between(Item.created_at, filters.registered_from, filters.registered_to)
    clauses += _between(Item.deadline, filters.deadline_from, filters.deadline_to)
    if filters.text:
        clauses.append(or_(Item.title.contains(filters.text, autoescape=True),
                           Item.content.contains(filters.text, autoescape=True)))
    if filters.light:
        clauses.append(light_clause(filters.light, duban.calendar, now, duban.settings.yellow_workdays))
    return clauses


def order(sort: str) -> list:
    """ORDER BY for a whitelisted sort key (`deadline`, `-created_at`...), ties broken by id."""
    column = SORTS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    tiebreak = Item.id.desc() if descending else Item.id.asc()
    if column is Item.id:
        return [tiebreak]
    return [column.desc() if descending else column.asc(), tiebreak]


def _between(column, first: date | None, last: date | None) -> list:
    clauses = []
    if first:
        clauses.append(column >= datetime.combine(first, time.min, CHINA))
    if last:
        clauses.append(column < datetime.combine(last + timedelta(days=1), time.min, CHINA))
    return clauses


# --- lights in SQL -------------------------------------------------------------------------------

def light_clause(light: str, calendar: WorkCalendar, now: datetime, yellow_workdays: int):
    """A WHERE clause on Item: its light at `now` is `light`, exactly as views.item() computes it.

    An item's parts are its units (due and done as engine/domain/deadlines.py says), or, with no units yet,
    the item itself; closed, rejected and terminated items are green; otherwise the item shows its worst
    part: red past a deadline, yellow inside the window. Item.due_first is when its first open part is due
    (deadlines.first_due), so red is a range of that one indexed column (ix_items_open_due), and so is
    yellow: a part is in the window only if the first one is due between now and the window's end. The
    window has gaps over weekends and holidays (yellow_ranges); an item first due in one may have a later
    part inside, so those items, and only those, are looked at part by part.
    """
    # Written out (not bound), so the planner can always match ix_items_open_due's predicate.
    unfinished = Item.status.not_in(bindparam("finished", list(FINISHED), expanding=True, literal_execute=True))
    due = Item.due_first
    red = and_(due.is_not(None), due < now)
    yellow = _yellow(due, calendar, now, yellow_workdays)
    if light == "red":
        return and_(unfinished, red)
    if light == "yellow":
        return and_(unfinished, yellow)
    return or_(not_(unfinished), and_(not_(red), not_(yellow)))


def _yellow(due, calendar: WorkCalendar, now: datetime, workdays: int):
    ranges = yellow_ranges(calendar, now, workdays)
    if not ranges:
        return false()
    last = max(high for _, high, _ in ranges)
    part_inside = exists().where(ItemUnit.item_id == Item.id, deadlines.not_done_sql(ItemUnit),
                                 in_yellow_window(deadlines.due_at_sql(ItemUnit), calendar, now, workdays))
    return and_(due.is_not(None), due >= now, due <= last,
                or_(in_yellow_window(due, calendar, now, workdays), part_inside))


def in_yellow_window(deadline, calendar: WorkCalendar, now: datetime, workdays: int):
    """A clause on a deadline column: that deadline is yellow (预警) at `now`."""
    ranges = yellow_ranges(calendar, now, workdays)
    if not ranges:
        return false()
    return or_(*[and_(deadline >= low, deadline <= high if closed else deadline < high)
                 for low, high, closed in ranges])


def yellow_ranges(calendar: WorkCalendar, now: datetime, workdays: int) -> list[tuple[datetime, datetime, bool]]:
    """The deadlines D that domain.items.light() calls yellow at `now`, as (low, high, high_included).

    light() says yellow when now <= D and now >= subtract_workdays(D, n), that is the time of day
    of D on the day p(D) = n working days before D's day. p only depends on D's day and never goes
    down as the day goes up, so, with today's date N and time t (Beijing):
      - days d with p(d) < N: every D that day is yellow (from now on): one range [now, A);
      - days d with p(d) = N (only when today is a working day): D from 00:00 up to t that day;
      - days with p(d) > N: none, nor any later day.
    There are at most a few such days (more around the long holidays), so the ranges stay few.
    """
    local = now.astimezone(CHINA)
    today, clock_time = local.date(), local.timetz()
    full_until, partial = None, []
    day = today
    for _ in range(MAX_SPAN_DAYS):
        start = datetime.combine(day, time.min, CHINA)
        earlier = calendar.subtract_workdays(start, workdays).astimezone(CHINA).date()
        if earlier > today:
            break
        if earlier < today:
            full_until = datetime.combine(day + timedelta(days=1), time.min, CHINA)
        else:
            partial.append((max(now, start), datetime.combine(day, clock_time)))
        day += timedelta(days=1)
    ranges = [(now, full_until, False)] if full_until else []
    return ranges + [(low, high, True) for low, high in partial if low <= high]
