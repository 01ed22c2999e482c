"""The source side of an episode: its transcript, once, and its source-language track.

Transcription runs once per episode whatever the number of languages: its result is
a Transcript row keyed by the hash of its inputs (audio, script, model, language,
hotwords), which every language job reuses. The studio's script, when attached,
gives the lines' exact text; Whisper's words give their timing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlmodel import Session, col, select

from hookline.models import Transcript, TranscriptSegment, TranscriptWord
from hookline.settings import Settings
from localization import cache
from localization.alignment import ScriptLine, align, parse_plain_script
from localization.boundaries import Edges, snap, speech_regions
from localization.errors import BadAudio
from localization.speech import Utterance, Word
from localization.subtitles import read_cues
from localization.transcription import Transcription, load_transcriber, resolve_model
from localization.workspace import EpisodeMedia, Workspace

log = logging.getLogger(__name__)

SUBTITLE_SCRIPTS = {".srt", ".vtt", ".ass", ".ssa"}
SILENT_DB = -60.0
MIN_SPEECH_S = 0.5


@dataclass(frozen=True)
class Heard:
    """The audio a transcript was made from, with what VAD found in it."""

    path: Path
    samples: np.ndarray  # 16 kHz mono
    regions: list[tuple[float, float]]
    warnings: tuple[str, ...]


def transcript_key(settings: Settings, media: EpisodeMedia) -> str:
    """Return the cache key of this episode's transcript with today's settings."""
    audio = media.dialogue or media.master
    return cache.stage_key(
        "transcribe",
        {
            "audio": audio.sha256,
            "script": media.script.sha256 if media.script else None,
            "model": settings.whisper_model,
            "compute": settings.whisper_compute_type,
            "language": media.series.source_language,
            "hotwords": media.hotwords,
        },
    )


def find_transcript(session: Session, episode_id: int, key: str) -> Transcript | None:
    return session.exec(
        select(Transcript).where(Transcript.episode_id == episode_id, Transcript.inputs_hash == key)
    ).first()


def transcribe(ws: Workspace, media: EpisodeMedia) -> Transcript:
    """Return the episode's transcript, making it (ASR, script alignment) if it is missing."""
    key = transcript_key(ws.settings, media)
    with ws.db.session() as session:
        found = find_transcript(session, media.episode.id, key)
    if found is not None:
        return found
    heard = listen(ws, media)
    ws.report(0.05, "transcribing")
    result = _recognize(ws, media, heard.path)
    lines, source = _lines(ws, media, result, heard)
    with ws.db.transaction() as session:
        transcript = find_transcript(session, media.episode.id, key) or _save(
            session, media, key, result, lines, source, heard.warnings
        )
    return transcript


def listen(ws: Workspace, media: EpisodeMedia) -> Heard:
    """Decode the audio to transcribe, refusing audio that holds no speech."""
    from faster_whisper import decode_audio

    warnings: list[str] = []
    candidates = [a for a in (media.dialogue, media.master) if a is not None]
    for asset in candidates:
        path = ws.path(asset)
        if asset is media.master and not asset.audio_codec:
            raise BadAudio(
                f"The master of episode {media.episode.number} has no audio stream: there is "
                "nothing to transcribe or dub. Re-export it with its soundtrack, or attach a "
                "dialogue stem."
            )
        try:
            samples = decode_audio(str(path), sampling_rate=16_000)
        except (OSError, ValueError) as exc:  # PyAV's errors derive from these
            warnings.append(f"the dialogue stem could not be decoded ({exc}); used the master")
            continue
        return Heard(path, samples, _speech(samples, media), tuple(warnings))
    raise BadAudio(f"No audio of episode {media.episode.number} could be decoded.")


def _speech(samples: np.ndarray, media: EpisodeMedia) -> list[tuple[float, float]]:
    level = 10 * np.log10(float(np.mean(np.square(samples))) + 1e-12) if samples.size else -120
    if level < SILENT_DB:
        raise BadAudio(
            f"The audio of episode {media.episode.number} is silent ({level:.0f} dBFS): check "
            "the master's soundtrack (a muted export?) or attach the dialogue stem."
        )
    regions = speech_regions(samples)
    if sum(end - start for start, end in regions) < MIN_SPEECH_S:
        raise BadAudio(
            f"No speech was found in the audio of episode {media.episode.number} (music only?). "
            "Localize episodes with dialogue, or attach the dialogue stem."
        )
    return regions


def _recognize(ws: Workspace, media: EpisodeMedia, audio: Path) -> Transcription:
    settings = ws.settings
    model = resolve_model(settings.whisper_model, settings.models_dir)  # type: ignore[arg-type]
    transcriber = load_transcriber(model, settings.whisper_device, settings.whisper_compute_type)
    return transcriber.transcribe(
        audio,
        language=media.series.source_language or None,
        hotwords=media.hotwords,
        progress=lambda f: ws.report(0.05 + 0.85 * f, "transcribing"),
    )


def _lines(
    ws: Workspace, media: EpisodeMedia, result: Transcription, heard: Heard
) -> tuple[list[Utterance], str]:
    """Return the dialogue lines: the script's, aligned, or Whisper's own."""
    if media.script is None:
        return snap(result.utterances, heard.regions), "asr"
    ws.report(0.92, "aligning the script")
    script = read_script(ws.path(media.script), media.script.original_name)
    aligned = align(script, result.words, duration_s=result.duration_s)
    edges = [Edges(a.open_start, a.open_end) for a in aligned]
    return snap([a.utterance for a in aligned], heard.regions, edges), "script"


def read_script(path: Path, name: str) -> list[ScriptLine]:
    """Read a studio script: SRT, WebVTT or ASS by extension, else plain text lines."""
    suffix = Path(name).suffix.lower()
    if suffix in SUBTITLE_SCRIPTS:
        return [
            ScriptLine(cue.text.replace("\n", " "), cue.speaker, cue.start, cue.end)
            for cue in read_cues(path, fmt=suffix.lstrip("."))
        ]
    return parse_plain_script(path.read_text(encoding="utf-8"))


def _save(
    session: Session,
    media: EpisodeMedia,
    key: str,
    result: Transcription,
    lines: list[Utterance],
    source: str,
    warnings: tuple[str, ...],
) -> Transcript:
    transcript = Transcript(
        episode_id=media.episode.id,
        language=result.language,
        source=source,
        model=result.model,
        inputs_hash=key,
        params={"language_probability": result.language_probability, "warnings": list(warnings)},
    )
    session.add(transcript)
    session.flush()
    for position, line in enumerate(lines):
        segment = TranscriptSegment(
            transcript_id=transcript.id,
            position=position,
            start_s=line.start,
            end_s=line.end,
            text=line.text,
            speaker=line.speaker,
        )
        session.add(segment)
        session.flush()
        session.add_all(
            TranscriptWord(
                segment_id=segment.id,
                position=i,
                start_s=w.start,
                end_s=w.end,
                text=w.text[:200],
                probability=w.probability,
            )
            for i, w in enumerate(line.words)
        )
    session.flush()
    return transcript


def transcript_lines(session: Session, transcript_id: int) -> list[Utterance]:
    """Return a transcript's lines with their words, in order."""
    segments = session.exec(
        select(TranscriptSegment)
        .where(TranscriptSegment.transcript_id == transcript_id)
        .order_by(col(TranscriptSegment.position))
    ).all()
    words: dict[int, list[Word]] = {}
    rows = session.exec(
        select(TranscriptWord)
        .where(col(TranscriptWord.segment_id).in_([s.id for s in segments]))
        .order_by(col(TranscriptWord.segment_id), col(TranscriptWord.position))
    ).all()
    for row in rows:
        words.setdefault(row.segment_id, []).append(
            Word(row.text, row.start_s, row.end_s, row.probability)
        )
    return [
        Utterance(s.start_s, s.end_s, s.text, s.speaker, tuple(words.get(s.id or 0, ())))
        for s in segments
    ]
