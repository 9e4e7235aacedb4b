"""佐证材料: files units and the office attach to items (reports, 延期申请, 批示 scans, photos).

Storage is the database itself: a file's description is a row of `stored_files`, its bytes a row of
`stored_file_contents` (so listing files never reads them). Every web, worker and scheduler process
already shares that database, embedded (SQLite under DUBAN_VAR_DIR) or on several machines
(PostgreSQL), so no storage service is added, and a file commits or rolls back with what refers to it.

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
import re
import zipfile

from sqlalchemy import and_, exists, func, or_, select

from ..access import Actor, items_visible, visible_item
from ..domain.roles import OFFICE, SYSTEM_ADMINS, UNIT
from ..errors import Forbidden, FormInvalid, InvalidInput, NotFound
from ..models import Item, StoredFile, StoredFileContent, User
from ..texts import text
from . import audit

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
    now = duban.clock.now()
    with duban.db.transaction() as session:
        if item_id is not None:
            item = visible_item(session, actor, item_id)
            _may_attach(actor, item)
            _check_room(duban, session, item.id, name, len(data))
        row = StoredFile(item_id=item_id, name=name, size=len(data), content_type=kind,
                         sha256=hashlib.sha256(data).hexdigest(), uploaded_by=actor.username, uploaded_at=now)
        session.add(row)
        session.flush()
        session.add(StoredFileContent(file_id=row.id, data=data))
        audit.append(session, actor.username, "file.uploaded", f"file:{row.id}",
                     {"name": name, "bytes": len(data), "sha256": row.sha256, "item_id": item_id}, at=now)
        return describe(row)


def download(duban, actor: Actor, file_id: int) -> tuple[dict, bytes]:
    """(description, bytes) of a file the caller may see (NotFound otherwise); the audit log records it."""
    with duban.db.reading() as session:
        row = visible_file(session, actor, file_id)
        data = session.get(StoredFileContent, row.id).data
        listing = describe(row)
    audit.record_file(duban, actor, "file.downloaded", f"file:{file_id}", bytes(data),
                      name=listing["name"], item_id=listing["item_id"])
    return listing, bytes(data)


def list_item_files(duban, actor: Actor, item_id: int) -> list[dict]:
    """The files of an item the caller may see, oldest first (NotFound otherwise)."""
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        return files_of(session, item.id)


def files_of(session, item_id: int) -> list[dict]:
    rows = session.execute(select(StoredFile, User.display_name)
                           .outerjoin(User, User.username == StoredFile.uploaded_by)
                           .where(StoredFile.item_id == item_id).order_by(StoredFile.id)).all()
    return [{**describe(row), "uploaded_by_name": display or row.uploaded_by} for row, display in rows]


def contents_of(session, item_id: int) -> list[tuple[dict, bytes]]:
    """(description, bytes) of each file of an item, oldest first: for its archive (立卷归档)."""
    rows = session.execute(select(StoredFile, StoredFileContent.data)
                           .join(StoredFileContent, StoredFileContent.file_id == StoredFile.id)
                           .where(StoredFile.item_id == item_id).order_by(StoredFile.id)).all()
    return [(describe(row), bytes(data)) for row, data in rows]


def may_attach(actor: Actor, created_by: str, unit_ids) -> bool:
    """Whether this person may add files to an item they see (registered by `created_by`, with the
    units `unit_ids`): the office (and administrators), the units taking part, whoever registered it."""
    if actor.has(OFFICE, *SYSTEM_ADMINS) or created_by == actor.username:
        return True
    return actor.has(UNIT) and actor.unit_id in set(unit_ids)


def claim(duban, session, actor: Actor, field: str, ids: list, item_id: int | None) -> None:
    """A submitted form's files (`ids` of field `field`) tie to the task's item.

    Each must be one the submitter may see, and not already another item's: else FormInvalid on the field."""
    for file_id in ids:
        row = session.scalars(select(StoredFile).where(StoredFile.id == file_id, _visible(actor))).one_or_none()
        if row is None or (row.item_id is not None and row.item_id != item_id):
            message = text("file.unusable", id=file_id)
            raise FormInvalid(message, [{"field": field, "message": message}])
        if row.item_id is None and item_id is not None:
            _check_room(duban, session, item_id, row.name, row.size, field)
            row.item_id = item_id
            session.flush()


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
    if not may_attach(actor, item.created_by, [part.unit_id for part in item.units]):
        raise Forbidden(text("file.cannot_attach"))


def _check_room(duban, session, item_id: int, name: str, size: int, field: str = "file") -> None:
    used = session.scalar(select(func.coalesce(func.sum(StoredFile.size), 0)).where(StoredFile.item_id == item_id))
    limit = duban.settings.max_item_files_bytes
    if used + size > limit:
        _refuse(field, text("file.item_full", used=size_text(used), name=name, size=size_text(size),
                            limit=size_text(limit)))


def _refuse(field: str, message: str):
    raise InvalidInput(message, [{"field": field, "message": message}])
