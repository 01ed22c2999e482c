"""localization pipeline state and stage cache

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stage_outputs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(64), nullable=False),
    sa.Column('stage', sa.String(64), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(16), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_stage_outputs_episode_id_episodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_outputs')),
    sa.UniqueConstraint('key', name=op.f('uq_stage_outputs_key'))
    )
    with op.batch_alter_table('stage_outputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_outputs_episode_id'), ['episode_id'], unique=False)

    with op.batch_alter_table('localizations', schema=None) as batch_op:
        # Server defaults fill the rows that exist already.
        batch_op.add_column(sa.Column('options', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('stage', sa.String(32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('progress', sa.Float(), nullable=False, server_default='0'))

    with op.batch_alter_table('subtitle_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('cues', sa.JSON(), nullable=False, server_default='[]'))



def downgrade() -> None:
    with op.batch_alter_table('subtitle_lines', schema=None) as batch_op:
        batch_op.drop_column('cues')
        batch_op.drop_column('note')

    with op.batch_alter_table('localizations', schema=None) as batch_op:
        batch_op.drop_column('progress')
        batch_op.drop_column('stage')
        batch_op.drop_column('options')

    with op.batch_alter_table('stage_outputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_outputs_episode_id'))

    op.drop_table('stage_outputs')
