"""The working-day calendar (工作日历) in the database: official schedule, files, admin edits, recalculation.

The State Council publishes each year's holidays in the autumn before it; a new notice is loaded
with `DUBAN_HOLIDAYS_FILE` (or the admin API) without a release. Loading a year makes the
provisional deadlines in it final: they are recomputed, with their timers.
"""
from __future__ import annotations

import csv
import io
import logging
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from ..access import Actor
from ..calendar import official_days
from ..db import dialect_insert
from ..domain.items import OPEN_STATUSES, deadline_for
from ..domain.roles import SYSTEM_ADMINS
from ..errors import Forbidden, InvalidInput, ProcessError
from ..models import CalendarDay, CalendarYear, Item
from ..texts import text
from . import audit, deadline_rules, process

log = logging.getLogger(__name__)

# A year's notice is a few hundred bytes; a century of days fits many times over.
MAX_HOLIDAYS_BYTES = 256 * 1024
# {year: {holidays: [day]}} or {days: [{date: day}]}: three levels; a little room for comments' sake.
MAX_YAML_DEPTH = 6


def _store_days(session, days: dict, years: set, source: str, now, actor: str | None, replace: bool) -> int:
    """Write {date: (workday, note)}; admin edits survive official and file imports unless `replace`.

    Each row is one INSERT ... ON CONFLICT, never a read then an insert: nodes starting together all
    load DUBAN_HOLIDAYS_FILE (and the official schedule), and a row another node inserted meanwhile
    is then updated or left, not a duplicate key. Rows go in date order, so two imports never wait
    on each other crosswise (a deadlock)."""
    insert = dialect_insert(session)
    table = CalendarDay.__table__
    changed = 0
    for day, (workday, note) in sorted(days.items()):
        statement = insert(table).values(day=day, workday=workday, note=note, source=source, updated_at=now,
                                         updated_by=actor)
        differs = (table.c.workday != statement.excluded.workday) | (table.c.note != statement.excluded.note)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.day],
            set_={"workday": statement.excluded.workday, "note": statement.excluded.note, "source": source,
                  "updated_at": now, "updated_by": actor},
            where=differs if replace else differs & (table.c.source != "admin"))
        changed += session.execute(statement).rowcount
    for year in sorted(years):
        statement = insert(CalendarYear.__table__).values(year=year, source=source, loaded_at=now)
        changed += session.execute(statement.on_conflict_do_nothing(index_elements=["year"])).rowcount
    return changed


def sync_official(duban) -> list[int]:
    """Load the years the chinesecalendar package knows and the database does not; returns them."""
    overrides, years = official_days()
    with duban.db.transaction() as session:
        known = set(session.scalars(select(CalendarYear.year)))
        new_years = sorted(years - known)
        days = {day: (workday, "国务院办公厅通知") for day, workday in overrides.items() if day.year in new_years}
        _store_days(session, days, set(new_years), "official", duban.clock.now(), None, replace=False)
    duban.calendar_store.invalidate()
    return new_years


def read_days_file(path: Path) -> str:
    """A holidays file's text (DUBAN_HOLIDAYS_FILE, `duban calendar import`), refused unread when too large."""
    with path.open("rb") as handle:
        return days_text(handle.read(MAX_HOLIDAYS_BYTES + 1), path.name)


def days_text(data: bytes, name: str = "holidays") -> str:
    """Uploaded bytes as text: at most MAX_HOLIDAYS_BYTES of UTF-8 (a BOM, as Windows Notepad writes, is fine)."""
    if len(data) > MAX_HOLIDAYS_BYTES:
        _refuse(name, text("calendar.too_large", limit=MAX_HOLIDAYS_BYTES))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse(name, text("calendar.not_utf8"))


def _refuse(name: str, message: str):
    raise InvalidInput(text("calendar.file_problem", name=name, message=message),
                       [{"field": "file", "message": message}])


def parse_days(content: str, name: str = "holidays") -> tuple[dict, set]:
    """Read a holidays file: YAML ({year: {holidays: [...], workdays: [...]}} or {days: [...]}) or CSV
    (date,workday,note). Returns ({date: (workday, note)}, years it publishes)."""
    if len(content) > MAX_HOLIDAYS_BYTES:
        _refuse(name, text("calendar.too_large", limit=MAX_HOLIDAYS_BYTES))
    try:
        if name.endswith(".csv") or content.lstrip().lower().startswith("date,"):
            return _parse_csv(content)
        return _parse_yaml(_load_yaml(content) or {})
    except _YamlRefused as refused:
        _refuse(name, str(refused))
    except yaml.YAMLError as error:
        _refuse(name, text("calendar.yaml_invalid", reason=error))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        _refuse(name, str(error))


class _YamlRefused(ValueError):
    """Raised when a YAML file uses what a holidays file never needs and a hostile one abuses."""


class _HolidaysLoader(yaml.SafeLoader):
    """safe_load without anchors and aliases, and with little nesting.

    An alias repeats a node without copying it, so 478 bytes of nested aliases describe billions of
    entries ("billion laughs"): reading them took 9 s and 820 MB. A holidays file needs neither.
    """

    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _YamlRefused(text("calendar.yaml_alias", line=event.start_mark.line + 1))
        if self.depth >= MAX_YAML_DEPTH:
            raise _YamlRefused(text("calendar.yaml_too_deep", limit=MAX_YAML_DEPTH, line=event.start_mark.line + 1))
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _load_yaml(content: str):
    loader = _HolidaysLoader(content)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value).strip())


def _parse_yaml(data) -> tuple[dict, set]:
    if not isinstance(data, dict):
        raise ValueError(text("calendar.not_mapping"))
    days, years = {}, set()
    for key, value in data.items():
        if key == "days":
            for entry in value:
                if not isinstance(entry, dict):
                    raise ValueError(text("calendar.day_not_mapping"))
                days[_as_date(entry["date"])] = (bool(entry["workday"]), str(entry.get("note", "")))
            continue
        year = int(key)
        years.add(year)
        if not isinstance(value or {}, dict):
            raise ValueError(text("calendar.year_not_mapping", year=year))
        for day in (value or {}).get("holidays", []):
            days[_as_date(day)] = (False, "法定节假日")
        for day in (value or {}).get("workdays", []):
            days[_as_date(day)] = (True, "调休上班")
    return days, years or {d.year for d in days}


def _parse_csv(content: str) -> tuple[dict, set]:
    days = {}
    for row in csv.DictReader(io.StringIO(content)):
        flag = str(row["workday"]).strip().lower()
        if flag not in {"1", "0", "true", "false", "yes", "no", "是", "否"}:
            raise ValueError(text("calendar.workday_bool", value=repr(row["workday"])[:40]))
        days[_as_date(row["date"])] = (flag in {"1", "true", "yes", "是"}, (row.get("note") or "").strip())
    return days, {d.year for d in days}


def import_days(duban, content: str, name: str = "holidays", actor: Actor | None = None) -> dict:
    """Load a holidays file (a new year's notice); then recompute the provisional deadlines it settles."""
    if actor is not None and not actor.has(*SYSTEM_ADMINS):
        raise Forbidden(text("calendar.admin_only"))
    days, years = parse_days(content, name)
    with duban.db.transaction() as session:
        changed = _store_days(session, days, years, "file", duban.clock.now(),
                              actor.username if actor else None, replace=True)
        audit.append(session, actor.username if actor else None, "calendar.import", f"file:{name}",
                     {"days": len(days), "years": sorted(years), "changed": changed}, at=duban.clock.now())
    duban.calendar_store.invalidate()
    recalculated = recalculate(duban, only_provisional=True) if changed else {"items": 0}
    return {"days": len(days), "years": sorted(years), "changed": changed, **recalculated}


def set_day(duban, actor: Actor, day: date, workday: bool, note: str = "") -> dict:
    """An administrator's correction of one day; open deadlines are recomputed."""
    if not actor.has(*SYSTEM_ADMINS):
        raise Forbidden(text("calendar.admin_only"))
    with duban.db.transaction() as session:
        _store_days(session, {day: (workday, note)}, set(), "admin", duban.clock.now(), actor.username, replace=True)
        audit.append(session, actor.username, "calendar.set_day", f"day:{day.isoformat()}",
                     {"workday": workday, "note": note}, at=duban.clock.now())
    duban.calendar_store.invalidate()
    return {"day": day.isoformat(), "workday": workday, **recalculate(duban)}


def year(duban, year_number: int) -> dict:
    calendar = duban.calendar
    with duban.db.reading() as session:
        rows = session.scalars(select(CalendarDay).where(
            CalendarDay.day >= date(year_number, 1, 1), CalendarDay.day <= date(year_number, 12, 31))
            .order_by(CalendarDay.day))
        days = [{"date": r.day, "workday": r.workday, "note": r.note, "source": r.source} for r in rows]
    return {"year": year_number, "loaded": year_number in calendar.loaded_years, "days": days}


def recalculate(duban, actor: Actor | None = None, only_provisional: bool = False) -> dict:
    """Recompute the deadlines and due times of open items (after a calendar change), item by item."""
    if actor is not None and not actor.has(*SYSTEM_ADMINS):
        raise Forbidden(text("calendar.recalculate_admin_only"))
    with duban.db.reading() as session:
        query = select(Item.id).where(Item.status.in_(OPEN_STATUSES), Item.instance_id.is_not(None))
        if only_provisional:
            query = query.where(Item.deadline_provisional.is_(True))
        item_ids = list(session.scalars(query.order_by(Item.id)))
        kinds = set(session.execute(select(Item.category, Item.source).where(Item.id.in_(query.scalar_subquery()))))
    # The deadline rules table's answer for each kind of item, before any item's transaction.
    rules = {kind: _table_workdays(duban, *kind) for kind in kinds}
    moved = 0
    for item_id in item_ids:
        try:
            moved += _recalculate_item(duban, actor, item_id, rules)
        except Exception:  # one broken instance must not stop the others
            log.exception("recalculating item %s failed", item_id)
    return {"items": len(item_ids), "moved": moved}


def _table_workdays(duban, category: str, source: str) -> int | None:
    """The deadline rules table's working days; a table that fails leaves the built-in rule, logged
    (a calendar change must not wait on a designer's table)."""
    try:
        return deadline_rules.workdays(duban, category, source)
    except ProcessError:
        log.exception("the deadline rules table failed for %s/%s: the built-in rule applies", category, source)
        return None


def _recalculate_item(duban, actor, item_id: int, rules: dict) -> int:
    calendar = duban.calendar
    with duban.db.transaction() as session:
        ctx = process.context(duban, session, actor)
        item = session.get(Item, item_id)
        ctx.item = item
        process.lock_instance(ctx, item.instance_id)
        old = item.deadline
        if not item.deadline_explicit:
            deadline = deadline_for(calendar, item.category, item.created_at, None,
                                    rules.get((item.category, item.source)))
            item.deadline, item.deadline_provisional = deadline.at, deadline.provisional
        else:
            item.deadline_provisional = not calendar.is_loaded(item.deadline.date())
        for part in item.units:
            if part.deadline == old:  # an extended deadline is the unit's own and stays
                part.deadline = item.deadline
        ctx.hooks.deadlines_moved(ctx)
        if ctx.instance.status == "running":
            run = process.load(ctx)
            run.recalculate_timers()
            process.save(ctx, run)
            process.record(ctx, "recalculated", data={"deadline": item.deadline.isoformat(), "was": old.isoformat()})
        return int(item.deadline != old)
