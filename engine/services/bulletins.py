"""督查通报 bulletins: the office issues a monthly or quarterly bulletin (.docx) drawn from the ledger.

002 四(五) "督查室将定期发出督查情况通报"; 001 8、 "月检查、季通报、年考核"; 001 10、 and 002 六 name
the 通报表彰 and 通报批评 a bulletin carries. A period is a month (`2026-10`) or a quarter (`2026-Q4`)
in Beijing time; a period still running is reported as of now (the document says so).

**What it counts** (units' parts 承办任务 are `ItemUnit` rows; 按期, 逾期 and the due time are
engine/domain/deadlines.py's rules, the same for the dashboard and 考核):

- 新立项 registered: items created (立项) in the period, except those the leader rejected (不予立项).
- 办结 completed: parts whose report was accepted in the period; 按期 on time when the report came on or
  before the part's deadline (extensions included, not the urge limit), else 逾期办结.
- 逾期未办结 overdue: parts overdue at the period's end (or now): their deadline — the urge limit once
  urged — had passed with no report, and the item was neither closed nor ended. As far as timestamps
  tell: a report returned and re-submitted later counts from its last submission.
- 催办 urged, 移送纪委 escalated: parts urged / referred to 纪委 in the period.
- 表扬 commended: leaders' praises (`Praise`) in the period; 通报批评 criticised: `Criticism` rows in it.

**保密.** A bulletin is circulated to the office, the leaders and the units, beyond any secret item's
designated scope, so secret items are left out entirely: never named, and not counted either (a count
that differed from its list would betray them). Who issues it does not change this.

Issued bulletins are stored with their .docx in the database (one transaction: numbered, stored and
audited together). Numbers run per year of issue: 〔2026〕第1期, 第2期, ...

**Once per period.** The office may preview a period's bulletin (the same facts, nothing stored or
numbered). Issuing a period that already has a bulletin in force is refused (409) unless the caller
confirms a second one. A mistaken bulletin is voided (作废) with a reason, audited: it stays listed as
已作废, its number is never given again, and it no longer counts as the period's bulletin.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..access import SECRET, Actor
from ..clock import CHINA
from ..db import on_postgres
from ..domain import deadlines
from ..domain.items import UNREGISTERED_STATUSES
from ..domain.roles import LEADER, OFFICE
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import Bulletin, Criticism, Item, ItemUnit, Praise, Unit, User
from ..texts import text
from . import audit, bulletin_docx

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIN_YEAR, MAX_YEAR = 2000, 2100
_PERIOD = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$")
_QUARTERS = "一二三四"
_ATTEMPTS = 3  # two offices issuing at the same instant collide on the number; the later one renumbers
MAX_REASON = 500
Part = aliased(ItemUnit, name="part")


@dataclass(frozen=True)
class Period:
    code: str  # 2026-10 | 2026-Q4
    label: str  # 2026年10月 | 2026年第四季度
    start: datetime
    end: datetime  # exclusive


def parse_period(value: str) -> Period:
    """A month `YYYY-MM` or a quarter `YYYY-Qn`, bounded in Beijing time; InvalidInput otherwise."""
    match = _PERIOD.match((value or "").strip())
    if not match or not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
        raise InvalidInput(text("bulletin.period_invalid"),
                           [{"field": "period", "message": text("bulletin.period_field")}])
    year = int(match.group(1))
    if match.group(2):
        first, months, label = int(match.group(2)), 1, f"{year}年{int(match.group(2))}月"
    else:
        quarter = int(match.group(3))
        first, months, label = 3 * quarter - 2, 3, f"{year}年第{_QUARTERS[quarter - 1]}季度"
    after = first + months
    end = datetime(year + (after > 12), (after - 1) % 12 + 1, 1, tzinfo=CHINA)
    return Period(match.group(0), label, datetime(year, first, 1, tzinfo=CHINA), end)


def _may_read(actor: Actor) -> None:
    if not actor.has(OFFICE, LEADER):
        raise Forbidden(text("bulletin.read_forbidden"))


def _may_issue(actor: Actor) -> None:
    if not actor.has(OFFICE):
        raise Forbidden(text("bulletin.issue_forbidden"))


def _period_begun(period: str, now: datetime) -> Period:
    span = parse_period(period)
    if span.start > now:
        raise InvalidInput(text("bulletin.not_begun", period=span.label),
                           [{"field": "period", "message": text("bulletin.not_begun_field")}])
    return span


def preview(duban, actor: Actor, period: str) -> dict:
    """What issuing the period would give now (title, would-be number, counts and lists), and the
    bulletins already in force for it; nothing is stored, numbered or audited."""
    _may_issue(actor)
    now = duban.clock.now()
    span = _period_begun(period, now)
    with duban.db.reading() as session:
        cutoff = min(span.end, now)
        facts = _facts(session, duban.calendar, span, cutoff)
        year, seq = _next_number(session, now)
        return {"period": span.code, "period_label": span.label, "title": _title(span),
                "number": _number(year, seq), "cutoff": cutoff, "as_of_now": span.end > now,
                "summary": facts["counts"], "lists": _lists(facts),
                "issued": [_view(row, names) for row, names in _in_force(session, span.code)]}


def generate(duban, actor: Actor, period: str, confirm_reissue: bool = False) -> dict:
    """Issue the bulletin of a period: gather the facts, number it, store its .docx, audit it. A period
    that has a bulletin in force already is refused (Conflict) unless `confirm_reissue`."""
    _may_issue(actor)
    now = duban.clock.now()
    span = _period_begun(period, now)
    for _ in range(_ATTEMPTS):
        try:
            return _issue(duban, actor, span, now, confirm_reissue)
        except IntegrityError:  # (year, seq) taken by a bulletin issued at the same moment: renumber
            continue
    raise Conflict(text("bulletin.number_race"))


def _issue(duban, actor: Actor, span: Period, now: datetime, confirm_reissue: bool) -> dict:
    with duban.db.transaction() as session:
        earlier = [row.number for row, _ in _in_force(session, span.code)]
        if earlier and not confirm_reissue:
            raise Conflict(text("bulletin.period_issued", period=span.label, numbers="、".join(earlier)),
                           [{"field": "confirm_reissue", "message": text("bulletin.confirm_reissue")}])
        cutoff = min(span.end, now)
        facts = _facts(session, duban.calendar, span, cutoff)
        year, seq = _next_number(session, now)
        number, title = _number(year, seq), _title(span)
        issuer = session.scalar(select(Unit.name).where(Unit.kind == "office").order_by(Unit.sort)) or "督查室"
        content = bulletin_docx.render(title=title, number=number, issuer=issuer, issued_at=now, period=span,
                                       cutoff=cutoff, facts=facts)
        row = Bulletin(period=span.code, year=year, seq=seq, number=number, title=title,
                       summary=facts["counts"], content=content, created_by=actor.username, created_at=now)
        session.add(row)
        session.flush()
        audit.append(session, actor.username, "bulletin.issue", f"bulletin:{row.id}",
                     {"period": span.code, "number": number, **({"reissue_after": earlier} if earlier else {})}, at=now)
        return _view(row, _names(session, row))


def void(duban, actor: Actor, bulletin_id: int, reason: str) -> dict:
    """作废: the office withdraws an issued bulletin with a reason; its number stays taken. Audited."""
    _may_issue(actor)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(text("bulletin.void_reason"),
                           [{"field": "reason", "message": text("bulletin.void_reason_field", limit=MAX_REASON)}])
    now = duban.clock.now()
    with duban.db.transaction() as session:
        row = session.get(Bulletin, bulletin_id, with_for_update=on_postgres(session))
        if row is None:
            raise NotFound(text("bulletin.not_found", id=bulletin_id))
        if row.voided_at is not None:
            raise Conflict(text("bulletin.already_void", number=row.number))
        row.voided_at, row.voided_by, row.void_reason = now, actor.username, reason
        audit.append(session, actor.username, "bulletin.void", f"bulletin:{row.id}",
                     {"number": row.number, "period": row.period, "reason": reason}, at=now)
        return _view(row, _names(session, row))


def list_bulletins(duban, actor: Actor, include_voided: bool = True) -> list[dict]:
    """Issued bulletins, newest first; voided ones marked (or left out)."""
    _may_read(actor)
    with duban.db.reading() as session:
        query = select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
        if not include_voided:
            query = query.where(Bulletin.voided_at.is_(None))
        rows = list(session.scalars(query))
        names = _names(session, *rows)
        return [_view(row, names) for row in rows]


def document(duban, actor: Actor, bulletin_id: int) -> tuple[str, bytes]:
    """(file name, .docx bytes) of an issued bulletin; a voided one says so in its name."""
    _may_read(actor)
    with duban.db.reading() as session:
        row = session.get(Bulletin, bulletin_id)
        if row is None:
            raise NotFound(text("bulletin.not_found", id=bulletin_id))
        mark = text("bulletin.voided_mark") if row.voided_at else ""
        name, content = f"督查通报{row.number}{mark}.docx", row.content
    audit.record_file(duban, actor, "bulletin.download", f"bulletin:{bulletin_id}", content)
    return name, content


def _in_force(session, period: str) -> list[tuple[Bulletin, dict]]:
    rows = list(session.scalars(select(Bulletin).where(Bulletin.period == period, Bulletin.voided_at.is_(None))
                                .order_by(Bulletin.created_at, Bulletin.id)))
    names = _names(session, *rows)
    return [(row, names) for row in rows]


def _next_number(session, now: datetime) -> tuple[int, int]:
    """Numbers run per year of issue; voided bulletins keep theirs, so the next is after every row."""
    year = now.astimezone(CHINA).year
    return year, (session.scalar(select(func.max(Bulletin.seq)).where(Bulletin.year == year)) or 0) + 1


def _number(year: int, seq: int) -> str:
    return f"〔{year}〕第{seq}期"


def _title(span: Period) -> str:
    return f"{span.label}督查督办工作情况通报"


def _names(session, *rows: Bulletin) -> dict:
    people = {u for row in rows for u in (row.created_by, row.voided_by) if u}
    if not people:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(people))).all())


def _view(row: Bulletin, names: dict | None = None) -> dict:
    names = names or {}
    return {"id": row.id, "period": row.period, "number": row.number, "title": row.title,
            "summary": row.summary, "created_by": row.created_by,
            "created_by_name": names.get(row.created_by) or row.created_by, "created_at": row.created_at,
            "voided": row.voided_at is not None, "voided_at": row.voided_at, "voided_by": row.voided_by,
            "voided_by_name": (names.get(row.voided_by) or row.voided_by) if row.voided_by else None,
            "void_reason": row.void_reason}


def _lists(facts: dict) -> dict:
    """The preview's lists: which items and units each count is made of."""
    def rows(key, *extra):
        return [{"item_id": r["item_id"], "title": r["title"], "unit_name": r["unit_name"],
                 **{name: r.get(name) for name in extra}} for r in facts[key]]
    return {"completed": rows("completed", "on_time"), "overdue": rows("overdue", "due_at", "overdue_workdays"),
            "urged": rows("urged"), "escalated": rows("escalated"), "praised": rows("praised"),
            "criticised": rows("criticised", "reason")}


# ---- the facts -----------------------------------------------------------------------------------------

def _in(column, span: Period):
    return and_(column >= span.start, column < span.end)


def _public():
    return Item.classification != SECRET


def _facts(session, calendar, span: Period, cutoff: datetime) -> dict:
    part_rows = _part_rows(session)
    completed = part_rows(_in(Part.accepted_at, span), Part.accepted_at)
    for row in completed:
        row["on_time"] = deadlines.is_on_time(SimpleNamespace(**row))
    overdue = part_rows(deadlines.overdue_sql(cutoff, Part, Item), deadlines.due_at_sql(Part, cutoff))
    for row in overdue:
        row["due_at"] = deadlines.due_at(SimpleNamespace(**row), cutoff)
        row["overdue_workdays"] = calendar.workdays_between(row["due_at"], cutoff)
    urged = part_rows(_in(Part.urged_at, span), Part.urged_at)
    escalated = part_rows(_in(Part.escalated_at, span), Part.escalated_at)
    praised = [dict(r._mapping) for r in session.execute(
        select(Item.id.label("item_id"), Item.title, Praise.unit_id.label("unit"), Unit.name.label("unit_name"),
               func.coalesce(User.display_name, Praise.by).label("by"), Praise.note, Praise.at)
        .join(Item, Item.id == Praise.item_id).join(Unit, Unit.id == Praise.unit_id)
        .outerjoin(User, User.username == Praise.by).where(_public(), _in(Praise.at, span))
        .order_by(Praise.at, Praise.id))]
    criticised = [dict(r._mapping) for r in session.execute(
        select(Item.id.label("item_id"), Item.title, Criticism.unit_id.label("unit"), Unit.name.label("unit_name"),
               Criticism.reason, Criticism.note, Criticism.created_at.label("at"))
        .join(Item, Item.id == Criticism.item_id).join(Unit, Unit.id == Criticism.unit_id)
        .where(_public(), _in(Criticism.created_at, span)).order_by(Criticism.created_at, Criticism.id))]
    registered = session.scalar(select(func.count(Item.id)).where(
        _public(), _in(Item.created_at, span), Item.status.not_in(UNREGISTERED_STATUSES)))
    on_time = sum(1 for row in completed if row["on_time"])
    counts = {"registered": registered, "completed": len(completed), "on_time": on_time,
              "late": len(completed) - on_time, "overdue": len(overdue), "urged": len(urged),
              "escalated": len(escalated), "praised": len(praised), "criticised": len(criticised),
              "commended_units": len({r["unit"] for r in praised}),
              "criticised_units": len({r["unit"] for r in criticised})}
    return {"counts": counts, "completed": completed, "overdue": overdue, "urged": urged,
            "escalated": escalated, "praised": praised, "criticised": criticised}


def _part_rows(session):
    def rows(condition, order) -> list[dict]:
        query = (select(Item.id.label("item_id"), Item.title, Part.unit_id.label("unit"),
                        Unit.name.label("unit_name"), Part.role, Part.deadline, Part.reported_at,
                        Part.accepted_at, Part.urged_at, Part.urge_limit, Part.escalated_at)
                 .join(Item, Item.id == Part.item_id).join(Unit, Unit.id == Part.unit_id)
                 .where(_public(), condition).order_by(order, Item.id, Part.id))
        return [dict(r._mapping) for r in session.execute(query)]
    return rows
