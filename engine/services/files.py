"""佐证材料: files units and the office attach to items (reports, 延期申请, 批示 scans, photos).

A file's description is a row of `stored_files`; its bytes (never read to list files) are where
DUBAN_FILE_STORAGE said when it was uploaded, recorded in the row's `storage`:
- "database": a row of `stored_file_contents`. Every web, worker and scheduler process on every
  machine already shares the database, so no storage service is added. The default with PostgreSQL.
- "local": a file under DUBAN_VAR_DIR/files named by its SHA-256 (engine/blobs.py), for one machine:
  the database stays small and backups of the files are plain copies. The default with SQLite.
Each file is read from where its row says, so changing the setting never loses one. A row that does
not commit leaves no blob behind, and blobs no row names any more are removed (`clean_up`).

An upload that no submitted form holds and no item took within DUBAN_FILE_RETENTION_HOURS (a form
left unsent) is deleted by the workers (`clean_up`, workers/actors.py `clean_files`).

A file's type is what its bytes are (magic numbers, the members of a zip, the streams of an OLE2
compound file), never what its name or the browser says; anything else is refused (422). Sizes are
limited per file (DUBAN_MAX_FILE_BYTES) and per item (DUBAN_MAX_ITEM_FILES_BYTES).

Who sees a file: one tied to an item exactly whoever sees the item (engine/access.py, 404 for the
rest, as if it did not exist); one not yet tied (uploaded for a form not yet submitted) only its
uploader. Submitting a form that holds it ties it to the task's item (`claim`). Every download is
recorded in the audit log with the SHA-256 of what was handed out.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile
from datetime import timedelta

from sqlalchemy import and_, delete, exists, func, or_, select

from ..access import Actor, items_visible, visible_item
from ..blobs import LocalBlobs
from ..domain.items import DROPPED_STATUSES, STATUSES
from ..domain.roles import OFFICE, SYSTEM_ADMINS, UNIT
from ..errors import Conflict, Forbidden, FormInvalid, InvalidInput, NotFound
from ..models import Item, StoredFile, StoredFileContent, User
from ..texts import text
from . import audit

log = logging.getLogger(__name__)

LOCAL, DATABASE = "local", "database"
PDF = "application/pdf"
OFD = "application/ofd"
ZIP = "application/zip"
TEXT = "text/plain; charset=utf-8"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# Shown on the page (?inline=1) rather than saved: what a browser displays without running anything.
INLINE = (PDF, *IMAGES)
# Most files one form field may hold.
MAX_FIELD_FILES = 50
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Stream names in an OLE2 directory (UTF-16LE): which Office program wrote the file.
_OLE_STREAMS = ((("WordDocument",), DOC), (("Workbook", "Book"), XLS), (("PowerPoint Document",), PPT))
_OOXML = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_UNSAFE_NAME = re.compile(r"[\\/\x00-\x1f\x7f]")
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


# --- what a file is ------------------------------------------------------------------------------

def sniff(data: bytes) -> str | None:
    """The content type of `data` by its bytes; None for anything not accepted."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(_OLE2):
        return _ole_kind(data)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    return TEXT if _plain_text(data) else None


def _ole_kind(data: bytes) -> str | None:
    for names, kind in _OLE_STREAMS:
        if any(name.encode("utf-16-le") in data for name in names):
            return kind
    return None


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "OFD.xml" in names:
        return OFD
    if "[Content_Types].xml" in names:
        return next((kind for prefix, kind in _OOXML if any(n.startswith(prefix) for n in names)), ZIP)
    return ZIP


def _plain_text(data: bytes) -> bool:
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not _TEXT_CONTROLS.search(decoded)


def size_text(size: int) -> str:
    """Bytes as people read them: 512 字节, 3.5 KB, 20 MB."""
    if size < 1024:
        return f"{size} 字节"
    for unit, scale in (("KB", 1024), ("MB", 1024 ** 2), ("GB", 1024 ** 3)):
        if size < scale * 1024 or unit == "GB":
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} 字节"


def clean_name(name: str | None) -> str:
    """The file's own name (no folders, no control characters), at most 255 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip()
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:255 - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else name[:255]
    return name or "附件"


# --- use cases -----------------------------------------------------------------------------------

def upload(duban, actor: Actor, name: str | None, data: bytes, item_id: int | None = None) -> dict:
    """Keep a file; with `item_id`, attached to that item (the caller must see it and may act on it)."""
    name = clean_name(name)
    limit = duban.settings.max_file_bytes
    if not data:
        _refuse("file", text("file.empty", name=name))
    if len(data) > limit:
        _refuse("file", text("file.too_large", name=name, limit=size_text(limit)))
    kind = sniff(data)
    if kind is None:
        _refuse("file", text("file.type_refused", name=name))
    sha256 = hashlib.sha256(data).hexdigest()
    if duban.settings.files_in == DATABASE:
        return _record(duban, actor, name, data, kind, sha256, item_id, DATABASE)
    store = blobs(duban)
    try:
        with store.writing():
            store.put(data, sha256)
            return _record(duban, actor, name, data, kind, sha256, item_id, LOCAL)
    except BaseException:
        _forget(duban, store, {sha256})  # no row names it: the blob goes, unless another file has the same bytes
        raise


def _record(duban, actor: Actor, name: str, data: bytes, kind: str, sha256: str, item_id: int | None,
            storage: str) -> dict:
    now = duban.clock.now()
    with duban.db.transaction() as session:
        if item_id is not None:
            item = visible_item(session, actor, item_id)
            _may_attach(actor, item)
            _check_room(duban, session, item.id, name, len(data))
        row = StoredFile(item_id=item_id, name=name, size=len(data), content_type=kind, sha256=sha256,
                         uploaded_by=actor.username, uploaded_at=now, storage=storage)
        session.add(row)
        session.flush()
        if storage == DATABASE:
            session.add(StoredFileContent(file_id=row.id, data=data))
        audit.append(session, actor.username, "file.uploaded", f"file:{row.id}",
                     {"name": name, "bytes": len(data), "sha256": sha256, "item_id": item_id}, at=now)
        return describe(row)


def download(duban, actor: Actor, file_id: int) -> tuple[dict, bytes]:
    """(description, bytes) of a file the caller may see (NotFound otherwise); the audit log records it."""
    with duban.db.reading() as session:
        row = visible_file(session, actor, file_id)
        data = _bytes(duban, session, row)
        listing = describe(row)
    audit.record_file(duban, actor, "file.downloaded", f"file:{file_id}", data,
                      name=listing["name"], item_id=listing["item_id"])
    return listing, data


def list_item_files(duban, actor: Actor, item_id: int) -> list[dict]:
    """The files of an item the caller may see, oldest first (NotFound otherwise)."""
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        return files_of(session, item.id)


def describe_visible(duban, actor: Actor, file_ids: list[int]) -> list[dict]:
    """The descriptions of those of these files the caller may see, in the order given (a form shown
    again after a refusal names the files already uploaded for it)."""
    with duban.db.reading() as session:
        rows = {row.id: describe(row) for row in session.scalars(
            select(StoredFile).where(StoredFile.id.in_(file_ids), _visible(actor)))}
    return [rows[i] for i in file_ids if i in rows]


def files_of(session, item_id: int) -> list[dict]:
    rows = session.execute(select(StoredFile, User.display_name)
                           .outerjoin(User, User.username == StoredFile.uploaded_by)
                           .where(StoredFile.item_id == item_id).order_by(StoredFile.id)).all()
    return [{**describe(row), "uploaded_by_name": display or row.uploaded_by} for row, display in rows]


def contents_of(duban, session, item_id: int) -> list[tuple[dict, bytes]]:
    """(description, bytes) of each file of an item, oldest first: for its archive (立卷归档)."""
    rows = session.execute(select(StoredFile, StoredFileContent.data)
                           .outerjoin(StoredFileContent, StoredFileContent.file_id == StoredFile.id)
                           .where(StoredFile.item_id == item_id).order_by(StoredFile.id)).all()
    store = blobs(duban)
    return [(describe(row), _local_bytes(store, row) if row.storage == LOCAL else bytes(data)) for row, data in rows]


def may_attach(actor: Actor, created_by: str, unit_ids, status: str) -> bool:
    """Whether this person may add files to an item they see (registered by `created_by`, with the
    units `unit_ids`, now `status`): the office (and administrators), the units taking part, whoever
    registered it; nobody once it was withdrawn, refused (不予立项) or terminated, as nothing is done on it."""
    if status in DROPPED_STATUSES:
        return False
    if actor.has(OFFICE, *SYSTEM_ADMINS) or created_by == actor.username:
        return True
    return actor.has(UNIT) and actor.unit_id in set(unit_ids)


def claim(duban, session, actor: Actor, field: str, ids: list, item_id: int | None) -> None:
    """A submitted form's files (`ids` of field `field`) tie to the task's item.

    Each must be one the submitter may see, and not already another item's: else FormInvalid on the field.
    Each is then held (`referenced_at`), item or not, so the clean-up of abandoned uploads keeps it."""
    now = duban.clock.now()
    for file_id in ids:
        row = session.scalars(select(StoredFile).where(StoredFile.id == file_id, _visible(actor))).one_or_none()
        if row is None or (row.item_id is not None and row.item_id != item_id):
            message = text("file.unusable", id=file_id)
            raise FormInvalid(message, [{"field": field, "message": message}])
        if row.item_id is None and item_id is not None:
            _check_room(duban, session, item_id, row.name, row.size, field)
            row.item_id = item_id
        if row.referenced_at is None:
            row.referenced_at = now
        session.flush()


def clean_up(duban) -> int:
    """Delete the uploads no submitted form held and no item took within DUBAN_FILE_RETENTION_HOURS,
    then the local blobs no file names any more; returns the files deleted. The workers run it
    (workers/actors.py `clean_files`, sent by the scheduler); a second run at once deletes nothing."""
    now = duban.clock.now()
    cutoff = now - timedelta(hours=duban.settings.file_retention_hours)
    abandoned = and_(StoredFile.item_id.is_(None), StoredFile.referenced_at.is_(None),
                     StoredFile.uploaded_at < cutoff)
    with duban.db.transaction() as session:
        # The whole condition in the DELETE: a form submitted meanwhile (PostgreSQL re-checks a row
        # another transaction changed) keeps its file. Its bytes in the database go by ON DELETE CASCADE.
        gone = session.execute(delete(StoredFile).where(abandoned).returning(
            StoredFile.id, StoredFile.name, StoredFile.sha256, StoredFile.uploaded_by, StoredFile.uploaded_at)).all()
        for file_id, name, sha256, uploader, uploaded_at in gone:
            audit.append(session, None, "file.abandoned_deleted", f"file:{file_id}",
                         {"name": name, "sha256": sha256, "uploaded_by": uploader,
                          "uploaded_at": uploaded_at.isoformat()}, at=now)
    store = blobs(duban)
    if store.root.is_dir():
        with store.removing(), duban.db.reading() as session:
            removed = store.sweep(set(session.scalars(select(StoredFile.sha256).where(StoredFile.storage == LOCAL))))
        if removed:
            log.info("removed %s local file(s) no record names", len(removed))
    return len(gone)


def blobs(duban) -> LocalBlobs:
    """The local files of this installation, whatever DUBAN_FILE_STORAGE is now (older files may be there)."""
    return LocalBlobs(duban.settings.var_dir / "files")


def _bytes(duban, session, row: StoredFile) -> bytes:
    if row.storage == LOCAL:
        return _local_bytes(blobs(duban), row)
    return bytes(session.get(StoredFileContent, row.id).data)


def _local_bytes(store: LocalBlobs, row: StoredFile) -> bytes:
    try:
        return store.get(row.sha256)
    except (OSError, ValueError) as error:  # missing, or not the bytes recorded: say so, not a bare 500
        log.error("file %s (%s): %s", row.id, row.sha256, error)
        raise Conflict(text("file.damaged", name=row.name)) from None


def _forget(duban, store: LocalBlobs, sha256s: set[str]) -> None:
    """Remove these blobs unless a committed file names them."""
    try:
        with store.removing(), duban.db.reading() as session:
            named = set(session.scalars(select(StoredFile.sha256).where(
                StoredFile.storage == LOCAL, StoredFile.sha256.in_(sha256s))))
            store.remove(sha256s - named)
    except Exception:  # the caller's own error matters more; clean_up sweeps it later
        log.exception("could not remove unrecorded local files %s", sorted(sha256s))


def visible_file(session, actor: Actor, file_id: int) -> StoredFile:
    """The file if this person may see it; otherwise NotFound, the same for a missing and a hidden file."""
    row = session.scalars(select(StoredFile).where(StoredFile.id == file_id, _visible(actor))).one_or_none()
    if row is None:
        raise NotFound(text("file.not_found", id=file_id))
    return row


def describe(row: StoredFile) -> dict:
    return {"id": row.id, "item_id": row.item_id, "name": row.name, "size": row.size,
            "content_type": row.content_type, "sha256": row.sha256, "uploaded_by": row.uploaded_by,
            "uploaded_at": row.uploaded_at}


# --- rules ---------------------------------------------------------------------------------------

def _visible(actor: Actor):
    """A WHERE clause on StoredFile: as its item is seen; without an item, by its uploader alone."""
    return or_(and_(StoredFile.item_id.is_(None), StoredFile.uploaded_by == actor.username),
               exists(select(Item.id).where(Item.id == StoredFile.item_id, items_visible(actor))))


def _may_attach(actor: Actor, item: Item) -> None:
    if item.status in DROPPED_STATUSES:
        raise Conflict(text("file.item_dropped", status=STATUSES[item.status]))
    if not may_attach(actor, item.created_by, [part.unit_id for part in item.units], item.status):
        raise Forbidden(text("file.cannot_attach"))


def _check_room(duban, session, item_id: int, name: str, size: int, field: str = "file") -> None:
    used = session.scalar(select(func.coalesce(func.sum(StoredFile.size), 0)).where(StoredFile.item_id == item_id))
    limit = duban.settings.max_item_files_bytes
    if used + size > limit:
        _refuse(field, text("file.item_full", used=size_text(used), name=name, size=size_text(size),
                            limit=size_text(limit)))


def _refuse(field: str, message: str):
    raise InvalidInput(message, [{"field": field, "message": message}])
