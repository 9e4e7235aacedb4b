"""`duban seed-demo --with-items`: the demo organisation gets items in every state, made by driving the
services (so each has its history, tasks and timers), and a second run adds nothing."""
from sqlalchemy import select

from engine import services
from engine.models import HumanTask, Item, ItemUnit
from engine.services import demo
from tests.support.org import seed


def _by_kind(duban) -> dict:
    with duban.db.reading() as session:
        rows = session.execute(select(Item.id, Item.title, Item.status).where(Item.title.startswith(demo.PREFIX))).all()
        return {kind: next(r for r in rows if r.title == demo.PREFIX + title) for kind, title in demo.TITLES.items()}


def _open_kinds(duban, item_id) -> set:
    with duban.db.reading() as session:
        return set(session.scalars(select(HumanTask.element_id).where(HumanTask.item_id == item_id,
                                                                      HumanTask.state == "open")))


def test_every_state_is_there_after_seeding(duban_sqlite):
    org = seed(duban_sqlite)
    assert demo.seed_items(duban_sqlite) == {"created": len(demo.TITLES)}
    items = _by_kind(duban_sqlite)
    statuses = {kind: item.status for kind, item in items.items()}
    assert statuses == {"drafting": "drafting", "in_progress": "in_progress", "overdue": "in_progress",
                        "urged": "in_progress", "extension": "in_progress", "review": "in_progress",
                        "closed": "closed", "rejected": "rejected", "withdrawn": "withdrawn",
                        "escalated": "in_progress"}
    office = org["office"]
    view = {kind: services.get_item(duban_sqlite, office, item.id) for kind, item in items.items()}
    assert view["overdue"]["light"] == "red" and "urge" in _open_kinds(duban_sqlite, items["overdue"].id)
    assert view["in_progress"]["light"] == "green"
    with duban_sqlite.db.reading() as session:
        urged = session.scalars(select(ItemUnit).where(ItemUnit.item_id == items["urged"].id)).one()
        escalated = session.scalars(select(ItemUnit).where(ItemUnit.item_id == items["escalated"].id)).one()
        assert urged.urged_at is not None and urged.urge_limit > duban_sqlite.clock.now()
        assert escalated.escalated_at is not None
    assert "discipline_review" in _open_kinds(duban_sqlite, items["escalated"].id)
    assert services.list_extensions(duban_sqlite, office, items["extension"].id)[0]["status"] == "pending"
    assert "office_review" in _open_kinds(duban_sqlite, items["review"].id)
    assert view["withdrawn"]["withdrawn_reason"] and view["closed"]["closed_at"]
    # Again: nothing new.
    assert demo.seed_items(duban_sqlite) == {"created": 0}
    assert len(_by_kind(duban_sqlite)) == len(demo.TITLES)


def test_the_command_seeds_them_once(duban_sqlite, sqlite_url, tmp_path):
    from tests.support.commands import run_duban as run

    seed(duban_sqlite)
    first = run(sqlite_url, tmp_path, "seed-demo", "--with-items")
    assert first.returncode == 0, first.stderr
    assert f"demo items: {len(demo.TITLES)} added" in first.stdout and "已撤销" in first.stdout
    again = run(sqlite_url, tmp_path, "seed-demo", "--with-items")
    assert again.returncode == 0 and "already there" in again.stdout
