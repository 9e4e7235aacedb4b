"""Small BPMN documents for tests, written the way modelling tools write them."""
from __future__ import annotations

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
          'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="test">')


def process(body: str, key: str = "sample", executable: bool = True, lanes: str = "", extra: str = "") -> bytes:
    flag = "true" if executable else "false"
    lane_set = f"<bpmn:laneSet id='ls_{key}'>{lanes}</bpmn:laneSet>" if lanes else ""
    return (f'{HEADER}{extra}<bpmn:process id="{key}" name="样例 {key}" isExecutable="{flag}">{lane_set}{body}'
            f"</bpmn:process></bpmn:definitions>").encode()


def lane(lane_id: str, name: str, *refs: str) -> str:
    return f'<bpmn:lane id="{lane_id}" name="{name}">' + "".join(
        f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in refs) + "</bpmn:lane>"


def chain(*elements: str) -> str:
    """start -> elements... -> end, each element given as its XML with ids e1, e2, ..."""
    ids = ["start"] + [f"e{i}" for i in range(1, len(elements) + 1)] + ["end"]
    body = ['<bpmn:startEvent id="start" name="开始"/>', *elements, '<bpmn:endEvent id="end" name="结束"/>']
    for i in range(len(ids) - 1):
        body.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{ids[i]}" targetRef="{ids[i + 1]}"/>')
    return "".join(body)


def user_task(n: int, attrs: str = "", inner: str = "") -> str:
    return f'<bpmn:userTask id="e{n}" name="任务{n}" {attrs}>{inner}</bpmn:userTask>'


def script_task(n: int, script: str, fmt: str = "python") -> str:
    return (f'<bpmn:scriptTask id="e{n}" name="脚本{n}" scriptFormat="{fmt}">'
            f"<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>")


def timer_event(n: int, kind: str, text: str) -> str:
    return (f'<bpmn:intermediateCatchEvent id="e{n}" name="等待{n}"><bpmn:timerEventDefinition>'
            f"<bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")


REMIND = '<bpmn:userTask id="remind" name="提醒办理"/>'


def boundary_timer(kind: str, text: str, cancel: bool = False, attached_to: str = "e1", then: str = REMIND) -> str:
    """A timer `tick` on an activity's border (its definition has an id, as bpmn.io writes it), leading
    to `then` (id `remind`; by default a user task: each firing of a non-interrupting one opens one)."""
    return (f'<bpmn:boundaryEvent id="tick" name="提醒" cancelActivity="{str(cancel).lower()}" '
            f'attachedToRef="{attached_to}"><bpmn:timerEventDefinition id="tick_timer">'
            f"<bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
            f'{then}<bpmn:endEvent id="reminded"/>'
            '<bpmn:sequenceFlow id="tick_f1" sourceRef="tick" targetRef="remind"/>'
            '<bpmn:sequenceFlow id="tick_f2" sourceRef="remind" targetRef="reminded"/>')


def multi_instance(n: int, cardinality: str = "", collection: str = "", sequential: bool = False,
                   script: str = "done = True") -> str:
    """A script task run once per instance: `cardinality` times, or once per item of `collection`."""
    loop = (f"<bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality>" if cardinality else
            f'<bpmn:loopDataInputRef>{collection}</bpmn:loopDataInputRef><bpmn:inputDataItem id="item"/>')
    return (f'<bpmn:scriptTask id="e{n}" name="逐项{n}"><bpmn:multiInstanceLoopCharacteristics '
            f'isSequential="{str(sequential).lower()}">{loop}</bpmn:multiInstanceLoopCharacteristics>'
            f"<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>")


SIMPLE_FORM = (b'{"type": "default", "id": "simple", "components": '
               b'[{"type": "textfield", "key": "answer", "validate": {"required": true}}]}')
