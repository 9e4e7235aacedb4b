"""The engine's use cases. web/ and workers/ call these, and nothing deeper.

Each takes the `Duban` context first, then ids and plain values; each change is one transaction.
"""
from .auth import actor_for_token, issue_token, login, revoke_token
from .deploy import definition_xml, deploy, list_definitions
from .extensions import list_extensions, request_extension
from .instances import get_instance, list_instances, start_instance
from .items import get_item, list_items, register_item
from .messages import send_message
from .org import list_units, seed_demo
from .tasks import claim_task, complete_task, get_task, list_tasks, unclaim_task

__all__ = [
    "actor_for_token", "claim_task", "complete_task", "definition_xml", "deploy",
    "get_instance", "get_item", "get_task", "issue_token", "list_definitions", "list_instances",
    "list_extensions", "list_items", "list_tasks", "list_units", "login", "register_item", "revoke_token", "seed_demo",
    "request_extension", "send_message", "start_instance", "unclaim_task",
]
