"""保密: a secret item exists only for its designated people and administrators.

The walk below takes every GET route the app has — API, pages, exports, whatever later work
adds — fills its parameters with the secret item's ids, and reads each answer (text, JSON, or the
cells of an Excel file) as every uncleared person and as a stranger. The secret title must appear
nowhere; a designated person, checked the same way, does see it (so the walk can tell).
"""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from engine import services
from engine.models import User
from engine.services import documents
from tests.conftest import seed
from tests.integration.flow import complete
from web import create_app

TITLE = "保密事项甲乙丙"
UNCLEARED = ("unit_b", "discipline", "designer", "secadmin", "auditor", "office2", "leader2")
# Parameters no walk can fill meaningfully (they name things other than items).
SKIP_PARAMS = {"filename"}


@pytest.fixture
def world(duban_sqlite):
    org = seed(duban_sqlite)
    org.add_user("office2", "office", "dcs")
    org.add_user("leader2", "leader", "xzf")
    open_item = services.register_item(duban_sqlite, org["office"], {"title": "公开事项"})
    secret = services.register_item(duban_sqlite, org["office"], {
        "title": TITLE, "classification": "secret", "designees": ["leader", "unit_a", "admin"]})
    complete(duban_sqlite, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "办"},
             instance_id=secret["instance_id"])
    complete(duban_sqlite, org["leader"], "leader_approval", {"decision": "approve"},
             instance_id=secret["instance_id"])
    complete(duban_sqlite, org["office"], "assign", {"notice": f"{TITLE}交办通知单"},
             instance_id=secret["instance_id"])
    tasks, _ = services.list_tasks(duban_sqlite, org["unit_a"], instance_id=secret["instance_id"])
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    ids = {"item_id": secret["id"], "instance_id": secret["instance_id"], "task_id": tasks[0]["id"],
           "key": "duban_main", "year": 2026, "username": "office", "notification_id": 1, "version": 1,
           "role": "office", "unit_id": "fgj", "id": secret["id"],
           "month": "2026-09",  # 月度进展: the office's monthly summary
           # the secret item's 交办通知单 (a .docx the walk reads inside)
           "doc_id": documents.list_documents(duban_sqlite, org["office"], secret["id"])[0]["id"]}
    return app, ids, org, open_item


def routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api/docs"):
            continue
        yield rule


def read(response) -> str:
    """Everything a person could read in the answer, whatever its format."""
    body = response.get_data()
    if body[:2] == b"PK":  # xlsx, docx, zip: read the text inside
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return " ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                            if name.endswith((".xml", ".json", ".txt", ".csv", ".html")))
    return response.get_data(as_text=True)


def walk(app, ids, username=None):
    """(path, status, text) for every GET route, as `username` (bearer) or as a stranger."""
    client = app.test_client()
    headers = {}
    if username:
        duban = app.extensions["duban"]
        with duban.db.reading() as session:
            user = session.query(User).filter_by(username=username).one()
            actor = services.auth.actor_of(user)
        headers = {"Authorization": f"Bearer {services.issue_token(duban, actor)[0]}"}
    for rule in routes(app):
        if set(rule.arguments) & SKIP_PARAMS or not set(rule.arguments) <= set(ids):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        for query in ("", "?text=" + TITLE[:4], "?classification=secret", "?all=1&per_page=200"):
            response = client.get(path + query, headers=headers)
            yield path + query, response.status_code, read(response)


def test_the_secret_item_is_nowhere_for_anyone_not_designated(world):
    app, ids, _, _ = world
    for username in (*UNCLEARED, None):
        leaks = [path for path, _, text in walk(app, ids, username) if TITLE in text]
        assert not leaks, f"{username or 'a stranger'} finds the secret item at {leaks}"


def test_direct_access_is_404_not_403(world):
    app, ids, _, _ = world
    checked = set()
    for username in UNCLEARED:
        for path, status, _ in walk(app, ids, username):
            if re.search(rf"/(items|instances|tasks)/({ids['item_id']}|{ids['instance_id']}|{ids['task_id']})$",
                         path.split("?")[0]):
                assert status == 404, (username, path, status)
                checked.add(path.split("?")[0])
    assert len(checked) == 6  # the item, its instance and its task, in the API and as pages


def test_designated_people_and_administrators_do_see_it(world):
    app, ids, _, _ = world
    for username in ("office", "leader", "unit_a", "admin"):
        found = [path for path, status, text in walk(app, ids, username) if TITLE in text and status == 200]
        assert any(p.startswith("/api/v1/items/") for p in found), (username, found)
        assert any(p.startswith("/items") for p in found), (username, found)


def test_notifications_reach_only_the_designated(world, duban_sqlite):
    _, _, org, _ = world
    from engine.services import notifications

    for username in UNCLEARED:
        rows, _ = notifications.list_for(duban_sqlite, org[username], page=1, per_page=500)
        assert not any(TITLE in (n["title"] + n["body"]) for n in rows), username
    rows, _ = notifications.list_for(duban_sqlite, org["unit_a"], page=1, per_page=500)
    assert any(n["task_id"] for n in rows)  # the designated unit person heard of the 签收 task


def test_the_designated_unit_works_it_and_the_other_does_not(world, duban_sqlite):
    _, ids, org, _ = world
    mine, _ = services.list_tasks(duban_sqlite, org["unit_a"], instance_id=ids["instance_id"])
    assert [t["unit"] for t in mine] == ["fgj"]
    assert services.list_tasks(duban_sqlite, org["unit_b"], instance_id=ids["instance_id"])[1] == 0


def test_designating_someone_lets_them_in(world, duban_sqlite):
    from engine.errors import Conflict, Forbidden, NotFound
    from engine.services.items import designate

    _, ids, org, open_item = world
    with pytest.raises(NotFound):
        designate(duban_sqlite, org["unit_b"], ids["item_id"], "unit_b")  # cannot let oneself in
    with pytest.raises(Forbidden):
        designate(duban_sqlite, org["leader"], ids["item_id"], "unit_b")  # designated, but not the office
    with pytest.raises(Conflict):
        designate(duban_sqlite, org["office"], open_item["id"], "unit_b")  # not secret
    item = designate(duban_sqlite, org["office"], ids["item_id"], "unit_b")
    assert "unit_b" in item["designees"]
    assert services.get_item(duban_sqlite, org["unit_b"], ids["item_id"])["title"] == TITLE
    assert services.list_tasks(duban_sqlite, org["unit_b"], instance_id=ids["instance_id"])[1] == 1
    designate(duban_sqlite, org["office"], ids["item_id"], "unit_b", remove=True)
    with pytest.raises(NotFound):
        services.get_item(duban_sqlite, org["unit_b"], ids["item_id"])


def test_registering_a_secret_item_checks_the_designees(world, duban_sqlite):
    from engine.errors import InvalidInput

    _, _, org, _ = world
    with pytest.raises(InvalidInput) as refused:
        services.register_item(duban_sqlite, org["office"], {"title": "x", "classification": "secret",
                                                             "designees": ["nobody"]})
    assert refused.value.details[0]["field"] == "designees"
