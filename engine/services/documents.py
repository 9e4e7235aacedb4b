"""The office's documents (文书): 交办通知单 and 催办通知单 as Word files, filled from .docx templates.

A document is not stored: it is what a step submitted (the `notice` of an `assign` or `urge` task,
kept in the history, which is append-only) poured into a template, so a download always shows
what was sent. Its id is that history row's id; its number (发文字号, 督交〔2026〕3号) counts the
documents of its kind issued in that year up to it, which the append-only history keeps stable.

Templates are engine/processes/templates/<kind>.docx (bpmn/templates/ in a checkout; written once by
tools/make_doc_templates.py), shipped in the package; one pushed into the database (`duban templates
push`, engine/services/doc_templates.py) replaces one on every machine, and a file of the same name
in $DUBAN_VAR_DIR/templates/ on this machine when none is.
Placeholders are `{{name}}` anywhere in the body, tables, headers or footers; Word splits typed
text into runs as it likes, so a placeholder is found in a paragraph's whole text and rewritten
across the runs that hold it, keeping the format of the run where it begins. A placeholder alone in
its paragraph and a value of several lines give one paragraph per line (same format); elsewhere
lines become line breaks. Unknown placeholders are left as they are, so a mistyped one shows in the
output instead of vanishing.
"""
from __future__ import annotations

import copy
import io
import logging
import re
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from docx import Document
from docx.opc.part import XmlPart
from docx.oxml.ns import qn
from sqlalchemy import func, select

from .. import PROCESSES
from ..access import Actor, visible_item
from ..clock import CHINA
from ..domain import steps
from ..domain.items import SOURCES, limit_from
from ..errors import NotFound
from ..models import Definition, HistoryEntry, Instance, Item, Unit
from ..texts import text
from . import audit, definitions, doc_templates, org

log = logging.getLogger(__name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BUILTIN_TEMPLATES = PROCESSES / "templates"


@dataclass(frozen=True)
class Kind:
    """One kind of document: the step whose submission it is, its template, its number's prefix."""

    step: str  # the kind of 督办 step (engine/domain/steps.py) whose submission it is
    template: str
    name: str
    prefix: str


KINDS = {
    "assign_notice": Kind("assign", "assign_notice", "交办通知单", "督交"),
    "urge_notice": Kind("urge", "urge_notice", "催办通知单", "督催"),
}
_BY_STEP = {kind.step: key for key, kind in KINDS.items()}


def _by_element(session, instance_id: int | None) -> dict:
    """{element id: document kind} of the steps the instance's own definition declares."""
    elements = session.scalar(select(Definition.elements).join(Instance, Instance.definition_id == Definition.id)
                              .where(Instance.id == instance_id))
    return {element: _BY_STEP[kind] for element, kind in steps.declared(elements or {}).items() if kind in _BY_STEP}

PLACEHOLDERS = ("office", "number", "title", "source", "unit", "deadline", "new_limit", "notice", "date",
                "item_id", "kind")


# --- use cases -----------------------------------------------------------------------------------

def list_documents(duban, actor: Actor, item_id: int) -> list[dict]:
    """The documents of an item the caller may see, oldest first (NotFound otherwise)."""
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        return documents_of(session, item)


def render_document(duban, actor: Actor, item_id: int, doc_id: int) -> tuple[dict, bytes]:
    """(the document's listing, its .docx bytes); NotFound unless the item is visible and has it."""
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        entry = session.get(HistoryEntry, doc_id)
        if entry is None or entry.instance_id != item.instance_id \
                or not _is_document(entry, _by_element(session, entry.instance_id)):
            raise NotFound(text("document.not_found", item=item_id, id=doc_id))
        listing = describe(session, item, entry)
        data = fill(template_bytes(duban, listing["kind"], session), values(duban, session, item, entry, listing))
    audit.record_file(duban, actor, "document.download", f"item:{item_id}", data, document=doc_id,
                      kind=listing["kind"], number=listing["number"])
    return listing, data


def documents_of(session, item: Item) -> list[dict]:
    if item.instance_id is None:
        return []
    by_element = _by_element(session, item.instance_id)
    entries = session.scalars(select(HistoryEntry).where(
        HistoryEntry.instance_id == item.instance_id, HistoryEntry.action == "completed",
        HistoryEntry.element_id.in_(by_element)).order_by(HistoryEntry.id))
    return [describe(session, item, entry) for entry in entries if _is_document(entry, by_element)]


def _is_document(entry: HistoryEntry, by_element: dict) -> bool:
    return (entry.action == "completed" and entry.element_id in by_element
            and bool((entry.data or {}).get("notice")))


def describe(session, item: Item, entry: HistoryEntry) -> dict:
    """A document's listing: id, kind, number, addressee, when and by whom, its text, its file name."""
    key = _by_element(session, entry.instance_id)[entry.element_id]
    kind = KINDS[key]
    names = org.unit_names(session)
    if entry.unit_id:
        addressee = names.get(entry.unit_id, entry.unit_id)
    else:
        addressee = "、".join(f"{names.get(p.unit_id, p.unit_id)}（{'牵头' if p.role == 'lead' else '配合'}）"
                             for p in item.units)
    number = f"{kind.prefix}〔{_local(entry.at).year}〕{_sequence(session, entry, key)}号"
    return {
        "id": entry.id, "item_id": item.id, "kind": key, "kind_name": kind.name, "number": number,
        "unit": entry.unit_id, "unit_name": addressee, "created_at": entry.at, "created_by": entry.actor,
        "text": entry.data.get("notice", ""), "filename": f"{number}{kind.name}.docx",
    }


def _sequence(session, entry: HistoryEntry, key: str) -> int:
    """This document's place among those of its kind issued in its (Beijing) year, all items counted."""
    year = _local(entry.at).year
    start, end = datetime(year, 1, 1, tzinfo=CHINA), datetime(year + 1, 1, 1, tzinfo=CHINA)
    # A range scan of ix_history_element_action_at (0006), not the whole history.
    return session.scalar(select(func.count(HistoryEntry.id)).join(Instance, Instance.id == HistoryEntry.instance_id)
                          .where(definitions.is_step(session, HistoryEntry.instance_id, HistoryEntry.element_id,
                                                     KINDS[key].step),
                                 HistoryEntry.action == "completed",
                                 HistoryEntry.at >= start, HistoryEntry.at < end, HistoryEntry.id <= entry.id,
                                 Instance.id.in_(select(Item.instance_id))))


def values(duban, session, item: Item, entry: HistoryEntry, listing: dict) -> dict:
    """What the placeholders of a document stand for."""
    data = entry.data or {}
    part = next((p for p in item.units if p.unit_id == entry.unit_id), None)
    new_limit = ""
    if data.get("new_limit"):
        try:
            new_limit = _when(limit_from(duban.calendar, str(data["new_limit"])))
        except ValueError:
            new_limit = str(data["new_limit"])
    return {
        "office": office_name(session), "number": listing["number"], "kind": listing["kind_name"],
        "title": item.title, "source": SOURCES.get(item.source, item.source), "unit": listing["unit_name"],
        "deadline": _when(part.deadline if part else item.deadline), "new_limit": new_limit,
        "notice": _body(data.get("notice", ""), listing["kind_name"]), "date": chinese_date(entry.at),
        "item_id": str(item.id),
    }


def _body(notice: str, heading: str) -> str:
    """The notice as sent, without its first line when that only repeats the document's title."""
    lines = notice.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].strip() == heading:
        lines = lines[1:]
    return "\n".join(lines).strip("\n")


def office_name(session) -> str:
    name = session.scalars(select(Unit.name).where(Unit.kind == "office").order_by(Unit.sort, Unit.id).limit(1)).first()
    return name or "督查室"



def _local(moment: datetime) -> datetime:
    return moment.astimezone(CHINA)


def _when(moment: datetime) -> str:
    local = _local(moment)
    text = f"{local.year}年{local.month}月{local.day}日"
    return text if local.time() in (time(0, 0), time(23, 59, 59)) else f"{text} {local:%H:%M}前"


_DIGITS = "〇一二三四五六七八九"


def chinese_date(moment: datetime) -> str:
    """成文日期 in Chinese numerals, as seals and 落款 write it: 二〇二六年九月二十八日 (Beijing day)."""
    day = _local(moment).date()

    def number(n: int) -> str:
        if n < 10:
            return _DIGITS[n]
        tens, ones = divmod(n, 10)
        return f"{'' if tens == 1 else _DIGITS[tens]}十{_DIGITS[ones] if ones else ''}"

    return f"{''.join(_DIGITS[int(c)] for c in str(day.year))}年{number(day.month)}月{number(day.day)}日"


# --- templates -----------------------------------------------------------------------------------

def template_bytes(duban, name: str, session=None) -> bytes:
    """The administrators' template in the database (`duban templates push`, the same on every machine),
    else an override in $DUBAN_VAR_DIR/templates/ when it opens as a .docx (one machine), else the built-in."""
    pushed = doc_templates.stored(duban, name, session)
    if pushed is not None:
        return pushed
    override = Path(duban.settings.var_dir) / "templates" / f"{name}.docx"
    if override.is_file():
        data = override.read_bytes()
        try:
            Document(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - any unreadable file: say so and keep serving documents
            log.error("template %s is not a readable .docx; using the built-in one", override)
        else:
            return data
    return (BUILTIN_TEMPLATES / f"{name}.docx").read_bytes()


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Characters XML 1.0 cannot hold; a pasted form feed would otherwise make the file unsavable.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT_PARTS = re.compile(r"^/word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")


def fill(template: bytes, values: dict) -> bytes:
    """The template with every known `{{name}}` replaced by values[name]; the .docx as bytes."""
    clean = {key: _ILLEGAL.sub("", str(value if value is not None else "")).replace("\r\n", "\n")
             for key, value in values.items()}
    document = Document(io.BytesIO(template))
    for part in document.part.package.iter_parts():
        if isinstance(part, XmlPart) and _TEXT_PARTS.match(str(part.partname)):
            for paragraph in list(part.element.iter(qn("w:p"))):
                _fill_paragraph(paragraph, clean)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _texts(paragraph) -> list:
    """The paragraph's own w:t elements in order (not those of paragraphs nested in text boxes)."""
    return [t for t in paragraph.iter(qn("w:t")) if next(t.iterancestors(qn("w:p"))) is paragraph]


def _fill_paragraph(paragraph, values: dict) -> None:
    texts = _texts(paragraph)
    whole = "".join(t.text or "" for t in texts)
    if "{{" not in whole:
        return
    alone = _PLACEHOLDER.fullmatch(whole.strip())
    if alone and alone.group(1) in values and "\n" in values[alone.group(1)]:
        _one_paragraph_per_line(paragraph, alone.group(1), values[alone.group(1)].split("\n"))
        return
    _replace(texts, values)


def _one_paragraph_per_line(paragraph, name: str, lines: list[str]) -> None:
    pristine = copy.deepcopy(paragraph)
    previous = paragraph
    for index, line in enumerate(lines):
        target = paragraph if index == 0 else copy.deepcopy(pristine)
        _replace(_texts(target), {name: line})
        if index:
            previous.addnext(target)
            previous = target


def _replace(texts: list, values: dict) -> None:
    """Rewrite the placeholders found in the joined text of `texts`, last first (earlier offsets stay valid)."""
    contents = [t.text or "" for t in texts]
    starts, offset = [], 0
    for content in contents:
        starts.append(offset)
        offset += len(content)
    joined, lengths = "".join(contents), [len(content) for content in contents]
    for match in reversed(list(_PLACEHOLDER.finditer(joined))):
        if match.group(1) not in values:
            continue
        first = _holding(starts, lengths, match.start())
        last = _holding(starts, lengths, match.end() - 1)
        head = contents[first][:match.start() - starts[first]]
        tail = contents[last][match.end() - starts[last]:]
        if first == last:
            contents[first] = head + values[match.group(1)] + tail
        else:
            contents[first] = head + values[match.group(1)]
            for index in range(first + 1, last):
                contents[index] = ""
            contents[last] = tail
    for element, content in zip(texts, contents, strict=True):
        if content != (element.text or ""):
            _set_text(element, content)


def _holding(starts: list[int], lengths: list[int], position: int) -> int:
    """Index of the text element that held character `position` of the joined text."""
    return next(index for index, (start, length) in enumerate(zip(starts, lengths, strict=True))
                if start <= position < start + length)


def _set_text(element, content: str) -> None:
    """Set a w:t's text; lines after the first go into new w:t's after w:br's in the same run."""
    lines = content.split("\n")
    element.text = lines[0]
    element.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    anchor = element
    for line in lines[1:]:
        br = element.makeelement(qn("w:br"), {})
        anchor.addnext(br)
        text = element.makeelement(qn("w:t"), {"{http://www.w3.org/XML/1998/namespace}space": "preserve"})
        text.text = line
        br.addnext(text)
        anchor = text
