"""佐证材料 on several machines: two `duban run` processes, each with its own DUBAN_VAR_DIR, on one
PostgreSQL database. A file uploaded through one is downloaded, the same bytes, through the other:
the storage is the database they share, not either process's disk."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests.conftest import BPMN, _truncate
from tests.e2e.test_service import DUBAN, cli, free_port, login


def start(env) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([*DUBAN, "run", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"duban run did not start: {process.stdout.read()}")
            time.sleep(0.2)


@pytest.fixture
def two_servers(postgres_database, tmp_path):
    _truncate(postgres_database)
    base_env = {**os.environ, "DUBAN_DATABASE_URL": postgres_database, "DUBAN_SECRET_KEY": "shared-secret",
                "DUBAN_TIMER_POLL_S": "1"}
    base_env.pop("DUBAN_REDIS_URL", None)
    first_env = {**base_env, "DUBAN_VAR_DIR": str(tmp_path / "machine-1")}
    cli(first_env, "deploy", *[str(p) for p in sorted(BPMN.glob("*.bpmn"))])
    cli(first_env, "seed-demo")
    servers = [start(first_env), start({**base_env, "DUBAN_VAR_DIR": str(tmp_path / "machine-2")})]
    yield [base for _, base in servers]
    for process, _ in servers:
        process.terminate()
        process.wait(timeout=20)


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
