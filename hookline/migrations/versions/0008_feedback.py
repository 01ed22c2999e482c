"""feedback: hook and trope vocabularies (seeded), saved briefs and their picks

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feedback_briefs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(120), nullable=False),
    sa.Column('kpi', sa.String(64), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('untagged', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('csv', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_briefs'))
    )
    with op.batch_alter_table('feedback_briefs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_briefs_created_at'), ['created_at'], unique=False)

    op.create_table('feedback_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(16), nullable=False),
    sa.Column('name', sa.String(64), nullable=False),
    sa.Column('label', sa.String(200), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_terms')),
    sa.UniqueConstraint('kind', 'name', name=op.f('uq_feedback_terms_kind'))
    )
    op.create_table('feedback_picks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brief_id', sa.Integer(), nullable=False),
    sa.Column('market', sa.String(64), nullable=False),
    sa.Column('hook', sa.String(64), nullable=False),
    sa.Column('role', sa.String(16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('posts', sa.Integer(), nullable=False),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('rate_low', sa.Float(), nullable=False),
    sa.Column('rate_high', sa.Float(), nullable=False),
    sa.Column('chance_best', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['brief_id'], ['feedback_briefs.id'], name=op.f('fk_feedback_picks_brief_id_feedback_briefs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_picks'))
    )
    with op.batch_alter_table('feedback_picks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_picks_brief_id'), ['brief_id'], unique=False)

    _seed()



def downgrade() -> None:
    with op.batch_alter_table('feedback_picks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_picks_brief_id'))

    op.drop_table('feedback_picks')
    op.drop_table('feedback_terms')
    with op.batch_alter_table('feedback_briefs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_briefs_created_at'))

    op.drop_table('feedback_briefs')


# The vocabularies a new installation starts with; the vocabulary page edits them. Names
# are what episodes store; keywords suggest a term from an episode's transcript.
HOOKS = (
    ("slap_confrontation", "Confrontation / slap", ["slap", "how dare you", "get out", "hit me"]),
    ("betrayal_reveal", "Betrayal reveal", ["betray", "cheated", "lied to me", "behind my back"]),
    ("hidden_identity_reveal", "Hidden identity reveal", ["who i really am", "real identity", "in disguise", "my true"]),
    ("rebirth_revenge", "Rebirth / revenge", ["reborn", "second life", "revenge", "this time i will"]),
    ("contract_marriage", "Contract marriage", ["contract", "sign here", "marry me", "one year"]),
    ("cliffhanger_callback", "Cliffhanger callback", ["last time", "previously", "remember when"]),
    ("cold_open_conflict", "Cold open on a conflict", ["stop", "let go", "fight"]),
    ("secret_reveal", "Secret reveal", ["secret", "the truth is", "never told"]),
    ("public_humiliation", "Public humiliation", ["everyone is watching", "humiliate", "kneel", "laugh at"]),
    ("contract_proposal", "Contract proposal", ["proposal", "deal", "agreement"]),
    ("flash_forward", "Flash-forward", ["years later", "one month later", "in the future"]),
    ("cliffhanger_question", "Cliffhanger question", ["who are you", "what did you do", "why"]),
)
TROPES = (
    ("contract_marriage", "Contract marriage", ["contract", "marriage", "wife", "husband"]),
    ("hidden_billionaire", "Hidden billionaire", ["billionaire", "heir", "fortune", "chairman"]),
    ("revenge", "Revenge", ["revenge", "pay for this", "make them pay"]),
    ("second_chance", "Second chance", ["second chance", "start over", "again"]),
    ("rebirth", "Rebirth", ["reborn", "past life", "woke up"]),
    ("enemies_to_lovers", "Enemies to lovers", ["hate you", "enemy", "rival"]),
    ("mistaken_identity", "Mistaken identity", ["mistaken", "wrong person", "thought you were"]),
    ("ceo_romance", "CEO romance", ["ceo", "president", "boss", "company"]),
)


def _seed() -> None:
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # SQLite keeps naive UTC, as the models' column does
    terms = sa.table(
        'feedback_terms',
        sa.column('kind', sa.String),
        sa.column('name', sa.String),
        sa.column('label', sa.String),
        sa.column('keywords', sa.JSON),
        sa.column('retired', sa.Boolean),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('updated_at', sa.DateTime(timezone=True)),
    )
    rows = [
        {'kind': kind, 'name': name, 'label': label, 'keywords': keywords, 'retired': False,
         'created_at': now, 'updated_at': now}
        for kind, defaults in (('hook', HOOKS), ('trope', TROPES))
        for name, label, keywords in defaults
    ]
    op.bulk_insert(terms, rows)
