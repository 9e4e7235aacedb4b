"""文书 numbers: an index to count the year's documents of a kind without reading the whole history.

A 交办通知单 or 催办通知单 is numbered by its place among the `assign` (or `urge`) steps completed in
its year (engine/services/documents.py); this index makes that count a short range scan.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_history_element_action_at", "history", ["element_id", "action", "at"])


def downgrade() -> None:
    op.drop_index("ix_history_element_action_at", table_name="history")
