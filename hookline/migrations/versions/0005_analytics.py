"""analytics: daily rollups and collection state

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('metric_days',
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('views', sa.Integer(), nullable=True),
    sa.Column('reach', sa.Integer(), nullable=True),
    sa.Column('watch_time_s', sa.Float(), nullable=True),
    sa.Column('avg_percent_viewed', sa.Float(), nullable=True),
    sa.Column('completion_rate', sa.Float(), nullable=True),
    sa.Column('hook_rate', sa.Float(), nullable=True),
    sa.Column('likes', sa.Integer(), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=True),
    sa.Column('shares', sa.Integer(), nullable=True),
    sa.Column('saves', sa.Integer(), nullable=True),
    sa.Column('follows', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_metric_days_publication_id_publications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('publication_id', 'day', name=op.f('pk_metric_days'))
    )
    with op.batch_alter_table('metric_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_days_day'), ['day'], unique=False)

    op.create_table('metric_collections',
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(16), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_outcome', sa.String(16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('collections', sa.Integer(), nullable=False),
    sa.Column('latest_curve_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['latest_curve_id'], ['retention_curves.id'], name=op.f('fk_metric_collections_latest_curve_id_retention_curves')),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_metric_collections_publication_id_publications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('publication_id', name=op.f('pk_metric_collections'))
    )
    with op.batch_alter_table('metric_collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_collections_next_at'), ['next_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_metric_collections_status'), ['status'], unique=False)

    with op.batch_alter_table('retention_curves', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relative_performance', sa.Float(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('retention_curves', schema=None) as batch_op:
        batch_op.drop_column('relative_performance')

    with op.batch_alter_table('metric_collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_collections_status'))
        batch_op.drop_index(batch_op.f('ix_metric_collections_next_at'))

    op.drop_table('metric_collections')
    with op.batch_alter_table('metric_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_days_day'))

    op.drop_table('metric_days')
