"""The whole localization pipeline, as jobs, on a real short episode, on both databases.

Real Whisper (tiny.en), real translation (the tiny Argos models the tests train, and
Apertium), real espeak-ng dubbing, real ffmpeg mixing and rendering.
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from sqlmodel import col, func, select

from hookline.jobs import run_jobs
from hookline.models import (
    Character,
    CutKind,
    Job,
    Localization,
    LocalizedCut,
    MediaAsset,
    StageOutput,
    SubtitleLine,
    Transcript,
)
from hookline.storage import MediaStore
from localization import workflow
from localization.errors import UnsupportedLanguage
from localization.mixing import measure_loudness
from localization.translation import install_argos_package

from episodes import add_to_library, make_episode
from testkit import make_settings

pytestmark = pytest.mark.slow
MODULES = ["localization.jobs"]


@pytest.fixture(scope="module")
def episode_files(tmp_path_factory):
    return make_episode(tmp_path_factory.mktemp("episode"))


@pytest.fixture
def settings(db, tmp_path, tiny_archives):
    settings = make_settings(
        tmp_path,
        db.engine.url.render_as_string(hide_password=False),
        translators=("argos", "apertium"),
        localize_parallel=2,
    )
    for archive in tiny_archives.values():
        install_argos_package(archive, settings.models_dir / "argos")
    return settings


@pytest.fixture
def store(settings):
    return MediaStore(settings.media_root)


def localize(db, settings, episode_id, languages, **options):
    with db.transaction() as session:
        started = workflow.start(session, settings, episode_id, languages, **options)
    rows = run_jobs(db, settings, [j.id for j in started.jobs], parallel=2, modules=MODULES)
    return started, rows


def cuts(db, language):
    with db.session() as session:
        return {
            cut.kind: asset
            for cut, asset in session.exec(
                select(LocalizedCut, MediaAsset)
                .join(MediaAsset, col(MediaAsset.id) == LocalizedCut.asset_id)
                .join(Localization, col(Localization.id) == LocalizedCut.localization_id)
                .where(Localization.language == language)
            )
        }


def lines(db, language):
    with db.session() as session:
        return session.exec(
            select(SubtitleLine)
            .join(Localization, col(Localization.id) == SubtitleLine.localization_id)
            .where(Localization.language == language)
            .order_by(SubtitleLine.position)
        ).all()


def test_an_episode_is_transcribed_once_and_localized_into_each_language(
    db, settings, store, episode_files
):
    with db.transaction() as session:
        episode = add_to_library(session, store, episode_files)
    started, rows = localize(db, settings, episode.id, "es,ca", dub=True, burn=True)
    assert started.languages == ("en", "es", "ca")
    assert [r.status for r in rows] == ["succeeded"] * 4, [r.last_error for r in rows]

    with db.session() as session:
        assert session.exec(select(func.count()).select_from(Transcript)).one() == 1
        transcribe_jobs = session.exec(
            select(func.count()).select_from(Job).where(Job.kind == "localization.transcribe")
        ).one()
        assert transcribe_jobs == 1
        states = dict(session.exec(select(Localization.language, Localization.status)).all())
    assert states == {"en": "needs_review", "es": "needs_review", "ca": "needs_review"}

    # The script's exact text, its speakers, and the tiny model's memorized Spanish.
    assert [line.source_text for line in lines(db, "es")] == [t.text for t in episode_files.truth]
    assert [line.text for line in lines(db, "es")] == [
        "Firma el contrato.",
        "Nunca te quise.",
        "Dame el anillo.",
        "Conozco tu secreto.",
    ]
    assert all(line.text for line in lines(db, "ca"))  # es→ca through the en→es pivot
    assert all(line.cues for line in lines(db, "es"))


def test_the_rendered_cuts_are_valid_and_loud_enough(db, settings, store, episode_files):
    with db.transaction() as session:
        episode = add_to_library(session, store, episode_files)
    localize(db, settings, episode.id, "es", dub=True, burn=True)
    made = cuts(db, "es")
    assert set(made) == {
        CutKind.SUBTITLES_SRT,
        CutKind.SUBTITLES_VTT,
        CutKind.SUBTITLES_ASS,
        CutKind.DUB_STEM,
        CutKind.SOFT_SUBBED,
        CutKind.BURNED_IN,
    }
    soft = store.path_for(made[CutKind.SOFT_SUBBED].sha256)
    with av.open(str(soft)) as container:
        video, *audio = container.streams.video[0], *container.streams.audio
        subtitles = container.streams.subtitles
        assert video.codec_context.name == "h264"
        assert [a.codec_context.name for a in audio] == ["aac", "aac"]
        assert [a.metadata.get("language") for a in audio] == ["spa", "eng"]
        assert [s.metadata.get("language") for s in subtitles] == ["spa"]
    master = store.path_for(episode.master_asset_id and _master_sha(db, episode.master_asset_id))
    assert _video_packets(soft) == _video_packets(master)  # the picture was copied, not encoded
    burned = store.path_for(made[CutKind.BURNED_IN].sha256)
    with av.open(str(burned)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
    loudness = measure_loudness(store.path_for(made[CutKind.DUB_STEM].sha256))
    assert abs(loudness.integrated - settings.loudness_lufs) <= 1.0
    assert loudness.true_peak <= settings.true_peak_dbtp + 0.1
    srt = store.path_for(made[CutKind.SUBTITLES_SRT].sha256).read_text()
    assert "Firma el contrato." in srt


def _master_sha(db, asset_id):
    with db.session() as session:
        return session.get_one(MediaAsset, asset_id).sha256


def _video_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def test_dubbed_lines_never_overlap_and_voices_stay_with_their_characters(
    db, settings, store, episode_files
):
    with db.transaction() as session:
        episode = add_to_library(session, store, episode_files)
    localize(db, settings, episode.id, "es", dub=True)
    dubbed = lines(db, "es")
    assert all(line.dub_asset_id and line.dub_stretch is not None for line in dubbed)
    assert all(1.0 <= line.dub_stretch <= settings.max_stretch for line in dubbed)
    with db.session() as session:
        voices = {c.name: c.voices["es"] for c in session.exec(select(Character))}
    assert voices["Lena Hart"]["voice"] != voices["Adrian Cole"]["voice"]
    # A second episode of the series speaks with the same voices.
    with db.transaction() as session:
        second = add_to_library(session, store, episode_files, number=2)
    localize(db, settings, second.id, "es", dub=True)
    with db.session() as session:
        again = {c.name: c.voices["es"] for c in session.exec(select(Character))}
    assert again == voices


def test_a_rerun_reuses_every_finished_stage(db, settings, store, episode_files):
    with db.transaction() as session:
        episode = add_to_library(session, store, episode_files)
    localize(db, settings, episode.id, "es", dub=True)
    with db.session() as session:
        before = {s.key: s.created_at for s in session.exec(select(StageOutput))}
    first_cuts = {kind: asset.sha256 for kind, asset in cuts(db, "es").items()}
    localize(db, settings, episode.id, "es", dub=True)
    with db.session() as session:
        after = {s.key: s.created_at for s in session.exec(select(StageOutput))}
    assert after == before
    assert {kind: asset.sha256 for kind, asset in cuts(db, "es").items()} == first_cuts


def test_a_language_no_backend_translates_is_refused_naming_what_is_installed(
    db, settings, store, episode_files
):
    with db.transaction() as session:
        episode = add_to_library(session, store, episode_files)
    with pytest.raises(UnsupportedLanguage) as refused, db.transaction() as session:
        workflow.start(session, settings, episode.id, "es,xh")
    assert "en→xh" in refused.value.message and "apertium" in refused.value.message
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(Job)).one() == 0
