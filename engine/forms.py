"""form-js forms (表单): checked at deploy, and the authority on what a task accepts.

The browser renders a task's form with @bpmn-io/form-js; the server never trusts that and checks
every submission here against the same schema: required, types, options, min/max, lengths,
patterns. Only the fields a form defines reach the workflow, so a submission cannot plant other
variables (a task with no form takes named variables, as Camunda's generic form does).
"""
from __future__ import annotations

import functools
import json
import re
from datetime import date, datetime, time

import re2

from . import texts, untrusted
from .errors import FormInvalid

INPUT_TYPES = {"textfield", "textarea", "number", "checkbox", "checklist", "radio", "select",
               "taglist", "datetime", "filepicker"}
CONTAINER_TYPES = {"group", "dynamiclist"}
STATIC_TYPES = {"text", "html", "image", "spacer", "separator", "button", "iframe", "table",
                "documentPreview", "expression", "default"}
OPTION_TYPES = {"checklist", "radio", "select", "taglist"}
UNSUPPORTED: dict = {}  # component type: the catalogue's key saying why it is refused at deploy
# A filepicker's value: the ids of files uploaded to /api/v1/files (engine/services/files.py checks them).
MAX_FIELD_FILES = 50

MAX_TEXT = 20_000
MAX_VARIABLE_BYTES = 64_000
MAX_DEPTH = 16
_IDENTIFIER = re.compile(r"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,19}$")


def load(text: str | bytes, name: str = "form") -> dict:
    """Parse a .form file (UTF-8, with or without BOM, or UTF-16/32); raises ValueError with a readable reason."""
    try:
        schema = untrusted.parse_json(text)
    except untrusted.TooDeep:
        raise ValueError(texts.text("form.too_deep", name=name, limit=untrusted.MAX_JSON_DEPTH)) from None
    except untrusted.Unreadable as error:
        raise ValueError(texts.text("deploy.form_problems", name=name, problems=error)) from None
    unstorable = untrusted.unstorable(schema)
    if unstorable:
        raise ValueError(texts.text("form.unstorable", name=name, path=unstorable[0] or "JSON", problem=unstorable[1]))
    problems = check_schema(schema)
    if problems:
        raise ValueError(texts.text("deploy.form_problems", name=name, problems="；".join(problems)))
    return schema


def check_schema(schema) -> list[str]:
    """What is wrong with a form-js schema, as sentences; empty when it is usable."""
    if not isinstance(schema, dict) or not isinstance(schema.get("components"), list):
        return [texts.text("deploy.form_not_schema")]
    problems, keys = [], set()
    for component in _walk(schema["components"]):
        problems.extend(_check_component(component, keys))
    return problems


def _walk(components, prefix=""):
    for component in components:
        if not isinstance(component, dict):
            yield {"type": None}
            continue
        yield component
        if component.get("type") in CONTAINER_TYPES and isinstance(component.get("components"), list):
            yield from _walk(component["components"])


def _check_component(component, keys) -> list[str]:
    kind = component.get("type")
    label = component.get("key") or component.get("id") or kind
    if kind in UNSUPPORTED:
        return [texts.text(UNSUPPORTED[kind], component=label)]
    if kind not in INPUT_TYPES | CONTAINER_TYPES | STATIC_TYPES:
        return [texts.text("deploy.form_unknown_type", component=label, kind=kind)]
    if kind not in INPUT_TYPES:
        return []
    problems = []
    key = component.get("key")
    if not isinstance(key, str) or not all(_IDENTIFIER.match(part) for part in key.split(".")):
        return [texts.text("deploy.form_key_needed", kind=kind, field=key if isinstance(key, str) else json.dumps(key))]
    if key in keys:
        problems.append(texts.text("deploy.form_key_twice", field=key))
    keys.add(key)
    if kind in OPTION_TYPES:
        if component.get("valuesExpression"):
            problems.append(texts.text("deploy.form_values_expression", field=key))
        elif not component.get("valuesKey") and not isinstance(component.get("values"), list):
            problems.append(texts.text("deploy.form_values_needed", field=key))
    rules = component.get("validate") or {}
    if not isinstance(rules, dict):
        return problems + [texts.text("form.validate_not_object", field=key)]
    pattern = rules.get("pattern")
    if pattern:
        try:
            compile_pattern(pattern)
        except ValueError as error:
            problems.append(texts.text("form.pattern_unsupported", field=key, pattern=untrusted.cap(str(pattern), 100),
                                       reason=error))
    return problems


# JavaScript's \uXXXX and \u{X...} (what form-js patterns are written in) as RE2 writes them: \x{...}.
_JS_UNICODE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{4}))")


def compile_pattern(pattern):
    """A form field's `validate.pattern` compiled with RE2, which matches in time linear in the text:
    Python's backtracking `re` takes seconds on `^(a+)+$` against 25 characters, with the instance
    locked. Patterns RE2 cannot run (backreferences, lookaround) raise ValueError with its reason."""
    if not isinstance(pattern, str):
        raise ValueError(texts.text("form.pattern_not_text"))
    return _compiled(pattern)


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str):
    options = re2.Options()
    options.log_errors = False
    source = _JS_UNICODE_ESCAPE.sub(lambda m: f"{m.group(1)}\\x{{{m.group(2) or m.group(3)}}}", pattern)
    try:
        return re2.compile(source, options)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        raise ValueError(reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)) from None


def fields(schema: dict | None) -> list[dict]:
    """The input components of a form, nested ones included."""
    if not schema:
        return []
    return [c for c in _walk(schema.get("components", [])) if c.get("type") in INPUT_TYPES]


def validate(schema: dict | None, submitted, options: dict | None = None, current: dict | None = None) -> dict:
    """The values to merge into the task's data, or FormInvalid naming every bad field.

    `options` holds the choices of fields that take them from data (`valuesKey`);
    `current` is the task's data, which read-only fields keep.
    """
    if not isinstance(submitted, dict):
        raise FormInvalid(texts.text("form.not_object"), [{"field": None, "message": texts.text("form.not_object")}])
    if schema is None:
        return _generic_variables(submitted)
    errors, cleaned = [], {}
    for field in fields(schema):
        key = field["key"]
        if field.get("readonly") or field.get("disabled"):
            continue
        present, value = _lookup(submitted, key)
        try:
            value = _check_field(field, value if present else None, options or {})
        except ValueError as error:
            errors.append({"field": key, "message": str(error)})
            continue
        if present:
            _assign(cleaned, key, value)
        elif not _lookup(current or {}, key)[0]:
            # As form-js submits every field: an optional field left out is empty, not undefined,
            # so expressions that read it see None (or [] / False), never a NameError.
            _assign(cleaned, key, field.get("defaultValue", _EMPTY.get(field["type"])))
    if errors:
        raise FormInvalid(texts.text("form.invalid"), errors)
    return cleaned


def _lookup(data: dict, key: str):
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _assign(data: dict, key: str, value) -> None:
    parts = key.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


_EMPTY = {"checkbox": False, "checklist": [], "taglist": [], "filepicker": []}


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def _check_field(field: dict, value, options: dict):
    rules = field.get("validate") or {}
    kind = field["type"]
    required = bool(rules.get("required")) and not field.get("conditional")
    if _empty(value):
        if required:
            raise ValueError(texts.text("field.required"))
        return value
    checker = _CHECKERS[kind]
    return checker(field, value, rules, options)


def _check_text(field, value, rules, _options):
    if not isinstance(value, str):
        raise ValueError(texts.text("field.text"))
    limit = min(int(rules.get("maxLength") or MAX_TEXT), MAX_TEXT)
    if len(value) > limit:
        raise ValueError(texts.text("field.max_length", limit=limit))
    if rules.get("minLength") and len(value) < int(rules["minLength"]):
        raise ValueError(texts.text("field.min_length", limit=rules["minLength"]))
    unstorable = untrusted.unstorable(value)
    if unstorable:
        raise ValueError(unstorable[1])
    if rules.get("pattern") and not _matches(rules["pattern"], value):
        raise ValueError(rules.get("patternErrorMessage")
                         or texts.text("form.pattern_mismatch", pattern=untrusted.cap(str(rules["pattern"]), 100)))
    kind = rules.get("validationType")
    if kind == "email" and not _EMAIL.match(value):
        raise ValueError(texts.text("field.email"))
    if kind == "phone" and not _PHONE.match(value):
        raise ValueError(texts.text("field.phone"))
    return value


def _matches(pattern, value: str) -> bool:
    try:
        program = compile_pattern(pattern)
    except ValueError as error:
        # A form deployed before patterns ran on RE2 may hold one it cannot run: say so, never guess.
        raise ValueError(texts.text("form.pattern_unusable", reason=error)) from None
    return program.search(value) is not None


def _check_number(field, value, rules, _options):
    if isinstance(value, str) and field.get("serializeToString"):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(texts.text("field.number")) from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError(texts.text("field.number"))
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(texts.text("field.finite"))
    if field.get("decimalDigits") == 0 and not float(number).is_integer():
        raise ValueError(texts.text("field.integer"))
    if rules.get("min") is not None and number < float(rules["min"]):
        raise ValueError(texts.text("field.min", min=rules["min"]))
    if rules.get("max") is not None and number > float(rules["max"]):
        raise ValueError(texts.text("field.max", max=rules["max"]))
    return value


def _check_checkbox(field, value, rules, _options):
    if not isinstance(value, bool):
        raise ValueError(texts.text("field.boolean"))
    if rules.get("required") and value is not True:
        raise ValueError(texts.text("field.tick"))
    return value


def _choices(field, options) -> list:
    if field.get("valuesKey"):
        values = options.get(field["valuesKey"], [])
    else:
        values = field.get("values") or []
    return [v.get("value") if isinstance(v, dict) else v for v in values]


def _check_choice(field, value, rules, options):
    if value not in _choices(field, options):
        raise ValueError(texts.text("field.not_option", value=untrusted.cap(str(value), 100)))
    return value


def _check_choices(field, value, rules, options):
    if not isinstance(value, list):
        raise ValueError(texts.text("field.list"))
    allowed = _choices(field, options)
    wrong = [v for v in value if v not in allowed]
    if wrong:
        raise ValueError(texts.text("field.not_option", value=untrusted.cap(str(wrong[0]), 100)))
    if len(set(map(str, value))) != len(value):
        raise ValueError(texts.text("field.option_twice"))
    return value


def _check_datetime(field, value, rules, _options):
    if not isinstance(value, str):
        raise ValueError(texts.text("field.iso"))
    subtype = field.get("subtype", "date")
    try:
        if subtype == "date":
            date.fromisoformat(value)
        elif subtype == "time":
            time.fromisoformat(value.replace("Z", "+00:00"))
        else:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        key = f"field.iso.{subtype}" if subtype in ("date", "time") else "field.iso.datetime"
        raise ValueError(texts.text(key)) from None
    return value


def _check_files(field, value, rules, _options):
    return file_ids(value)


def file_ids(value) -> list:
    """A list of uploaded files' ids (a filepicker's value, a 延期申请's evidence); ValueError otherwise."""
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31
                                              for v in value) or len(set(value)) != len(value):
        raise ValueError(texts.text("file.not_ids"))
    if len(value) > MAX_FIELD_FILES:
        raise ValueError(texts.text("file.too_many", limit=MAX_FIELD_FILES))
    return value


def submitted_files(schema: dict | None, cleaned: dict) -> dict[str, list]:
    """{key: file ids} of a form's filepicker fields in a validated submission."""
    return {field["key"]: _lookup(cleaned, field["key"])[1] or []
            for field in fields(schema) if field["type"] == "filepicker"}


_CHECKERS = {
    "textfield": _check_text, "textarea": _check_text, "number": _check_number,
    "checkbox": _check_checkbox, "radio": _check_choice, "select": _check_choice,
    "checklist": _check_choices, "taglist": _check_choices, "datetime": _check_datetime,
    "filepicker": _check_files,
}


def _depth(value, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _generic_variables(submitted: dict) -> dict:
    errors = []
    for key, value in submitted.items():
        if not isinstance(key, str) or not _IDENTIFIER.match(key):
            errors.append({"field": key, "message": texts.text("variables.name")})
            continue
        if _depth(value) > MAX_DEPTH:
            errors.append({"field": key, "message": texts.text("variables.too_deep", limit=MAX_DEPTH)})
        elif len(json.dumps(value, ensure_ascii=False)) > MAX_VARIABLE_BYTES:
            errors.append({"field": key, "message": texts.text("variables.too_large")})
    if errors:
        raise FormInvalid(texts.text("variables.invalid"), errors)
    return dict(submitted)


_CAMUNDA_TYPES = {"string": "textfield", "long": "number", "boolean": "checkbox", "date": "datetime",
                  "enum": "select"}


def is_field_key(key) -> bool:
    """A form field's key as the checks above accept it (letters, digits, _; dots for nesting)."""
    return isinstance(key, str) and all(_IDENTIFIER.match(part) for part in key.split("."))


def from_camunda_fields(form_id: str, camunda_fields: list[dict]) -> dict:
    """A form-js schema standing in for Camunda's generated task form (camunda:formData): its types,
    labels, defaults, choices and the validation constraints form-js has (required, minlength,
    maxlength, min, max, readonly); `long` is a whole number. engine/bpmn/camunda_forms.py reads them."""
    components = []
    for field in camunda_fields:
        kind = _CAMUNDA_TYPES.get(field.get("type") or "string", "textfield")
        component = {"type": kind, "key": field["id"], "label": field.get("label") or field["id"],
                     "id": f"Field_{field['id']}"}
        if kind == "datetime":
            component["subtype"] = "date"
        if field.get("type") == "long":
            component["decimalDigits"] = 0
        if kind == "select":
            component["values"] = [{"label": v.get("name") or v["id"], "value": v["id"]}
                                   for v in field.get("values", [])]
        default = _camunda_default(kind, field.get("defaultValue"))
        if default is not None:
            component["defaultValue"] = default
        # A tick box always has a value (Camunda's "required" on a boolean), so it need not be ticked.
        rules = {"required": True} if field.get("required") and kind != "checkbox" else {}
        allowed = {"textfield": ("minLength", "maxLength"), "number": ("min", "max")}.get(kind, ())
        rules.update({rule: value for rule, value in (field.get("rules") or {}).items() if rule in allowed})
        if rules:
            component["validate"] = rules
        if field.get("readonly"):
            component["readonly"] = True
        components.append(component)
    return {"type": "default", "id": form_id, "components": components,
            "exporter": {"name": "duban (from camunda:formData)", "version": "1"}}


def _camunda_default(kind: str, default):
    if default is None:
        return None
    if kind == "checkbox":
        return default.strip().lower() == "true"
    if kind == "number":
        try:
            number = float(default)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return default
