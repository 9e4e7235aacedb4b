"""The ledger (台账): items filtered, sorted and paged in SQL, their lights included.

The light filter is computed in SQL and agrees exactly with `views.item()`'s light (tested item by
item around every threshold): the yellow window is worked out in Python from the working-day
calendar as a handful of time ranges (`yellow_ranges`), so the database compares plain timestamps.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, bindparam, exists, false, func, not_, or_, select, text, union_all
from sqlalchemy.orm import aliased

from ..access import Actor, items_visible
from ..calendar import MAX_SPAN_DAYS, WorkCalendar
from ..clock import CHINA
from ..domain.items import CATEGORIES, CLASSIFICATIONS, LIGHTS, SOURCES, STATUSES
from ..errors import InvalidInput
from ..models import Item, ItemUnit, Unit
from . import views

FINISHED = ("closed", "rejected", "terminated")
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
    def from_args(cls, args) -> "LedgerFilter":
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
                    errors.append({"field": key, "message": "must be a date (YYYY-MM-DD)"})
                    continue
            else:
                values[name] = text
        if errors:
            raise InvalidInput(f"{errors[0]['field']}: {errors[0]['message']}", errors)
        return cls(**values).checked()

    def checked(self) -> "LedgerFilter":
        """This filter if every value is one the ledger knows; InvalidInput naming the first bad one."""
        errors = [{"field": name, "message": f"one of {', '.join(allowed)}"}
                  for name, allowed in _CHOICES.items() if getattr(self, name) and getattr(self, name) not in allowed]
        if self.sort.removeprefix("-") not in SORTS:
            errors.append({"field": "sort", "message": f"one of {', '.join(SORTS)}, optionally after '-'"})
        if self.text and len(self.text) > MAX_TEXT:
            errors.append({"field": "text", "message": f"at most {MAX_TEXT} characters"})
        for name in _DAYS:
            day = getattr(self, name)
            if day is not None and not date(1900, 1, 1) <= day <= date(9998, 12, 31):
                errors.append({"field": name, "message": "out of range"})
        if errors:
            raise InvalidInput(f"{errors[0]['field']}: {errors[0]['message']}", errors)
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
    with duban.db.reading() as session:
        without_jit(session)
        now = duban.clock.now()
        query = select(Item).where(*conditions(duban, actor, filters, now))
        rows, total = (_page_counted_once if filters.light else _page)(session, query, filters.sort, page, per_page)
        names = unit_names(session)
        return [views.item(row, duban, now, names) for row in rows], total


def _page(session, query, sort: str, page: int, per_page: int) -> tuple[list, int]:
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(*order(sort)).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def _page_counted_once(session, query, sort: str, page: int, per_page: int) -> tuple[list, int]:
    """The page and the total from one pass: a light's id set is costly to build, so not twice."""
    found = session.execute(query.with_only_columns(Item.id, func.count().over()).order_by(*order(sort))
                            .offset((page - 1) * per_page).limit(per_page)).all()
    if not found:  # past the last page: nothing to count alongside
        return [], session.scalar(select(func.count()).select_from(query.subquery()))
    by_id = {row.id: row for row in session.scalars(select(Item).where(Item.id.in_([i for i, _ in found])))}
    return [by_id[item_id] for item_id, _ in found], found[0][1]


def conditions(duban, actor: Actor, filters: LedgerFilter, now: datetime) -> list:
    """The WHERE clauses of a ledger query: visibility first, then each filter that is set."""
    clauses = [items_visible(actor)]
    for name in ("status", "source", "category", "classification"):
        if getattr(filters, name):
            clauses.append(getattr(Item, name) == getattr(filters, name))
    if filters.unit:
        clauses.append(exists().where(ItemUnit.item_id == Item.id, ItemUnit.unit_id == filters.unit))
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


def without_jit(session) -> None:
    """No JIT compilation for this transaction's queries (PostgreSQL).

    The planner's cost for a light filter over 100,000 items passes jit_above_cost, and compiling
    then takes 0.7 s for a query that runs in 0.1 s (measured with bench/ledger.py).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def unit_names(session) -> dict:
    return dict(session.execute(select(Unit.id, Unit.name)).all())


# --- lights in SQL -------------------------------------------------------------------------------

def light_clause(light: str, calendar: WorkCalendar, now: datetime, yellow_workdays: int):
    """A WHERE clause on Item: its light at `now` is `light`, exactly as views.item() computes it.

    An item's parts are its units (deadline = urge_limit or deadline; done once reported or
    accepted), or, with no units yet, the item itself; closed, rejected and terminated items are
    green; otherwise the item shows its worst part: red past a deadline, yellow inside the window.
    Written as `id IN (...)` over the open parts, so PostgreSQL reads them through the partial index
    ix_item_units_open_deadline and semi-joins, instead of testing 100,000 items one by one.
    """
    unfinished = _unfinished(Item)
    red = _items_with_part(lambda deadline: deadline < now)
    yellow = _items_with_part(lambda deadline: in_yellow_window(deadline, calendar, now, yellow_workdays))
    if light == "red":
        return and_(unfinished, Item.id.in_(union_all(*red)))
    if light == "yellow":
        # An item with a yellow part has parts, so it is red only through an open part past its deadline.
        return and_(unfinished, Item.id.in_(union_all(*yellow)),
                    not_(Item.id.in_(_open_parts(lambda deadline: deadline < now))))
    # One flat UNION ALL: SQLite refuses a union nested inside another.
    return or_(not_(unfinished), not_(Item.id.in_(union_all(*red, *yellow))))


def _open_parts(condition):
    """Ids of items with a unit part not yet reported whose deadline meets `condition`."""
    deadline = func.coalesce(ItemUnit.urge_limit, ItemUnit.deadline)
    return select(ItemUnit.item_id).where(ItemUnit.reported_at.is_(None), ItemUnit.accepted_at.is_(None),
                                          condition(deadline))


def _items_with_part(condition) -> list:
    """Two selects (to UNION ALL) of the ids of items with a part meeting `condition`: a unit's open part, or the item itself when it
    has no units (the caller leaves out finished items, whose light is always green)."""
    bare = aliased(Item)
    # Probed item by item: PostgreSQL would rather hash every part of every item for NOT EXISTS, and
    # that costs several times more (bench/ledger.py); a scalar subquery is never turned into a join.
    no_parts = select(ItemUnit.item_id).where(ItemUnit.item_id == bare.id).limit(1).scalar_subquery().is_(None)
    return [
        _open_parts(condition),
        select(bare.id).where(_unfinished(bare), condition(bare.deadline), no_parts),
    ]


def _unfinished(item):
    """status NOT IN ('closed', ...) written out, so the planner matches ix_items_open_deadline's predicate."""
    return item.status.not_in(bindparam("finished", list(FINISHED), expanding=True, literal_execute=True))


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
