"""Units and users from a real Excel workbook, reported row by row (批量导入)."""
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine import services
from engine.errors import Forbidden, InvalidInput
from engine.models import Unit, User
from engine.services import user_import
from tests.support.workbooks import workbook

STRONG = "Ch4nge-me!"


def test_each_row_is_created_or_refused_with_its_reason(duban, org):
    data = workbook(
        units=[("cgz", "城关镇", "承办单位"), ("fgj", "发改局（重复）", ""), ("bad id", "某", ""),
               ("hsz", "红山镇", "乡镇"), (None, None, None), ("cgz", "城关镇", "")],
        users=[("wangwu", "城关镇 王五", "cgz", "ww@example.cn", STRONG), ("unit_a", "重名", "fgj", "", STRONG),
               ("zhaoliu", "赵六", "nowhere", "", STRONG), ("sunqi", "孙七", "fgj", "", "Password1"),
               ("zhouba", "周八", "fgj", "", ""), ("wangwu", "王五again", "cgz", "", STRONG),
               ("wujiu", "吴九", "fgj", "", 20261231)])
    report = user_import.import_workbook(duban, org["admin"], data)
    rows = {(r["sheet"], r["row"]): r for r in report["rows"]}
    assert rows[("单位", 2)] == {"sheet": "单位", "row": 2, "key": "cgz", "created": True, "message": "已创建单位"}
    assert rows[("单位", 3)]["message"] == "单位编号“fgj”已存在"
    assert "单位编号须为" in rows[("单位", 4)]["message"]
    assert "未知的单位类别“乡镇”" in rows[("单位", 5)]["message"]
    assert ("单位", 6) not in rows  # an empty line is no row
    assert rows[("单位", 7)]["message"] == "与第 2 行重复" and not rows[("单位", 7)]["created"]
    assert rows[("用户", 2)]["created"] and "首次登录须修改口令" in rows[("用户", 2)]["message"]
    assert rows[("用户", 3)]["message"] == "用户名“unit_a”已存在"
    assert rows[("用户", 4)]["message"] == "单位“nowhere”不存在"
    assert "最常见的口令" in rows[("用户", 5)]["message"]
    assert rows[("用户", 6)]["message"] == "请填写初始口令"
    assert rows[("用户", 7)]["message"] == "与第 2 行重复"
    assert "至少三类" in rows[("用户", 8)]["message"]  # a number typed as a password is read as its digits
    assert (report["created"], report["refused"]) == (2, 10)
    assert not any(STRONG in r["message"] for r in report["rows"])
    with duban.db.reading() as session:
        assert session.get(Unit, "cgz").name == "城关镇" and session.get(Unit, "fgj").name == "发改局"
        wangwu = session.scalars(select(User).where(User.username == "wangwu")).one()
        assert (wangwu.unit_id, wangwu.email, wangwu.password_change_required) == ("cgz", "ww@example.cn", True)
    assert services.login(duban, "wangwu", STRONG).username == "wangwu"


def test_the_template_is_a_workbook_the_import_reads(duban, org):
    data = user_import.template(org["admin"])
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["单位", "用户", "说明"]
    assert [c.value for c in book["用户"][1]] == ["用户名", "姓名", "单位编号", "电子邮箱", "初始口令"]
    book["单位"].append(["cgz", "城关镇", "承办单位"])
    book["用户"].append(["wangwu", "王五", "cgz", None, STRONG])
    out = io.BytesIO()
    book.save(out)
    report = user_import.import_workbook(duban, org["admin"], out.getvalue())
    assert (report["created"], report["refused"]) == (2, 0)


def test_what_is_not_the_template_is_refused_whole(duban, org):
    with pytest.raises(InvalidInput, match="Excel"):
        user_import.import_workbook(duban, org["admin"], b"username,name\nx,y\n")
    with pytest.raises(InvalidInput, match="表头"):
        user_import.import_workbook(duban, org["admin"], workbook(unit_header=("id", "name", "kind")))
    with pytest.raises(Forbidden, match="系统管理员"):
        user_import.import_workbook(duban, org["secadmin"], workbook())
    with pytest.raises(Forbidden):
        user_import.template(org["office"])


def test_units_come_with_their_parents_and_categories_in_any_order(duban, org):
    """单位层级 from the sheet: a sub-unit may come before its parent; an unknown parent or category is
    refused on its row; a workbook from before the two columns still reads."""
    data = workbook(units=[("cgz-nj", "城关镇农技站", "", "cgz", ""),
                           ("cgz", "城关镇", "承办单位", "xzf", "乡镇（街道）"),
                           ("hsz", "红山镇", "", "nowhere", ""), ("dfz", "东风镇", "", "", "村")],
                    unit_header=("编号", "名称", "类别", "上级单位编号", "分类"))
    report = user_import.import_workbook(duban, org["admin"], data)
    assert [(r["row"], r["key"], r["created"]) for r in report["rows"]] == [
        (2, "cgz-nj", True), (3, "cgz", True), (4, "hsz", False), (5, "dfz", False)]
    assert "nowhere" in report["rows"][2]["message"] and "分类" in report["rows"][3]["message"]
    with duban.db.reading() as session:
        assert (session.get(Unit, "cgz").parent_id, session.get(Unit, "cgz").category) == ("xzf", "township")
        assert session.get(Unit, "cgz-nj").parent_id == "cgz"
    old = user_import.import_workbook(duban, org["admin"], workbook(units=[("xqz", "西桥镇", "")]))
    assert old["created"] == 1
    sheet = load_workbook(io.BytesIO(user_import.template(org["admin"])))["单位"]
    assert [c.value for c in sheet[1]] == ["编号", "名称", "类别", "上级单位编号", "分类"]
