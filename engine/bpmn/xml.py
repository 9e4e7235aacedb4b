"""Reading untrusted BPMN XML: size-limited, no DTDs, no entities, no network; any encoding as UTF-8."""
from __future__ import annotations

import codecs
import re

from lxml import etree

from ..texts import TEXTS, text

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
# DMN 1.1, 1.2 and 1.3 (dmn-js 17 and Camunda Modeler 5 write 1.3): decision tables deploy beside BPMN.
DMN_NAMESPACES = ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "https://www.omg.org/spec/DMN/20191111/MODEL/")
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "camunda": CAMUNDA, "zeebe": ZEEBE, "spiffworkflow": SPIFF,
      "xsi": XSI}

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
# Byte order marks, longest first (UTF-32 LE begins with UTF-16 LE's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# "<?" without a BOM, as XML 1.0 appendix F tells UTF-16 and UTF-32 apart from ASCII-compatible encodings.
_BOMLESS = ((b"<\0\0\0", "utf-32-le"), (b"\0\0\0<", "utf-32-be"), (b"<\0?\0", "utf-16-le"),
            (b"\0<\0?", "utf-16-be"))
_DECLARED = re.compile(r"""^(<\?xml[^>]*?\bencoding\s*=\s*)(["'])([A-Za-z][A-Za-z0-9._-]*)\2""")


class XmlRefused(ValueError):
    """Raised when a file is not XML we are willing to read; `line` says where, when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )


def as_utf8(data: bytes | str, max_bytes: int) -> bytes:
    """The document as UTF-8 bytes declaring UTF-8, whatever it was written in.

    Modelling tools on Windows write UTF-16 with a byte order mark, or a Chinese code page (GBK,
    GB18030) named in the XML declaration. Everything after this (the DOCTYPE check, lxml, the text
    stored with the definition) then reads one encoding. XmlRefused when the bytes do not decode.
    """
    if isinstance(data, str):
        return _declaring_utf8(data.removeprefix("\ufeff")).encode("utf-8")
    if len(data) > max_bytes:
        raise XmlRefused(text("input.bpmn_too_large", size=len(data), limit=max_bytes))
    encoding, body = _encoding_of(data)
    try:
        # Only text encodings: Python's codecs also name bytes-to-bytes ones (zlib, base64, hex).
        if not codecs.lookup(encoding)._is_text_encoding:
            raise LookupError(encoding)
        decoded = codecs.decode(body, encoding)
    except LookupError:
        raise XmlRefused(text("input.bpmn_unknown_encoding", encoding=encoding)) from None
    except UnicodeDecodeError as error:
        raise XmlRefused(text("input.bpmn_encoding", encoding=encoding, reason=error.reason)) from None
    return _declaring_utf8(decoded.removeprefix("\ufeff")).encode("utf-8")


def _encoding_of(data: bytes) -> tuple[str, bytes]:
    """(encoding, bytes without the BOM): a BOM, else UTF-16/32 by shape, else the declared encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, data[len(bom):]
    for start, encoding in _BOMLESS:
        if data.startswith(start):
            return encoding, data
    declared = _DECLARED.match(data[:200].decode("latin-1"))
    return (declared.group(3) if declared else "utf-8"), data


def _declaring_utf8(document: str) -> str:
    return _DECLARED.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", document, count=1)


def load(data: bytes | str, max_bytes: int) -> etree._Element:
    """The root element of a BPMN document, or XmlRefused saying why not."""
    data = as_utf8(data, max_bytes)
    if len(data) > max_bytes:
        raise XmlRefused(text("input.bpmn_too_large", size=len(data), limit=max_bytes))
    if _DOCTYPE.search(data):
        # DTDs bring entity expansion (billion laughs) and external entities (XXE); BPMN needs neither.
        raise XmlRefused(text("deploy.xml_doctype"))
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        # libxml2's own words follow as a hint: they say what broke, in terms no catalogue lists.
        raise XmlRefused(text("deploy.xml_malformed", line=error.lineno, reason=error.msg), error.lineno) from None
    if root.tag != f"{{{BPMN}}}definitions" and not is_dmn(root):
        raise XmlRefused(text("deploy.xml_root", root=etree.QName(root).localname), root.sourceline)
    return root


def is_dmn(root) -> bool:
    """A DMN document (decision tables), not a BPMN one."""
    return etree.QName(root).localname == "definitions" and etree.QName(root).namespace in DMN_NAMESPACES


def local(element) -> str:
    return etree.QName(element).localname


def label(element) -> str:
    """How an element is named in messages: its kind in Chinese, its name and its id."""
    return describe(local(element), element.get("id"), element.get("name"))


def describe(kind: str, ident: str | None, name: str | None = None) -> str:
    """用户任务“拟办”（Task_1）: a BPMN type (`userTask`, or `bpmn:userTask`) named for a designer; the
    id stays literal, as the modeler's properties panel shows it."""
    kind = kind.removeprefix("bpmn:")
    shown = text(f"deploy.kind.{kind}") if f"deploy.kind.{kind}" in TEXTS else kind or text("deploy.kind.element")
    if name and ident and name != ident:
        return text("deploy.element", kind=shown, name=name, id=ident)
    return text("deploy.element_unnamed", kind=shown, id=ident or name or "?")
