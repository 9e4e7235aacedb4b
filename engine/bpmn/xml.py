"""Reading untrusted BPMN XML: size-limited, no DTDs, no entities, no network."""
from __future__ import annotations

import re

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "camunda": CAMUNDA, "zeebe": ZEEBE, "spiffworkflow": SPIFF,
      "xsi": XSI}

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


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


def load(data: bytes | str, max_bytes: int) -> etree._Element:
    """The root element of a BPMN document, or XmlRefused saying why not."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise XmlRefused(f"file is {len(data)} bytes; the limit is {max_bytes}")
    if _DOCTYPE.search(data):
        # DTDs bring entity expansion (billion laughs) and external entities (XXE); BPMN needs neither.
        raise XmlRefused("DOCTYPE and ENTITY declarations are not allowed in BPMN files")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise XmlRefused(f"not well-formed XML: {error.msg}", error.lineno) from None
    if root.tag != f"{{{BPMN}}}definitions":
        raise XmlRefused(f"the root element is {etree.QName(root).localname}, not bpmn:definitions", root.sourceline)
    return root


def local(element) -> str:
    return etree.QName(element).localname


def label(element) -> str:
    """How an element is named in messages: its id and, if it has one, its name."""
    ident, name = element.get("id"), element.get("name")
    kind = local(element)
    if ident and name:
        return f"{kind} '{ident}' ({name})"
    return f"{kind} '{ident or '?'}'"
