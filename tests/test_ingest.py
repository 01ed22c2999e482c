"""Ingesting episode masters and attaching stems, on SQLite and PostgreSQL.

Every rejection is checked to leave nothing behind: no rows, no stored object, no temp file.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from hookline import migrate
from hookline.db import Database
from hookline.errors import Conflict, InvalidInput, MediaRejected, TooLarge
from hookline.ingest import IngestResult, attach_asset, ingest_episode, slugify, split_tropes
from hookline.models import AuditEvent, Episode, EpisodeAsset, MediaAsset, Series
from hookline.storage import MediaStore

from mediafixtures import ingest_media

POSTGRES_URL = os.environ.get(
    "HOOKLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
COUNTED = (MediaAsset, Series, Episode, EpisodeAsset, AuditEvent)


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Yield a migrated, empty database of each kind."""
    if request.param == "sqlite":
        database = Database.from_url(f"sqlite:///{tmp_path}/t.db")
        migrate.upgrade(database.engine)
        yield database
        database.dispose()
    else:
        yield from _postgres_database()


def _postgres_database() -> Iterator[Database]:
    """Yield a database confined to a fresh schema, dropped afterwards."""
    admin = Database.from_url(POSTGRES_URL, pool_size=1)
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with admin.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    database = Database.from_url(url.render_as_string(hide_password=False), pool_size=2)
    try:
        migrate.upgrade(database.engine)
        yield database
    finally:
        database.dispose()
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every file the tests ingest, good and bad, made once per session."""
    return ingest_media(tmp_path_factory)


# --- helpers --------------------------------------------------------------------------


def ingest(session: Session, store: MediaStore, path: Path, **values: Any) -> IngestResult:
    """Ingest ``path`` the way the CLI does: stage it, then hand the staged file over."""
    values = {
        "filename": path.name,
        "series_title": "The Contract Bride",
        "episode_number": 1,
        **values,
    }
    staged = store.stage_path(path, limit_bytes=50 * 1024 * 1024)
    return ingest_episode(session, store, staged, **values)


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            m.__tablename__: session.exec(select(func.count()).select_from(m)).one()
            for m in COUNTED
        }


def stored_objects(store: MediaStore) -> list[Path]:
    return sorted(p for p in store.root.glob("objects/**/*") if p.is_file())


def temp_files(store: MediaStore) -> list[Path]:
    return sorted(store.tmp_dir.iterdir()) if store.tmp_dir.exists() else []


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- ingest ---------------------------------------------------------------------------


def test_ingest_creates_series_episode_and_master(
    db: Database, store: MediaStore, media: Path
) -> None:
    with db.transaction() as session:
        result = ingest(
            session,
            store,
            media / "good.mp4",
            series_title="  The Contract  Bride ",
            episode_number=3,
            hook_type="Cliffhanger",
            tropes=["CEO", "contract marriage", "ceo"],
            title="The Signature",
        )

    assert result.created and not result.replaced and result.warnings == ()
    with db.session() as session:
        episode = session.get_one(Episode, result.episode.id)
        series = session.get_one(Series, episode.series_id)
        asset = session.get_one(MediaAsset, episode.master_asset_id)
        link = session.exec(select(EpisodeAsset).where(EpisodeAsset.episode_id == episode.id)).one()
        event = session.exec(select(AuditEvent)).one()
    assert (series.title, series.slug) == ("The Contract Bride", "the-contract-bride")
    assert (episode.number, episode.title, episode.hook_type) == (3, "The Signature", "cliffhanger")
    assert episode.tropes == ["ceo", "contract marriage"] and episode.warnings == []
    assert asset.sha256 == sha256(media / "good.mp4") and asset.kind == "video"
    assert (asset.width, asset.height, asset.video_codec, asset.mime_type) == (
        360,
        640,
        "h264",
        "video/mp4",
    )
    assert asset.original_name == "good.mp4" and asset.probe["audio_codec"] == "aac"
    assert (link.asset_id, link.role) == (asset.id, "master")
    assert (event.action, event.actor) == ("episode.created", "system")
    assert event.entity_id == str(episode.id)
    assert event.after["master_sha256"] == asset.sha256
    assert store.path_for(asset.sha256).read_bytes() == (media / "good.mp4").read_bytes()
    assert temp_files(store) == []


def test_ingest_from_a_path_keeps_platform_warnings(
    db: Database, store: MediaStore, media: Path
) -> None:
    with db.transaction() as session:
        result = ingest_episode(
            session,
            store,
            media / "landscape.mp4",
            filename="ep2.mp4",
            series_title="Rebirth",
            episode_number=2,
        )

    assert [w.split(" ")[:4] for w in result.warnings] == [
        ["Aspect", "ratio", "is", "16:9"],
        ["Has", "no", "audio", "stream:"],
    ]
    with db.session() as session:
        assert session.get_one(Episode, result.episode.id).warnings == list(result.warnings)
    assert temp_files(store) == []


def test_ingesting_the_same_file_again_changes_nothing(
    db: Database, store: MediaStore, media: Path
) -> None:
    with db.transaction() as session:
        first = ingest(session, store, media / "good.mp4")
    before = counts(db)

    with db.transaction() as session:
        again = ingest(session, store, media / "good.mp4", filename="renamed.mp4")

    assert not again.created and not again.replaced
    assert (again.episode.id, again.asset.id) == (first.episode.id, first.asset.id)
    assert counts(db) == before
    assert len(stored_objects(store)) == 1 and temp_files(store) == []


def test_one_file_can_master_two_episodes(db: Database, store: MediaStore, media: Path) -> None:
    with db.transaction() as session:
        one = ingest(session, store, media / "good.mp4", episode_number=1)
        two = ingest(session, store, media / "good.mp4", episode_number=2)

    assert two.created and two.episode.id != one.episode.id
    assert two.asset.id == one.asset.id
    assert counts(db)["media_assets"] == 1


def test_a_different_master_needs_replace(db: Database, store: MediaStore, media: Path) -> None:
    with db.transaction() as session:
        ingest(session, store, media / "good.mp4")
    before, objects = counts(db), stored_objects(store)

    replace_hint = r"To make .* its new master, ingest it with replace"
    with pytest.raises(Conflict, match=replace_hint) as raised, db.transaction() as session:
        ingest(session, store, media / "other.mp4")

    assert "Episode 1 of 'The Contract Bride' already has a different master" in str(raised.value)
    assert counts(db) == before
    assert stored_objects(store) == objects and temp_files(store) == []


def test_replace_swaps_the_master_and_audits_it(
    db: Database, store: MediaStore, media: Path
) -> None:
    with db.transaction() as session:
        first = ingest(session, store, media / "good.mp4", hook_type="slap")

    with db.transaction() as session:
        result = ingest(session, store, media / "other.mp4", replace=True)

    assert result.replaced and not result.created and result.episode.id == first.episode.id
    with db.session() as session:
        episode = session.get_one(Episode, first.episode.id)
        link = session.exec(select(EpisodeAsset).where(EpisodeAsset.role == "master")).one()
        replaced = AuditEvent.action == "episode.master_replaced"
        event = session.exec(select(AuditEvent).where(replaced)).one()
    assert episode.master_asset_id == link.asset_id == result.asset.id != first.asset.id
    assert episode.hook_type == "slap"
    assert event.before["master_sha256"] == sha256(media / "good.mp4")
    assert event.after["master_sha256"] == sha256(media / "other.mp4")
    assert len(stored_objects(store)) == 2 and temp_files(store) == []


def test_titles_that_slug_alike_get_distinct_slugs(
    db: Database, store: MediaStore, media: Path
) -> None:
    with db.transaction() as session:
        ingest(session, store, media / "good.mp4", series_title="Love & Revenge")
        ingest(session, store, media / "good.mp4", series_title="Love Revenge")

    with db.session() as session:
        assert sorted(session.exec(select(Series.slug)).all()) == ["love-revenge", "love-revenge-2"]


# --- rejections leave nothing behind -------------------------------------------------

REJECTIONS = [
    # file, name given by the user, code, phrase of the message
    ("notes.mp4", "ep1.mp4", "not_media", "ep1.mp4 is not a video file"),
    ("truncated.mp4", "ep1.mp4", "corrupt", "truncated or damaged"),
    ("truncated-faststart.mp4", "ep1.mp4", "corrupt", "frames stop at 1.0 s of the 2.0 s"),
    ("scrambled.mp4", "ep1.mp4", "corrupt", "looks like an MP4/QuickTime file but cannot be read"),
    ("empty-track.mp4", "ep1.mp4", "zero_duration", "zero duration"),
    ("audio.m4a", "ep1.m4a", "no_video", "no video stream"),
    ("dialogue.wav", "ep1.wav", "no_video", "no video stream"),
    ("mjpeg.mkv", "ep1.mkv", "unsupported_codec", "mjpeg video codec (MJPEG (Motion JPEG))"),
    ("ffv1.mkv", "ep1.mkv", "unsupported_codec", "Re-export it as H.264"),
    ("tiny.mp4", "ep1.mp4", "bad_dimensions", "64x64 pixels (1:1); at least 144 px"),
    ("sliver.mp4", "ep1.mp4", "bad_dimensions", "160x1280 pixels (1:8); the aspect ratio"),
    (
        "mkv.mkv",
        "episode.mp4",
        "wrong_extension",
        "episode.mp4 is really a Matroska/WebM file; rename it to .mkv (or re-export as MP4)",
    ),
    ("good.mp4", "episode.mkv", "wrong_extension", "rename it to .mp4"),
    ("good.mp4", "episode.flv", "wrong_extension", ".flv files are not accepted"),
]


@pytest.mark.parametrize(("file", "filename", "code", "phrase"), REJECTIONS)
def test_a_rejected_file_leaves_nothing_behind(
    db: Database, store: MediaStore, media: Path, file: str, filename: str, code: str, phrase: str
) -> None:
    before = counts(db)

    with pytest.raises(MediaRejected) as raised, db.transaction() as session:
        ingest(session, store, media / file, filename=filename)

    assert raised.value.code == code
    assert phrase in str(raised.value)
    assert counts(db) == before
    assert stored_objects(store) == [] and temp_files(store) == []


def test_an_oversized_upload_leaves_nothing_behind(
    db: Database, store: MediaStore, media: Path
) -> None:
    before = counts(db)

    with pytest.raises(TooLarge) as raised, (media / "good.mp4").open("rb") as upload:
        store.stage(upload, limit_bytes=100 * 1024)

    assert raised.value.code == "too_large"
    assert "0.1 MiB limit" in str(raised.value) and "HOOKLINE_MAX_UPLOAD_MB" in str(raised.value)
    assert counts(db) == before
    assert stored_objects(store) == [] and temp_files(store) == []


@pytest.mark.parametrize(
    ("values", "phrase"),
    [
        ({"episode_number": 0}, "Episode number 0 is out of range"),
        ({"episode_number": True}, "must be a whole number"),
        ({"episode_number": "3"}, "must be a whole number"),
        ({"series_title": "   "}, "Series title is empty"),
        ({"series_title": "x" * 201}, "Series title is 201 characters long; the limit is 200"),
        ({"series_title": "Bad\x00Title"}, "control characters"),
        ({"hook_type": ""}, "Hook type is empty"),
        ({"hook_type": "h" * 65}, "Hook type is 65 characters long"),
        ({"tropes": "romance"}, "list of labels, not one string"),
        ({"tropes": ["ok", " "]}, "Trope is empty"),
        ({"tropes": [f"t{i}" for i in range(21)]}, "at most 20"),
        ({"title": "t" * 301}, "Episode title is 301 characters long"),
    ],
)
def test_invalid_values_leave_nothing_behind(
    db: Database, store: MediaStore, media: Path, values: dict[str, Any], phrase: str
) -> None:
    before = counts(db)

    with pytest.raises(InvalidInput, match=phrase), db.transaction() as session:
        ingest(session, store, media / "good.mp4", **values)

    assert counts(db) == before
    assert stored_objects(store) == [] and temp_files(store) == []


# --- attachments ----------------------------------------------------------------------


def test_attach_stems_and_script(db: Database, store: MediaStore, media: Path) -> None:
    with db.transaction() as session:
        episode = ingest(session, store, media / "good.mp4").episode
        dialogue = attach_asset(session, store, episode, media / "dialogue.wav", "dialogue_stem")
        music = attach_asset(session, store, episode, media / "music.wav", "music_effects_stem")
        script = attach_asset(session, store, episode, media / "script.txt", "script")

    with db.session() as session:
        assets = {
            link.role: session.get_one(MediaAsset, link.asset_id)
            for link in (dialogue, music, script)
        }
        actions = session.exec(select(AuditEvent.action)).all()
    assert assets["dialogue_stem"].kind == assets["music_effects_stem"].kind == "audio"
    assert assets["dialogue_stem"].duration_s == pytest.approx(2.0, abs=0.05)
    assert assets["dialogue_stem"].mime_type == "audio/wav"
    assert (assets["script"].kind, assets["script"].mime_type) == ("text", "text/plain")
    assert store.path_for(assets["script"].sha256).read_text().startswith("INT. PENTHOUSE")
    assert sorted(actions) == ["episode.asset_attached"] * 3 + ["episode.created"]
    assert temp_files(store) == []


def test_attaching_again_replaces_only_a_different_file(
    db: Database, store: MediaStore, media: Path
) -> None:
    with db.transaction() as session:
        episode = ingest(session, store, media / "good.mp4").episode
        first = attach_asset(session, store, episode, media / "dialogue.wav", "dialogue_stem")
        link_id, first_asset_id = first.id, first.asset_id
        same = attach_asset(session, store, episode, media / "dialogue.wav", "dialogue_stem")
        assert (same.id, same.asset_id) == (link_id, first_asset_id)
        other = attach_asset(session, store, episode, media / "music.wav", "dialogue_stem")

    assert other.id == link_id and other.asset_id != first_asset_id
    with db.session() as session:
        actions = session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all()
    assert actions == ["episode.created", "episode.asset_attached", "episode.asset_replaced"]


@pytest.mark.parametrize(
    ("file", "role", "error", "phrase"),
    [
        ("script-latin1.txt", "script", MediaRejected, "is not UTF-8 text"),
        ("notes.mp4", "dialogue_stem", MediaRejected, "notes.mp4 is not a video file"),
        ("landscape.mp4", "music_effects_stem", MediaRejected, "has no audio stream"),
        ("dialogue.wav", "master", InvalidInput, "use one of: dialogue_stem"),
        ("dialogue.wav", "poster", InvalidInput, "Cannot attach a file as 'poster'"),
    ],
)
def test_a_rejected_attachment_leaves_nothing_behind(
    db: Database,
    store: MediaStore,
    media: Path,
    file: str,
    role: str,
    error: type[Exception],
    phrase: str,
) -> None:
    with db.transaction() as session:
        episode = ingest(session, store, media / "good.mp4").episode
    before, objects = counts(db), stored_objects(store)

    with pytest.raises(error, match=phrase), db.transaction() as session:
        attach_asset(session, store, episode, media / file, role)

    assert counts(db) == before
    assert stored_objects(store) == objects and temp_files(store) == []


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("The Contract Bride", "the-contract-bride"),
        ("Amor Prohibído", "amor-prohibido"),
        ("霸道总裁 2", "霸道总裁-2"),
        ("!!!", "series"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_split_tropes_drops_blanks() -> None:
    assert split_tropes(" CEO, contract marriage,, ") == ["CEO", "contract marriage"]
    assert split_tropes(None) == []
