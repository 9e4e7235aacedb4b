"""六有: each unit of an assigned item keeps its checklist (落实方案, 具体措施, 目标台账, 责任领导,
明确任务, 情况报告); the office reads every unit's and sees how complete it is. On SQLite and PostgreSQL."""
import pytest

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Checklist
from engine.services import checklists, progress
from tests.integration.flow import complete, register, through_assignment

FULL = dict.fromkeys(checklists.CHECKS, True) | {"plan_note": "落实方案.docx", "leader_note": "王副局长"}


def test_a_unit_fills_in_its_checklist_and_the_office_sees_completeness(duban, org):
    item = through_assignment(duban, org)  # 发改局 leads, 财政局 co-operates
    before = checklists.list_checklists(duban, org["office"], item["id"])
    assert [(c["unit"], c["role"], c["done"], c["complete"], c["updated_by"]) for c in before] == [
        ("fgj", "lead", 0, False, None), ("czj", "co", 0, False, None)]

    mine = checklists.put_checklist(duban, org["unit_a"], item["id"], {"plan": True, "plan_note": " 方案.pdf ",
                                                                       "measures": True, "leader": True})
    assert (mine["unit"], mine["done"], mine["total"], mine["complete"]) == ("fgj", 3, 6, False)
    assert mine["plan_note"] == "方案.pdf" and mine["updated_by"] == "unit_a" and mine["updated_at"] is not None
    assert (mine["ledger"], mine["tasks"], mine["report"]) == (False, False, False)

    duban.clock.advance(hours=1)
    checklists.put_checklist(duban, org["unit_a"], item["id"], FULL)
    checklists.put_checklist(duban, org["unit_b"], item["id"], {"tasks": True})
    office = {c["unit"]: c for c in checklists.list_checklists(duban, org["office"], item["id"])}
    assert (office["fgj"]["done"], office["fgj"]["complete"], office["fgj"]["leader_note"]) == (6, True, "王副局长")
    assert office["fgj"]["measures_note"] == ""  # a PUT sets the whole checklist
    assert (office["czj"]["done"], office["czj"]["tasks"], office["czj"]["updated_by"]) == (1, True, "unit_b")
    assert checklists.list_checklists(duban, org["unit_b"], item["id"]) == list(office.values())
    with duban.db.reading() as session:
        assert session.query(Checklist).count() == 2

    # The monthly summary shows each part's count.
    summary = progress.aggregate(duban, org["office"], "2026-09")
    assert {r["unit"]: (r["checklist_done"], r["checklist_total"]) for r in summary["rows"]} == {
        "fgj": (6, 6), "czj": (1, 6)}


def test_only_the_unit_itself_fills_in_its_checklist(duban, org):
    item = through_assignment(duban, org)
    alone = through_assignment(duban, org, co_units=())
    with pytest.raises(Forbidden):
        checklists.put_checklist(duban, org["unit_b"], item["id"], {**FULL, "unit": "fgj"})
    for username in ("office", "leader", "admin"):
        with pytest.raises(Forbidden):
            checklists.put_checklist(duban, org[username], item["id"], FULL)
    for username in ("unit_b", "discipline"):
        with pytest.raises(NotFound):
            checklists.put_checklist(duban, org[username], alone["id"], FULL)
        with pytest.raises(NotFound):
            checklists.list_checklists(duban, org[username], alone["id"])
    with duban.db.reading() as session:
        assert session.query(Checklist).count() == 0


def test_the_checklist_is_checked(duban, org):
    item = through_assignment(duban, org)
    for bad, field in (({"plan": "yes"}, "plan"), ({"report": 1}, "report"),
                       ({"ledger_note": "账" * 501}, "ledger_note"),
                       ({"tasks_note": 5}, "tasks_note")):
        with pytest.raises(InvalidInput) as refused:
            checklists.put_checklist(duban, org["unit_a"], item["id"], {**FULL, **bad})
        assert refused.value.details[0]["field"] == field


def test_the_checklist_is_kept_while_the_item_runs(duban, org):
    pending = register(duban, org, title="待审批")
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "办"},
             instance_id=pending["instance_id"])
    with pytest.raises(Conflict):
        checklists.put_checklist(duban, org["unit_a"], pending["id"], FULL)  # not assigned yet
    assert checklists.list_checklists(duban, org["office"], pending["id"])[0]["done"] == 0


def test_uncleared_people_never_see_a_secret_items_checklist(duban, org):
    org.add_user("office2", "office", "dcs")
    org.add_user("fgj2", "unit", "fgj")
    secret = through_assignment(duban, org, classification="secret", designees=["leader", "unit_a", "unit_b"])
    checklists.put_checklist(duban, org["unit_a"], secret["id"], FULL)
    for username in ("office2", "fgj2", "discipline"):
        with pytest.raises(NotFound):
            checklists.list_checklists(duban, org[username], secret["id"])
    with pytest.raises(NotFound):
        checklists.put_checklist(duban, org["fgj2"], secret["id"], FULL)
    assert checklists.list_checklists(duban, org["office"], secret["id"])[0]["done"] == 6
