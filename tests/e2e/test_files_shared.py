"""佐证材料 on several machines: two `duban run` processes, each with its own DUBAN_VAR_DIR, on one
PostgreSQL database. A file uploaded through one is downloaded, the same bytes, through the other:
the storage is the database they share, not either process's disk. On one machine, two processes
sharing DUBAN_VAR_DIR share its local files the same way. Abandoned uploads are deleted by a real
`duban worker`, sent the clean-up by a real `duban scheduler`."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack

import pytest
from sqlalchemy import create_engine, func, select, text

from engine.clock import SystemClock
from engine.models import StoredFile
from engine.services import files
from tests.support.commands import Processes, cli, duban_run, login
from tests.support.databases import truncate
from tests.support.org import BPMN, make_duban, seed
from tests.support.waiting import wait_for


@pytest.fixture
def two_servers(postgres_database, tmp_path):
    truncate(postgres_database)
    base_env = {**os.environ, "DUBAN_DATABASE_URL": postgres_database, "DUBAN_SECRET_KEY": "shared-secret",
                "DUBAN_TIMER_POLL_S": "1"}
    base_env.pop("DUBAN_REDIS_URL", None)
    first_env = {**base_env, "DUBAN_VAR_DIR": str(tmp_path / "machine-1")}
    cli(first_env, "deploy", *[str(p) for p in sorted(BPMN.glob("*.bpmn"))])
    cli(first_env, "seed-demo")
    with ExitStack() as servers:
        yield [servers.enter_context(duban_run(first_env)),
               servers.enter_context(duban_run({**base_env, "DUBAN_VAR_DIR": str(tmp_path / "machine-2")}))]


def multipart(fields: dict, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def raw(method: str, url: str, token: str, body: bytes | None = None, content_type: str | None = None):
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def test_a_file_uploaded_through_one_process_downloads_through_the_other(two_servers):
    first, second = two_servers
    office_1, office_2 = login(first, "office"), login(second, "office")
    status, item = office_1.call("POST", "/api/v1/items", {"title": "两台机器上的佐证材料", "category": "normal"})
    assert status == 201, item
    scan = b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024) + b"\n%%EOF\n"  # a 3 MB scan
    body, content_type = multipart({"item_id": item["id"]}, "批示扫描件.pdf", scan)
    status, answer, _ = raw("POST", first + "/api/v1/files", office_1.token, body, content_type)
    assert status == 201, answer
    stored = json.loads(answer)
    assert stored["sha256"] == hashlib.sha256(scan).hexdigest()

    status, data, headers = raw("GET", f"{second}/api/v1/files/{stored['id']}", office_2.token)
    assert status == 200 and data == scan
    assert "filename*=UTF-8''" in headers["Content-Disposition"]
    status, listed = office_2.call("GET", f"/api/v1/items/{item['id']}/files")
    assert status == 200 and [f["id"] for f in listed] == [stored["id"]]
    unit = login(second, "unit_a")  # not yet assigned to 发改局: as if the file did not exist
    assert raw("GET", f"{second}/api/v1/files/{stored['id']}", unit.token)[0] == 404


@pytest.fixture
def one_machine(sqlite_template, tmp_path):
    """Two `duban run` processes on one machine: one SQLite database, one DUBAN_VAR_DIR, local files."""
    var = tmp_path / "var"
    var.mkdir()
    shutil.copy(sqlite_template, var / "duban.db")
    env = {**os.environ, "DUBAN_VAR_DIR": str(var), "DUBAN_SECRET_KEY": "shared-secret", "DUBAN_TIMER_POLL_S": "1"}
    env.pop("DUBAN_REDIS_URL", None)
    env.pop("DUBAN_DATABASE_URL", None)
    cli(env, "deploy", *[str(p) for p in sorted(BPMN.glob("*.bpmn"))])
    cli(env, "seed-demo")
    with ExitStack() as servers:
        yield var, [servers.enter_context(duban_run(env)), servers.enter_context(duban_run(env))]


def test_processes_sharing_the_var_dir_share_its_local_files(one_machine):
    var, (first, second) = one_machine
    office_1, office_2 = login(first, "office"), login(second, "office")
    status, item = office_1.call("POST", "/api/v1/items", {"title": "本机上的佐证材料", "category": "normal"})
    assert status == 201, item
    scan = b"%PDF-1.7\n" + os.urandom(512 * 1024) + b"\n%%EOF\n"
    body, content_type = multipart({"item_id": item["id"]}, "批示扫描件.pdf", scan)
    uploads = [raw("POST", base + "/api/v1/files", http.token, body, content_type)
               for base, http in ((first, office_1), (second, office_2))]  # the same scan through each
    assert [status for status, _, _ in uploads] == [201, 201]
    sha = hashlib.sha256(scan).hexdigest()
    assert (var / "files" / sha[:2] / sha).read_bytes() == scan  # kept once, by its SHA-256
    assert [p.name for p in (var / "files").glob("*/*")] == [sha]
    for (_, answer, _), base, http in zip(uploads, (second, first), (office_2, office_1), strict=True):
        status, data, _ = raw("GET", f"{base}/api/v1/files/{json.loads(answer)['id']}", http.token)
        assert status == 200 and data == scan


def test_a_real_worker_deletes_an_abandoned_upload(postgres_database, redis_url, tmp_path):
    truncate(postgres_database)
    duban = make_duban(postgres_database, SystemClock(), tmp_path)
    org = seed(duban)
    abandoned = files.upload(duban, org["unit_a"], "没有提交的.pdf", b"%PDF-1.7\n%%EOF\n")
    held = files.upload(duban, org["unit_a"], "已提交的.txt", "说明\n".encode())
    with duban.db.transaction() as session:
        files.claim(duban, session, org["unit_a"], "evidence", [held["id"]], None)
        # Both uploaded an hour ago, past the retention below: only the one no form holds is abandoned.
        session.execute(text("UPDATE stored_files SET uploaded_at = uploaded_at - interval '1 hour'"))
    duban.db.dispose()
    env = {**os.environ, "DUBAN_DATABASE_URL": postgres_database, "DUBAN_REDIS_URL": redis_url,
           "DUBAN_VAR_DIR": str(tmp_path / "var"), "DUBAN_SECRET_KEY": "test", "DUBAN_TIMER_POLL_S": "0.2",
           "DUBAN_FILE_RETENTION_HOURS": "0.5"}
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    processes = Processes(env, tmp_path)
    engine = create_engine(postgres_database)
    try:
        processes.start("worker", "--processes", "1")
        processes.start("scheduler")

        def remaining():
            with engine.connect() as connection:
                ids = set(connection.scalars(select(StoredFile.id)))
            return ids if abandoned["id"] not in ids else None

        assert wait_for(remaining, timeout=60, what="the abandoned upload deleted") == {held["id"]}
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(StoredFile)) == 1
    finally:
        processes.stop_all()
        engine.dispose()
