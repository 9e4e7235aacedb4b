"""佐证材料: where a file's bytes are kept (database or files under DUBAN_VAR_DIR), when a submitted
form took it (uploads nothing took are deleted after a retention time), and the files a 延期申请 was
sent with.

Files stored before this revision are in the database. Which of them were held by a submitted form
cannot be told afterwards (a process without an item leaves them without one), so every one is
counted as held: none is deleted as abandoned.

Revision ID: 0015
Revises: 0014
"""
import hashlib
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("stored_files", sa.Column("storage", sa.String(16), nullable=False, server_default="database"))
    op.add_column("stored_files", sa.Column("referenced_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE stored_files SET referenced_at = uploaded_at")
    op.add_column("extensions", sa.Column("evidence", JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    _files_into_database()
    op.drop_column("extensions", "evidence")
    op.drop_column("stored_files", "referenced_at")
    op.drop_column("stored_files", "storage")


def _files_into_database() -> None:
    """Before this revision every file's bytes were in the database: copy the local ones there, from
    DUBAN_VAR_DIR as `duban` reads it (engine/blobs.py names them by their SHA-256)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, sha256 FROM stored_files WHERE storage = 'local'")).all()
    root = Path(os.environ.get("DUBAN_VAR_DIR") or "var") / "files"
    contents = sa.table("stored_file_contents", sa.column("file_id", sa.Integer), sa.column("data", sa.LargeBinary))
    for file_id, sha256 in rows:
        data = (root / sha256[:2] / sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise RuntimeError(f"file {file_id}: {root / sha256[:2] / sha256} does not hold its bytes")
        bind.execute(contents.insert().values(file_id=file_id, data=data))
