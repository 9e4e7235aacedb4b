"""A step's new tasks and timers, its ended timers, its instance's new state and its item's changes are
written as the ORM's flush wrote them: on PostgreSQL in the audit chain's statement (services.folding),
on SQLite by the flush itself."""
from contextlib import contextmanager

from sqlalchemy import select

from engine import services
from engine.models import HumanTask, Instance, ItemUnit, Timer
from tests.integration.flow import RECEIVE, REPORT, complete, open_task, through_assignment
from tests.support.org import make_duban
from tests.support.statements import statements_sent

# What a step writes that goes in the audit statement on PostgreSQL, not in a statement of its own.
FOLDED = {"INSERT INTO tasks", "INSERT INTO timers", "UPDATE timers", "UPDATE instances", "UPDATE items",
          "UPDATE item_units"}


@contextmanager
def own_statements(duban):
    """The statements sent meanwhile; on PostgreSQL, none of the folded kinds among them."""
    with statements_sent(duban) as statements:
        yield statements
    if duban.db.dialect == "postgresql":
        kinds = {statement.split("(")[0].split(" SET ")[0].strip() for statement in statements}
        assert not FOLDED & kinds, statements


def test_a_steps_writes_are_stored_as_flushed(duban, org, clock, tmp_path):
    item = through_assignment(duban, org)
    instance_id = item["instance_id"]
    with duban.db.reading() as session:
        version = session.get(Instance, instance_id).version

    with own_statements(duban):
        complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    with duban.db.reading() as session:
        assert session.get(Instance, instance_id).version == version + 1  # one step, one version
        report = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.element_id == "unit_report",
                                                         HumanTask.unit_id == "fgj")).one()
        assert (report.state, report.completed_at, report.claimed_at) == ("open", None, None)
        assert report.input is not None and report.created_at == clock.now()
        # A JSON column the step never set is SQL NULL, as the ORM leaves it (not JSON null).
        assert session.scalar(select(HumanTask.data.is_(None)).where(HumanTask.id == report.id)) is True
        part = session.scalars(select(ItemUnit).where(ItemUnit.item_id == item["id"], ItemUnit.unit_id == "fgj")).one()
        assert (part.first_responsible, part.committed_date, part.received_at) == (
            RECEIVE["first_responsible"], RECEIVE["committed_date"], clock.now())

    with own_statements(duban):
        complete(duban, org["unit_a"], "unit_report", REPORT, "fgj")
        complete(duban, org["office"], "office_review", {"decision": "accept"}, "fgj")  # ends fgj's timers
    with duban.db.reading() as session:
        assert session.get(Instance, instance_id).version == version + 3
        timers = {(t.element_id, t.unit_id): t.state
                  for t in session.scalars(select(Timer).where(Timer.instance_id == instance_id))}
        assert timers[("deadline_reached", "fgj")] == timers[("remind_due", "fgj")] == "cancelled"
        assert timers[("deadline_reached", "czj")] == "waiting"
        part = session.scalars(select(ItemUnit).where(ItemUnit.item_id == item["id"], ItemUnit.unit_id == "fgj")).one()
        assert part.reported_at == part.accepted_at == clock.now()

    # Another process (its own runtime, no live workflow) goes on from the state stored.
    other = make_duban(duban.db.url, clock, tmp_path / "other")
    try:
        complete(other, org["unit_b"], "unit_receive", RECEIVE, "czj", instance_id=instance_id)
        assert open_task(other, org["unit_b"], "unit_report", "czj", instance_id=instance_id)
        assert services.get_item(other, org["office"], item["id"])["status"] == "in_progress"
    finally:
        other.db.dispose()
