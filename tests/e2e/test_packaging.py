"""Duban as a package: a wheel built from this checkout (through its sdist, as `pip install .` and an index
do), installed into a fresh virtualenv, migrates, deploys, seeds and serves every page and asset with
nothing read from the source tree.

The new virtualenv gets only the wheel (`--no-deps`); its dependencies are the project virtualenv's,
put on its path by a .pth file written after the install (so pip never sees, nor touches, the editable
Duban there). Every command runs from a folder outside the checkout, so the sources cannot stand in
for what the package lacks.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.commands import free_port
from tests.support.databases import scratch_postgres
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
# Not part of a source distribution: tools, caches and what `make` builds outside the package.
SKIPPED = {".git", ".venv", "node_modules", "var", "build", "dist", "test-artifacts", ".pytest_cache",
           ".lockenv", "__pycache__"}
# What setuptools says ("Package would be ignored") of a folder that is not among the packages: its files
# may then be missing from the wheel.
IGNORED = ("as an importable package", "as data is deprecated")


def _build(command: str, cwd: Path) -> tuple[str, str]:
    """Run a PEP 517 hook of setuptools.build_meta in cwd; (the file it made, its output)."""
    result = subprocess.run([sys.executable, "-c", f"import setuptools.build_meta as b; print(b.{command})"],
                            cwd=cwd, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1], output


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    assert (ROOT / "web" / "static" / "vendor" / "bpmn-js").is_dir(), "build the assets first: make assets"
    work = tmp_path_factory.mktemp("build")
    source = work / "checkout"
    shutil.copytree(ROOT, source, symlinks=True,
                    ignore=lambda folder, names: [n for n in names if n in SKIPPED or n.endswith(".egg-info")])
    sdist, output = _build("build_sdist('../sdist')", source)
    with tarfile.open(work / "sdist" / sdist) as archive:
        archive.extractall(work / "unpacked", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    built, more = _build("build_wheel('../../wheel')", work / "unpacked" / sdist.removesuffix(".tar.gz"))
    warnings = [line.strip() for line in (output + more).splitlines() if any(phrase in line for phrase in IGNORED)]
    assert not warnings, "\n".join(warnings)
    return work / "wheel" / built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict:
    """A virtualenv holding the wheel; the environment its commands run in (cwd: a folder of its own)."""
    home = tmp_path_factory.mktemp("installed")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                             "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_duban_test_dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(ours)))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DUBAN_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", DUBAN_VAR_DIR=str(home / "var"),
               DUBAN_SECRET_KEY="packaging-test", DUBAN_STEP_PROCESSES="1")
    where = subprocess.run([str(python), "-c", "import duban, engine, web, workers, alembic;"
                            "print('\\n'.join(m.__file__ for m in (duban, engine, web, workers)))"],
                           cwd=home, env=env, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    for path in where.stdout.split():
        assert Path(path).is_relative_to(site), f"{path} is not the installed package's"
    return {"env": env, "home": home, "site": site, "duban": str(venv / "bin" / "duban")}


def duban(installed, *args, env=None) -> str:
    result = subprocess.run([installed["duban"], *args], cwd=installed["home"], env={**installed["env"], **(env or {})},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"duban {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def fetch(base: str, path: str, token: str | None = None, data: dict | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(base + path, data=json.dumps(data).encode() if data is not None else None,
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def serving(command: list[str], installed, base: str, log: Path, env=None) -> subprocess.Popen:
    """Start a server; once /healthz/ready answers 200, the running process."""
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=installed["home"], env={**installed["env"], **(env or {})},
                                   stdout=output, stderr=subprocess.STDOUT)

    def ready():
        if process.poll() is not None:
            raise AssertionError(f"{' '.join(command)} ended with {process.returncode}: {log.read_text()}")
        try:
            return fetch(base, "/healthz/ready")[0] == 200
        except OSError:
            return False

    try:
        wait_for(ready, timeout=60, what=lambda: f"{' '.join(command)} to serve: {log.read_text()}", interval=0.2)
    except AssertionError:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


def assert_pages_and_assets(base: str) -> None:
    status, kind, body = fetch(base, "/login")
    assert (status, kind.split(";")[0]) == (200, "text/html") and "登录督查督办系统" in body.decode()
    for asset in ("/static/app.css", "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js",
                  "/static/vendor/form-js/form-viewer.umd.js", "/static/vendor/modeler/duban-modeler.js",
                  "/static/vendor/echarts/echarts.min.js", "/static/vendor/swagger-ui/swagger-ui-bundle.js"):
        status, _, body = fetch(base, asset)
        assert status == 200 and len(body) > 1000, asset
    status, _, body = fetch(base, "/healthz/ready")
    assert status == 200 and json.loads(body)["database"] == "ok"


def test_the_installed_wheel_migrates_deploys_seeds_and_serves(installed):
    assert "database at" in duban(installed, "db", "upgrade")
    assert duban(installed, "deploy", "--bundled").split() == [
        "duban_extension", "1", "duban_main", "1", "deadline_rules", "1"]
    shipped = installed["site"] / "engine" / "processes"
    assert {path.name for path in shipped.glob("*.bpmn")} == {"duban_extension.bpmn", "duban_main.bpmn"}
    assert "demo items: " in duban(installed, "seed-demo", "--with-items")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = serving([installed["duban"], "run", "--port", str(port)], installed, base,
                      installed["home"] / "run.log")
    try:
        assert_pages_and_assets(base)
        status, _, body = fetch(base, "/public")
        assert status == 200 and "公示" in body.decode()
        status, _, body = fetch(base, "/api/v1/auth/token", data={"username": "office", "password": "duban-demo"})
        assert status == 200, body
        token = json.loads(body)["token"]
        # A 交办通知单 is filled from the Word template the package carries.
        items = json.loads(fetch(base, "/api/v1/items?page_size=100", token)[2])
        listed = [doc for item in items
                  for doc in json.loads(fetch(base, f"/api/v1/items/{item['id']}/documents", token)[2])]
        assert listed, "the demo items have documents"
        status, kind, body = fetch(base, f"/api/v1/items/{listed[0]['item_id']}/documents/{listed[0]['id']}.docx",
                                   token)
        assert status == 200 and body[:2] == b"PK" and "wordprocessingml" in kind
    finally:
        stop(process)


@pytest.mark.postgres
@pytest.mark.redis
def test_the_installed_wheel_serves_with_gunicorn_on_postgresql(installed, redis_url):
    with scratch_postgres("duban_packaging") as url:
        env = {"DUBAN_DATABASE_URL": url, "DUBAN_REDIS_URL": redis_url}
        duban(installed, "db", "upgrade", env=env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = serving([installed["duban"], "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
                          installed, base, installed["home"] / "serve.log", env=env)
        try:
            assert_pages_and_assets(base)
        finally:
            stop(process)
