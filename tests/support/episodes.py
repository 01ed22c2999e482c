"""Short real episodes for pipeline tests: espeak dialogue over a music bed, on a small picture.

The lines come from the tiny Argos corpus, so the tiny en→es model translates them
right; the demo's cast voices them. Everything is real media: a 360x640 H.264 master
with AAC sound, the dialogue and music stems, and a plain-text script.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from hookline import ffmpeg
from hookline.demo.script import ADRIAN, LENA, EpisodeScript, Line
from hookline.demo.soundtrack import mix, music_bed, voice_dialogue, write_wav
from hookline.ingest import attach_asset, ingest_episode
from hookline.models import AssetRole, Character, Episode, Series, Term
from hookline.storage import MediaStore

LINES = (
    (ADRIAN, "Sign the contract."),
    (LENA, "I never loved you."),
    (ADRIAN, "Give me the ring."),
    (LENA, "I know your secret."),
)


@dataclass(frozen=True)
class EpisodeFiles:
    master: Path
    dialogue: Path
    music: Path
    script: Path
    duration_s: float
    truth: tuple  # the demo's TimedLine per line


def make_episode(
    folder: Path,
    *,
    lines=LINES,
    with_audio: bool = True,
    silent: bool = False,
    music_only: bool = False,
) -> EpisodeFiles:
    """Render a short episode into ``folder``; variants make the bad inputs."""
    folder.mkdir(parents=True, exist_ok=True)
    script = EpisodeScript(
        "Pipeline Test",
        1,
        "Test",
        "contract_marriage",
        (),
        tuple(Line(speaker, text) for speaker, text in lines),
    )
    dialogue, truth = voice_dialogue(script)
    duration = len(dialogue) / 48_000
    music = music_bed(duration, hit_at_s=duration - 1)
    files = EpisodeFiles(
        folder / "master.mp4",
        folder / "dialogue.wav",
        folder / "music.wav",
        folder / "script.txt",
        duration,
        truth,
    )
    write_wav(files.dialogue, dialogue)
    write_wav(files.music, music)
    soundtrack = folder / "mix.wav"
    write_wav(soundtrack, music if music_only else mix(dialogue, music) * (0 if silent else 1))
    files.script.write_text("".join(f"{t.speaker}: {t.text}\n" for t in truth))
    picture = ["-f", "lavfi", "-i", f"testsrc2=s=360x640:r=24:d={duration:.3f}"]
    sound = ["-i", soundtrack] if with_audio else []
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    codecs += ["-c:a", "aac", "-b:a", "128k", "-shortest"] if with_audio else ["-an"]
    ffmpeg.run([*picture, *sound, *codecs, "-movflags", "+faststart", files.master])
    return files


def add_to_library(
    session: Session,
    store: MediaStore,
    files: EpisodeFiles,
    *,
    number: int = 1,
    stems: bool = True,
    script: bool = True,
    title: str = "Pipeline Test",
) -> Episode:
    """Ingest the master, attach stems and script, and write the series bible."""
    result = ingest_episode(
        session,
        store,
        files.master,
        filename="master.mp4",
        series_title=title,
        episode_number=number,
        hook_type="contract_marriage",
    )
    episode = result.episode
    if stems:
        attach_asset(session, store, episode, files.dialogue, AssetRole.DIALOGUE_STEM)
        attach_asset(session, store, episode, files.music, AssetRole.MUSIC_EFFECTS_STEM)
    if script:
        attach_asset(session, store, episode, files.script, AssetRole.SCRIPT)
    series = session.get_one(Series, episode.series_id)
    if not session.exec(select(Character).where(Character.series_id == series.id)).first():
        session.add(Character(series_id=series.id, name=LENA.name, gender="female"))
        session.add(Character(series_id=series.id, name=ADRIAN.name, gender="male"))
        session.add(Term(series_id=series.id, term="Cole Group", kind="organisation"))
    session.flush()
    return episode
