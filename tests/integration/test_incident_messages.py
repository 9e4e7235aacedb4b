"""What a failing script, expression or decision table leaves as the incident: the element, where in it,
why in Chinese, and Python's own words after that for the designer."""
import pytest

from engine import services
from engine.errors import ProcessError
from tests.integration.test_consistency import deploy
from tests.samples import chain, script_task
from tests.support.dmn import deciding_process, table


@pytest.mark.parametrize(("code", "said"), [
    ("a = 1\nb = 0\nx = a / b", "“脚本1”脚本第 3 行运行出错：除数为零（ZeroDivisionError: division by zero）"),
    ("x = amount + 1", "“脚本1”脚本第 1 行运行出错：没有名为“amount”的变量（NameError: name 'amount' is not defined）"),
    ("x = {'a': 1}['b']", "“脚本1”脚本第 1 行运行出错：没有键 b（KeyError: 'b'）"),
    ("x = [1][5]", "“脚本1”脚本第 1 行运行出错：下标超出范围（IndexError: list index out of range）"),
    ("x = int('abc')",
     "“脚本1”脚本第 1 行运行出错：值不合要求（ValueError: invalid literal for int() with base 10: 'abc'）"),
])
def test_a_failing_script_is_told_in_chinese_with_its_line(duban_sqlite, org_sqlite, code, said):
    deploy(duban_sqlite, org_sqlite, chain(script_task(1, code)))
    with pytest.raises(ProcessError) as caught:
        services.start_instance(duban_sqlite, org_sqlite["office"], "sample", {})
    assert caught.value.message == said


def test_a_failing_decision_rule_names_its_row_and_the_variable_meant(duban_sqlite, org_sqlite):
    services.deploy(duban_sqlite, {"p.bpmn": deciding_process(), "grade.dmn": table()}, {}, org_sqlite["designer"])
    with pytest.raises(ProcessError) as caught:
        services.start_instance(duban_sqlite, org_sqlite["office"], "decide", {"categry": "major"})
    assert caught.value.message == ("“判定1”决策表第 1 行规则运行出错：没有名为“category”的变量，是否应为“categry”"
                                    "（NameError: name 'category' is not defined）")
