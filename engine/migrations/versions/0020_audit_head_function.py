"""The audit chain's head in one statement on PostgreSQL: duban_audit_head() takes the chain's lock
(the transaction-level advisory lock every writer takes) and then reads the last record's id and hash.

A VOLATILE function runs each of its queries in a fresh snapshot (READ COMMITTED), so the head it
reads is the one the previous holder of the lock committed; the same read as a subquery of the
locking statement would use that statement's snapshot, taken before the lock was granted, and miss
it. A transaction that knows the head from its process's last commit inserts its records in one
statement guarded by this function (engine/services/audit.py); otherwise it asks it for the head.

Revision ID: 0020
Revises: 0019
"""
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# pg_advisory_xact_lock key of the chain: "dubanAUD" as a big-endian 64-bit integer (audit._LOCK_KEY).
_LOCK_KEY = int.from_bytes(b"dubanAUD", "big")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION duban_audit_head(OUT id integer, OUT hash varchar)
        VOLATILE LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({_LOCK_KEY});
            SELECT a.id, a.hash INTO id, hash FROM audit_log AS a ORDER BY a.id DESC LIMIT 1;
        END
        $$""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS duban_audit_head()")
