"""Indexes for the ledger, the inbox, the dashboard and 通报 at 100,000 items (bench/ledger.py).

- items (classification, id), replacing (classification): the items a person is not cleared for
  (secret, not designated) read from the index alone, as a hashed set the inbox's tasks are checked
  against;
- items (title, id): the ledger sorted by title reads its first page in order instead of sorting
  every item;
- items (closed_at): the dashboard's items closed per month;
- item_units (accepted_at), (urged_at), (escalated_at): 通报's parts accepted, urged and referred
  to 纪委 in a period, and 纪委's own ledger and figures (escalated parts);
- praises (at), criticisms (created_at): 通报's praises and criticisms in a period;
- tasks (role, unit_id) of open tasks nobody has claimed (partial): the inbox's count finds its
  role's or unit's tasks there rather than among every open task.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

CANDIDATES = "state = 'open' AND assignee IS NULL"
_NEW = [
    ("ix_items_title", "items", ["title", "id"]),
    ("ix_items_closed_at", "items", ["closed_at"]),
    ("ix_item_units_accepted_at", "item_units", ["accepted_at"]),
    ("ix_item_units_urged_at", "item_units", ["urged_at"]),
    ("ix_item_units_escalated_at", "item_units", ["escalated_at"]),
    ("ix_praises_at", "praises", ["at"]),
    ("ix_criticisms_created_at", "criticisms", ["created_at"]),
]


def upgrade() -> None:
    op.drop_index("ix_items_classification", table_name="items")
    op.create_index("ix_items_classification", "items", ["classification", "id"])
    for name, table, columns in _NEW:
        op.create_index(name, table, columns)
    op.create_index("ix_tasks_open_candidates", "tasks", ["role", "unit_id"],
                    postgresql_where=sa.text(CANDIDATES), sqlite_where=sa.text(CANDIDATES))


def downgrade() -> None:
    op.drop_index("ix_tasks_open_candidates", table_name="tasks")
    for name, table, _ in reversed(_NEW):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_items_classification", table_name="items")
    op.create_index("ix_items_classification", "items", ["classification"])
