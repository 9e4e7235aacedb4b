"""Expressions written for other engines (Camunda's JUEL, the BPMN default XPath) said again in Python.

Only what translates word for word: variables, their properties, literals, comparisons and the
boolean operators. Anything else (method calls, `execution`, arithmetic, ternaries, XPath
functions but getDataObject/true/false/not) gives None, and the designer is asked to rewrite it.
A translation is parsed again and checked against a short list of Python node types, so what
comes out can only read variables and compare them; the sandbox still compiles it as any
expression. Deploy warns with the Python it runs; the stored diagram keeps what was written, and
is translated the same way each time it is parsed (as timers' literals are normalised).
"""
from __future__ import annotations

import ast
import keyword
import re

# Unary operators bind tighter than comparisons in JUEL and XPath, looser in Python: these markers
# become `(not x)` and `(x in (None, '', [], {}))` around their operand, so `!a == b` stays `(!a) == b`.
_NOT, _EMPTY_OF = "__not__", "__empty__"
# ${...} or #{...}, the whole text (Camunda writes nothing around it in a condition).
_JUEL_WHOLE = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.S)
_STRING = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_NUMBER = r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"
_JUEL_TOKENS = re.compile(rf"\s*(?:(?P<string>{_STRING})|(?P<number>{_NUMBER})|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                          r"|(?P<op>==|!=|<=|>=|&&|\|\||[<>!().]))")
_JUEL_WORDS = {"and": "and", "or": "or", "not": _NOT, "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
               "le": "<=", "ge": ">=", "true": "True", "false": "False", "null": "None"}
_JUEL_OPS = {"&&": "and", "||": "or", "!": _NOT}
# Camunda's context objects: what they lead to (execution.getVariable, task.assignee) has no Python twin.
_CONTEXT = {"execution", "task", "variableScope", "connector", "authenticatedUserId", "externalTask"}
_EMPTY = "in (None, '', [], {})"
_OPERATOR_WORDS = {"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "empty"}

_XPATH_TOKENS = re.compile(rf"\s*(?:(?P<string>{_STRING})|(?P<number>{_NUMBER})"
                           r"|(?P<data>(?:bpmn:)?getDataObject\(\s*(?P<q>['\"])(?P<object>[A-Za-z_]\w*)(?P=q)\s*\))"
                           r"|(?P<variable>\$[A-Za-z_]\w*)|(?P<name>[A-Za-z_][\w-]*(?:\(\))?)"
                           r"|(?P<op>!=|<=|>=|=|[<>()/]))")
_XPATH_WORDS = {"and": "and", "or": "or", "not": _NOT, "true()": "True", "false()": "False"}

# What a translation may contain: names, constants, item reads, comparisons, and/or/not.
_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Eq, ast.NotEq,
            ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.Name, ast.Load, ast.Constant, ast.Subscript,
            ast.Tuple, ast.List, ast.Dict)


def juel(text: str | None) -> str | None:
    """`${amount > 1000}` as `amount > 1000`; None when the JUEL is more than that."""
    found = _JUEL_WHOLE.match(text or "")
    if not found:
        return None
    tokens = _tokens(_JUEL_TOKENS, found.group("body"))
    if tokens is None:
        return None
    out, previous = [], (None, None)
    for kind, value in tokens:
        raw = (kind, value)
        if kind == "name":
            if value in _JUEL_WORDS:
                value = _JUEL_WORDS[value]
            elif value == "empty":
                value = _EMPTY_OF
            elif value in _CONTEXT or keyword.iskeyword(value) or value in ("div", "mod", "instanceof"):
                return None
            elif previous == ("op", "."):
                out[-1] = f"[{value!r}]"  # a property read: the variable is a dict (JSON, a form's group)
                previous = raw
                continue
        elif kind == "op":
            called = previous == ("op", ")") or previous[0] == "name" and previous[1] not in _OPERATOR_WORDS
            if value == "(" and called:
                return None  # a call: a method or a function has no Python twin here
            value = _JUEL_OPS.get(value, value)
        elif kind == "string":
            value = repr(_unescape(value))
        elif kind == "number":
            value = repr(float(value)) if any(c in value for c in ".eE") else str(int(value))
        out.append(value)
        previous = raw
    return _checked(_apply_unary(out))


def _apply_unary(out: list) -> list | None:
    """Each not/empty marker with its operand (a name and its property reads, a literal, or a group in
    parentheses) made one parenthesised token, innermost first."""
    out = list(out)
    for index in range(len(out) - 1, -1, -1):
        if out[index] not in (_NOT, _EMPTY_OF):
            continue
        end = _operand_end(out, index + 1)
        if end is None:
            return None
        operand = " ".join(out[index + 1:end])
        out[index:end] = [f"(not {operand})" if out[index] == _NOT else f"({operand} {_EMPTY})"]
    return out


def _operand_end(out: list, start: int) -> int | None:
    if start >= len(out) or out[start] in ("and", "or", ")", "==", "!=", "<", ">", "<=", ">="):
        return None
    if out[start] == "(":
        depth = 0
        for index in range(start, len(out)):
            depth += {"(": 1, ")": -1}.get(out[index], 0)
            if depth == 0:
                return index + 1
        return None
    end = start + 1
    while end < len(out) and out[end].startswith("["):
        end += 1
    return end


def xpath(text: str | None) -> str | None:
    """`getDataObject('order')/amount > 100` as `order['amount'] > 100`; None when not that simple."""
    tokens = _tokens(_XPATH_TOKENS, text or "")
    if not tokens:
        return None
    out = []
    for kind, value in tokens:
        if kind == "data":
            value = _XPATH_TOKENS.match(value).group("object")
        elif kind == "variable":
            value = value[1:]
        elif kind == "name":
            if value in _XPATH_WORDS:
                value = _XPATH_WORDS[value]
            elif value.endswith("()") or "-" in value or keyword.iskeyword(value):
                return None
            elif out and out[-1] == "/":
                out[-1] = f"[{value!r}]"
                continue
        elif kind == "op":
            if value == "/" and not (out and (out[-1].isidentifier() or out[-1].endswith("]"))):
                return None  # an absolute or descendant path: the document, not a variable
            value = "==" if value == "=" else value
        elif kind == "string":
            value = repr(value[1:-1])
        out.append(value)
    if "/" in out:
        return None
    return _checked(_apply_unary(out))


def _tokens(pattern, body: str) -> list | None:
    tokens, position = [], 0
    body = body.rstrip()
    while position < len(body):
        found = pattern.match(body, position)
        if not found or found.end() == position:
            return None
        kind = next(k for k in ("string", "number", "data", "variable", "name", "op")
                    if k in pattern.groupindex and found.group(k) is not None)
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


def _unescape(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _checked(out: list | None) -> str | None:
    """The tokens as a Python expression, if they parse to nothing but reads and comparisons."""
    if not out:
        return None
    source = " ".join(out).replace(" [", "[")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (isinstance(node, ast.Name) and node.id.startswith("_")):
            return None
        if isinstance(node, ast.Compare) and len(node.ops) > 1:
            return None  # a < b < c: chained in Python, (a < b) < c in JUEL and XPath
        if isinstance(node, ast.Subscript) and not (isinstance(node.slice, ast.Constant)
                                                    and isinstance(node.slice.value, str)):
            return None
    return ast.unparse(tree)


def collection_variable(text: str | None) -> str | None:
    """The variable a camunda:collection names (`items` or `${items}`); None for anything else."""
    text = (text or "").strip()
    name = juel(text) if _JUEL_WHOLE.match(text) else text
    return name if variable_name(name) else None


def variable_name(name: str | None) -> bool:
    return bool(name) and name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")
