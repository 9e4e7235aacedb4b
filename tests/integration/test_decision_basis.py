"""决策依据 in the 立卷归档 archive: people by name, the review's 审核说明 with each report, and a unit's
archive without another unit's reports (access.sees_unit_record)."""
import io
import zipfile

from engine import services
from engine.services import archive, notifications
from tests.integration.flow import RECEIVE, REPORT, complete, open_task, through_assignment, unit_done


def _files(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        return {name.split("/", 1)[1]: bundle.read(name) for name in bundle.namelist()}


def test_the_archive_names_people_keeps_review_comments_and_a_unit_gets_only_its_own(duban, org):
    item = through_assignment(duban, org)
    unit_done(duban, org, "unit_a", "fgj")
    complete(duban, org["unit_b"], "unit_receive", RECEIVE, "czj")
    complete(duban, org["unit_b"], "unit_report", {**REPORT, "summary": "初稿"}, "czj")
    complete(duban, org["office"], "office_review", {"decision": "return", "comment": "请补充资金来源明细"}, "czj")
    complete(duban, org["unit_b"], "unit_report", REPORT, "czj")
    complete(duban, org["office"], "office_review", {"decision": "accept"}, "czj")
    complete(duban, org["office"], "feedback", {"summary": "已反馈"})

    files = _files(archive.archive_item(duban, org["office"], item["id"])[1])
    reports = [files[p].decode() for p in sorted(files) if p.startswith("办结报告/")]
    assert len(reports) == 3
    returned = next(r for r in reports if "初稿" in r)
    assert "报送人：财政局 刘科长" in returned and "督查室 王主任" in returned
    assert "审核说明：请补充资金来源明细" in returned
    assert "督查室 王主任" in files["履历/history.csv"].decode("utf-8-sig")
    assert "unit_b" not in files["履历/history.csv"].decode("utf-8-sig")

    own = _files(archive.archive_item(duban, org["unit_a"], item["id"])[1])
    assert [p for p in own if p.startswith("办结报告/")] == ["办结报告/01-发改局.txt"]
    assert "财政局 刘科长" not in own["履历/history.csv"].decode("utf-8-sig")
    assert "请补充资金来源明细" not in own["履历/history.json"].decode()


def test_a_return_is_found_again_for_the_task_it_created_on_both_databases(duban, org):
    """The reason is tied to the step that created the task by the instant both were written: exact on
    SQLite and PostgreSQL alike (microseconds kept)."""
    through_assignment(duban, org)
    complete(duban, org["unit_b"], "unit_receive", RECEIVE, "czj")
    complete(duban, org["unit_b"], "unit_report", REPORT, "czj")
    complete(duban, org["office"], "office_review", {"decision": "return", "comment": "请补充资金来源明细"}, "czj")
    task = services.get_task(duban, org["unit_b"], open_task(duban, org["unit_b"], "unit_report", "czj")["id"])
    assert task["basis"]["returned"]["reason"] == "请补充资金来源明细"
    assert task["basis"]["returned"]["signed"] == "督查室 王主任"
    notes, _ = notifications.list_for(duban, org["unit_b"])
    assert notes[0]["title"].startswith("退回：办结报告") and "请补充资金来源明细" in notes[0]["body"]
    # the next report, accepted, creates no task carrying an old reason
    complete(duban, org["unit_b"], "unit_report", REPORT, "czj")
    review = services.get_task(duban, org["office"], open_task(duban, org["office"], "office_review", "czj")["id"])
    assert review["basis"]["returned"] is None and len(review["basis"]["entries"]) == 1
