"""Dubbing a 60 s 1080x1920 episode after translation: speak, fit, mix, normalise, package.

Run with ``make bench``. Times each stage for 24 Spanish lines spoken with espeak-ng,
a third of them too long for their slots; the master is made beforehand and not timed.
Both mixes are timed (over stems, and ducking the original), and both cuts (soft
subtitles with the picture copied, burned-in subtitles re-encoded).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from hookline import ffmpeg
from hookline.demo.soundtrack import music_bed
from localization import tts
from localization.audio import write_wav
from localization.fitting import Slot, apply_fit, plan_fits
from localization.mixing import build_dub_stem, mix, normalize_loudness
from localization.render import burn_in, mux_soft_subbed

from testkit import REPO

EPISODE_S = 60.0
LINES = 24
RESULTS = REPO / "bench-results"
SHORT = "Firma aquí y no preguntes nada."
LONG = "Si firmas este contrato serás mi esposa durante un año entero, sin preguntas ni quejas."


def make_master(folder: Path) -> tuple[Path, Path]:
    master, bed = folder / "master.mp4", folder / "music_effects.wav"
    write_wav(bed, music_bed(EPISODE_S, hit_at_s=EPISODE_S - 2))
    video = f"testsrc2=s=1080x1920:r=30:d={EPISODE_S}"
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    ffmpeg.run(["-f", "lavfi", "-i", video, "-i", bed, *x264, "-c:a", "aac", "-shortest", master])
    return master, bed


def subtitles(folder: Path, slots: list[Slot]) -> tuple[Path, Path]:
    srt, ass = folder / "es.srt", folder / "es.ass"
    cues = [
        f"{n + 1}\n{srt_time(s.start)} --> {srt_time(s.end)}\nLínea {n}.\n"
        for n, s in enumerate(slots)
    ]
    srt.write_text("\n".join(cues))
    events = [
        f"Dialogue: 0,{ass_time(s.start)},{ass_time(s.end)},Default,,0,0,0,,Línea {n}"
        for n, s in enumerate(slots)
    ]
    header = "[Script Info]\nScriptType: v4.00+\nPlayResX: 1080\nPlayResY: 1920\n\n[Events]\n"
    fields = "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    ass.write_text(header + fields + "\n".join(events) + "\n")
    return srt, ass


def srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def ass_time(seconds: float) -> str:
    cs = round(seconds * 100)
    return f"{cs // 360_000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def bench_dub_60s_episode(tmp_path: Path) -> None:
    master, bed = make_master(tmp_path)
    slots = [Slot(n, 1.0 + n * 2.4, 1.0 + n * 2.4 + 1.9) for n in range(LINES)]
    srt, ass = subtitles(tmp_path, slots)
    voice = tts.default_voice("es", "female", character="Lin")
    synth = tts.EspeakSynthesizer()
    timings: dict[str, float] = {}

    started = time.perf_counter()
    clips = [synth.synthesize(LONG if n % 3 == 1 else SHORT, voice) for n in range(LINES)]
    timings["speak"] = time.perf_counter() - started

    started = time.perf_counter()
    fits = plan_fits(slots, [c.duration_s for c in clips], episode_s=EPISODE_S)
    placed = [(f.start, apply_fit(c, f)) for f, c in zip(fits, clips, strict=True)]
    timings["fit"] = time.perf_counter() - started

    started = time.perf_counter()
    stem = tmp_path / "dub_stem.wav"
    write_wav(stem, build_dub_stem(placed, EPISODE_S))
    timings["stem"] = time.perf_counter() - started

    started = time.perf_counter()
    mix(stem, tmp_path / "mix.wav", music_effects=bed)
    timings["mix_stems"] = time.perf_counter() - started
    started = time.perf_counter()
    mix(stem, tmp_path / "ducked.wav", original=master)
    timings["mix_ducked"] = time.perf_counter() - started

    started = time.perf_counter()
    result = normalize_loudness(tmp_path / "mix.wav", tmp_path / "dub.wav")
    timings["normalize"] = time.perf_counter() - started

    started = time.perf_counter()
    mux_soft_subbed(
        master, tmp_path / "dub.wav", master, [(srt, "es")], tmp_path / "es.mp4", language="es"
    )
    timings["mux_soft_subbed"] = time.perf_counter() - started
    started = time.perf_counter()
    burn_in(master, tmp_path / "dub.wav", ass, tmp_path / "es-social.mp4")
    timings["burn_in"] = time.perf_counter() - started

    core = ("fit", "stem", "mix_stems", "normalize", "mux_soft_subbed")
    report = {key: round(value, 2) for key, value in timings.items()}
    report["fit_mix_normalize_mux"] = round(sum(timings[k] for k in core), 2)
    report["flagged_lines"] = sum(f.flagged for f in fits)
    report["loudness_after"] = [result.after.integrated, result.after.true_peak]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dub.json").write_text(json.dumps(report, indent=2))
    print(f"\ndub of a {EPISODE_S:.0f} s episode: {report}")
