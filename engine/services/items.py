"""Supervision items (督办事项): 立项 and the ledger (台账)."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..access import SECRET, Actor, visible_item
from ..db import next_id, retrying
from ..domain import deadlines
from ..domain.items import CATEGORIES, CLASSIFICATIONS, SOURCES, deadline_for
from ..domain.main_process import KEY as MAIN_KEY
from ..domain.roles import ADMIN, OFFICE, SYSTEM_ADMINS
from ..errors import Conflict, Forbidden, InvalidInput
from ..models import HistoryEntry, Item, ItemDesignee, ItemUnit, User
from ..texts import one_of, text
from . import audit, deadline_rules, duplicates, folding, ledger, org, process, views
from .instances import latest_definition

MAX_TITLE = 500
MAX_CONTENT = 20_000
# Form fields that say why a step refused (the leader's 批示 on leader_approval, else an opinion or reason).
REFUSAL_REASONS = ("comment", "opinion", "reason")


def register_item(duban, actor: Actor, fields: dict) -> dict:
    """立项: create the item and start the main process for it, in one transaction."""
    if not actor.has(OFFICE, ADMIN):
        raise Forbidden(text("item.register_forbidden"))
    values = _checked(fields)
    return _with_duplicates(duban, actor, _register(duban, actor, values))


def register_started(duban, actor: Actor, key: str, fields: dict, variables: dict) -> dict:
    """发起 a process that declares a 督办 item (duban:item="true"): the item's fields come from its
    start form's data (`title`, `content`, `source`, `category`, `classification`, `deadline`,
    `designees`), every field of it goes to the process as well. The caller checked who may start it."""
    values = _checked(fields)
    return _with_duplicates(duban, actor, _register(duban, actor, values, key, variables))


def _with_duplicates(duban, actor: Actor, item: dict) -> dict:
    """重复提醒: the registered item with the open items its title is close to (a warning, not a refusal:
    the office may have meant it)."""
    return {**item, "duplicates": duplicates.close_items(duban, actor, item["title"], exclude=item["id"])}


@retrying
def _register(duban, actor: Actor, values: dict, key: str = MAIN_KEY, variables: dict | None = None) -> dict:
    # The deadline rules table (a step of its own) before this step: no database lock while it runs.
    workdays = None if values.get("deadline") else deadline_rules.workdays(duban, values["category"],
                                                                           values["source"])
    with duban.db.step() as session:
        ctx = process.context(duban, session, actor)
        try:
            deadline = deadline_for(duban.calendar, values["category"], ctx.now, values.get("deadline"), workdays)
        except ValueError:
            raise InvalidInput(text("item.deadline_invalid"),
                               [{"field": "deadline", "message": text("field.when")}]) from None
        if deadline.at <= ctx.now:
            raise InvalidInput(text("item.deadline_past"), [{"field": "deadline", "message": text("field.past")}])
        item = Item(
            title=values["title"], content=values["content"], source=values["source"],
            category=values["category"], classification=values["classification"], deadline=deadline.at,
            deadline_explicit=bool(values.get("deadline")), deadline_provisional=deadline.provisional,
            status="drafting", created_by=actor.username,
            created_at=ctx.now, units=[],  # none yet: known, not loaded (a query each time it was read)
        )
        item.designees = _designees(session, actor, values, ctx.now)
        # The id comes first and the row after the start step: nothing is written while the
        # process's own code runs (a competing insert makes this step's write fail and rerun).
        item.id = next_id(session, Item)
        ctx.item = item
        data = {
            **(variables or {}),
            "item_id": item.id, "title": item.title, "content": item.content, "source": item.source,
            "category": item.category, "classification": item.classification,
            "deadline": item.deadline.isoformat(),
        }
        process.start(ctx, latest_definition(session, key), data)
        item_id = item.id
    return get_item(duban, actor, item_id)


def _designees(session, actor: Actor, values: dict, now) -> list[ItemDesignee]:
    """保密: a secret item's designated people, the registering person among them."""
    if values["classification"] != SECRET:
        return []
    if not [name for name in values["designees"] if name != actor.username]:
        # Only its registrant would see it: no leader approves it, no unit works it, and it sticks.
        message = text("item.secret_needs_designees")
        raise InvalidInput(message, [{"field": "designees", "message": message}])
    names = list(dict.fromkeys([actor.username, *values["designees"]]))
    users = {u.username: u
             for u in session.scalars(select(User).where(User.username.in_(names), User.active.is_(True)))}
    unknown = [name for name in names if name not in users]
    if unknown:
        raise InvalidInput(text("item.unknown_users", names="、".join(unknown)),
                           [{"field": "designees", "message": text("users.not_found", username=name)}
                            for name in unknown])
    return [ItemDesignee(user_id=users[name].id, added_by=actor.username, added_at=now) for name in names]


def designate(duban, actor: Actor, item_id: int, username: str, remove: bool = False) -> dict:
    """Add (or remove) a designated person of a secret item: its designated office staff or an administrator."""
    with duban.db.transaction() as session:
        item = visible_item(session, actor, item_id)
        if item.classification != SECRET:
            raise Conflict(text("item.designees_not_secret"))
        if not actor.has(OFFICE, ADMIN, *SYSTEM_ADMINS):
            raise Forbidden(text("item.designate_forbidden"))
        user = session.scalars(select(User).where(User.username == username, User.active.is_(True))).one_or_none()
        if user is None:
            raise InvalidInput(text("users.not_found", username=username),
                               [{"field": "username", "message": text("users.not_found", username=username)}])
        current = {d.user_id: d for d in item.designees}
        if remove:
            if user.id == actor.id and not actor.has(*SYSTEM_ADMINS):
                raise Conflict(text("item.undesignate_self"))
            if user.id in current:
                item.designees.remove(current[user.id])
        elif user.id not in current:
            item.designees.append(ItemDesignee(user_id=user.id, added_by=actor.username, added_at=duban.clock.now()))
        audit.append(session, actor.username, "item.undesignate" if remove else "item.designate",
                     f"item:{item_id}", {"username": username}, at=duban.clock.now())
    return get_item(duban, actor, item_id)


def _checked(fields: dict) -> dict:
    errors = []
    title = (fields.get("title") or "").strip()
    if not title:
        errors.append({"field": "title", "message": text("field.required")})
    elif len(title) > MAX_TITLE:
        errors.append({"field": "title", "message": text("field.max_length", limit=MAX_TITLE)})
    elif problem := title_problem(title):
        errors.append({"field": "title", "message": problem})
    content = fields.get("content") or ""
    if len(content) > MAX_CONTENT:
        errors.append({"field": "content", "message": text("field.max_length", limit=MAX_CONTENT)})
    designees = fields.get("designees") or []
    if isinstance(designees, str):
        designees = [name.strip() for name in designees.replace("，", ",").split(",") if name.strip()]
    if not isinstance(designees, list) or not all(isinstance(name, str) for name in designees):
        errors.append({"field": "designees", "message": text("item.designees_list")})
        designees = []
    values = {"title": title, "content": content, "deadline": fields.get("deadline"), "designees": designees}
    for name, allowed, default in (("source", SOURCES, "other"), ("category", CATEGORIES, "normal"),
                                   ("classification", CLASSIFICATIONS, "internal")):
        value = fields.get(name) or default
        if value not in allowed:
            errors.append({"field": name, "message": one_of(allowed)})
        values[name] = value
    if errors:
        first = errors[0]
        raise InvalidInput(text("item.field", field=text(f"item.field.{first['field']}"), message=first["message"]),
                           errors)
    return values


# Bidirectional embeddings, overrides (U+202A–U+202E) and isolates (U+2066–U+2069) reorder what follows
# them: a title could show its words in another order in the ledger, a notice or an export ("Trojan
# Source"). Ordinary right-to-left text needs none of them.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Characters that show nothing but are not whitespace: fillers that render as blank.
_BLANK_FILLERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def title_problem(title: str) -> str | None:
    """Why a title cannot stand in the ledger (Chinese), or None: it must show at least one visible
    character (not only zero-width ones such as U+200B–U+200D, U+2060, U+FEFF) and hold no
    bidirectional override or isolate."""
    if _BIDI_CONTROLS.search(title):
        return text("input.title_bidi")
    if all(_invisible(char) for char in title):
        return text("input.title_invisible")
    return None


def _invisible(char: str) -> bool:
    # Cf: format characters (zero-width space/joiners, word joiner, BOM, soft hyphen...); Z*: spaces;
    # Cc: controls; Mn/Me: marks, which draw nothing without a base character.
    return unicodedata.category(char) in {"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me"} or char in _BLANK_FILLERS


def get_item(duban, actor: Actor, item_id: int) -> dict:
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        view = views.item(item, duban, duban.clock.now(), org.unit_names(session))
        view["refusal"] = _refusal(session, item) if item.status == "rejected" else None
        if item.withdrawn_by:
            view["withdrawn_by_name"] = session.scalar(
                select(User.display_name).where(User.username == item.withdrawn_by)) or item.withdrawn_by
        # 知悉范围 by name and unit, as the item page lists them.
        view["designee_people"] = [{"username": d.user.username, "name": d.user.display_name or d.user.username,
                                    "unit_name": d.user.unit.name if d.user.unit else None}
                                   for d in item.designees] if item.classification == SECRET else []
        return view


def _refusal(session, item: Item) -> dict | None:
    """不予立项: who refused, when and why — the last step completed in the item's instance (it ended the
    process there: the leader's 审批 in duban_main), with its 批示 or opinion as the reason."""
    last = session.execute(
        select(HistoryEntry, User.display_name).outerjoin(User, User.username == HistoryEntry.actor)
        .where(HistoryEntry.instance_id == item.instance_id, HistoryEntry.action == "completed",
               HistoryEntry.task_id.is_not(None))
        .order_by(HistoryEntry.id.desc()).limit(1)).first()
    if last is None:
        return None
    entry, name = last
    data = entry.data or {}
    reason = next((str(data[key]).strip() for key in REFUSAL_REASONS if str(data.get(key) or "").strip()), "")
    return {"by": entry.actor, "by_name": name or entry.actor, "at": entry.at, "step": entry.name, "reason": reason}


def list_items(duban, actor: Actor, page: int = 1, per_page: int = 50, **filters) -> tuple[list[dict], int]:
    """The ledger (台账): filters as in ledger.LedgerFilter (status, unit, light, text, sort...)."""
    return ledger.list_items(duban, actor, ledger.LedgerFilter(**filters), page, per_page)


@folding.step_fold
def _fold_item_changes(session: Session) -> None:
    """PostgreSQL: items' and their units' changes go in the commit's audit statement (folding), each
    item's first due time brought in line first (below; the flush after the fold sees them unchanged)."""
    _keep_first_due(session)
    for model in (Item, ItemUnit):
        folding.fold_changes(session, model)


@event.listens_for(Session, "before_flush")
def _keep_first_due(session: Session, _context=None, _instances=None) -> None:
    """Item.due_first for every item this flush changes, or whose part it adds, changes or deletes: in the
    same flush, so the ledger's lights never read a due time its rows have left behind."""
    changed, gone = (*session.new, *session.dirty), set(session.deleted)  # each a walk of the session: once
    items = {obj for obj in changed if isinstance(obj, Item)}
    with session.no_autoflush:
        items.update(part.item for part in (*changed, *gone) if isinstance(part, ItemUnit) and part.item is not None)
    for item in items - gone:
        due = deadlines.first_due(item, [part for part in item.units if part not in gone])
        if item.due_first != due:
            item.due_first = due
