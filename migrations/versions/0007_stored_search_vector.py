"""PostgreSQL search reads a stored tsvector column instead of rebuilding it from the answers.

The GIN index moves from the expression to the column (see app/models/search_index.py, which
must stay the same). Adding a stored column rewrites the table: about a minute per million
submissions, during which the table is locked. SQLite is unchanged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

VECTOR = "jsonb_to_tsvector('simple'::regconfig, answers, '[\"string\"]'::jsonb)"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_submissions_search")
    op.execute(
        f"ALTER TABLE submissions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) "
        "STORED"
    )
    op.execute("CREATE INDEX ix_submissions_search ON submissions USING gin (search_vector)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_submissions_search")
    op.execute("ALTER TABLE submissions DROP COLUMN search_vector")
    op.execute(f"CREATE INDEX ix_submissions_search ON submissions USING gin ({VECTOR})")
