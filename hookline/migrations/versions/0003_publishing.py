"""publishing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('publication_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('step', sa.String(32), nullable=False),
    sa.Column('outcome', sa.String(16), nullable=False),
    sa.Column('bytes_sent', sa.BigInteger(), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(100), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_publication_attempts_publication_id_publications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_attempts'))
    )
    with op.batch_alter_table('publication_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_attempts_publication_id'), ['publication_id'], unique=False)

    op.create_table('quota_spends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(64), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_quota_spends_channel_id_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_quota_spends_publication_id_publications'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_spends'))
    )
    with op.batch_alter_table('quota_spends', schema=None) as batch_op:
        batch_op.create_index('ix_quota_spends_window', ['channel_id', 'bucket', 'at'], unique=False)

    with op.batch_alter_table('channels', schema=None) as batch_op:
        # Server defaults fill the rows that exist already.
        batch_op.add_column(sa.Column('reconnect_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('account_name', sa.String(200), nullable=False, server_default=''))

    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('privacy', sa.String(32), nullable=False, server_default='public'))
        batch_op.add_column(sa.Column('phase', sa.String(32), nullable=False, server_default='new'))
        batch_op.add_column(sa.Column('job_id', sa.BigInteger(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_column('job_id')
        batch_op.drop_column('phase')
        batch_op.drop_column('privacy')
        batch_op.drop_column('language')

    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_column('account_name')
        batch_op.drop_column('reconnect_reason')

    with op.batch_alter_table('quota_spends', schema=None) as batch_op:
        batch_op.drop_index('ix_quota_spends_window')

    op.drop_table('quota_spends')
    with op.batch_alter_table('publication_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_attempts_publication_id'))

    op.drop_table('publication_attempts')
