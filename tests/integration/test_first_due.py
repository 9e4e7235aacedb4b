"""Item.due_first, which the ledger's lights read, follows every change of an item and its parts: assignment,
report, return, acceptance, urge, extension. On SQLite and PostgreSQL."""
from datetime import timedelta

from sqlalchemy import select

from engine import services
from engine.domain import deadlines
from engine.models import Item
from engine.services import timers
from tests.integration.flow import RECEIVE, REPORT, complete, register
from tests.integration.test_extensions import ASK, decide


def due_firsts(duban) -> dict:
    """{item id: (stored, as the parts say, as SQL says)}."""
    with duban.db.reading() as session:
        in_sql = dict(session.execute(select(Item.id, deadlines.first_due_sql())).all())
        return {item.id: (item.due_first, deadlines.first_due(item, item.units), in_sql[item.id])
                for item in session.scalars(select(Item))}


def kept(duban) -> dict:
    found = due_firsts(duban)
    assert all(stored == computed == in_sql for stored, computed, in_sql in found.values()), found
    return {item_id: stored for item_id, (stored, _, _) in found.items()}


def test_the_first_due_time_follows_the_whole_path(duban, org):
    item = register(duban, org)
    assert kept(duban)[item["id"]] == services.get_item(duban, org["office"], item["id"])["deadline"]  # no part yet
    run = item["instance_id"]
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请办理"},
             instance_id=run)
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"}, instance_id=run)
    complete(duban, org["office"], "assign", {"notice": "交办通知单"}, instance_id=run)
    first = kept(duban)[item["id"]]
    units = {u["unit"]: u for u in services.get_item(duban, org["office"], item["id"])["units"]}
    assert first == min(u["deadline"] for u in units.values())
    complete(duban, org["unit_b"], "unit_receive", RECEIVE, "czj")
    complete(duban, org["unit_b"], "unit_report", REPORT, "czj")
    assert kept(duban)[item["id"]] == units["fgj"]["deadline"]  # czj reported: fgj's is the first open one
    complete(duban, org["office"], "office_review", {"decision": "return", "comment": "数据待核"}, "czj")
    kept(duban)  # returned: czj's part is open again
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    duban.clock.set(units["fgj"]["deadline"] + timedelta(hours=1))
    timers.fire_all_due(duban)
    complete(duban, org["office"], "urge", {"notice": "请于三日内办结", "new_limit": "2026-10-21"}, "fgj")
    kept(duban)  # urged: fgj is due at the urge limit
    services.request_extension(duban, org["unit_a"], item["id"], {**ASK, "new_deadline": "2026-11-06"})
    decide(duban, org, "approve")
    kept(duban)  # extended: the urge limit moved
    complete(duban, org["unit_a"], "unit_report", REPORT, "fgj")
    complete(duban, org["office"], "office_review", {"decision": "accept"}, "fgj")
    complete(duban, org["unit_b"], "unit_report", REPORT, "czj")
    complete(duban, org["office"], "office_review", {"decision": "accept"}, "czj")
    assert kept(duban)[item["id"]] is None  # every part done: no light but green
