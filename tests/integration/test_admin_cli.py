"""`duban user add` and `duban unit add` on the server's command line, run as an operator would."""
from sqlalchemy import select

from engine.models import AuditRecord, Unit, User
from tests.support.commands import run_duban
from tests.support.org import seed

STRONG = "Ch4nge-me!"


def test_units_and_users_are_added_on_the_command_line(duban_sqlite, sqlite_url, tmp_path):
    seed(duban_sqlite)
    unit = run_duban(sqlite_url, tmp_path, "unit", "add", "cgz", "--name", "城关镇", "--kind", "承办单位")
    assert unit.returncode == 0, unit.stderr
    secret = tmp_path / "password.txt"
    secret.write_text(STRONG + "\n", encoding="utf-8")
    user = run_duban(sqlite_url, tmp_path, "user", "add", "wangwu", "--name", "城关镇 王五", "--unit", "cgz",
                     "--role", "unit", "--password-file", str(secret))
    assert user.returncode == 0, user.stderr
    assert STRONG not in user.stdout + user.stderr
    asked = run_duban(sqlite_url, tmp_path, "user", "add", "zhaoliu", "--name", "赵六", "--unit", "cgz",
                      stdin=f"{STRONG}\n{STRONG}\n")
    assert asked.returncode == 0, asked.stderr
    with duban_sqlite.db.reading() as session:
        assert session.get(Unit, "cgz").kind == "unit"
        wangwu = session.scalars(select(User).where(User.username == "wangwu")).one()
        assert (wangwu.unit_id, wangwu.roles, wangwu.password_change_required) == ("cgz", ["unit"], True)
        actions = {(r.action, r.target): r.actor for r in session.scalars(select(AuditRecord))}
        assert actions[("unit.create", "unit:cgz")].startswith("cli")
        assert actions[("user.create", "user:wangwu")].startswith("cli")
        assert ("user.create", "user:zhaoliu") in actions


def test_refusals_are_said_in_chinese_with_a_failing_status(duban_sqlite, sqlite_url, tmp_path):
    seed(duban_sqlite)
    secret = tmp_path / "password.txt"
    secret.write_text("Password1\n", encoding="utf-8")
    weak = run_duban(sqlite_url, tmp_path, "user", "add", "wangwu", "--name", "王五", "--unit", "fgj",
                     "--password-file", str(secret))
    assert weak.returncode == 2 and "最常见的口令" in weak.stderr
    secret.write_text(STRONG + "\n", encoding="utf-8")
    split = run_duban(sqlite_url, tmp_path, "user", "add", "wangwu", "--name", "王五", "--unit", "fgj",
                      "--role", "secadmin", "--role", "auditadmin", "--password-file", str(secret))
    assert split.returncode == 2 and "三员分立" in split.stderr
    taken = run_duban(sqlite_url, tmp_path, "unit", "add", "fgj", "--name", "发改局")
    assert taken.returncode == 2 and "已存在" in taken.stderr
    parent = run_duban(sqlite_url, tmp_path, "unit", "add", "cgz", "--name", "城关镇", "--parent", "nowhere")
    assert parent.returncode == 2 and "单位“nowhere”不存在" in parent.stderr
    category = run_duban(sqlite_url, tmp_path, "unit", "add", "cgz", "--name", "城关镇", "--category", "村")
    assert category.returncode == 2 and "分类" in category.stderr
    with duban_sqlite.db.reading() as session:
        assert session.scalars(select(User).where(User.username == "wangwu")).one_or_none() is None
        assert session.get(Unit, "cgz") is None
    placed = run_duban(sqlite_url, tmp_path, "unit", "add", "cgz", "--name", "城关镇", "--parent", "xzf",
                       "--category", "乡镇（街道）")
    assert placed.returncode == 0, placed.stderr
    with duban_sqlite.db.reading() as session:
        unit = session.get(Unit, "cgz")
        assert (unit.parent_id, unit.category, unit.active) == ("xzf", "township", True)
