"""form-js schemas checked at deploy and submissions validated against them."""
import pytest

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
        {"type": "textfield", "key": "__class__"}, {"type": "filepicker", "key": "f"},
    ]}
    problems = " | ".join(forms.check_schema(bad))
    for expected in ("used twice", "unknown type", "needs values", "valuesExpression", "regular expression",
                     "needs a key", "file uploads"):
        assert expected in problems
    with pytest.raises(ValueError, match="not valid JSON"):
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
