"""佐证材料 storage: files under DUBAN_VAR_DIR (content-addressed, written once) or in the database,
each read from where its record says; no record without its bytes, no bytes without a record; uploads
nothing took are deleted by the workers after the retention time (the clock moved, not waited for)."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile

import pytest
from sqlalchemy import func, select

from engine.errors import Conflict, NotFound
from engine.models import AuditRecord, StoredFile, StoredFileContent
from engine.services import archive, files
from tests.integration.flow import RECEIVE, complete, through_assignment

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
TEXT = "情况说明：已办结。\n".encode()


def stored_as(duban, storage: str):
    return dataclasses.replace(duban, settings=duban.settings.with_(file_storage=storage))


def blobs_on_disk(duban) -> list[str]:
    root = duban.settings.var_dir / "files"
    return sorted(p.name for p in root.glob("*/*")) if root.is_dir() else []


def rows(duban) -> list:
    with duban.db.reading() as session:
        return session.execute(select(StoredFile.id, StoredFile.storage).order_by(StoredFile.id)).all()


def contents(duban) -> int:
    with duban.db.reading() as session:
        return session.scalar(select(func.count()).select_from(StoredFileContent))


def test_the_default_is_local_with_sqlite_and_the_database_with_postgresql(duban):
    expected = "local" if duban.settings.database_url.startswith("sqlite") else "database"
    assert duban.settings.files_in == expected
    from engine.config import Settings

    assert Settings.from_env({"DUBAN_FILE_STORAGE": "Database", "DUBAN_SECRET_KEY": "x"}).files_in == "database"
    with pytest.raises(ValueError, match="DUBAN_FILE_STORAGE"):
        Settings.from_env({"DUBAN_FILE_STORAGE": "s3", "DUBAN_SECRET_KEY": "x"})


def test_local_files_are_named_by_their_sha256_and_kept_once(duban, org):
    local = stored_as(duban, "local")
    first = files.upload(local, org["unit_a"], "报告.pdf", PDF)
    again = files.upload(local, org["office"], "同一份报告.pdf", PDF)
    sha = hashlib.sha256(PDF).hexdigest()
    assert first["sha256"] == again["sha256"] == sha
    assert blobs_on_disk(local) == [sha]
    assert (local.settings.var_dir / "files" / sha[:2] / sha).read_bytes() == PDF
    assert [r.storage for r in rows(local)] == ["local", "local"] and contents(local) == 0
    assert files.download(local, org["office"], again["id"])[1] == PDF
    assert not list((local.settings.var_dir / "files" / sha[:2]).glob(".incoming-*"))  # no temporary file left


def test_database_storage_keeps_the_bytes_in_the_database(duban, org):
    database = stored_as(duban, "database")
    stored = files.upload(database, org["unit_a"], "报告.pdf", PDF)
    assert blobs_on_disk(database) == [] and contents(database) == 1
    assert [r.storage for r in rows(database)] == ["database"]
    assert files.download(database, org["unit_a"], stored["id"])[1] == PDF


def test_changing_the_setting_loses_no_file(duban, org):
    item = through_assignment(duban, org)
    in_files = files.upload(stored_as(duban, "local"), org["unit_a"], "照片.png", PNG, item["id"])
    in_database = files.upload(stored_as(duban, "database"), org["unit_a"], "说明.txt", TEXT, item["id"])
    for storage in ("local", "database"):
        now = stored_as(duban, storage)
        assert files.download(now, org["office"], in_files["id"])[1] == PNG
        assert files.download(now, org["office"], in_database["id"])[1] == TEXT


def test_a_damaged_local_file_is_not_handed_out(duban, org):
    local = stored_as(duban, "local")
    stored = files.upload(local, org["unit_a"], "报告.pdf", PDF)
    (local.settings.var_dir / "files" / stored["sha256"][:2] / stored["sha256"]).write_bytes(PDF + b"changed")
    with pytest.raises(Conflict, match="内容已丢失或损坏"):
        files.download(local, org["unit_a"], stored["id"])
    (local.settings.var_dir / "files" / stored["sha256"][:2] / stored["sha256"]).unlink()
    with pytest.raises(Conflict, match="报告.pdf"):
        files.download(local, org["unit_a"], stored["id"])


@pytest.mark.parametrize("storage", ["local", "database"])
def test_the_archive_of_a_closed_item_holds_its_files_and_their_sums(duban, org, storage):
    stored_in = stored_as(duban, storage)
    item = through_assignment(stored_in, org, co_units=())
    scan = files.upload(stored_in, org["office"], "批示.pdf", PDF, item["id"])
    photo = files.upload(stored_in, org["unit_a"], "现场.png", PNG)
    complete(stored_in, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    complete(stored_in, org["unit_a"], "unit_report", {"summary": "已办结", "approved_by_deputy": True,
                                                       "evidence": [photo["id"]]}, "fgj")
    complete(stored_in, org["office"], "office_review", {"decision": "accept"}, "fgj")
    complete(stored_in, org["office"], "feedback", {"summary": "已办结"})
    assert {r.storage for r in rows(duban)} == {storage}
    # Read back under the other setting: the archive follows each file's record.
    other = stored_as(duban, "database" if storage == "local" else "local")
    _, data = archive.archive_item(other, org["office"], item["id"])
    root = f"督办事项{item['id']}/"
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        assert zipped.read(root + "佐证材料/01-批示.pdf") == PDF
        assert zipped.read(root + "佐证材料/02-现场.png") == PNG
        manifest = zipped.read(root + "SHA256SUMS.txt").decode()
        for line in manifest.splitlines():  # what `sha256sum -c SHA256SUMS.txt` checks
            digest, path = line.split("  ", 1)
            assert hashlib.sha256(zipped.read(root + path)).hexdigest() == digest, path
    assert f"{scan['sha256']}  佐证材料/01-批示.pdf" in manifest
    assert f"{photo['sha256']}  佐证材料/02-现场.png" in manifest


def test_an_upload_whose_record_rolls_back_leaves_no_row_and_no_file(duban, org, monkeypatch):
    local = stored_as(duban, "local")
    kept = files.upload(local, org["unit_a"], "已有.png", PNG)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away while recording the upload")

    monkeypatch.setattr(files.audit, "append", broken)  # fails inside the transaction, after the row's INSERT
    with pytest.raises(RuntimeError):
        files.upload(local, org["unit_a"], "报告.pdf", PDF)
    with pytest.raises(RuntimeError):  # the same bytes as a recorded file: that file's blob stays
        files.upload(local, org["office"], "同一张.png", PNG)
    monkeypatch.undo()
    assert [r.id for r in rows(local)] == [kept["id"]]
    assert blobs_on_disk(local) == [hashlib.sha256(PNG).hexdigest()]
    assert files.download(local, org["unit_a"], kept["id"])[1] == PNG


def test_abandoned_uploads_are_deleted_after_the_retention_time(duban, org):
    item = through_assignment(duban, org)
    abandoned = files.upload(duban, org["unit_a"], "没有提交的.pdf", PDF)
    same_bytes = files.upload(duban, org["unit_b"], "同一份.txt", TEXT)
    reported = files.upload(duban, org["unit_a"], "报告附件.txt", TEXT)
    attached = files.upload(duban, org["office"], "批示.png", PNG, item["id"])
    held = files.upload(duban, org["unit_a"], "无事项的流程.pdf", PDF)
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    complete(duban, org["unit_a"], "unit_report", {"summary": "已办结", "approved_by_deputy": True,
                                                   "evidence": [reported["id"]]}, "fgj")
    with duban.db.transaction() as session:  # a submitted form of a process that registers no item
        files.claim(duban, session, org["unit_a"], "evidence", [held["id"]], None)

    duban.clock.advance(hours=23, minutes=59)
    assert files.clean_up(duban) == 0
    duban.clock.advance(minutes=2)
    assert files.clean_up(duban) == 2
    assert files.clean_up(duban) == 0
    remaining = {r.id for r in rows(duban)}
    assert remaining == {reported["id"], attached["id"], held["id"]}
    with pytest.raises(NotFound):
        files.download(duban, org["unit_a"], abandoned["id"])
    assert files.download(duban, org["unit_a"], held["id"])[1] == PDF  # its blob is the abandoned one's too
    assert files.download(duban, org["office"], reported["id"])[1] == TEXT
    if duban.settings.files_in == "local":
        assert blobs_on_disk(duban) == sorted(hashlib.sha256(b).hexdigest() for b in (PDF, TEXT, PNG))
    else:
        assert contents(duban) == 3
    with duban.db.reading() as session:
        records = session.execute(select(AuditRecord.target, AuditRecord.detail).where(
            AuditRecord.action == "file.abandoned_deleted")).all()
    assert sorted(r.target for r in records) == sorted(f"file:{f['id']}" for f in (abandoned, same_bytes))
    assert {r.detail["name"] for r in records} == {"没有提交的.pdf", "同一份.txt"}


def test_the_retention_time_is_a_setting_and_the_last_blob_goes_with_its_file(duban, org):
    brief = stored_as(duban, "local")
    brief = dataclasses.replace(brief, settings=brief.settings.with_(file_retention_hours=1))
    files.upload(brief, org["unit_a"], "草稿.pdf", PDF)
    duban.clock.advance(minutes=61)
    assert files.clean_up(brief) == 1
    assert rows(brief) == [] and blobs_on_disk(brief) == []


def test_the_clean_up_removes_local_files_no_record_names(duban, org):
    local = stored_as(duban, "local")
    kept = files.upload(local, org["unit_a"], "报告.pdf", PDF)
    store = files.blobs(local)
    store.put(PNG, hashlib.sha256(PNG).hexdigest())  # as if a process died between writing and recording
    (store.root / kept["sha256"][:2] / ".incoming-crashed").write_bytes(b"half a file")
    assert files.clean_up(local) == 0
    assert blobs_on_disk(local) == [kept["sha256"]]
    assert files.download(local, org["unit_a"], kept["id"])[1] == PDF


def test_the_scheduler_sends_the_clean_up_hourly_and_the_embedded_worker_runs_it(duban, org, monkeypatch):
    from workers.embedded import Embedded

    background = Embedded(duban, threads=1)
    sent, send = [], background.actors.clean_files.send
    monkeypatch.setattr(background.actors.clean_files, "send", lambda: sent.append(send()))
    files.upload(duban, org["unit_a"], "没有提交的.pdf", PDF)
    background.worker.start()
    try:
        background.scheduler.tick()  # at start: sent at once (the upload is not old enough yet)
        background.scheduler.tick()  # not an hour later: not sent
        duban.clock.advance(hours=25)
        background.scheduler.tick()
        background.broker.join("maintenance", timeout=30_000)
        background.worker.join()
        assert len(sent) == 2 and rows(duban) == []
    finally:
        background.worker.stop()
