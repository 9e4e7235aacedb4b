"""form-js schemas checked at deploy and submissions validated against them."""
import json
import time

import pytest
import re2

from engine import forms
from engine.errors import FormInvalid

SCHEMA = {
    "type": "default",
    "components": [
        {"type": "text", "text": "# Heading"},
        {"type": "textfield", "key": "name", "validate": {"required": True, "minLength": 2, "maxLength": 5}},
        {"type": "textfield", "key": "code", "validate": {"pattern": "^[A-Z]{3}$"}},
        {"type": "textfield", "key": "mail", "validate": {"validationType": "email"}},
        {"type": "number", "key": "count", "validate": {"min": 1, "max": 10}},
        {"type": "checkbox", "key": "signed", "validate": {"required": True}},
        {"type": "radio", "key": "decision", "values": [{"label": "Yes", "value": "yes"},
                                                       {"label": "No", "value": "no"}]},
        {"type": "select", "key": "unit", "valuesKey": "unit_options"},
        {"type": "taglist", "key": "others", "valuesKey": "unit_options"},
        {"type": "datetime", "key": "day", "subtype": "date"},
        {"type": "textfield", "key": "locked", "readonly": True},
        {"type": "group", "components": [{"type": "textarea", "key": "note"}]},
    ],
}
OPTIONS = {"unit_options": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}]}


def fields_in_error(data):
    with pytest.raises(FormInvalid) as caught:
        forms.validate(SCHEMA, data, OPTIONS)
    return {d["field"] for d in caught.value.details}


def test_valid_submission_keeps_only_form_fields():
    data = {"name": "abc", "code": "XYZ", "mail": "a@b.cn", "count": 3, "signed": True, "decision": "no",
            "unit": "a", "others": ["b"], "day": "2026-10-16", "note": "ok", "locked": "changed",
            "__builtins__": {}, "extra": 1}
    cleaned = forms.validate(SCHEMA, data, OPTIONS)
    assert cleaned == {"name": "abc", "code": "XYZ", "mail": "a@b.cn", "count": 3, "signed": True,
                       "decision": "no", "unit": "a", "others": ["b"], "day": "2026-10-16", "note": "ok"}


def test_required_fields():
    assert fields_in_error({}) == {"name", "signed"}


def test_unticked_required_checkbox_is_an_error():
    assert fields_in_error({"name": "abc", "signed": False}) == {"signed"}


@pytest.mark.parametrize("field,value", [
    ("name", "a"), ("name", "abcdef"), ("name", 5), ("code", "xyz"), ("mail", "nope"),
    ("count", 0), ("count", 11), ("count", "3"), ("count", True), ("decision", "maybe"),
    ("unit", "c"), ("others", ["a", "z"]), ("others", "a"), ("day", "16/10/2026"), ("signed", "yes"),
])
def test_each_rule_names_its_field(field, value):
    data = {"name": "abc", "signed": True, field: value}
    assert fields_in_error(data) == {field}


def test_schema_problems_are_reported():
    bad = {"components": [
        {"type": "textfield", "key": "a"}, {"type": "textfield", "key": "a"},
        {"type": "mystery", "key": "b"}, {"type": "select", "key": "c"},
        {"type": "select", "key": "d", "valuesExpression": "=x"},
        {"type": "textfield", "key": "e", "validate": {"pattern": "("}},
        {"type": "textfield", "key": "__class__"}, {"type": "filepicker", "key": "f f"},
    ]}
    problems = " | ".join(forms.check_schema(bad))
    for expected in ("key“a”使用了两次", "组件“b”的类型“mystery”无法识别", "字段“c”须有 values 或 valuesKey",
                     "字段“d”：不支持 valuesExpression（FEEL）", "字段“e”的校验规则",
                     "textfield 类型的组件须有由字母、数字和 _ 组成的 key（现为“__class__”）",
                     "filepicker 类型的组件须有由字母、数字和 _ 组成的 key（现为“f f”）"):
        assert expected in problems
    with pytest.raises(ValueError, match="不是有效的 JSON"):
        forms.load(b"{nope", "x.form")


def test_tasks_without_form_take_named_variables():
    assert forms.validate(None, {"u": 1, "names": ["a"]}) == {"u": 1, "names": ["a"]}
    deep = []
    for _ in range(40):
        deep = [deep]
    with pytest.raises(FormInvalid) as caught:
        forms.validate(None, {"__builtins__": 1, "ok": 1, "1bad": 2, "deep": deep, "big": "x" * 70_000})
    assert {d["field"] for d in caught.value.details} == {"__builtins__", "1bad", "deep", "big"}


def test_submission_must_be_an_object():
    with pytest.raises(FormInvalid):
        forms.validate(SCHEMA, ["not", "a", "dict"])


def test_camunda_form_fields_become_a_form_js_schema():
    schema = forms.from_camunda_fields("camunda:t", [
        {"id": "name", "label": "Name", "type": "string", "required": True},
        {"id": "count", "type": "long", "defaultValue": "3"},
        {"id": "ok", "type": "boolean", "defaultValue": "No"},
        {"id": "kind", "type": "enum", "values": [{"id": "a", "name": "A"}]},
        {"id": "day", "type": "date"},
    ])
    assert forms.check_schema(schema) == []
    kinds = {c["key"]: c["type"] for c in schema["components"]}
    assert kinds == {"name": "textfield", "count": "number", "ok": "checkbox", "kind": "select", "day": "datetime"}
    with pytest.raises(FormInvalid):
        forms.validate(schema, {})


def test_optional_fields_left_out_are_empty_as_form_js_submits_them():
    cleaned = forms.validate(SCHEMA, {"name": "abc", "signed": True}, OPTIONS, current={"note": "已填"})
    assert cleaned == {"name": "abc", "signed": True, "code": None, "mail": None, "count": None,
                       "decision": None, "unit": None, "others": [], "day": None}  # `note` keeps its value


def _pattern_form(pattern: str) -> dict:
    return {"type": "default", "components": [{"type": "textfield", "key": "code", "validate": {"pattern": pattern}}]}


def test_patterns_run_on_re2_in_time_linear_in_the_text():
    """`^(a+)+$` backtracks exponentially in Python's `re` (2 s on 25 characters, with the instance locked)."""
    assert isinstance(forms.compile_pattern("^(a+)+$"), re2._Regexp)
    schema = _pattern_form("^(a+)+$")
    assert forms.check_schema(schema) == []
    started = time.perf_counter()
    with pytest.raises(FormInvalid) as caught:
        forms.validate(schema, {"code": "a" * 5000 + "b"})
    elapsed = time.perf_counter() - started
    assert caught.value.details == [{"field": "code", "message": "格式不符合要求（^(a+)+$）"}]
    assert forms.validate(schema, {"code": "a" * 5000}) == {"code": "a" * 5000}
    assert elapsed < 0.5  # a guard only: RE2 takes well under a millisecond here


@pytest.mark.parametrize("pattern", [r"^(\d)\1$", r"^(?=.*\d).+$", r"^(?!x).*", r"(?<=a)b", r"(?<!a)b", "("])
def test_patterns_re2_cannot_run_are_refused_naming_the_field(pattern):
    problems = forms.check_schema(_pattern_form(pattern))
    assert len(problems) == 1 and problems[0].startswith("字段“code”的校验规则（pattern）"), problems
    with pytest.raises(ValueError, match="code"):
        forms.load(json.dumps(_pattern_form(pattern)), "p.form")


def test_patterns_as_form_js_writes_them():
    """JavaScript's \\uXXXX escapes (the usual way to say 'Chinese characters only') work as in the browser."""
    schema = _pattern_form(r"^[\u4e00-\u9fa5]{2,10}$")
    assert forms.check_schema(schema) == []
    assert forms.validate(schema, {"code": "县发改局"}) == {"code": "县发改局"}
    with pytest.raises(FormInvalid):
        forms.validate(schema, {"code": "abc"})
    assert forms.validate(_pattern_form(r"^\\u4e00$"), {"code": "\\u4e00"}) == {"code": "\\u4e00"}
    assert forms.check_schema({"components": [{"type": "textfield", "key": "a", "validate": "x"}]}) == [
        "字段“a”的 validate 须为对象"]
    assert forms.check_schema({"components": [{"type": "textfield", "key": "a", "validate": {"pattern": 5}}]})


def test_form_files_nested_too_deep_or_unstorable_are_refused():
    with pytest.raises(ValueError, match="嵌套超过 32 层"):
        forms.load('{"components": [%s]}' % ("[" * 1000 + "]" * 1000), "deep.form")
    nested = {"type": "group", "components": []}
    for _ in range(20):
        nested = {"type": "group", "components": [nested]}
    with pytest.raises(ValueError, match="deep.form 嵌套超过 32 层"):
        forms.load(json.dumps({"components": [nested]}), "deep.form")
    with pytest.raises(ValueError, match="U\\+D800"):
        forms.load('{"components": [{"type": "text", "text": "\\ud800"}]}', "s.form")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_form_files_in_any_unicode_encoding_load(encoding):
    """Windows tools write a BOM, or UTF-16."""
    text = json.dumps({"type": "default", "components": [{"type": "textfield", "key": "意见"}]}, ensure_ascii=False)
    assert forms.load(text.encode(encoding), "x.form")["components"][0]["key"] == "意见"


def test_a_pattern_deployed_before_re2_is_a_field_error_not_a_crash():
    """Forms already deployed may hold a backreference: the field says so, the submission is refused."""
    with pytest.raises(FormInvalid) as caught:
        forms.validate(_pattern_form(r"^(\d)\1$"), {"code": "11"})
    assert caught.value.details[0]["field"] == "code"
    assert caught.value.details[0]["message"].startswith("表单的校验规则无法使用")


def test_camunda_validation_constraints_become_form_js_rules_the_server_checks_too():
    schema = forms.from_camunda_fields("camunda:t", [
        {"id": "name", "type": "string", "required": True, "rules": {"minLength": 2, "maxLength": 5, "min": 1}},
        {"id": "count", "type": "long", "rules": {"min": 1, "max": 10, "maxLength": 3}, "defaultValue": "2"},
        {"id": "ok", "type": "boolean", "required": True, "defaultValue": "true"},
        {"id": "code", "type": "string", "readonly": True, "defaultValue": "A-1"},
    ])
    assert forms.check_schema(schema) == []
    by_key = {c["key"]: c for c in schema["components"]}
    assert by_key["name"]["validate"] == {"required": True, "minLength": 2, "maxLength": 5}
    assert by_key["count"]["validate"] == {"min": 1, "max": 10} and by_key["count"]["decimalDigits"] == 0
    assert by_key["count"]["defaultValue"] == 2
    assert by_key["ok"]["defaultValue"] is True and "validate" not in by_key["ok"]  # a tick box need not be ticked
    assert by_key["code"]["readonly"] is True
    with pytest.raises(FormInvalid) as caught:
        forms.validate(schema, {"name": "x", "count": 2.5, "ok": False, "code": "changed"})
    assert {d["field"]: d["message"] for d in caught.value.details} == {"name": "至少 2 个字", "count": "须为整数"}
    cleaned = forms.validate(schema, {"name": "abc", "count": 10, "ok": False, "code": "changed"})
    assert cleaned == {"name": "abc", "count": 10, "ok": False}  # a read-only field keeps its value
