"""Holiday files from outside (DUBAN_HOLIDAYS_FILE, `duban calendar import`, the admin API) cannot exhaust
the service: YAML anchors and aliases (the "billion laughs" of YAML), deep nesting and large files are
refused at once with a Chinese message, and nothing is imported."""
import dataclasses
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from duban import cli
from engine.errors import InvalidInput
from engine.models import AuditRecord, CalendarDay, CalendarYear
from engine.services import calendar


def alias_bomb(levels: int = 9) -> str:
    """Each level lists the previous one nine times: 9**levels dates from a few hundred bytes, all in the
    first holiday, which reading the file turns into text."""
    nodes = ["&a0 [" + ",".join(['"2027-01-01"'] * 9) + "]"]
    nodes += [f"&a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]" for level in range(1, levels)]
    return "2027:\n  holidays:\n    - [" + ", ".join(nodes) + "]\n"


def calendar_rows(duban) -> tuple:
    with duban.db.reading() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (CalendarDay, CalendarYear, AuditRecord))


def test_the_bomb_is_a_few_hundred_bytes():
    assert len(alias_bomb().encode()) < 600


@pytest.mark.parametrize("content,reason", [
    (alias_bomb(), "锚点和别名"),
    ("base: &day 2027-01-01\n2027:\n  holidays: [*day]\n", "锚点和别名"),
    ("2027:\n  holidays: [2027-01-01]\n  <<: *x\n", "锚点和别名"),
    ("2027: {holidays: " + "[" * 50 + "]" * 50 + "}\n", "嵌套超过"),
    ("2027:\n  holidays: [2027-01-01\n", "不是有效的 YAML"),
    ("2027: [2027-01-01]\n", "两个日期列表"),
    ("days: [[2027-01-01, true]]\n", "每一项应为"),
])
def test_hostile_yaml_is_refused_at_once_and_nothing_is_imported(duban, org, content, reason):
    before = calendar_rows(duban)
    started = time.perf_counter()
    with pytest.raises(InvalidInput, match=reason) as refused:
        calendar.import_days(duban, content, "2027.yaml", org["admin"])
    assert time.perf_counter() - started < 2  # a guard only: the bomb took 9 s and 820 MB when expanded
    assert refused.value.details[0]["field"] == "file"
    assert calendar_rows(duban) == before
    assert 2027 not in duban.calendar.loaded_years


def test_large_holiday_files_are_refused_unread(duban, org, tmp_path):
    big = tmp_path / "2027.yaml"
    big.write_text("# " + "x" * calendar.MAX_HOLIDAYS_BYTES + "\n2027:\n  holidays: [2027-01-01]\n")
    before = calendar_rows(duban)
    with pytest.raises(InvalidInput, match="超过上限 262144 字节"):
        calendar.read_days_file(big)
    with pytest.raises(InvalidInput, match="超过上限"):
        calendar.import_days(duban, big.read_text(), big.name, org["admin"])
    assert calendar_rows(duban) == before


def test_the_holidays_file_setting_skips_a_bomb_with_a_warning(duban, org, tmp_path, capsys):
    bomb = tmp_path / "holidays.yaml"
    bomb.write_text(alias_bomb())
    before = calendar_rows(duban)
    cli._import_holidays_file(dataclasses.replace(duban, settings=duban.settings.with_(holidays_file=str(bomb))))
    assert "锚点和别名" in capsys.readouterr().err
    assert calendar_rows(duban) == before


def test_duban_calendar_import_refuses_a_bomb(duban, org, tmp_path):
    bomb = tmp_path / "2027.yaml"
    bomb.write_text(alias_bomb())
    before = calendar_rows(duban)
    env = {"DUBAN_DATABASE_URL": duban.settings.database_url, "DUBAN_VAR_DIR": str(duban.settings.var_dir),
           "DUBAN_SECRET_KEY": duban.settings.secret_key}
    result = CliRunner().invoke(cli.main, ["calendar", "import", str(bomb)], env=env)
    assert result.exit_code == 2 and "锚点和别名" in result.stderr, result.output
    assert calendar_rows(duban) == before


def test_a_notice_with_a_bom_as_windows_notepad_writes_it_is_read(duban, org, tmp_path):
    notice = tmp_path / "2027.yaml"
    notice.write_bytes("\ufeff2027:\n  holidays: [2027-01-01]\n".encode("utf-8"))
    result = calendar.import_days(duban, calendar.read_days_file(notice), notice.name, org["admin"])
    assert result["years"] == [2027]
