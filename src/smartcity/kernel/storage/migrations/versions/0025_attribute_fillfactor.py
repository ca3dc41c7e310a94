"""Pages of ``context_attribute`` keep half their room for new row versions on
PostgreSQL (decision 0014, addendum of session 9).

A batch of live readings rewrites every attribute row of its entities, and the rows of
an entity share their pages: at fillfactor 80 a page had room for the new versions of
about a quarter of its rows, and the others went to other pages with new entries in
every index (76% of the batch bench's updates were HOT). At 50 each row's next version
fits beside it: 100% HOT, the batch UPDATE's backend CPU ~−60% (instrumented), and
the table stays smaller under such updates than at 80 (no versions spilled to new
pages). Existing pages are not rewritten (that would lock the table): rows get the room
as they move to new pages. SQLite has no fillfactor.

Revision ID: 0025_attribute_fillfactor
Revises: 0024_context_number_values
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025_attribute_fillfactor"
down_revision: str | Sequence[str] | None = "0024_context_number_values"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE context_attribute SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE context_attribute SET (fillfactor = 80)")
