"""External tasks (外部任务): service tasks waiting for workers outside the engine, and the topics
each worker's service account may take.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("definition_key", sa.String(200), nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(255), nullable=True),
        sa.Column("lock_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_details", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(255), nullable=True),
        sa.Column("input", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
    )
    op.create_index("ix_external_tasks_instance_id", "external_tasks", ["instance_id"])
    op.create_index("ix_external_tasks_item_id", "external_tasks", ["item_id"])
    op.create_index("ix_external_tasks_fetch", "external_tasks", ["state", "topic"])
    op.create_table(
        "worker_topics",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("topic", sa.String(200), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("worker_topics")
    op.drop_index("ix_external_tasks_fetch", "external_tasks")
    op.drop_index("ix_external_tasks_item_id", "external_tasks")
    op.drop_index("ix_external_tasks_instance_id", "external_tasks")
    op.drop_table("external_tasks")
