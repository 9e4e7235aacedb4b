"""Built-in connectors (内置连接器): the installation's channels and HTTP endpoints, and the confirmed
sends of connector tasks (a retry skips them).

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=True),
        sa.Column("test_state", sa.String(10), nullable=True),
        sa.Column("test_to", sa.String(255), nullable=True),
        sa.Column("test_by", sa.String(64), nullable=True),
        sa.Column("test_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("test_message", sa.Text(), nullable=True),
    )
    op.create_table(
        "connector_deliveries",
        sa.Column("task_id", sa.String(36), primary_key=True),
        sa.Column("target", sa.String(300), primary_key=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", JSON, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("connector_deliveries")
    op.drop_table("connectors")
