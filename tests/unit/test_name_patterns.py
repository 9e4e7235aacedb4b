"""The patterns topics and variable names must match are checked twice: by deploy (Python's re) and, before
that, by the modeler's properties panel (JavaScript's RegExp, from the catalogue). Both must read them alike
(Python's `$` also matches before a last newline, JavaScript's does not: deploy checks the whole name)."""
import json
import shutil
import subprocess

import pytest

from engine.bpmn.external import NAME_PATTERNS, TOPIC_PATTERN, VARIABLE_PATTERN

NAMES = ["push-dingtalk", "duban.notify", "a/b:c_d", "push dingtalk", "-push", "推送", "x" * 200, "x" * 201,
         "title", "lead_unit", "承办单位", "单位_1", "1title", "_title", "title-2", "a b", "", "ｔｉｔｌｅ", "㐀名",
         "title\n", "push-dingtalk\n"]
# How provider.js tests a name (matches() in web/static/modeler/provider.js).
_JS = """
const [patterns, names] = JSON.parse(require("fs").readFileSync(0, "utf8"));
const kinds = Object.fromEntries(Object.entries(patterns).map(([kind, p]) => [kind, new RegExp(p, "u")]));
console.log(JSON.stringify(Object.fromEntries(Object.entries(kinds).map(
  ([kind, pattern]) => [kind, names.map((name) => pattern.test(name))]))));
"""


def test_javascript_reads_the_name_patterns_as_python_does():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed (make install builds the modeler with it)")
    answer = subprocess.run([node, "-e", _JS], input=json.dumps([NAME_PATTERNS, NAMES]), capture_output=True,
                            text=True, timeout=30, check=True)
    python = {"topic": [bool(TOPIC_PATTERN.fullmatch(n)) for n in NAMES],
              "variable": [bool(VARIABLE_PATTERN.fullmatch(n)) for n in NAMES]}
    assert json.loads(answer.stdout) == python
    # the samples tell the patterns apart: each refuses some names and takes others
    assert all(any(results) and not all(results) for results in python.values())
