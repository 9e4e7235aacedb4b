"""The sandbox BPMN expressions and scripts run in: what works, and what a hostile diagram cannot do."""
import pytest

from engine.bpmn.sandbox import SandboxEnvironment, SandboxViolation, check


@pytest.fixture
def env():
    return SandboxEnvironment({"double": lambda x: x * 2})


def test_expressions_see_data_and_functions(env):
    assert env.evaluate("amount > 100 and double(amount) == 400", {"amount": 200}) is True
    assert env.evaluate("category == 'major'", {"category": "major"}) is True
    assert env.evaluate("[u for u in units if u != lead]", {"units": ["a", "b"], "lead": "a"}) == ["b"]


def test_scripts_write_back_data_and_deletions(env):
    data = {"a": 1, "b": 2, "items": {"k": 1}}
    env.execute("c = a + b\ndel b\nitems['j'] = 2\nfor i in range(3):\n    a += i\nnames = sorted({'x', 'y'})", data)
    assert data == {"a": 4, "c": 3, "items": {"k": 1, "j": 2}, "i": 2, "names": ["x", "y"]}


def test_scripts_keep_no_functions_or_guards_in_data(env):
    data = {}
    env.execute("def f(x):\n    return x + 1\ny = f(1)\nz = double(3)", data)
    assert data == {"y": 2, "z": 6}


def test_data_cannot_shadow_the_engines_functions(env):
    assert env.evaluate("double(2)", {"double": "not a function"}) == 4


def test_vars_and_globals_show_data_only(env):
    seen = env.evaluate("globals()", {"x": 1})
    assert seen == {"x": 1}
    assert env.evaluate("'x' in vars() and 'double' not in locals()", {"x": 1}) is True
    data = {}
    env.execute("g = globals()\ng['_getattr_'] = None\ny = double(2)", data)
    assert data["y"] == 4


def test_print_is_collected_not_written(env, capsys):
    env.execute("print('hello')\nx = 1", {})
    assert capsys.readouterr().out == ""


def test_submitted_builtins_key_is_ignored(env):
    assert env.evaluate("len(x)", {"x": [1, 2], "__builtins__": {"len": lambda _: 99}}) == 2


HOSTILE = [
    "import os",
    "from os import system",
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd').read()",
    "exec('import os')",
    "eval('1')",
    "getattr(1, '__class__')",
    "'{0.__class__}'.format(1)",
    "type(1)",
    "double.__globals__",
    "compile('1', 'x', 'eval')",
    "class X:\n    pass",
    "10 ** 10 ** 10",
    "'x' * 10 ** 9",
    "1 << 10 ** 9",
    "while True:\n    pass",
    "[x for x in range(10 ** 9)]",
    "x = 2\nx **= 10 ** 8",
]


@pytest.mark.parametrize("code", HOSTILE)
def test_hostile_code_is_refused(env, code):
    with pytest.raises((SandboxViolation, NameError, NotImplementedError)):
        env.execute(code, {})


@pytest.mark.parametrize("code,reason", [
    ("import os", "第 1 行不允许 import"),
    ("x = 1\nfrom os import system", "第 2 行不允许 import"),
    ("__import__('os')", "第 1 行不允许使用以下划线开头的名称“__import__”"),
    ("x.__class__", "第 1 行不允许访问以下划线开头的属性“__class__”"),
    ("exec('1')", "第 1 行不允许调用 exec()"),
    ("class X:\n    pass", "第 1 行不允许定义类（class）"),
    ("async def f():\n    pass", "第 1 行不允许使用 AsyncFunctionDef 语句"),
    ("x = (1", "第 1 行语法错误：x = (1（Python 提示："),
])
def test_hostile_code_is_refused_before_it_runs_saying_why_in_chinese(code, reason):
    with pytest.raises(SandboxViolation) as caught:
        check(code, "exec")
    assert str(caught.value).startswith(reason), str(caught.value)


def test_every_refusal_of_a_script_is_listed():
    with pytest.raises(SandboxViolation) as caught:
        check("import os\ny = x._secret", "exec")
    assert str(caught.value) == ("第 1 行不允许 import：流程脚本只能使用引擎提供的函数；"
                                 "第 2 行不允许访问以下划线开头的属性“_secret”")


def test_hostile_script_cannot_run_a_command(env, tmp_path):
    marker = tmp_path / "pwned"
    attempts = [
        f"__import__('os').system('id > {marker}')",
        f"import subprocess\nsubprocess.run(['sh', '-c', 'id > {marker}'])",
        f"().__class__.__base__.__subclasses__()[0]('id > {marker}')",
    ]
    for code in attempts:
        with pytest.raises((SandboxViolation, NameError)):
            env.execute(code, {})
    assert not marker.exists()
