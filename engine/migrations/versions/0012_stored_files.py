"""佐证材料: uploaded files, described in `stored_files` and kept in `stored_file_contents`.

The bytes live in the database (bytea on PostgreSQL, BLOB on SQLite): every web and worker process
already shares it, so several machines need no new storage service.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_stored_files_item", "stored_files", ["item_id"])
    op.create_table(
        "stored_file_contents",
        sa.Column("file_id", sa.Integer(), sa.ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stored_file_contents")
    op.drop_index("ix_stored_files_item", table_name="stored_files")
    op.drop_table("stored_files")
