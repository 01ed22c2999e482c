"""analytics: drop single-column indexes the unique (publication_id, as_of) ones cover

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Every read of snapshots and curves goes by publication (and period), which the unique
indexes answer; the dashboards read ``metric_days``. The four dropped indexes only made
each collected row cost four more index writes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = (
    ('metric_snapshots', 'as_of'),
    ('metric_snapshots', 'publication_id'),
    ('retention_curves', 'as_of'),
    ('retention_curves', 'publication_id'),
)


def upgrade() -> None:
    for table, column in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))


def downgrade() -> None:
    for table, column in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)
