"""analytics: day-on-day gains in the daily rollup

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

Views-per-day charts sum ``views_gained`` over a period's day rows instead of running a
window over every stored day, from an index that covers them. Rows already there get
their gains here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREVIOUS = (
    "COALESCE((SELECT b.{c} FROM metric_days b WHERE b.publication_id = metric_days.publication_id"
    " AND b.day < metric_days.day ORDER BY b.day DESC LIMIT 1), 0)"
)


def upgrade() -> None:
    with op.batch_alter_table('metric_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('views_gained', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('watch_time_gained_s', sa.Float(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_metric_days_day'))
        batch_op.create_index(
            'ix_metric_days_day_gains',
            ['day', 'publication_id', 'views_gained', 'watch_time_gained_s'],
            unique=False,
        )
    op.execute(
        "UPDATE metric_days SET"
        f" views_gained = views - {PREVIOUS.format(c='views')},"
        f" watch_time_gained_s = watch_time_s - {PREVIOUS.format(c='watch_time_s')}"
    )


def downgrade() -> None:
    with op.batch_alter_table('metric_days', schema=None) as batch_op:
        batch_op.drop_index('ix_metric_days_day_gains')
        batch_op.create_index(batch_op.f('ix_metric_days_day'), ['day'], unique=False)
        batch_op.drop_column('watch_time_gained_s')
        batch_op.drop_column('views_gained')
