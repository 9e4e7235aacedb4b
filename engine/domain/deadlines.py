"""A unit's part (承办任务, an `ItemUnit`) against its deadline: the one home of "due", "done",
"on time" and "overdue", for the ledger, the dashboard, 通报, 考核 and every page and export.

Each rule is written twice, side by side: for one part in Python (`due_at`, `is_overdue`, ... on
a row's attributes) and as a SQLAlchemy expression (`due_at_sql`, `overdue_sql`, ...) over
`ItemUnit` (or an alias of it) joined to its `Item`, for the aggregate queries.
tests/integration/test_deadlines.py checks that both forms agree row by row on the same data.

The rules:

- **due 时限**: a part's effective deadline is its urge limit (催办期限) once urged, else its own
  deadline (an approved extension moves either). As it stood at a past moment: the urge limit
  only if the urge was issued before then.
- **done**: the unit has reported (`reported_at`) or its report was accepted (`accepted_at`); a
  returned report clears `reported_at`, so the part is due again. A unit that has reported is not
  late while the office reviews.
- **on time 按期办结**: the report was accepted, and had been submitted on or before the part's own
  deadline (extensions included; not the urge limit: a unit that needed urging was already late).
  A part accepted without a recorded report time counts by its acceptance. Otherwise **late 逾期办结**.
- **overdue 逾期 at a moment**: the item was registered before then, it is neither rejected
  (不予立项: its units never received it) nor terminated (its history cannot be replayed), it was
  not closed (销号) by then, the part was not done by then, and its due time as it stood then had
  passed. At `now` that is: the item is open (`OPEN_STATUSES`), the part not done, due < now —
  the ledger's red light (`overdue_now_sql` is that form, which the partial index
  ix_item_units_open_deadline serves).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from ..models import Item, ItemUnit
from .items import DROPPED_STATUSES, OPEN_STATUSES


def _by(moment: datetime | None, at: datetime | None) -> bool:
    """A timestamp column's value happened by `at` (ever, when `at` is None)."""
    return moment is not None and (at is None or moment <= at)


def _by_sql(column, at: datetime | None):
    return column.is_not(None) if at is None else and_(column.is_not(None), column <= at)


# ---- due: the effective deadline ------------------------------------------------------------------

def due_at(part, at: datetime | None = None) -> datetime:
    """The part's effective deadline (now, or as it stood at `at`)."""
    if at is None:
        return part.urge_limit or part.deadline
    urged = part.urged_at is not None and part.urged_at < at and part.urge_limit is not None
    return part.urge_limit if urged else part.deadline


def due_at_sql(part=ItemUnit, at: datetime | None = None):
    if at is None:
        return func.coalesce(part.urge_limit, part.deadline)
    urged = and_(part.urged_at.is_not(None), part.urged_at < at, part.urge_limit.is_not(None))
    return case((urged, part.urge_limit), else_=part.deadline)


def first_due(item, parts) -> datetime | None:
    """When the item's first open part is due now; with no parts, the item's own deadline; None when every
    part is done. The ledger's light filter reads it (Item.due_first): red before now, yellow in the
    window, as `views.item` lights each part."""
    if not parts:
        return item.deadline
    return min((due_at(part) for part in parts if not is_done(part)), default=None)


def first_due_sql(item=Item):
    """`first_due` of each item in SQL (for rows written past the ORM, such as bulk loads)."""
    part = aliased(ItemUnit)
    open_parts = select(func.min(due_at_sql(part))).where(part.item_id == item.id, not_done_sql(part))
    any_part = exists().where(part.item_id == item.id)
    return case((any_part, open_parts.scalar_subquery()), else_=item.deadline)


# ---- done ------------------------------------------------------------------------------------------

def is_done(part, at: datetime | None = None) -> bool:
    """The unit has reported, or its report was accepted (by `at`)."""
    return _by(part.reported_at, at) or _by(part.accepted_at, at)


def done_sql(part=ItemUnit, at: datetime | None = None):
    return or_(_by_sql(part.reported_at, at), _by_sql(part.accepted_at, at))


def not_done_sql(part=ItemUnit):
    """`not is_done(part)` now, written as the predicate of the partial index ix_item_units_open_deadline."""
    return and_(part.reported_at.is_(None), part.accepted_at.is_(None))


# ---- finished on time, or late ---------------------------------------------------------------------

def is_finished(part) -> bool:
    """The unit's report was accepted (the part counts as 办结)."""
    return part.accepted_at is not None


def finished_sql(part=ItemUnit):
    return part.accepted_at.is_not(None)


def submitted_at(part) -> datetime | None:
    """When the accepted report was submitted (its acceptance, when no report time was recorded)."""
    return part.reported_at or part.accepted_at


def submitted_at_sql(part=ItemUnit):
    return func.coalesce(part.reported_at, part.accepted_at)


def is_on_time(part) -> bool:
    """按期办结: accepted, and submitted on or before the part's own deadline."""
    return is_finished(part) and submitted_at(part) <= part.deadline


def on_time_sql(part=ItemUnit):
    return and_(finished_sql(part), submitted_at_sql(part) <= part.deadline)


def is_late(part) -> bool:
    """逾期办结: accepted, but submitted after the part's own deadline."""
    return is_finished(part) and submitted_at(part) > part.deadline


def late_sql(part=ItemUnit):
    return and_(finished_sql(part), submitted_at_sql(part) > part.deadline)


# ---- overdue ---------------------------------------------------------------------------------------

def is_overdue(part, item, at: datetime) -> bool:
    """逾期未办结 at `at` (now, or a period's end), as far as the timestamps tell."""
    return (item.created_at < at and item.status not in DROPPED_STATUSES
            and not _by(item.closed_at, at) and not is_done(part, at) and due_at(part, at) < at)


def overdue_sql(at: datetime, part=ItemUnit, item=Item):
    """`is_overdue` in SQL, for any moment (a month's or a period's end)."""
    return and_(item.created_at < at, item.status.not_in(DROPPED_STATUSES), ~_by_sql(item.closed_at, at),
                ~done_sql(part, at), due_at_sql(part, at) < at)


def overdue_now_sql(now: datetime, part=ItemUnit, item=Item):
    """`is_overdue` at `now`, written as the ledger's red light so that indexes serve it.

    Equal to overdue_sql(now) while no timestamp lies in the future: an open item was registered,
    not closed, and not rejected or terminated; urges, reports and acceptances happened by now.
    """
    return and_(item.status.in_(OPEN_STATUSES), not_done_sql(part), due_at_sql(part) < now)
