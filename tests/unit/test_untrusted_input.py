"""Reading what people send (engine/untrusted.py, engine/bpmn/xml.py) and what a title may hold."""
import codecs

import pytest

from engine import untrusted
from engine.bpmn import xml
from engine.services.items import title_problem


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_deeper_than_the_limit_is_refused_however_deep():
    assert untrusted.parse_json(nested(32)) is not None
    for depth in (33, 1000, 100_000):
        with pytest.raises(untrusted.TooDeep, match="JSON 嵌套超过 32 层"):
            untrusted.parse_json(nested(depth))
    assert untrusted.parse_json('{"a": {"b": [1]}}', max_depth=3) == {"a": {"b": [1]}}
    with pytest.raises(untrusted.TooDeep):
        untrusted.parse_json('{"a": {"b": [1]}}', max_depth=2)


def test_json_bytes_in_any_unicode_encoding_and_what_is_not_json():
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32"):
        assert untrusted.parse_json('{"标题": "督办"}'.encode(encoding)) == {"标题": "督办"}
    with pytest.raises(untrusted.Unreadable, match="不是有效的 JSON"):
        untrusted.parse_json("{nope")
    with pytest.raises(untrusted.Unreadable, match="文字编码"):
        untrusted.parse_json(b'{"a": "\xff"}')


def test_text_no_database_can_store_is_found_at_any_depth():
    assert untrusted.unstorable({"a": ["好", {"b": "c"}], "d": 1}) is None
    assert untrusted.unstorable({"a": [{"b": "x\x00"}]}) == ("a[0].b", "不能含有 NUL 字符（U+0000）")
    path, problem = untrusted.unstorable({"a": {"\ud800": 1}})
    assert path == "a.\\ud800" and "U+D800" in problem
    deep = "\udfff"
    for _ in range(10_000):
        deep = [deep]
    assert untrusted.unstorable(deep)[0].startswith("[0][0]")
    assert untrusted.unstorable("\U0001f600 emoji are whole code points") is None


def test_messages_are_capped_with_an_ellipsis():
    assert untrusted.cap("短") == "短"
    assert untrusted.cap("x" * 500) == "x" * 500
    capped = untrusted.cap("x" * 10**6)
    assert len(capped) == 500 and capped.endswith("…")
    assert untrusted.cap(ValueError("y" * 600), 10) == "y" * 9 + "…"


SAMPLE = ('<?xml version="1.0" encoding="{}"?>\n<bpmn:definitions xmlns:bpmn='
          '"http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"><bpmn:process id="p" name="督办"/></bpmn:definitions>')


@pytest.mark.parametrize("declared,data", [
    ("UTF-16", lambda text: text.encode("utf-16")),  # BOM, little-endian (what Windows writes)
    ("UTF-16", lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be")),
    ("UTF-16", lambda text: text.encode("utf-16-le")),  # no BOM: told by the shape of "<?"
    ("UTF-32", lambda text: text.encode("utf-32")),
    ("UTF-8", lambda text: text.encode("utf-8-sig")),
    ("GBK", lambda text: text.encode("gbk")),
    ("gb18030", lambda text: text.encode("gb18030")),
])
def test_bpmn_in_any_encoding_becomes_utf8_declaring_utf8(declared, data):
    converted = xml.as_utf8(data(SAMPLE.format(declared)), 10_000)
    assert converted == SAMPLE.format("UTF-8").encode("utf-8")
    assert xml.load(data(SAMPLE.format(declared)), 10_000).find("{*}process").get("name") == "督办"


def test_bpmn_that_does_not_decode_is_refused_in_chinese():
    for data, reason in [(SAMPLE.format("zlib").encode(), "无法识别"), (SAMPLE.format("nope").encode(), "无法识别"),
                         (SAMPLE.format("UTF-8").encode().replace("督".encode(), b"\xff"), "无法按“UTF-8”编码读取"),
                         (b"x" * 101, "超过上限 100 字节")]:
        with pytest.raises(xml.XmlRefused, match=reason):
            xml.as_utf8(data, 100 if len(data) == 101 else 10_000)


def test_a_doctype_is_found_in_utf16_too():
    """The DOCTYPE check reads UTF-8: in UTF-16 bytes `<!DOCTYPE` would not match and slip through."""
    document = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY a "b">]><bpmn:definitions/>'
    with pytest.raises(xml.XmlRefused, match="DOCTYPE"):
        xml.load(document.encode("utf-16"), 10_000)


@pytest.mark.parametrize("title", ["\u200b", "\u200b\u200c\u200d", "\u2060", "\ufeff", "\u00ad\u200b", " \u3000\u200b",
                                   "\u3164", "\u0301"])
def test_titles_showing_nothing_are_refused(title):
    assert title_problem(title) == "标题不能只由空白或零宽字符组成"


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                     "\u2069"])
def test_titles_holding_bidirectional_controls_are_refused(control):
    assert "双向文本控制字符" in title_problem(f"推进{control}重点项目")


@pytest.mark.parametrize("title", ["推进重点项目建设", "推进\u200b重点项目", "עברית 项目", "x\u0301", "A\u200dB"])
def test_ordinary_titles_pass(title):
    assert title_problem(title) is None
