"""督办 steps declared on elements: definitions deployed before the declarations get them.

Until this revision the engine recognised the steps of the two bundled processes by element id.
It now binds behaviour by the kind each element declares (`duban:step`), kept in a definition's
`elements["steps"]` at deploy. A `duban_main` or `duban_extension` deployed earlier has none, so
its running instances would lose 签收, 催办 and 纪委 escalation after the upgrade. This revision
gives such rows the kinds their ids had (the bundled diagrams' ids up to this revision), the item
declaration, and the starters they had; other processes get empty declarations (they had none).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Element id → step kind, as the bundled diagrams named their elements before this revision.
_MAIN_STEPS = {
    "draft_opinion": "draft", "leader_approval": "approve", "end_rejected": "rejected", "assign": "assign",
    "assign_overdue": "assign_due", "unit_receive": "receive", "unit_report": "report",
    "office_review": "review", "remind_due": "remind", "deadline_reached": "deadline", "urge": "urge",
    "discipline_review": "escalate", "leader_signoff": "signoff", "feedback": "feedback",
}
_EXTENSION_STEPS = {"extension_review": "extension_review"}
# What each process then was: whether it registers an item, and who starts it by hand (None: the
# default starters; []: nobody, it starts on a message).
_DECLARED = {"duban_main": (_MAIN_STEPS, True, None), "duban_extension": (_EXTENSION_STEPS, False, [])}

definitions = sa.table(
    "definitions", sa.column("id", sa.Integer), sa.column("key", sa.String),
    sa.column("files", sa.JSON), sa.column("elements", sa.JSON),
)


def upgrade() -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(definitions.c.id, definitions.c.key, definitions.c.files,
                                            definitions.c.elements)).all():
        elements = dict(row.elements or {})
        if "steps" in elements:
            continue  # deployed with declarations
        connection.execute(sa.update(definitions).where(definitions.c.id == row.id)
                           .values(elements=declared(row.key, row.files or {}, elements)))


def declared(key: str, files: dict, elements: dict) -> dict:
    """The row's elements with the declarations its process had by id."""
    kinds, item, starters = _DECLARED.get(key, ({}, False, None))
    xml = "\n".join(text for text in files.values() if isinstance(text, str))
    steps = {element_id: {"kind": kind, "options": {}} for element_id, kind in kinds.items()
             if f'id="{element_id}"' in xml}
    return {**elements, "steps": steps, "item": item, "starter_roles": starters,
            "start_form": elements.get("start_form")}


def downgrade() -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(definitions.c.id, definitions.c.elements)).all():
        elements = {k: v for k, v in (row.elements or {}).items()
                    if k not in ("steps", "item", "starter_roles", "start_form")}
        connection.execute(sa.update(definitions).where(definitions.c.id == row.id).values(elements=elements))
