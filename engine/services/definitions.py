"""Deployed definitions, read once per process: a definition version never changes after deploy."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.orm import aliased

from ..domain import steps
from ..errors import NotFound
from ..models import Definition, Instance
from ..texts import text

# The instance whose definition declares a step, apart from any Instance of the enclosing query.
_DECLARING = aliased(Instance, name="declaring_instance")


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
        raise NotFound(text("deploy.no_definition_id", id=definition_id))
    cached = DefinitionRecord(row.id, row.key, row.version, row.name, row.files, row.forms, row.elements,
                              row.checksum)
    duban.definitions[definition_id] = cached
    return cached


def declared_steps(session, *kinds: str) -> dict[int, set]:
    """{definition id: ids of its elements declared as a step of one of `kinds`} (督办 steps,
    engine/domain/steps.py), for the definitions that declare any."""
    found = {}
    for definition_id, elements in session.execute(select(Definition.id, Definition.elements)):
        ids = steps.elements_of(elements or {}, *kinds)
        if ids:
            found[definition_id] = ids
    return found


def is_step(session, instance_id, element_id, *kinds: str):
    """SQL: `element_id` of the instance `instance_id` (columns) is declared, in that instance's own
    definition, as a step of one of `kinds`: what history and tasks are searched by, never a fixed
    element id, and never an id that means another step in another process."""
    by_ids: dict[frozenset, list] = {}
    for definition_id, ids in declared_steps(session, *kinds).items():
        by_ids.setdefault(frozenset(ids), []).append(definition_id)  # versions sharing their ids: one term
    if not by_ids:
        return false()
    return exists(select(_DECLARING.id).where(_DECLARING.id == instance_id, or_(*(
        and_(_DECLARING.definition_id.in_(definitions), element_id.in_(sorted(ids)))
        for ids, definitions in by_ids.items()))).correlate_except(_DECLARING))
