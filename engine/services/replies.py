"""省长信箱, 人大代表建议, 政协提案: the requester, the reply they got and how satisfied they were.

The targets (003 三(二)3.): 答复率 100%, 满意率 100%, 及时上报率 100%. The office records, for an
item of one of these sources, who asked (name, contact), the reply (text and when it was given),
and — once the requester has been asked — their satisfaction (满意/基本满意/不满意) with the date.
Corrections keep the replaced values in `history`: these figures are reported upwards.

Statistics, per source, over the items the caller may see (items_visible), leaving out items the
leader rejected (不予立项):

- **答复率 reply rate** = items replied ÷ items.
- **按期答复率 on-time rate** = items replied on or before the item's deadline ÷ items whose reply
  is due (replied, or past the deadline without a reply); `None` when none is due yet.
- **满意率 satisfaction rate** = (满意 + 基本满意) ÷ items whose satisfaction was recorded.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from .. import texts
from ..access import Actor, items_visible, visible_item
from ..clock import CHINA
from ..domain.items import SOURCES, UNREGISTERED_STATUSES, parse_when
from ..domain.roles import ADMIN, DISCIPLINE, OFFICE, SUPERVISORS, UNIT
from ..errors import Conflict, Forbidden, InvalidInput
from ..models import Item, SourceReply
from . import audit
from .stats import count_where, period, rate

REPLY_SOURCES = ("mailbox", "npc_suggestion", "cppcc_proposal")
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
MAX_TEXT = 20_000


def _item_for_office(session, actor: Actor, item_id: int) -> Item:
    item = visible_item(session, actor, item_id)
    if not actor.has(OFFICE, ADMIN):
        raise Forbidden(texts.text("reply.office_only"))
    if item.source not in REPLY_SOURCES:
        raise Conflict(texts.text("reply.sources_only"))
    if item.status == "rejected":
        raise Conflict(texts.text("reply.not_registered"))
    return item


def put_reply(duban, actor: Actor, item_id: int, fields: dict) -> dict:
    """Record the requester and (when given) the reply; a recorded reply can be corrected, not removed."""
    now = duban.clock.now()
    with duban.db.transaction() as session:
        item = _item_for_office(session, actor, item_id)
        row = session.scalars(select(SourceReply).where(SourceReply.item_id == item_id).with_for_update()).one_or_none()
        values = _checked_reply(duban, fields, item, row, now)
        if row is None:
            row = SourceReply(item_id=item_id, requester_name="", requester_contact="", satisfaction_note="",
                              updated_at=now, history=[])
            session.add(row)
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if not changed:
            return _view(row)
        if row.id is not None and any(getattr(row, k) for k in changed):
            row.history = [*row.history, _snapshot(row, list(changed), actor.username, now)]
        for key, value in changed.items():
            setattr(row, key, value)
        if "reply_text" in changed or "replied_at" in changed:
            row.replied_by = actor.username
        row.updated_at = now
        session.flush()
        audit.append(session, actor.username, "reply.record", f"item:{item_id}", {"fields": sorted(changed)}, at=now)
        return _view(row)


def _checked_reply(duban, fields: dict, item: Item, row: SourceReply | None, now: datetime) -> dict:
    errors = []
    name = (fields.get("requester_name") or "").strip()
    contact = (fields.get("requester_contact") or "").strip()
    text = (fields.get("text") or "").strip()
    if not name or len(name) > 100:
        errors.append({"field": "requester_name", "message": texts.text("reply.requester_name")})
    if len(contact) > 200:
        errors.append({"field": "requester_contact", "message": texts.text("field.max_length", limit=200)})
    if len(text) > MAX_TEXT:
        errors.append({"field": "text", "message": texts.text("field.max_length", limit=MAX_TEXT)})
    values = {"requester_name": name, "requester_contact": contact}
    if text:
        values["reply_text"] = text
        try:
            values["replied_at"] = _moment(duban, fields.get("replied_at"), item, now) if fields.get("replied_at") \
                else (row.replied_at if row is not None and row.replied_at else now)
        except ValueError as error:
            errors.append({"field": "replied_at", "message": str(error)})
    elif row is not None and row.reply_text:
        errors.append({"field": "text", "message": texts.text("reply.keep_reply")})
    if errors:
        raise InvalidInput(errors[0]["message"], errors)
    return values


def _moment(duban, text, item: Item, now: datetime) -> datetime:
    """When the reply was given: a date means that day's close of office (or now, for today)."""
    try:
        when = parse_when(str(text))
    except ValueError:
        raise ValueError(texts.text("field.when")) from None
    if isinstance(when, datetime):
        if when > now:
            raise ValueError(texts.text("reply.not_future"))
        if when < item.created_at:
            raise ValueError(texts.text("reply.not_before_item"))
        return when
    if when > now.astimezone(CHINA).date():
        raise ValueError(texts.text("reply.not_future"))
    if when < item.created_at.astimezone(CHINA).date():
        raise ValueError(texts.text("reply.not_before_item"))
    return max(min(duban.calendar.end_of(when), now), item.created_at)


def put_satisfaction(duban, actor: Actor, item_id: int, fields: dict) -> dict:
    """The requester's satisfaction with the reply, as the office learned it, and on which date."""
    now = duban.clock.now()
    today = now.astimezone(CHINA).date()
    with duban.db.transaction() as session:
        _item_for_office(session, actor, item_id)
        row = session.scalars(select(SourceReply).where(SourceReply.item_id == item_id).with_for_update()).one_or_none()
        if row is None or row.replied_at is None:
            raise Conflict(texts.text("reply.satisfaction_before_reply"))
        errors = []
        level = fields.get("satisfaction")
        if level not in SATISFACTION:
            errors.append({"field": "satisfaction", "message": texts.text("reply.satisfaction_level")})
        on = fields.get("date") or today.isoformat()
        try:
            on = on if isinstance(on, date) else date.fromisoformat(str(on))
            if on > today or on < row.replied_at.astimezone(CHINA).date():
                errors.append({"field": "date", "message": texts.text("reply.date_range")})
        except ValueError:
            errors.append({"field": "date", "message": texts.text("field.iso.date")})
        note = (fields.get("note") or "").strip()
        if len(note) > 2000:
            errors.append({"field": "note", "message": texts.text("field.max_length", limit=2000)})
        if errors:
            raise InvalidInput(errors[0]["message"], errors)
        values = {"satisfaction": level, "satisfaction_on": on, "satisfaction_note": note}
        changed = [k for k, v in values.items() if getattr(row, k) != v]
        if changed:
            if row.satisfaction is not None:
                row.history = [*row.history, _snapshot(row, changed, actor.username, now)]
            for key in changed:
                setattr(row, key, values[key])
            row.satisfaction_by, row.updated_at = actor.username, now
            audit.append(session, actor.username, "reply.satisfaction", f"item:{item_id}", {"satisfaction": level},
                         at=now)
        return _view(row)


# ---- from the process: 答复 and 满意度回访 steps (engine/services/main_process.py) -------------------------

def record_from_step(session, item: Item, by: str, now: datetime, text: str | None = None,
                     satisfaction: tuple | None = None) -> None:
    """A 答复 step's reply text, or a 满意度回访 step's (level, note), into the item's reply record,
    in the step's transaction. A later reply replaces an earlier one (退回重新答复), which history keeps."""
    row = session.scalars(select(SourceReply).where(SourceReply.item_id == item.id)).one_or_none()
    if row is None:
        row = SourceReply(item_id=item.id, requester_name="", requester_contact="", satisfaction_note="",
                          updated_at=now, history=[])
        session.add(row)
    if text is not None:
        values = {"reply_text": text, "replied_at": now, "replied_by": by}
    else:
        if row.replied_at is None:
            raise Conflict(texts.text("reply.satisfaction_before_reply"))
        level, note = satisfaction
        values = {"satisfaction": level, "satisfaction_on": now.astimezone(CHINA).date(),
                  "satisfaction_note": note, "satisfaction_by": by}
    changed = [key for key, value in values.items() if getattr(row, key) != value]
    if row.id is not None and any(getattr(row, key) for key in changed):
        row.history = [*row.history, _snapshot(row, changed, by, now)]
    for key in changed:
        setattr(row, key, values[key])
    row.updated_at = now


def _snapshot(row: SourceReply, changed: list, by: str, now: datetime) -> dict:
    """The values a correction replaces, with who replaced them and when."""
    before = {key: getattr(row, key) for key in changed}
    for key in ("replied_at",):
        if isinstance(before.get(key), datetime):
            before[key] = before[key].isoformat()
    if isinstance(before.get("satisfaction_on"), date):
        before["satisfaction_on"] = before["satisfaction_on"].isoformat()
    return {"changed_by": by, "changed_at": now.isoformat(), "before": before}


def get_reply(duban, actor: Actor, item_id: int) -> dict:
    """The item's requester, reply and satisfaction (all empty while nothing is recorded)."""
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        row = session.scalars(select(SourceReply).where(SourceReply.item_id == item_id)).one_or_none()
        view = _view(row) if row else _view(SourceReply(item_id=item_id, requester_name="", requester_contact="",
                                                        satisfaction_note="", history=[]))
        view["applies"] = item.source in REPLY_SOURCES
        return view


def _view(row: SourceReply) -> dict:
    return {"item_id": row.item_id, "requester_name": row.requester_name, "requester_contact": row.requester_contact,
            "text": row.reply_text, "replied_at": row.replied_at, "replied_by": row.replied_by,
            "satisfaction": row.satisfaction, "satisfaction_name": SATISFACTION.get(row.satisfaction),
            "satisfaction_on": row.satisfaction_on, "satisfaction_by": row.satisfaction_by,
            "satisfaction_note": row.satisfaction_note, "updated_at": row.updated_at,
            "corrections": len(row.history or []), "applies": True}


# ---- statistics ---------------------------------------------------------------------------------------

def source_stats(duban, actor: Actor, year=None, since=None, until=None) -> list[dict]:
    """Per source (省长信箱, 人大建议, 政协提案): items, replies, rates and satisfaction, as defined above."""
    if not actor.has(*SUPERVISORS, UNIT, DISCIPLINE):
        raise Forbidden(texts.text("reply.stats_forbidden"))
    start, end = period(year, since, until)
    now = duban.clock.now()
    replied = SourceReply.replied_at.is_not(None)
    where = [items_visible(actor), Item.source.in_(REPLY_SOURCES),
             Item.status.not_in(UNREGISTERED_STATUSES)]
    if start is not None:
        where.append(Item.created_at >= start)
    if end is not None:
        where.append(Item.created_at < end)
    with duban.db.reading() as session:
        rows = {row[0]: row[1:] for row in session.execute(
            select(Item.source, func.count(Item.id), count_where(replied),
                   count_where(or_(replied, Item.deadline < now)),
                   count_where(and_(replied, SourceReply.replied_at <= Item.deadline)),
                   *[count_where(SourceReply.satisfaction == level) for level in SATISFACTION])
            .select_from(Item).outerjoin(SourceReply, SourceReply.item_id == Item.id)
            .where(*where).group_by(Item.source)).all()}
    result = []
    for source in REPLY_SOURCES:
        items, replies, due, on_time, satisfied, basic, dissatisfied = (int(n) for n in rows.get(source, (0,) * 7))
        rated = satisfied + basic + dissatisfied
        result.append({
            "source": source, "source_name": SOURCES[source], "items": items, "replied": replies,
            "reply_rate": rate(replies, items), "due": due, "on_time": on_time, "on_time_rate": rate(on_time, due),
            "satisfied": satisfied, "basically_satisfied": basic, "dissatisfied": dissatisfied, "rated": rated,
            "satisfaction_rate": rate(satisfied + basic, rated),
        })
    return result
