"""Localize one episode into one language: translate, subtitle, dub, mix, render.

Each stage's result is cached by the hash of its inputs (see localization.cache), so a
rerun, or a job resumed after its worker was killed, redoes only what is missing.
Lines live in the database as SubtitleLine rows: a line a reviewer edited keeps its
text, and later stages read the lines from there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from sqlmodel import Session, col, delete, select

from hookline.clock import utcnow
from hookline.ingest import store_output
from hookline.models import (
    CutKind,
    Localization,
    LocalizationStatus,
    LocalizedCut,
    MediaAsset,
    StageOutput,
    SubtitleLine,
    Transcript,
)
from localization import cache, casting, editing
from localization.audio import Clip, decode_wav, write_wav
from localization.fitting import Slot, apply_fit, plan_fits
from localization.mixing import (
    CORRECTION_LU,
    TRUE_PEAK_MARGIN_DB,
    build_dub_stem,
    mix,
    mix_at_level,
    normalize_loudness,
)
from localization.render import burn_in, mux_soft_subbed, mux_subtitled
from localization.rules import rules_for
from localization.segmentation import Cue
from localization.source import transcript_lines
from localization.speech import Utterance
from localization.subtitles import write as write_subtitles
from localization.translation import (
    MAX_BORROW_S,
    LineRequest,
    char_budget,
    choose_translator,
)
from localization.tts import Voice, measure_rate, synthesizer_for
from localization.workspace import EpisodeMedia, Workspace

log = logging.getLogger(__name__)

# Where each stage ends on the job's progress bar.
PROGRESS = {"translate": 0.25, "subtitles": 0.3, "dub": 0.7, "render": 0.85, "burn": 1.0}
SUBTITLE_FORMATS = {
    "srt": CutKind.SUBTITLES_SRT,
    "vtt": CutKind.SUBTITLES_VTT,
    "ass": CutKind.SUBTITLES_ASS,
}


@dataclass(frozen=True)
class Request:
    episode_id: int
    language: str
    dub: bool = True
    burn: bool = False
    redub: bool = False  # a re-run after a reviewer's edits


@dataclass(frozen=True)
class Line:
    """A line as the later stages see it (the database row, read once)."""

    id: int
    position: int
    start: float
    end: float
    speaker: str | None
    text: str


def localize(ws: Workspace, media: EpisodeMedia, transcript_id: int, request: Request) -> None:
    """Run every stage for ``request``; the localization ends ready for review."""
    source_language = media.series.source_language
    is_source = request.language == source_language
    with ws.db.transaction() as session:
        loc = _localization(session, media, request, is_source)
        source = transcript_lines(session, transcript_id)
        heard_warnings = session.get_one(Transcript, transcript_id).params.get("warnings", [])
    if is_source:
        texts = [_Result(u.text) for u in source]
    else:
        texts = _translate(ws, media, source, request)
    lines = _sync_lines(ws, loc.id, source, texts)
    _subtitles(ws, media, loc.id, lines, request.language)
    for message in heard_warnings:
        warn(ws, loc.id, message)
    audio = (
        _dub(ws, media, loc.id, lines, request.language) if request.dub and not is_source else None
    )
    subtitle_files = _cut_paths(ws, loc.id, (CutKind.SUBTITLES_SRT,))
    _render(ws, media, loc.id, request.language, audio, subtitle_files)
    if request.burn:
        _burn(ws, media, loc.id, audio)
    _finish(ws, loc.id)


# -- the localization row ---------------------------------------------------------------


def _localization(
    session: Session, media: EpisodeMedia, request: Request, is_source: bool
) -> Localization:
    loc = session.exec(
        select(Localization).where(
            Localization.episode_id == request.episode_id, Localization.language == request.language
        )
    ).first() or Localization(episode_id=request.episode_id, language=request.language)
    loc.is_source = is_source
    loc.status = LocalizationStatus.RUNNING
    loc.options = {"dub": request.dub and not is_source, "burn": request.burn}
    loc.error = None
    loc.updated_at = utcnow()
    session.add(loc)
    session.flush()
    return loc


def set_stage(ws: Workspace, localization_id: int, stage: str, fraction: float) -> None:
    """Show the stage on the localization and the job's progress bar."""
    with ws.db.transaction() as session:
        loc = session.get_one(Localization, localization_id)
        loc.stage, loc.progress, loc.updated_at = stage, round(100 * fraction, 1), utcnow()
        session.add(loc)
    ws.report(fraction, stage)


def _finish(ws: Workspace, localization_id: int) -> None:
    with ws.db.transaction() as session:
        loc = session.get_one(Localization, localization_id)
        loc.status = LocalizationStatus.NEEDS_REVIEW
        loc.stage, loc.progress, loc.updated_at = "done", 100.0, utcnow()
        session.add(loc)
    ws.report(1.0, "done")


# -- translation ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Result:
    text: str
    needs_human: bool = False
    note: str = ""


def _translate(
    ws: Workspace, media: EpisodeMedia, source: Sequence[Utterance], request: Request
) -> list[_Result]:
    ws.report(0.02, "translating")
    budgets = _budgets(ws, media, source, request)
    bible = media.bible
    with choose_translator(ws.settings, media.series.source_language, request.language) as tr:
        key = cache.stage_key(
            "translate",
            {
                "lines": [(u.text, u.speaker) for u in source],
                "budgets": budgets,
                "bible": bible.to_dict(),
                "target": request.language,
                "backend": tr.name,
            },
        )
        with ws.db.session() as session:
            found = cache.lookup(session, key)
        if found is None:
            requests = [
                LineRequest(i, u.text, u.speaker, budget)
                for i, (u, budget) in enumerate(zip(source, budgets, strict=True))
            ]
            results = tr.translate(
                requests, source=media.series.source_language, target=request.language, bible=bible
            )
            found = {"lines": [_result_dict(r) for r in results], "backend": tr.name}
            with ws.db.transaction() as session:
                cache.remember(
                    session,
                    key,
                    "translate",
                    found,
                    episode_id=media.episode.id,
                    language=request.language,
                )
    return [_Result(**line) for line in found["lines"]]


def _result_dict(result: Any) -> dict[str, Any]:
    notes = [result.note] if result.note else []
    if result.over_budget:
        notes.append("longer than its time slot allows")
    notes += list(result.glossary_problems)
    flagged = result.needs_human or bool(result.glossary_problems)
    return {"text": result.text, "needs_human": flagged, "note": "; ".join(notes)}


def _budgets(
    ws: Workspace, media: EpisodeMedia, source: Sequence[Utterance], request: Request
) -> list[int | None]:
    """Characters each line may take: its slot, the silence after it, the voice's pace."""
    rates = _speaking_rates(ws, media, source, request.language) if request.dub else {}
    budgets: list[int | None] = []
    for index, line in enumerate(source):
        following = source[index + 1].start if index + 1 < len(source) else media.duration_s
        borrow = max(0.0, min(MAX_BORROW_S, following - line.end))
        rate = rates.get(line.speaker)
        budgets.append(
            char_budget(line.end - line.start, borrow_s=borrow, chars_per_s=rate) if rate else None
        )
    return budgets


def _speaking_rates(
    ws: Workspace, media: EpisodeMedia, source: Sequence[Utterance], language: str
) -> dict[str | None, float]:
    voices = _voices(ws, media, [u.speaker for u in source], language)
    return {
        speaker: measure_rate(synthesizer_for(voice, ws.settings), voice, language)
        for speaker, voice in voices.items()
    }


def _voices(
    ws: Workspace, media: EpisodeMedia, speakers: Sequence[str | None], language: str
) -> dict[str | None, Voice]:
    with ws.db.transaction() as session:
        characters = [session.merge(c) for c in media.characters]
        return casting.voices_for(session, characters, speakers, language)


# -- lines in the database --------------------------------------------------------------


def _sync_lines(
    ws: Workspace, localization_id: int, source: Sequence[Utterance], texts: Sequence[_Result]
) -> list[Line]:
    """Write the lines, keeping any a person has edited; return them as stored."""
    with ws.db.transaction() as session:
        rows = _line_rows(session, localization_id)
        edited = any(row.updated_by_id is not None for row in rows)
        if len(rows) != len(source) and not edited:
            session.exec(
                delete(SubtitleLine).where(col(SubtitleLine.localization_id) == localization_id)
            )
            rows = []
        if not rows:
            rows = [
                SubtitleLine(localization_id=localization_id, position=i)
                for i in range(len(source))
            ]
        for row, utterance, result in zip(rows, source, texts, strict=False):
            _fill(row, utterance, result)
            session.add(row)
        session.flush()
        return [Line(r.id, r.position, r.start_s, r.end_s, r.speaker, r.text) for r in rows]  # type: ignore[arg-type]


def _fill(row: SubtitleLine, utterance: Utterance, result: _Result) -> None:
    row.source_text = utterance.text
    if row.updated_by_id is not None:
        return  # a reviewer's edit stands: only they change this line
    row.start_s, row.end_s, row.speaker = utterance.start, utterance.end, utterance.speaker
    row.text, row.needs_human, row.note = result.text, result.needs_human, result.note


def _line_rows(session: Session, localization_id: int) -> list[SubtitleLine]:
    return list(
        session.exec(
            select(SubtitleLine)
            .where(SubtitleLine.localization_id == localization_id)
            .order_by(col(SubtitleLine.position))
        )
    )


# -- subtitles --------------------------------------------------------------------------


def _subtitles(
    ws: Workspace, media: EpisodeMedia, localization_id: int, lines: Sequence[Line], language: str
) -> list[Cue]:
    set_stage(ws, localization_id, "subtitles", PROGRESS["translate"])
    rules = rules_for(language, ws.settings.subtitle_profile)
    with ws.db.transaction() as session:
        loc = session.get_one(Localization, localization_id)
        loc.profile = rules.profile
        cues = editing.recheck(session, loc)
    files = {}
    for fmt in SUBTITLE_FORMATS:
        path = ws.folder / f"{language}.{fmt}"
        write_subtitles(cues, path, fmt, language=language, rules=rules)
        files[fmt] = path
    with ws.db.transaction() as session:
        for fmt, path in files.items():
            asset = store_output(session, ws.store, path, kind="subtitle", name=path.name)
            _set_cut(session, localization_id, SUBTITLE_FORMATS[fmt], asset, "")
    return cues


def _set_cut(
    session: Session, localization_id: int, kind: CutKind, asset: MediaAsset, inputs_hash: str
) -> LocalizedCut:
    cut = session.exec(
        select(LocalizedCut).where(
            LocalizedCut.localization_id == localization_id, LocalizedCut.kind == kind
        )
    ).first() or LocalizedCut(localization_id=localization_id, kind=kind, asset_id=asset.id)
    cut.asset_id, cut.inputs_hash, cut.created_at = asset.id, inputs_hash, utcnow()  # type: ignore[assignment]
    session.add(cut)
    session.flush()
    return cut


def _cut_paths(ws: Workspace, localization_id: int, kinds: Sequence[CutKind]) -> list[Path]:
    with ws.db.session() as session:
        rows = session.exec(
            select(LocalizedCut, MediaAsset)
            .join(MediaAsset, col(MediaAsset.id) == LocalizedCut.asset_id)
            .where(
                LocalizedCut.localization_id == localization_id, col(LocalizedCut.kind).in_(kinds)
            )
        ).all()
    return [ws.path(asset) for _, asset in rows]


# -- dubbing ----------------------------------------------------------------------------


def _dub(
    ws: Workspace, media: EpisodeMedia, localization_id: int, lines: Sequence[Line], language: str
) -> Path:
    """Voice every line, fit it to its slot, mix over the music; return the mixed audio."""
    set_stage(ws, localization_id, "dubbing", PROGRESS["subtitles"])
    bed = _music_bed(ws, media, localization_id)
    voices = _voices(ws, media, [line.speaker for line in lines], language)
    clips = _voice_lines(ws, media, localization_id, lines, voices, language)
    slots = [Slot(i, line.start, line.end) for i, line in enumerate(lines)]
    fits = plan_fits(
        slots,
        [c.duration_s for c in clips],
        episode_s=media.duration_s,
        max_stretch=ws.settings.max_stretch,
    )
    key = cache.stage_key(
        "dub",
        {
            "clips": [_clip_key(voices[line.speaker], line.text) for line in lines],
            "fits": [fit.as_dict() for fit in fits],
            "bed": (bed or media.master).sha256,
            "stem": bed is not None,
            "loudness": [ws.settings.loudness_lufs, ws.settings.true_peak_dbtp],
        },
    )
    with ws.db.session() as session:
        found = cache.lookup(session, key)
    if found is None:
        keys = [_clip_key(voices[line.speaker], line.text) for line in lines]
        last = _last_levels(ws, media.episode.id, language)
        found = _mix(ws, media, localization_id, clips, keys, fits, language, bed, last)
        with ws.db.transaction() as session:
            cache.remember(
                session, key, "dub", found, episode_id=media.episode.id, language=language
            )
    with ws.db.transaction() as session:
        _save_fits(session, localization_id, fits)
    return ws.store.path_for(found["mix"])


def _music_bed(ws: Workspace, media: EpisodeMedia, localization_id: int) -> MediaAsset | None:
    """Return the music-and-effects stem if it decodes; else warn and duck the original."""
    stem = media.music_effects
    if stem is None or decodes(ws.path(stem)):
        return stem
    warn(
        ws,
        localization_id,
        f"the music & effects stem ({stem.original_name}) cannot be "
        "decoded; the dub was mixed over the ducked original instead. Re-attach the stem.",
    )
    return None


def decodes(path: Path) -> bool:
    """Return whether every packet of the file's audio decodes."""
    try:
        with av.open(str(path)) as container:
            for _ in container.decode(audio=0):
                pass
    except (av.FFmpegError, OSError, IndexError):  # unreadable, truncated or no audio stream
        return False
    return True


def warn(ws: Workspace, localization_id: int, message: str) -> None:
    """Add a note to the localization's QC report (shown to the reviewer)."""
    log.warning("localization %s: %s", localization_id, message)
    with ws.db.transaction() as session:
        loc = session.get_one(Localization, localization_id)
        notes = [*loc.qc_summary.get("notes", []), message]
        loc.qc_summary = {**loc.qc_summary, "notes": list(dict.fromkeys(notes))}
        session.add(loc)


def _voice_lines(
    ws: Workspace,
    media: EpisodeMedia,
    localization_id: int,
    lines: Sequence[Line],
    voices: dict[str | None, Voice],
    language: str,
) -> list[Clip]:
    """Speak each line (a line already voiced with the same text and voice is reused)."""
    clips = []
    for number, line in enumerate(lines, start=1):
        voice = voices[line.speaker]
        clips.append(_spoken(ws, media, line, voice, language))
        share = PROGRESS["subtitles"] + 0.25 * number / max(1, len(lines))
        ws.report(share, f"voicing line {number} of {len(lines)}")
    return clips


def _clip_key(voice: Voice, text: str) -> str:
    return cache.stage_key("voice", {"voice": voice.as_dict(), "text": text})


def _spoken(ws: Workspace, media: EpisodeMedia, line: Line, voice: Voice, language: str) -> Clip:
    if not line.text.strip():
        return Clip(_silence(), 48_000)
    key = _clip_key(voice, line.text)
    with ws.db.session() as session:
        found = cache.lookup(session, key)
    if found is not None and ws.store.exists(found["sha256"]):
        return _read_clip(ws.store.path_for(found["sha256"]))
    clip = synthesizer_for(voice, ws.settings).synthesize(line.text, voice)
    path = ws.folder / f"line-{line.position}.wav"
    write_wav(path, clip.samples, clip.sample_rate)
    with ws.db.transaction() as session:
        asset = store_output(
            session, ws.store, path, kind="audio", name=path.name, facts=_wav_facts(clip)
        )
        cache.remember(
            session,
            key,
            "voice",
            {"sha256": asset.sha256},
            episode_id=media.episode.id,
            language=language,
        )
        row = session.get_one(SubtitleLine, line.id)
        row.dub_asset_id = asset.id
        session.add(row)
    return clip


def _wav_facts(clip: Clip) -> dict[str, Any]:
    """What the store would probe from a mono WAV that write_wav made of ``clip``."""
    return {
        "extension": "wav",
        "mime_type": "audio/wav",
        "duration_s": clip.duration_s,
        "audio_codec": "pcm_s16le",
        "audio_channels": 1,
        "sample_rate": clip.sample_rate,
    }


def _read_clip(path: Path) -> Clip:
    """A stored line or fitted clip: WAV that Hookline wrote, read without an ffmpeg run."""
    return decode_wav(path.read_bytes())


def _silence():
    import numpy as np

    return np.zeros(0, dtype=np.float32)


def _mix(
    ws: Workspace,
    media: EpisodeMedia,
    localization_id: int,
    clips: Sequence[Clip],
    keys: Sequence[str],
    fits: Sequence[Any],
    language: str,
    bed: MediaAsset | None,
    last: dict[str, Any],
) -> dict[str, Any]:
    """Fit, place, mix and normalize the voiced lines; return the stage's output."""
    ffmpeg = ws.settings.ffmpeg or None
    # Each stretch is its own small ffmpeg run: two at a time keep both cores busy.
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = zip(clips, keys, fits, strict=True)
        fitted = list(pool.map(lambda job: _fitted(ws, media, language, *job), jobs))
    placed = [(fit.start, clip) for clip, fit in zip(fitted, fits, strict=True)]
    set_stage(ws, localization_id, "mixing", PROGRESS["subtitles"] + 0.3)
    stem = ws.folder / f"dub-stem-{language}.wav"
    write_wav(stem, build_dub_stem(placed, media.duration_s))
    # AAC straight away: the soft-subbed cut then copies it (a mux, no encode), and the
    # loudness measured after normalizing is that of what viewers hear.
    mixed, final = ws.folder / f"dub-mix-{language}.wav", ws.folder / f"dub-{language}.m4a"
    under = (
        {"music_effects": ws.path(bed)} if bed is not None else {"original": ws.path(media.master)}
    )
    levels = _at_last_level(ws, stem, final, under, last) if "gain_db" in last else None
    if levels is None:
        measured = mix(stem, mixed, **under, ffmpeg=ffmpeg)
        done = normalize_loudness(
            mixed,
            final,
            lufs=ws.settings.loudness_lufs,
            true_peak=ws.settings.true_peak_dbtp,
            ffmpeg=ffmpeg,
            measured=measured,
            makeup_db=float(last.get("makeup_db", 0.0)),
        )
        ceiling = ws.settings.true_peak_dbtp - TRUE_PEAK_MARGIN_DB if done.limited else None
        levels = {"gain_db": done.gain_db, "ceiling_db": ceiling, "makeup_db": done.makeup_db}
    with ws.db.transaction() as session:
        asset = store_output(session, ws.store, final, kind="audio", name=final.name)
        _set_cut(session, localization_id, CutKind.DUB_STEM, asset, "")
    return {"mix": asset.sha256, **{k: _rounded(v) for k, v in levels.items()}}


def _at_last_level(
    ws: Workspace, stem: Path, final: Path, under: dict[str, Path], last: dict[str, Any]
) -> dict[str, Any] | None:
    """Mix a re-dub at the level the last mix needed, if that still lands on target."""
    loudness = mix_at_level(
        stem,
        final,
        gain_db=float(last["gain_db"]),
        ceiling_db=last.get("ceiling_db"),
        ffmpeg=ws.settings.ffmpeg or None,
        **under,
    )
    on_target = abs(loudness.integrated - ws.settings.loudness_lufs) <= CORRECTION_LU
    peaks_ok = loudness.true_peak <= ws.settings.true_peak_dbtp - TRUE_PEAK_MARGIN_DB + 0.1
    if not (on_target and peaks_ok):
        log.info("re-dub moved the loudness to %.1f LUFS: normalizing again", loudness.integrated)
        return None
    return {k: last.get(k) for k in ("gain_db", "ceiling_db", "makeup_db")}


def _rounded(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def _fitted(ws: Workspace, media: EpisodeMedia, language: str, clip: Clip, key: str, fit) -> Clip:
    """Stretch and trim a voiced line to its slot; a stretch made before is read back."""
    if not fit.stretches:
        return apply_fit(clip, fit)  # a trim at most: cheaper than a lookup
    fit_key = cache.stage_key("fit", {"clip": key, "fit": fit.as_dict()})
    with ws.db.session() as session:
        found = cache.lookup(session, fit_key)
    if found is not None and ws.store.exists(found["sha256"]):
        return _read_clip(ws.store.path_for(found["sha256"]))
    fitted = apply_fit(clip, fit, ffmpeg=ws.settings.ffmpeg or None)
    if not len(fitted.samples):
        return fitted
    path = ws.folder / f"fit-{fit_key[:16]}.wav"
    write_wav(path, fitted.samples, fitted.sample_rate)
    with ws.db.transaction() as session:
        asset = store_output(
            session, ws.store, path, kind="audio", name=path.name, facts=_wav_facts(fitted)
        )
        cache.remember(
            session,
            fit_key,
            "fit",
            {"sha256": asset.sha256},
            episode_id=media.episode.id,
            language=language,
        )
    return fitted


def _last_levels(ws: Workspace, episode_id: int, language: str) -> dict[str, Any]:
    """The gain, limiter ceiling and make-up the last mix of this language needed."""
    with ws.db.session() as session:
        last = session.exec(
            select(StageOutput)
            .where(
                StageOutput.stage == "dub",
                StageOutput.episode_id == episode_id,
                StageOutput.language == language,
            )
            .order_by(col(StageOutput.id).desc())
        ).first()
    return dict(last.data) if last is not None else {}


def _save_fits(session: Session, localization_id: int, fits: Sequence[Any]) -> None:
    for row, fit in zip(_line_rows(session, localization_id), fits, strict=False):
        row.dub_stretch = round(fit.stretch, 3)
        row.dub_overflow_s = round(fit.overflow_s, 3)
        if fit.flagged and row.updated_by_id is None:
            row.needs_human = True
            row.note = "; ".join(n for n in (row.note, f"dub: {fit.note}") if n)
        session.add(row)


# -- rendering --------------------------------------------------------------------------


def _render(
    ws: Workspace,
    media: EpisodeMedia,
    localization_id: int,
    language: str,
    audio: Path | None,
    subtitle_files: Sequence[Path],
) -> None:
    set_stage(ws, localization_id, "rendering", PROGRESS["dub"])
    master = ws.path(media.master)
    subtitles = [(path, language) for path in subtitle_files]
    span = PROGRESS["render"] - PROGRESS["dub"]
    ffmpeg = ws.settings.ffmpeg or None

    def progress(fraction: float) -> None:
        ws.report(PROGRESS["dub"] + span * fraction, "rendering")

    def make(out: Path) -> None:
        if audio is None:
            mux_subtitled(
                master,
                subtitles,
                out,
                original_language=media.series.source_language,
                ffmpeg=ffmpeg,
                progress=progress,
            )
        else:
            mux_soft_subbed(
                master,
                audio,
                master,
                subtitles,
                out,
                language=language,
                original_language=media.series.source_language,
                ffmpeg=ffmpeg,
                progress=progress,
            )

    inputs = {
        "master": media.master.sha256,
        "audio": _sha(audio),
        "subtitles": [_sha(p) for p in subtitle_files],
    }
    name = f"{media.series.slug}-{media.episode.number:02d}-{language}.mp4"
    _render_once(ws, media, localization_id, "render", inputs, make, name, CutKind.SOFT_SUBBED)


def _burn(ws: Workspace, media: EpisodeMedia, localization_id: int, audio: Path | None) -> None:
    set_stage(ws, localization_id, "burning in subtitles", PROGRESS["render"])
    [ass] = _cut_paths(ws, localization_id, (CutKind.SUBTITLES_ASS,))
    master = ws.path(media.master)
    span = PROGRESS["burn"] - PROGRESS["render"]

    def make(out: Path) -> None:
        burn_in(
            master,
            audio or master,
            ass,
            out,
            ffmpeg=ws.settings.ffmpeg or None,
            progress=lambda f: ws.report(PROGRESS["render"] + span * f, "burning in subtitles"),
        )

    inputs = {"master": media.master.sha256, "audio": _sha(audio), "ass": _sha(ass)}
    language = _language(ws, localization_id)
    name = f"{media.series.slug}-{media.episode.number:02d}-{language}-social.mp4"
    _render_once(ws, media, localization_id, "burn", inputs, make, name, CutKind.BURNED_IN)


def _render_once(
    ws: Workspace,
    media: EpisodeMedia,
    localization_id: int,
    stage: str,
    inputs: dict[str, Any],
    make: Callable[[Path], None],
    name: str,
    kind: CutKind,
) -> None:
    """Render a cut unless the same inputs were rendered before; attach it either way."""
    key = cache.stage_key(stage, inputs)
    language = _language(ws, localization_id)
    with ws.db.session() as session:
        found = cache.lookup(session, key)
    if found is None or not ws.store.exists(found["sha256"]):
        out = ws.folder / name
        make(out)
        with ws.db.transaction() as session:
            asset = store_output(session, ws.store, out, kind="video", name=name)
            found = {"sha256": asset.sha256}
            cache.remember(
                session, key, stage, found, episode_id=media.episode.id, language=language
            )
    with ws.db.transaction() as session:
        asset = session.exec(select(MediaAsset).where(MediaAsset.sha256 == found["sha256"])).one()
        _set_cut(session, localization_id, kind, asset, key)


def _language(ws: Workspace, localization_id: int) -> str:
    with ws.db.session() as session:
        return session.get_one(Localization, localization_id).language


def _sha(path: Path | None) -> str | None:
    """Return the content hash of a stored file (its name in the store)."""
    return path.name if path is not None else None
