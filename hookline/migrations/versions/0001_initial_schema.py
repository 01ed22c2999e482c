"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(32), nullable=False),
    sa.Column('name', sa.String(200), nullable=False),
    sa.Column('language', sa.String(16), nullable=False),
    sa.Column('region', sa.String(8), nullable=False),
    sa.Column('timezone', sa.String(64), nullable=False),
    sa.Column('external_id', sa.String(200), nullable=False),
    sa.Column('status', sa.String(32), nullable=False),
    sa.Column('sandbox', sa.Boolean(), nullable=False),
    sa.Column('token_ciphertext', sa.Text(), nullable=True),
    sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channels')),
    sa.UniqueConstraint('platform', 'external_id', name=op.f('uq_channels_platform'))
    )
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channels_platform'), ['platform'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('key', sa.String(200), nullable=True),
    sa.Column('status', sa.String(16), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(100), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('progress_message', sa.String(500), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('key', name=op.f('uq_jobs_key'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_claim', ['status', 'priority', 'run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_jobs_lease', ['status', 'lease_expires_at'], unique=False)

    op.create_table('locks',
    sa.Column('name', sa.String(100), nullable=False),
    sa.Column('holder', sa.String(200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_locks'))
    )
    op.create_table('media_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(16), nullable=False),
    sa.Column('container', sa.String(64), nullable=False),
    sa.Column('extension', sa.String(16), nullable=False),
    sa.Column('mime_type', sa.String(100), nullable=False),
    sa.Column('original_name', sa.String(400), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('fps', sa.Float(), nullable=True),
    sa.Column('video_codec', sa.String(32), nullable=True),
    sa.Column('audio_codec', sa.String(32), nullable=True),
    sa.Column('audio_channels', sa.Integer(), nullable=True),
    sa.Column('sample_rate', sa.Integer(), nullable=True),
    sa.Column('probe', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_assets')),
    sa.UniqueConstraint('sha256', name=op.f('uq_media_assets_sha256'))
    )
    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(200), nullable=False),
    sa.Column('slug', sa.String(200), nullable=False),
    sa.Column('source_language', sa.String(16), nullable=False),
    sa.Column('logline', sa.String(2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series')),
    sa.UniqueConstraint('slug', name=op.f('uq_series_slug')),
    sa.UniqueConstraint('title', name=op.f('uq_series_title'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(80), nullable=False),
    sa.Column('display_name', sa.String(200), nullable=False),
    sa.Column('password_hash', sa.String(300), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(120), nullable=False),
    sa.Column('token_hash', sa.String(64), nullable=False),
    sa.Column('prefix', sa.String(16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(120), nullable=False),
    sa.Column('action', sa.String(100), nullable=False),
    sa.Column('entity_type', sa.String(64), nullable=False),
    sa.Column('entity_id', sa.String(64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('remote_addr', sa.String(64), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)

    op.create_table('characters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(120), nullable=False),
    sa.Column('gender', sa.String(16), nullable=False),
    sa.Column('description', sa.String(2000), nullable=False),
    sa.Column('voices', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_characters_series_id_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_characters')),
    sa.UniqueConstraint('series_id', 'name', name=op.f('uq_characters_series_id'))
    )
    with op.batch_alter_table('characters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_characters_series_id'), ['series_id'], unique=False)

    op.create_table('episodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(300), nullable=False),
    sa.Column('hook_type', sa.String(64), nullable=True),
    sa.Column('tropes', sa.JSON(), nullable=False),
    sa.Column('master_asset_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(32), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['master_asset_id'], ['media_assets.id'], name=op.f('fk_episodes_master_asset_id_media_assets')),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_episodes_series_id_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_episodes')),
    sa.UniqueConstraint('series_id', 'number', name=op.f('uq_episodes_series_id'))
    )
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_episodes_hook_type'), ['hook_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_episodes_series_id'), ['series_id'], unique=False)

    op.create_table('terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(200), nullable=False),
    sa.Column('kind', sa.String(32), nullable=False),
    sa.Column('note', sa.String(1000), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_terms_series_id_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terms')),
    sa.UniqueConstraint('series_id', 'term', name=op.f('uq_terms_series_id'))
    )
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terms_series_id'), ['series_id'], unique=False)

    op.create_table('episode_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['media_assets.id'], name=op.f('fk_episode_assets_asset_id_media_assets')),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_episode_assets_episode_id_episodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_episode_assets')),
    sa.UniqueConstraint('episode_id', 'role', name=op.f('uq_episode_assets_episode_id'))
    )
    with op.batch_alter_table('episode_assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_episode_assets_asset_id'), ['asset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_episode_assets_episode_id'), ['episode_id'], unique=False)

    op.create_table('transcripts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(16), nullable=False),
    sa.Column('source', sa.String(16), nullable=False),
    sa.Column('model', sa.String(200), nullable=False),
    sa.Column('inputs_hash', sa.String(64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_transcripts_episode_id_episodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcripts')),
    sa.UniqueConstraint('episode_id', 'inputs_hash', name=op.f('uq_transcripts_episode_id'))
    )
    with op.batch_alter_table('transcripts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcripts_episode_id'), ['episode_id'], unique=False)

    op.create_table('localizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(16), nullable=False),
    sa.Column('is_source', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(32), nullable=False),
    sa.Column('profile', sa.String(32), nullable=False),
    sa.Column('translator', sa.String(64), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=True),
    sa.Column('qc_summary', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_localizations_approved_by_id_users')),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_localizations_episode_id_episodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'], name=op.f('fk_localizations_transcript_id_transcripts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_localizations')),
    sa.UniqueConstraint('episode_id', 'language', name=op.f('uq_localizations_episode_id'))
    )
    with op.batch_alter_table('localizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_localizations_episode_id'), ['episode_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_localizations_status'), ['status'], unique=False)

    op.create_table('transcript_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('start_s', sa.Float(), nullable=False),
    sa.Column('end_s', sa.Float(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('speaker', sa.String(120), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'], name=op.f('fk_transcript_segments_transcript_id_transcripts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_segments')),
    sa.UniqueConstraint('transcript_id', 'position', name=op.f('uq_transcript_segments_transcript_id'))
    )
    with op.batch_alter_table('transcript_segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_segments_transcript_id'), ['transcript_id'], unique=False)

    op.create_table('localized_cuts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('localization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(32), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('inputs_hash', sa.String(64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['media_assets.id'], name=op.f('fk_localized_cuts_asset_id_media_assets')),
    sa.ForeignKeyConstraint(['localization_id'], ['localizations.id'], name=op.f('fk_localized_cuts_localization_id_localizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_localized_cuts')),
    sa.UniqueConstraint('localization_id', 'kind', name=op.f('uq_localized_cuts_localization_id'))
    )
    with op.batch_alter_table('localized_cuts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_localized_cuts_localization_id'), ['localization_id'], unique=False)

    op.create_table('subtitle_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('localization_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('start_s', sa.Float(), nullable=False),
    sa.Column('end_s', sa.Float(), nullable=False),
    sa.Column('speaker', sa.String(120), nullable=True),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('needs_human', sa.Boolean(), nullable=False),
    sa.Column('qc', sa.JSON(), nullable=False),
    sa.Column('dub_asset_id', sa.Integer(), nullable=True),
    sa.Column('dub_stretch', sa.Float(), nullable=True),
    sa.Column('dub_overflow_s', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['dub_asset_id'], ['media_assets.id'], name=op.f('fk_subtitle_lines_dub_asset_id_media_assets')),
    sa.ForeignKeyConstraint(['localization_id'], ['localizations.id'], name=op.f('fk_subtitle_lines_localization_id_localizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_subtitle_lines_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subtitle_lines')),
    sa.UniqueConstraint('localization_id', 'position', name=op.f('uq_subtitle_lines_localization_id'))
    )
    with op.batch_alter_table('subtitle_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subtitle_lines_localization_id'), ['localization_id'], unique=False)

    op.create_table('transcript_words',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('start_s', sa.Float(), nullable=False),
    sa.Column('end_s', sa.Float(), nullable=False),
    sa.Column('text', sa.String(200), nullable=False),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['segment_id'], ['transcript_segments.id'], name=op.f('fk_transcript_words_segment_id_transcript_segments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_words')),
    sa.UniqueConstraint('segment_id', 'position', name=op.f('uq_transcript_words_segment_id'))
    )
    with op.batch_alter_table('transcript_words', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_words_segment_id'), ['segment_id'], unique=False)

    op.create_table('publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cut_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(32), nullable=False),
    sa.Column('title', sa.String(500), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('hashtags', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(100), nullable=False),
    sa.Column('upload_state', sa.JSON(), nullable=False),
    sa.Column('bytes_sent', sa.BigInteger(), nullable=False),
    sa.Column('remote_id', sa.String(200), nullable=True),
    sa.Column('remote_url', sa.String(1000), nullable=True),
    sa.Column('error_code', sa.String(100), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_publications_channel_id_channels')),
    sa.ForeignKeyConstraint(['cut_id'], ['localized_cuts.id'], name=op.f('fk_publications_cut_id_localized_cuts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publications')),
    sa.UniqueConstraint('cut_id', 'channel_id', name=op.f('uq_publications_cut_id')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_publications_idempotency_key'))
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publications_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publications_cut_id'), ['cut_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publications_scheduled_at'), ['scheduled_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_publications_status'), ['status'], unique=False)

    op.create_table('metric_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('collected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('views', sa.Integer(), nullable=True),
    sa.Column('reach', sa.Integer(), nullable=True),
    sa.Column('watch_time_s', sa.Float(), nullable=True),
    sa.Column('avg_view_duration_s', sa.Float(), nullable=True),
    sa.Column('avg_percent_viewed', sa.Float(), nullable=True),
    sa.Column('completion_rate', sa.Float(), nullable=True),
    sa.Column('hook_rate', sa.Float(), nullable=True),
    sa.Column('hook_rate_definition', sa.String(64), nullable=True),
    sa.Column('likes', sa.Integer(), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=True),
    sa.Column('shares', sa.Integer(), nullable=True),
    sa.Column('saves', sa.Integer(), nullable=True),
    sa.Column('follows', sa.Integer(), nullable=True),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_metric_snapshots_publication_id_publications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_snapshots')),
    sa.UniqueConstraint('publication_id', 'as_of', name=op.f('uq_metric_snapshots_publication_id'))
    )
    with op.batch_alter_table('metric_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_snapshots_as_of'), ['as_of'], unique=False)
        batch_op.create_index(batch_op.f('ix_metric_snapshots_publication_id'), ['publication_id'], unique=False)

    op.create_table('retention_curves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('collected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('views_basis', sa.Integer(), nullable=True),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('source_resolution', sa.String(64), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_retention_curves_publication_id_publications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_curves')),
    sa.UniqueConstraint('publication_id', 'as_of', name=op.f('uq_retention_curves_publication_id'))
    )
    with op.batch_alter_table('retention_curves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_curves_as_of'), ['as_of'], unique=False)
        batch_op.create_index(batch_op.f('ix_retention_curves_publication_id'), ['publication_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('retention_curves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_curves_publication_id'))
        batch_op.drop_index(batch_op.f('ix_retention_curves_as_of'))

    op.drop_table('retention_curves')
    with op.batch_alter_table('metric_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_snapshots_publication_id'))
        batch_op.drop_index(batch_op.f('ix_metric_snapshots_as_of'))

    op.drop_table('metric_snapshots')
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publications_status'))
        batch_op.drop_index(batch_op.f('ix_publications_scheduled_at'))
        batch_op.drop_index(batch_op.f('ix_publications_cut_id'))
        batch_op.drop_index(batch_op.f('ix_publications_channel_id'))

    op.drop_table('publications')
    with op.batch_alter_table('transcript_words', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_words_segment_id'))

    op.drop_table('transcript_words')
    with op.batch_alter_table('subtitle_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subtitle_lines_localization_id'))

    op.drop_table('subtitle_lines')
    with op.batch_alter_table('localized_cuts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_localized_cuts_localization_id'))

    op.drop_table('localized_cuts')
    with op.batch_alter_table('transcript_segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_segments_transcript_id'))

    op.drop_table('transcript_segments')
    with op.batch_alter_table('localizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_localizations_status'))
        batch_op.drop_index(batch_op.f('ix_localizations_episode_id'))

    op.drop_table('localizations')
    with op.batch_alter_table('transcripts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcripts_episode_id'))

    op.drop_table('transcripts')
    with op.batch_alter_table('episode_assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_episode_assets_episode_id'))
        batch_op.drop_index(batch_op.f('ix_episode_assets_asset_id'))

    op.drop_table('episode_assets')
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_terms_series_id'))

    op.drop_table('terms')
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_episodes_series_id'))
        batch_op.drop_index(batch_op.f('ix_episodes_hook_type'))

    op.drop_table('episodes')
    with op.batch_alter_table('characters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_characters_series_id'))

    op.drop_table('characters')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('series')
    op.drop_table('media_assets')
    op.drop_table('locks')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_lease')
        batch_op.drop_index(batch_op.f('ix_jobs_kind'))
        batch_op.drop_index(batch_op.f('ix_jobs_created_at'))
        batch_op.drop_index('ix_jobs_claim')

    op.drop_table('jobs')
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channels_platform'))

    op.drop_table('channels')
