"""人大代表建议办理, small: a process declaring a 督办 item (duban:item), started from its start form
(START_FORM), with 拟办 choosing the units, 答复 by each unit, 满意度回访 and 反馈销号."""

DUBAN_HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
                'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:duban="urn:duban:bpmn:1" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="test">')
START_FORM = {"type": "default", "id": "npc_start", "components": [
    {"type": "textfield", "key": "title", "label": "建议标题", "validate": {"required": True}},
    {"type": "textarea", "key": "content", "label": "建议内容"},
    {"type": "textfield", "key": "delegate", "label": "代表姓名"},
    {"type": "textfield", "key": "source", "label": "来源", "defaultValue": "npc_suggestion"}]}


def step(kind: str) -> str:
    return f'<bpmn:extensionElements><duban:step kind="{kind}" /></bpmn:extensionElements>'


def npc_process(starters: str = "office", reply_form: str = "reply") -> bytes:
    """人大代表建议办理, small: 拟办 choosing the unit, 答复 by each unit, 满意度回访, 反馈销号."""
    lanes = ('<bpmn:laneSet id="ls"><bpmn:lane id="L_office" name="办公室" duban:role="office">'
             "<bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>t_draft</bpmn:flowNodeRef>"
             "<bpmn:flowNodeRef>t_units</bpmn:flowNodeRef><bpmn:flowNodeRef>t_visit</bpmn:flowNodeRef>"
             "<bpmn:flowNodeRef>t_feedback</bpmn:flowNodeRef>"
             "<bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane>"
             '<bpmn:lane id="L_units" name="各承办部门" duban:role="unit"><bpmn:flowNodeRef>per_unit</bpmn:flowNodeRef>'
             "</bpmn:lane></bpmn:laneSet>")
    body = (
        '<bpmn:startEvent id="s" name="收到建议" camunda:formRef="npc_start" />'
        f'<bpmn:userTask id="t_draft" name="拟办" camunda:formRef="draft_opinion">{step("draft")}</bpmn:userTask>'
        '<bpmn:scriptTask id="t_units" name="承办单位" scriptFormat="python"><bpmn:script>'
        "units = [lead_unit] + [u for u in (co_units or []) if u != lead_unit]</bpmn:script></bpmn:scriptTask>"
        '<bpmn:subProcess id="per_unit" name="办理"><bpmn:multiInstanceLoopCharacteristics>'
        '<bpmn:loopDataInputRef>units</bpmn:loopDataInputRef><bpmn:inputDataItem id="unit" name="unit" />'
        "</bpmn:multiInstanceLoopCharacteristics>"
        f'<bpmn:startEvent id="ps" /><bpmn:userTask id="t_reply" name="答复代表" camunda:formRef="{reply_form}">'
        f'{step("reply")}</bpmn:userTask><bpmn:endEvent id="pe" />'
        '<bpmn:sequenceFlow id="pf1" sourceRef="ps" targetRef="t_reply" />'
        '<bpmn:sequenceFlow id="pf2" sourceRef="t_reply" targetRef="pe" /></bpmn:subProcess>'
        f'<bpmn:userTask id="t_visit" name="回访代表" camunda:formRef="satisfaction">{step("satisfaction")}'
        '</bpmn:userTask>'
        f'<bpmn:userTask id="t_feedback" name="办结销号" camunda:formRef="feedback">{step("feedback")}</bpmn:userTask>'
        '<bpmn:endEvent id="e" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t_draft" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="t_draft" targetRef="t_units" />'
        '<bpmn:sequenceFlow id="f3" sourceRef="t_units" targetRef="per_unit" />'
        '<bpmn:sequenceFlow id="f4" sourceRef="per_unit" targetRef="t_visit" />'
        '<bpmn:sequenceFlow id="f4b" sourceRef="t_visit" targetRef="t_feedback" />'
        '<bpmn:sequenceFlow id="f5" sourceRef="t_feedback" targetRef="e" />')
    return (f'{DUBAN_HEADER}<bpmn:process id="npc" name="人大代表建议办理" isExecutable="true" duban:item="true" '
            f'duban:starterRoles="{starters}">{lanes}{body}</bpmn:process></bpmn:definitions>').encode()
