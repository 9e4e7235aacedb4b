"""PostgreSQL: what a step's commit writes goes in the audit statement (audit.along), not each table's
rows in a round trip of the ORM's flush: its new tasks and timers, its instance's new state, the tasks it
completed or cancelled, its item's and item units' changes (and, from process, the timers it ends or moves).

The audit statement already carried the step's history and notifications as data-modifying WITH
clauses; these join them there. A completion of the main process went from 7–9 statements to 3–5.

What is folded is written as the ORM would have written it (the same columns, so a JSON column never
set stays SQL NULL), and the objects become persistent as if flushed: their attributes as written, no
pending change left for the flush. An instance is folded only when this transaction holds its row lock
(`locked`): the ORM's version check (UPDATE … WHERE version = what was read, and a StaleDataError when no
row matched) cannot be made in a WITH clause, and under the lock, read after it, no one else can have
moved the version. The instance's new state is the last thing taken, as the statement is sent: the step
process serialises it while the rest of the commit is prepared (a main path 9 % faster than taking it first).
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from sqlalchemy import bindparam, event, inspect, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement

from ..models import HumanTask, Instance, Timer
from . import audit

_LOCKED = "duban_locked_instances"
_INSERTED = (HumanTask, Timer)


def locked(session: Session, instance: Instance) -> None:
    """This transaction holds `instance`'s row lock (SELECT … FOR UPDATE, read after it was granted)."""
    session.info.setdefault(_LOCKED, set()).add(instance.id)


def one_step(session: Session) -> bool:
    """Whether this transaction is one instance's step (it locked that one instance), whose writes are
    folded. A batch of timer firings is not: its statement would take a new shape (and SQLAlchemy's
    compilation of it, dozens of WITH clauses) at nearly every commit, where the flush's executemany
    costs a round trip a table (the timers bench, folded, leaned to more CPU a firing, within its noise)."""
    return len(session.info.get(_LOCKED, ())) == 1


def step_fold(function: Callable[[Session], None]) -> Callable[[Session], None]:
    """Register `function(session)` with audit.folding, to run only in one instance's step (one_step)."""
    @functools.wraps(function)
    def run(session: Session) -> None:
        if one_step(session):
            function(session)

    audit.folding(run)
    return function


def fold(session: Session, states: dict[Instance, Callable[[], str]]) -> None:
    """Move the transaction's new tasks and timers, the changes of its tasks (completed, cancelled) and of
    its locked instance into the audit statement (a step_fold). `states` holds how to take each saved
    instance's new state; one folded is taken from it, and taken only as the statement is sent: the step
    process serialises it while the rest of the commit is prepared here (flush, the records' seals)."""
    for model in _INSERTED:
        _fold_new(session, model)
    fold_changes(session, HumanTask)
    held = session.info[_LOCKED]
    for instance in [obj for obj in session.dirty if type(obj) is Instance and obj.id in held]:
        take = states.pop(instance, None)
        _fold_update(session, instance, {} if take is None else {"state": take})


def fold_changes(session: Session, model) -> None:
    """Move the changes of `model`'s rows into the audit statement, by primary key: for tables without
    a version whose rows are never deleted (tasks, items, their units), where the ORM's UPDATE checks
    nothing a WITH clause could not. (A step_fold.)"""
    for obj in [obj for obj in session.dirty if type(obj) is model]:
        _fold_update(session, obj)


def _fold_new(session: Session, model) -> None:
    table = model.__table__
    groups: dict[tuple, list] = {}
    for obj in session.new:
        if type(obj) is model:
            # The columns set, as the ORM's INSERT names them (one statement per set of columns).
            columns = tuple(column.key for column in table.columns if column.key in obj.__dict__)
            groups.setdefault(columns, []).append(obj)
    for columns, objects in groups.items():
        rows = [{name: getattr(obj, name) for name in columns} for obj in objects]
        if not audit.along_rows(session, table, columns, rows):
            return
        for obj in objects:
            session.expunge(obj)
            make_transient_to_detached(obj)
            session.add(obj)
            for column in table.columns:
                if column.key not in columns:
                    set_committed_value(obj, column.key, None)  # NULL, as inserted: nothing to load later


def _fold_update(session: Session, obj, late: dict[str, Callable[[], object]] | None = None) -> None:
    """Fold `obj`'s changes, and the columns of `late`, each taken by its function as the statement is sent."""
    late = late or {}
    state = inspect(obj)
    mapper = state.mapper
    version = mapper.version_id_col.key if mapper.version_id_col is not None else None
    changed = {}
    for attr in mapper.column_attrs:
        added = state.attrs[attr.key].history.added
        if attr.key != version and added:
            if isinstance(added[0], ClauseElement):
                _take(obj, late)
                return  # a value computed by the database: the ORM writes it (and reads it back)
            changed[attr.key] = added[0]
    if not changed and not late:
        return
    written = dict(changed)
    # Named apart from the columns: an UPDATE reserves its columns' names for its own parameters.
    keys = {"u_key": obj.id}
    if version is not None:
        written[version] = getattr(obj, version) + 1
        keys["u_was"] = getattr(obj, version)
    columns = tuple(sorted({*written, *late}))

    def values() -> dict:
        taken = {name: take() for name, take in late.items()}
        for name, value in taken.items():
            set_committed_value(obj, name, value)
        return {**{f"u_{name}": value for name, value in (written | taken).items()}, **keys}

    table = mapper.local_table
    if not audit.along(session, (table.name, columns), lambda prefix: _update(table, columns, version, prefix),
                       values, late=bool(late)):
        _take(obj, late)
        return
    for name, value in written.items():
        set_committed_value(obj, name, value)


def _take(obj, late: dict[str, Callable[[], object]]) -> None:
    """Set the `late` columns now: the flush writes them with the rest."""
    for name, take in late.items():
        setattr(obj, name, take())


def _update(table, columns: tuple, version: str | None, prefix: str):
    where = [table.c.id == bindparam(f"{prefix}u_key")]
    if version is not None:
        where.append(table.c[version] == bindparam(f"{prefix}u_was"))
    return update(table).where(*where).values(
        {name: bindparam(f"{prefix}u_{name}", type_=table.c[name].type) for name in columns})


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_locks(session: Session) -> None:
    session.info.pop(_LOCKED, None)
