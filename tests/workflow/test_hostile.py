"""A hostile diagram cannot reach the server: refused at deploy, or stopped in the sandbox at run time."""
import pytest

from engine.bpmn.runtime import Runtime, compile_bundle
from engine.clock import FixedClock
from engine.errors import DeploymentInvalid, ProcessError
from tests.samples import chain, process, script_task
from tests.support.org import START


class _Definition:
    def __init__(self, compiled):
        self.id, self.key, self.files = id(compiled), compiled.key, compiled.files


def run(xml: bytes):
    [compiled] = compile_bundle({"hostile.bpmn": xml}, {}, 1_000_000)
    return Runtime(FixedClock(START)).start(_Definition(compiled), {}, {})


@pytest.mark.parametrize("script", [
    "__import__('os').system('id > {marker}')",
    "import os\nos.system('id > {marker}')",
    "from subprocess import run\nrun(['id'])",
    "x = ().__class__.__base__.__subclasses__()",
    "x = [].__class__.__mro__",
    "exec(\"import os; os.system('id > {marker}')\")",
])
def test_hostile_scripts_are_refused_at_deploy(tmp_path, script):
    marker = tmp_path / "marker"
    with pytest.raises(DeploymentInvalid) as caught:
        run(process(chain(script_task(1, script.format(marker=marker).replace("<", "&lt;")))))
    assert caught.value.details[0]["element"] == "e1"
    assert not marker.exists()


@pytest.mark.parametrize("script", [
    "open('{marker}', 'w').write('pwned')",
    "getattr(open, 'x')",
    "type('x', (), {{}})",
    "vars()['__builtins__']['open']('{marker}', 'w')",
    "n = 0\nwhile True:\n    n += 1",
])
def test_hostile_scripts_that_compile_fail_in_the_sandbox(tmp_path, script):
    marker = tmp_path / "marker"
    with pytest.raises(ProcessError):
        run(process(chain(script_task(1, script.format(marker=marker)))))
    assert not marker.exists()


def test_hostile_gateway_conditions_are_refused(tmp_path):
    body = ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" name="分支" default="fb"/>'
            '<bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>'
            '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
            '<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a"><bpmn:conditionExpression>'
            "__import__('os').system('id')</bpmn:conditionExpression></bpmn:sequenceFlow>"
            '<bpmn:sequenceFlow id="fb" sourceRef="gw" targetRef="b"/>')
    with pytest.raises(DeploymentInvalid) as caught:
        run(process(body))
    assert caught.value.details[0]["element"] == "gw"


def test_a_process_that_never_waits_is_stopped():
    body = ('<bpmn:startEvent id="start"/><bpmn:scriptTask id="loop" name="循环"><bpmn:script>n = 1</bpmn:script>'
            '</bpmn:scriptTask><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="loop"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="loop" targetRef="loop"/>')
    with pytest.raises(ProcessError, match="循环"):
        run(process(body))


# DMN decision tables: their cells are Python the DMN engine joins and evaluates (engine/bpmn/decisions.py).
def run_table(cells: tuple, inputs=(("category", "类别"),), data=None):
    from tests.support.dmn import deciding_process, table
    files = {"p.bpmn": deciding_process(), "t.dmn": table(rules=(cells,), inputs=inputs)}
    [compiled] = compile_bundle(files, {}, 1_000_000)
    return Runtime(FixedClock(START)).start(_Definition(compiled), dict(data or {"category": "major"}), {})


@pytest.mark.parametrize("cells, inputs", [
    (('"major"', "__import__('os').system('id > {marker}')"), (("category", "类别"),)),
    (("> __import__('os').getpid()", "1"), (("category", "类别"),)),
    (('"major"', "().__class__.__base__.__subclasses__()"), (("category", "类别"),)),
    (('"major"', "1"), (("category.__class__", "类别"),)),
    (('"major"', "exec(\"import os; os.system('id > {marker}')\")"), (("category", "类别"),)),
    (("? == [].__class__.__mro__", "1"), (("category", "类别"),)),
])
def test_hostile_decision_tables_are_refused_at_deploy(tmp_path, cells, inputs):
    marker = tmp_path / "marker"
    cells = tuple(cell.format(marker=marker) for cell in cells)
    with pytest.raises(DeploymentInvalid) as caught:
        run_table(cells, inputs)
    assert caught.value.details[0]["file"] == "t.dmn"
    assert "不能运行" in caught.value.details[0]["message"]
    assert not marker.exists()


@pytest.mark.parametrize("cells", [
    ('"major"', "open('{marker}', 'w').write('pwned')"),
    ("getattr(open, 'x')", "1"),
    ('"major"', "vars()['__builtins__']['open']('{marker}', 'w')"),
    ('"major"', "len([x for x in range(10 ** 9)])"),
    ("> type('x', (), {{}})", "1"),
])
def test_hostile_decision_cells_that_compile_fail_in_the_sandbox(tmp_path, cells):
    marker = tmp_path / "marker"
    with pytest.raises(ProcessError):
        run_table(tuple(cell.format(marker=marker) for cell in cells))
    assert not marker.exists()
