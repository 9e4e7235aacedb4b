"""Accounts and sessions under 三员分立: a password set by someone else must be changed at the next
sign-in (and who set it), who granted each role, and a session token's kind and last use (the idle
timeout is counted on the server).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("password_change_required", sa.Boolean(), nullable=False,
                                     server_default=sa.text("false")))
    op.add_column("users", sa.Column("password_set_by", sa.String(64), nullable=True))
    op.add_column("user_roles", sa.Column("granted_by", sa.String(64), nullable=True))
    # Tokens issued before this revision are bearer tokens: sessions then were checked by cookie only.
    op.add_column("api_tokens", sa.Column("kind", sa.String(16), nullable=False, server_default="bearer"))
    op.add_column("api_tokens", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("api_tokens", "last_seen_at")
    op.drop_column("api_tokens", "kind")
    op.drop_column("user_roles", "granted_by")
    op.drop_column("users", "password_set_by")
    op.drop_column("users", "password_change_required")
