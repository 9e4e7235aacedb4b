"""立卷归档 (seed 000): the file of a finished item, as one zip to keep.

"政务督查事项办结后，督查人员要按文书处理要求，将有关材料整理立卷，定期归档." The archive holds,
under one folder `督办事项<id>/`:

    目录.txt                 what is inside, file by file
    事项/事项记录.json        the item as the ledger holds it (units, persons, dates, lights)
    事项/事项概况.txt         the same, readable, with the 反馈 (close-off) summary
    文书/*.docx              every 交办通知单 and 催办通知单, filled as for download
    办结报告/*.txt            every report each unit submitted (returned ones too) and how it was reviewed
    佐证材料/*                every file attached to the item (engine/services/files.py), as uploaded
    履历/history.json, .csv  the whole history: who did what, when, with which data
    SHA256SUMS.txt           the SHA-256 of every other file (`sha256sum -c SHA256SUMS.txt` checks them)

Only closed (已销号) or terminated items are archived (Conflict otherwise), only for those who can
see the item (NotFound otherwise), and each archive made is recorded in the audit log with its
digest, so a copy can later be matched to the record of who took it and when.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import datetime

from sqlalchemy import select

from ..access import Actor, sees_unit_record, visible_item
from ..clock import CHINA
from ..domain import steps
from ..domain.items import STATUSES
from ..errors import Conflict
from ..models import Definition, HistoryEntry, Instance, Item
from ..texts import text
from . import audit, documents, dossier, files as stored_files, org, views

ARCHIVABLE = ("closed", "terminated")
ZIP = "application/zip"
MANIFEST = "SHA256SUMS.txt"
INDEX = "目录.txt"
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
# A spreadsheet runs a cell that begins with one of these as a formula; the CSV quotes it as text.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def archive_item(duban, actor: Actor, item_id: int) -> tuple[str, bytes]:
    """(file name, zip bytes) of a finished item's archive; the audit log records that it was made."""
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        if item.status not in ARCHIVABLE:
            raise Conflict(text("archive.not_finished", id=item_id, status=STATUSES.get(item.status, item.status)))
        now = duban.clock.now()
        files = _contents(duban, session, item, actor, now)
    root = f"督办事项{item_id}"
    data = _zip(root, files, now)
    digest = hashlib.sha256(data).hexdigest()
    with duban.db.transaction() as session:
        audit.append(session, actor.username, "item.archived", f"item:{item_id}",
                     {"sha256": digest, "files": len(files), "bytes": len(data)}, at=now)
    return f"{root}-立卷归档-{now.astimezone(CHINA):%Y%m%d}.zip", data


def _contents(duban, session, item: Item, actor: Actor, now: datetime) -> dict[str, bytes]:
    """{path inside the folder: bytes}, the index first and the manifest last."""
    names = org.unit_names(session)
    who = dossier.names(session)
    record = views.item(item, duban, now, names)
    # A unit's archive holds its own unit's steps and the item's, not another unit's reports.
    history = [h for h in _history(session, item) if sees_unit_record(actor, h.unit_id)]
    kinds = _step_kinds(session, item)
    docs = documents.documents_of(session, item)
    files: dict[str, bytes] = {}
    record_json = {"item": record, "documents": [{k: v for k, v in d.items() if k != "text"} for d in docs],
                   "archived_at": now, "archived_by": actor.username}
    files["事项/事项记录.json"] = _json(record_json)
    files["事项/事项概况.txt"] = _summary(record, docs, history, kinds, who).encode()
    for doc in docs:
        entry = session.get(HistoryEntry, doc["id"])
        body = documents.fill(documents.template_bytes(duban, doc["kind"], session),
                              documents.values(duban, session, item, entry, doc))
        files[_unique(files, f"文书/{_safe(doc['filename'])}")] = body
    attached = stored_files.contents_of(duban, session, item.id)
    # file id: its path in the archive, so each report names the files it came with
    evidence = {listing["id"]: f"佐证材料/{index:02d}-{_safe(listing['name'])}"
                for index, (listing, _) in enumerate(attached, start=1)}
    for index, (entry, review) in enumerate(_reports(history, kinds), start=1):
        unit_name = names.get(entry.unit_id, entry.unit_id or "")
        files[f"办结报告/{index:02d}-{_safe(unit_name)}.txt"] = _report(entry, review, unit_name, evidence,
                                                                          who).encode()
    for listing, body in attached:
        files[evidence[listing["id"]]] = body
    files["履历/history.json"] = _json([_history_row(h, names, who) for h in history])
    files["履历/history.csv"] = _csv(history, names, who)
    index = _index(record, files, now, actor)
    manifest = "".join(f"{hashlib.sha256(body).hexdigest()}  {path}\n"
                       for path, body in {INDEX: index, **files}.items())
    return {INDEX: index, **files, MANIFEST: manifest.encode()}


def _history(session, item: Item) -> list[HistoryEntry]:
    if item.instance_id is None:
        return []
    return list(session.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == item.instance_id)
                                .order_by(HistoryEntry.id)))


def _step_kinds(session, item: Item) -> dict:
    """{element id: declared 督办 step kind} of the item's own process definition."""
    instance = session.get(Instance, item.instance_id) if item.instance_id else None
    definition = session.get(Definition, instance.definition_id) if instance else None
    return steps.declared(definition.elements if definition else {})


def _reports(history: list[HistoryEntry], kinds: dict) -> list[tuple[HistoryEntry, HistoryEntry | None]]:
    """Each 办结报告 submitted, with the 审核 of that unit that followed it (None if none did)."""
    pairs = []
    for position, entry in enumerate(history):
        if entry.action != "completed" or kinds.get(entry.element_id) not in ("report", "reply"):
            continue
        review = next((h for h in history[position + 1:] if h.action == "completed"
                       and kinds.get(h.element_id) == "review" and h.unit_id == entry.unit_id), None)
        pairs.append((entry, review))
    return pairs


def _report(entry: HistoryEntry, review: HistoryEntry | None, unit_name: str, evidence: dict,
            who: dossier.Names) -> str:
    data = entry.data or {}
    attached = [evidence[i] for i in data.get("evidence") or [] if i in evidence]
    if review is None:
        verdict = "未审核"
    else:
        decision, comment = (review.data or {}).get("decision"), (review.data or {}).get("comment")
        verdict = f"{'通过' if decision == 'accept' else '退回'}（{who.person(review.actor)}，{_local(review.at)}）"
        verdict += f"\n审核说明：{comment}" if comment else ""
    return "\n".join([
        "办结报告", f"承办单位：{unit_name}", f"报送人：{who.person(entry.actor)}", f"报送时间：{_local(entry.at)}",
        f"经分管领导审签：{'是' if data.get('approved_by_deputy') else '否'}", f"督查室审核：{verdict}", "",
        str(data.get("summary", "")), "",
        *([f"佐证材料：{'；'.join(attached)}", ""] if attached else []),
    ])


def _summary(record: dict, docs: list[dict], history: list[HistoryEntry], kinds: dict, who: dossier.Names) -> str:
    lines = [
        f"督办事项：{record['title']}", f"事项编号：{record['id']}", f"来源：{record['source_name']}",
        f"类别：{record['category_name']}", f"密级：{record['classification_name']}",
        f"立项：{_local(record['created_at'])}（{who.person(record['created_by'])}）",
        f"办结时限：{_local(record['deadline'])}",
        f"状态：{record['status_name']}", f"销号时间：{_local(record['closed_at']) if record['closed_at'] else '—'}",
    ]
    if record["content"]:
        lines += ["", "事项内容：", record["content"]]
    lines += ["", "承办单位："]
    for part in record["units"]:
        lines.append(f"- {part['unit_name']}（{'牵头' if part['role'] == 'lead' else '配合'}）"
                     f" 第一责任人：{part['first_responsible'] or '—'}；具体责任人：{part['responsible'] or '—'}；"
                     f"具体承办人：{part['handler'] or '—'}；承诺办结：{part['committed_date'] or '—'}；"
                     f"签收：{_local(part['received_at'])}；报告：{_local(part['reported_at'])}；"
                     f"审核通过：{_local(part['accepted_at'])}")
    lines += ["", "文书："] + ([f"- {d['number']} {d['kind_name']}（{d['unit_name']}，{_local(d['created_at'])}）"
                                for d in docs] or ["- 无"])
    feedback = [h for h in history if h.action == "completed" and kinds.get(h.element_id) == "feedback"]
    for entry in feedback:
        lines += ["", f"反馈销号（{who.person(entry.actor)}，{_local(entry.at)}）：",
                  str((entry.data or {}).get("summary", ""))]
    terminated = [h for h in history if h.action == "terminated"]
    for entry in terminated:
        lines += ["", f"终止（{who.person(entry.actor)}，{_local(entry.at)}）：{(entry.data or {}).get('reason', '')}"]
    return "\n".join(lines) + "\n"


def _index(record: dict, files: dict[str, bytes], now: datetime, actor: Actor) -> bytes:
    described = {"事项/事项记录.json": "事项记录（机读）", "事项/事项概况.txt": "事项概况",
                 "履历/history.json": "办理履历（机读）", "履历/history.csv": "办理履历（表格，UTF-8）"}
    lines = [f"立卷归档目录：{record['title']}（事项编号 {record['id']}）",
             f"归档时间：{_local(now)}    归档人：{actor.display_name or actor.username}", "",
             f"{INDEX}  本目录"]
    for path, body in files.items():
        label = described.get(path) or _FOLDERS.get(path.split("/", 1)[0], "办结报告")
        lines.append(f"{path}  {label}，{len(body)} 字节")
    lines += [f"{MANIFEST}  以上各文件的 SHA-256 校验值（sha256sum -c {MANIFEST}）", ""]
    return "\n".join(lines).encode()


_FOLDERS = {"文书": "文书", "佐证材料": "佐证材料"}


def _history_row(entry: HistoryEntry, names: dict, who: dossier.Names) -> dict:
    return {**views.history(entry), "id": entry.id, "unit_name": names.get(entry.unit_id),
            "actor_name": who.person(entry.actor)}


def _csv(history: list[HistoryEntry], names: dict, who: dossier.Names) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "时间", "操作人", "动作", "环节", "名称", "单位", "数据"])
    for entry in history:
        row = [entry.id, _local(entry.at), who.person(entry.actor), entry.action, entry.element_id or "",
               entry.name or "", names.get(entry.unit_id, entry.unit_id or ""),
               json.dumps(entry.data, ensure_ascii=False, default=str) if entry.data is not None else ""]
        writer.writerow([_cell(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM makes Excel read UTF-8


def _cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, default=_plain).encode()


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _local(moment: datetime | None) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _safe(name: str) -> str:
    return _UNSAFE_NAME.sub("_", name).strip() or "_"


def _unique(files: dict, path: str) -> str:
    if path not in files:
        return path
    stem, dot, ext = path.rpartition(".")
    return next(f"{stem}-{n}{dot}{ext}" for n in range(2, 10_000) if f"{stem}-{n}{dot}{ext}" not in files)


def _zip(root: str, files: dict[str, bytes], now: datetime) -> bytes:
    stamp = now.astimezone(CHINA).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, body in files.items():
            info = zipfile.ZipInfo(f"{root}/{path}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body)
    return out.getvalue()
