"""The ledger's text search through trigram indexes on items' title and content (PostgreSQL, pg_trgm:
a search reads the matching rows, not every item).

pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database's owner may create it.

Revision ID: 0022
Revises: 0021
"""
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

COLUMNS = ("title", "content")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.create_index(f"ix_items_{column}_trgm", "items", [column], postgresql_using="gin",
                        postgresql_ops={column: "gin_trgm_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.drop_index(f"ix_items_{column}_trgm", table_name="items")
