"""Deployed definitions, read once per process: a definition version never changes after deploy."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import NotFound
from ..models import Definition


@dataclass(frozen=True)
class DefinitionRecord:
    id: int
    key: str
    version: int
    name: str
    files: dict
    forms: dict
    elements: dict
    checksum: str = ""


def record(duban, session, definition_id: int) -> DefinitionRecord:
    cached = duban.definitions.get(definition_id)
    if cached is not None:
        return cached
    row = session.get(Definition, definition_id)
    if row is None:
        raise NotFound(f"definition {definition_id} not found")
    cached = DefinitionRecord(row.id, row.key, row.version, row.name, row.files, row.forms, row.elements,
                              row.checksum)
    duban.definitions[definition_id] = cached
    return cached


def step_elements(session, *kinds: str) -> set:
    """Ids of the elements any deployed definition declares as a step of one of `kinds` (督办 steps,
    engine/domain/steps.py): what history and tasks are searched by, never a fixed element id."""
    from sqlalchemy import select

    from ..domain import steps

    found = set()
    for elements in session.scalars(select(Definition.elements)):
        found |= steps.elements_of(elements or {}, *kinds)
    return found
