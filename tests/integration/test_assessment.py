"""考核: yearly unit scores from a known October (tests/integration/scoring.py), explained line by line.

Defaults: 按期办结 +2, 领导表扬 +3, 逾期办结 −2, 通报批评 −5, 移送纪委问责 −10. So in 2026:
住建局 +2 +3 = 5 (1st), 发改局 +2 (2nd), 财政局 −2 (3rd), 教育局 −5 −10 = −15 (4th).
"""
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.clock import CHINA
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import AuditRecord, Criticism
from engine.services import assessment
from tests.integration.flow import register
from tests.integration.scoring import SECRET_TITLE, october


@pytest.fixture
def world(duban, org):
    return october(duban, org)


def totals(board):
    return {u["unit"]: (u["rank"], u["total"]) for u in board["units"]}


def explained(duban, actor, unit, year=2026):
    result = assessment.unit_lines(duban, actor, year, unit)
    return result, [(line["item_id"], line["event"], line["points"]) for line in result["lines"]]


def test_each_unit_is_scored_from_what_happened(duban, org, world):
    board = assessment.scores(duban, org["office"], 2026)
    assert [u["unit"] for u in board["units"]] == ["zjj", "fgj", "czj", "jyj"]
    assert totals(board) == {"zjj": (1, Decimal("5")), "fgj": (2, Decimal("2")), "czj": (3, Decimal("-2")),
                             "jyj": (4, Decimal("-15"))}
    counts = {u["unit"]: u["counts"] for u in board["units"]}
    assert counts["jyj"] == {"on_time": 0, "praised": 0, "late": 0, "criticised": 1, "escalated": 1}
    assert counts["zjj"] == {"on_time": 1, "praised": 1, "late": 0, "criticised": 0, "escalated": 0}
    assert [(r["code"], r["points"], r["active"]) for r in board["rules"]] == [
        ("on_time", 2, True), ("praised", 3, True), ("late", -2, True), ("criticised", -5, True),
        ("escalated", -10, True)]


def test_each_score_is_explained_item_by_item(duban, org, world):
    a, b, c, d = (world[k]["id"] for k in "abcd")
    result, lines = explained(duban, org["leader"], "zjj")
    assert lines == [(d, "on_time", 2), (d, "praised", 3)]
    assert (result["total"], result["rank"], result["unit_name"]) == (5, 1, "住建局")
    assert "2026年10月9日报告，办结时限2026年10月22日" in result["lines"][0]["detail"]
    assert result["lines"][1]["detail"] == "县政府 李副县长表扬：成效明显，予以表扬"

    result, lines = explained(duban, org["office"], "czj")
    assert lines == [(b, "late", -2)]
    assert result["lines"][0]["at"].astimezone(CHINA).date().isoformat() == "2026-10-26"
    assert "2026年10月26日报告，办结时限2026年10月22日" in result["lines"][0]["detail"]

    result, lines = explained(duban, org["office"], "jyj")
    assert lines == [(c, "criticised", -5), (c, "escalated", -10)]
    assert result["total"] == -15 and result["lines"][1]["detail"] == "催办期限2026年10月28日届满仍未报告，移送纪委"
    assert explained(duban, org["office"], "fgj")[1] == [(a, "on_time", 2)]
    # Each total is the sum of its lines, for every unit.
    for unit in assessment.scores(duban, org["office"], 2026)["units"]:
        lines = assessment.unit_lines(duban, org["office"], 2026, unit["unit"])["lines"]
        assert sum(line["points"] for line in lines) == unit["total"]


def test_events_count_in_their_own_year(duban, org, world):
    assert {u["total"] for u in assessment.scores(duban, org["office"], 2025)["units"]} == {0}
    assert assessment.unit_lines(duban, org["office"], 2027, "jyj")["lines"] == []
    with pytest.raises(InvalidInput):
        assessment.scores(duban, org["office"], 1999)


def test_rule_edits_change_the_scores_and_are_audited(duban, org, world):
    admin = org["admin"]
    rule = assessment.update_rule(duban, admin, "on_time", "3.5")
    assert (rule["points"], rule["active"], rule["updated_by"]) == (Decimal("3.50"), True, "admin")
    assessment.update_rule(duban, admin, "escalated", -10, active=False)
    board = assessment.scores(duban, org["leader"], 2026)
    assert totals(board) == {"zjj": (1, Decimal("6.5")), "fgj": (2, Decimal("3.5")), "czj": (3, Decimal("-2")),
                             "jyj": (4, Decimal("-5"))}
    _, lines = explained(duban, org["office"], "jyj")
    assert lines == [(world["c"]["id"], "criticised", -5)]  # an inactive rule adds no line
    assert assessment.points_text(Decimal("3.50")) == "+3.5" and assessment.points_text(Decimal("-10.00")) == "-10"
    with duban.db.reading() as session:
        audited = session.execute(select(AuditRecord.actor, AuditRecord.target, AuditRecord.detail)
                                  .where(AuditRecord.action == "assessment.rule").order_by(AuditRecord.id)).all()
    assert [(actor, target) for actor, target, _ in audited] == [("admin", "assessment_rule:on_time"),
                                                                 ("admin", "assessment_rule:escalated")]
    assert audited[0].detail == {"before": {"points": "2.00", "active": True, "name": "按期办结"},
                                 "after": {"points": "3.50", "active": True, "name": "按期办结"}}


def test_only_system_administrators_edit_rules(duban, org, world):
    for user in ("office", "leader", "unit_a", "discipline", "secadmin", "auditor"):
        with pytest.raises(Forbidden):
            assessment.update_rule(duban, org[user], "on_time", 5)
    with pytest.raises(NotFound):
        assessment.update_rule(duban, org["admin"], "bonus", 5)
    for bad in ("abc", "NaN", "1e9", None):
        with pytest.raises(InvalidInput):
            assessment.update_rule(duban, org["admin"], "on_time", bad)
    assert assessment.list_rules(duban, org["unit_a"])[0]["points"] == 2
    sysadmin = org.add_user("sys", "sysadmin", "xwb")  # 三员分立's system administrator: rules, not scores
    assert assessment.update_rule(duban, sysadmin, "praised", 4)["points"] == 4
    assert assessment.list_rules(duban, sysadmin)[1]["updated_by"] == "sys"
    with pytest.raises(Forbidden):
        assessment.scores(duban, sysadmin, 2026)


def test_who_sees_which_scores(duban, org, world):
    mine = assessment.scores(duban, org["unit_a"], 2026)
    assert totals(mine) == {"fgj": (None, Decimal("2"))}  # its own unit, no rank
    assert explained(duban, org["unit_a"], "fgj")[0]["rank"] is None
    with pytest.raises(Forbidden):
        assessment.unit_lines(duban, org["unit_a"], 2026, "czj")
    with pytest.raises(NotFound):
        assessment.unit_lines(duban, org["office"], 2026, "nowhere")
    for user in ("discipline", "designer", "secadmin", "auditor"):
        with pytest.raises(Forbidden):
            assessment.scores(duban, org[user], 2026)
        with pytest.raises(Forbidden):
            assessment.unit_lines(duban, org[user], 2026, "fgj")
        with pytest.raises(Forbidden):
            assessment.xlsx(duban, org[user], 2026)
    assert totals(assessment.scores(duban, org["admin"], 2026)) == totals(assessment.scores(duban, org["office"], 2026))


def test_praise_is_for_leaders_once_per_item_and_unit(duban, org, world):
    a = world["a"]["id"]
    for user in ("office", "unit_a", "admin", "discipline"):
        with pytest.raises(Forbidden):
            assessment.praise(duban, org[user], a, "fgj", "好")
    with pytest.raises(InvalidInput):
        assessment.praise(duban, org["leader"], a, "czj", "不是承办单位")
    with pytest.raises(Conflict):
        assessment.praise(duban, org["leader"], world["d"]["id"], "zjj", "又一次")
    with pytest.raises(NotFound):
        assessment.praise(duban, org["leader"], 999999, "fgj")
    drafting = register(duban, org, title="未交办事项")
    with pytest.raises(InvalidInput):
        assessment.praise(duban, org["leader"], drafting["id"], "fgj")
    praised = assessment.praise(duban, org["leader"], a, "fgj", "按期高质量完成")
    assert (praised["unit_name"], praised["by"], praised["note"]) == ("发改局", "leader", "按期高质量完成")
    assert totals(assessment.scores(duban, org["office"], 2026))["fgj"] == (1, Decimal("5"))  # tied with 住建局
    with duban.db.reading() as session:
        assert session.scalar(select(AuditRecord.target).where(AuditRecord.action == "item.praise")
                              .order_by(AuditRecord.id.desc()).limit(1)) == f"item:{a}"
        assert session.scalar(select(Criticism.reason)) == "escalated"


def test_the_excel_export_has_totals_and_lines(duban, org, world):
    book = load_workbook(BytesIO(assessment.xlsx(duban, org["office"], 2026)))
    totals_sheet, lines_sheet = book.worksheets
    rows = list(totals_sheet.iter_rows(values_only=True))
    assert rows[0] == ("排名", "单位", "按期办结", "领导表扬", "逾期办结", "通报批评", "移送纪委问责", "得分")
    assert [(r[0], r[1], r[-1]) for r in rows[1:]] == [(1, "住建局", 5), (2, "发改局", 2), (3, "财政局", -2),
                                                       (4, "教育局", -15)]
    lines = list(lines_sheet.iter_rows(values_only=True))[1:]
    assert sorted((r[0], r[3], r[5]) for r in lines) == sorted([
        ("发改局", "按期办结", 2), ("住建局", "按期办结", 2), ("住建局", "领导表扬", 3), ("财政局", "逾期办结", -2),
        ("教育局", "通报批评", -5), ("教育局", "移送纪委问责", -10)])
    own = load_workbook(BytesIO(assessment.xlsx(duban, org["unit_b"], 2026)))
    assert [r[1] for r in own.worksheets[0].iter_rows(min_row=2, values_only=True)] == ["财政局"]
    assert [r[0] for r in own.worksheets[1].iter_rows(min_row=2, values_only=True)] == ["财政局"]


@pytest.fixture
def secret_world(duban, org):
    org.add_user("office2", "office", "dcs")
    org.add_user("unit_a2", "unit", "fgj")
    return october(duban, org, secret=True)


def test_secret_items_count_only_for_those_cleared(duban, org, secret_world):
    s = secret_world["s"]["id"]
    for user in ("admin", "office", "leader", "unit_a"):  # administrators and the designated
        result, lines = explained(duban, org[user], "fgj")
        assert result["total"] == 7 and (s, "praised", 3) in lines, user
        assert dict(totals(assessment.scores(duban, org[user], 2026)))["fgj"][1] == 7
    for user in ("office2", "unit_a2"):  # an office colleague and a unit colleague not designated
        result, lines = explained(duban, org[user], "fgj")
        assert result["total"] == 2 and lines == [(secret_world["a"]["id"], "on_time", 2)], user
        assert SECRET_TITLE not in str(result)
        board = assessment.scores(duban, org[user], 2026)
        assert dict(totals(board))["fgj"][1] == 2 and SECRET_TITLE not in str(board)
    for user, seen in (("office2", False), ("admin", True)):
        book = load_workbook(BytesIO(assessment.xlsx(duban, org[user], 2026)))
        cells = [str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row]
        assert (SECRET_TITLE in cells) is seen, user
