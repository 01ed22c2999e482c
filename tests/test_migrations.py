"""Migrations run the same on SQLite and PostgreSQL, match the models, and rows round-trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import select

from hookline import migrate
from hookline.db import Database
from hookline.models import (
    ApiToken,
    AuditEvent,
    Channel,
    Character,
    Episode,
    EpisodeAsset,
    Job,
    Localization,
    LocalizedCut,
    Lock,
    MediaAsset,
    MetricSnapshot,
    Publication,
    RetentionCurve,
    Series,
    SubtitleLine,
    Term,
    Transcript,
    TranscriptSegment,
    TranscriptWord,
    User,
    metadata,
)


@pytest.fixture
def empty(database_url: str):
    database = Database.from_url(database_url)
    yield database
    database.dispose()


def tables(database: Database) -> set[str]:
    return set(inspect(database.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_then_down_and_up_again(empty: Database):
    assert tables(empty) == set()
    migrate.upgrade(empty.engine)
    assert tables(empty) == set(metadata.tables)
    assert migrate.is_up_to_date(empty.engine)
    migrate.downgrade(empty.engine, "base")
    assert tables(empty) == set()
    migrate.upgrade(empty.engine)
    assert tables(empty) == set(metadata.tables)


def test_migrations_match_the_models(empty: Database):
    migrate.upgrade(empty.engine)
    with empty.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_every_table_round_trips(db: Database):
    at = datetime(2026, 11, 21, 19, 0, tzinfo=timezone(timedelta(hours=1)))
    with db.transaction() as s:
        user = User(username="lena", password_hash="x", roles=["reviewer", "admin"])
        series = Series(title="The Contract Bride", slug="the-contract-bride", source_language="en")
        s.add_all([user, series])
        s.flush()
        asset = MediaAsset(
            sha256="a" * 64, size_bytes=10, kind="video", duration_s=31.5, probe={"streams": [1, 2]}
        )
        s.add(asset)
        s.flush()
        episode = Episode(
            series_id=series.id,
            number=1,
            hook_type="contract_marriage",
            tropes=["contract marriage", "revenge"],
            master_asset_id=asset.id,
            warnings=["no audio"],
        )
        s.add_all(
            [
                episode,
                Character(
                    series_id=series.id,
                    name="Lena Hart",
                    gender="female",
                    voices={"es": {"voice": "es+f3"}},
                ),
                Term(
                    series_id=series.id,
                    term="Cole Group",
                    translations={"es": "Grupo Cole", "zh-Hans": "科尔集团"},
                ),
            ]
        )
        s.flush()
        transcript = Transcript(episode_id=episode.id, language="en", inputs_hash="h" * 64)
        loc = Localization(episode_id=episode.id, language="es", qc_summary={"total": 2})
        channel = Channel(
            platform="tiktok",
            name="Dramas ES",
            language="es",
            timezone="Europe/Madrid",
            token_expires_at=at,
        )
        s.add_all(
            [
                EpisodeAsset(episode_id=episode.id, asset_id=asset.id, role="master"),
                transcript,
                loc,
                channel,
            ]
        )
        s.flush()
        segment = TranscriptSegment(
            transcript_id=transcript.id, position=0, start_s=0.5, end_s=2.0, text="Sign it."
        )
        cut = LocalizedCut(localization_id=loc.id, kind="burned_in", asset_id=asset.id)
        s.add_all(
            [
                segment,
                cut,
                SubtitleLine(
                    localization_id=loc.id,
                    position=0,
                    start_s=0.5,
                    end_s=2.0,
                    text="Fírmalo.",
                    qc=[{"rule": "cps", "value": 21.5}],
                ),
            ]
        )
        s.flush()
        publication = Publication(
            cut_id=cut.id,
            channel_id=channel.id,
            scheduled_at=at,
            idempotency_key="pub-1",
            hashtags=["#drama", "#短剧"],
            upload_state={"session": "u", "acked": 262144},
        )
        s.add_all(
            [
                publication,
                TranscriptWord(
                    segment_id=segment.id, position=0, start_s=0.5, end_s=0.9, text="Sign"
                ),
            ]
        )
        s.flush()
        s.add_all(
            [
                MetricSnapshot(
                    publication_id=publication.id, as_of=at, views=1200, completion_rate=None
                ),
                RetentionCurve(
                    publication_id=publication.id,
                    as_of=at,
                    duration_s=31.5,
                    points=[1.0] + [0.5] * 100,
                ),
                Job(kind="noop", payload={"x": [1, "二"]}, run_at=at),
                Lock(name="scheduler", holder="w1", expires_at=at),
                ApiToken(user_id=user.id, name="ci", token_hash="t" * 64, prefix="hl_abc"),
                AuditEvent(
                    actor_id=user.id,
                    actor="lena",
                    action="line.edit",
                    entity_type="subtitle_line",
                    before={"text": "a"},
                    after={"text": "b"},
                ),
            ]
        )

    with db.session() as s:
        assert s.exec(select(User)).one().roles == ["reviewer", "admin"]
        episode = s.exec(select(Episode)).one()
        assert episode.tropes == ["contract marriage", "revenge"]
        assert s.exec(select(Term)).one().translations["zh-Hans"] == "科尔集团"
        publication = s.exec(select(Publication)).one()
        assert publication.scheduled_at == at and publication.scheduled_at.tzinfo == UTC
        assert publication.hashtags == ["#drama", "#短剧"]
        assert publication.upload_state["acked"] == 262144
        snapshot = s.exec(select(MetricSnapshot)).one()
        assert snapshot.views == 1200 and snapshot.completion_rate is None  # missing stays missing
        assert len(s.exec(select(RetentionCurve)).one().points) == 101
        assert s.exec(select(Job)).one().payload == {"x": [1, "二"]}
        assert s.exec(select(Channel)).one().token_expires_at == at
        assert s.exec(select(SubtitleLine)).one().qc == [{"rule": "cps", "value": 21.5}]
        assert s.exec(select(AuditEvent)).one().after == {"text": "b"}
        assert s.exec(select(MediaAsset)).one().probe == {"streams": [1, 2]}


def test_naive_datetimes_are_refused(db: Database):
    with pytest.raises(Exception, match="naive datetime"), db.transaction() as s:
        s.add(Job(kind="noop", run_at=datetime(2026, 1, 1)))


def test_upgrading_keeps_the_rows_already_there(empty: Database):
    migrate.upgrade(empty.engine, "0001")
    now = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)
    with empty.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO series (title, slug, source_language, logline, created_at) "
                "VALUES ('S', 's', 'en', '', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO episodes (series_id, number, title, tropes, status, warnings, "
                "created_at, updated_at) VALUES (1, 1, '', '[]', 'ingested', '[]', :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO localizations (episode_id, language, is_source, status, profile, "
                "translator, qc_summary, created_at, updated_at) "
                "VALUES (1, 'es', false, 'pending', 'vertical', '', '{}', :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO subtitle_lines (localization_id, position, start_s, end_s, "
                "source_text, text, version, needs_human, qc, updated_at) "
                "VALUES (1, 0, 0.5, 2.0, 'Sign.', 'Firma.', 1, false, '[]', :now)"
            ),
            {"now": now},
        )
    migrate.upgrade(empty.engine)
    with empty.session() as s:
        line = s.exec(select(SubtitleLine)).one()
        loc = s.exec(select(Localization)).one()
    assert (line.text, line.cues, line.note) == ("Firma.", [], "")
    assert (loc.options, loc.stage, loc.progress) == ({}, "", 0.0)
