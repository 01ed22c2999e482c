"""Render a demo episode: voiced dialogue, a music bed and a moving 9:16 picture.

The outputs are what a studio would hand Hookline: the master, its dialogue and
music-and-effects stems, and the script, plus ``lines.json`` with the true timing of
every line so tests and later stages can check themselves against it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hookline import ffmpeg as ffmpeg_tool
from hookline.demo import cards, soundtrack
from hookline.demo.script import EpisodeScript
from hookline.demo.soundtrack import TimedLine

FPS = 24
TITLE_S = 2.5
# Voicing takes a sliver of the time; ffmpeg's render is the rest of the progress bar.
VOICING_SHARE = 0.1
# ultrafast takes half the CPU of veryfast and looks the same on flat cards and gradients.
VIDEO_OPTIONS = (
    f"-c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p -r {FPS} -g {2 * FPS}".split()
)
AUDIO_OPTIONS = f"-c:a aac -b:a 160k -ar {soundtrack.SAMPLE_RATE} -ac 2".split()
# The index goes first so players and platforms can start before the download ends; no
# dates or tool versions go in, so a re-render gives the same bytes.
CONTAINER_OPTIONS = ["-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact"]
BITEXACT_CODECS = ["-flags:v", "+bitexact", "-flags:a", "+bitexact"]
# Deep wine, navy and plum: dark enough for white text, moody enough for a melodrama.
# Drawn at a quarter of the size and scaled up: a smooth gradient loses nothing, and the
# render is several times faster.
BACKGROUND = (
    "gradients=s=270x480:r={fps}:n=3:c0=0x4a0f2c:c1=0x0d1b3a:c2=0x2a0d45"
    ":x0=0:y0=0:x1=270:y1=480:speed=0.02:seed=1:d={duration:.3f}"
)


@dataclass(frozen=True)
class RenderedEpisode:
    episode: EpisodeScript
    master: Path
    dialogue: Path
    music_effects: Path
    script: Path
    lines_json: Path
    duration_s: float
    lines: tuple[TimedLine, ...]


def render_episode(
    episode_script: EpisodeScript,
    out_dir: Path,
    *,
    ffmpeg: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> RenderedEpisode:
    """Voice, score and render ``episode_script`` into ``out_dir``; report progress 0..1."""
    report = progress or (lambda _fraction: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dialogue, lines = soundtrack.voice_dialogue(
        episode_script, progress=lambda f: report(f * VOICING_SHARE)
    )
    duration_s = len(dialogue) / soundtrack.SAMPLE_RATE
    music = soundtrack.music_bed(duration_s, hit_at_s=lines[-1].end_s + 0.15)
    rendered = RenderedEpisode(
        episode=episode_script,
        master=out_dir / "master.mp4",
        dialogue=out_dir / "dialogue.wav",
        music_effects=out_dir / "music_effects.wav",
        script=out_dir / "script.txt",
        lines_json=out_dir / "lines.json",
        duration_s=duration_s,
        lines=lines,
    )
    _write_stem(rendered.dialogue, dialogue)
    _write_stem(rendered.music_effects, music)
    _write_text(rendered.script, script_text(lines))
    _write_text(rendered.lines_json, json.dumps(_timing_document(rendered), indent=2) + "\n")
    with tempfile.TemporaryDirectory(prefix="hookline-demo-") as work:
        mix_path = Path(work) / "mix.wav"
        soundtrack.write_wav(mix_path, soundtrack.mix(dialogue, music))
        with _replacing(rendered.master) as partial:
            _render_master(rendered, mix_path, Path(work), partial, ffmpeg, report)
    return rendered


def script_text(lines: tuple[TimedLine, ...]) -> str:
    """Return the script as a studio sends it: one ``NAME: text`` line per utterance."""
    return "".join(f"{line.speaker}: {line.text}\n" for line in lines)


def _timing_document(rendered: RenderedEpisode) -> dict:
    episode = rendered.episode
    return {
        "series": episode.series_title,
        "episode": episode.number,
        "title": episode.title,
        "language": episode.language,
        "duration_s": round(rendered.duration_s, 3),
        "lines": [line.as_dict() for line in rendered.lines],
    }


def _render_master(rendered, mix_path, work, target, binary, report) -> None:
    images = _draw_images(rendered.episode, work)
    inputs = ["-f", "lavfi", "-i", BACKGROUND.format(fps=FPS, duration=rendered.duration_s)]
    for path in (mix_path, *images):
        inputs += ["-i", path]
    args = [
        *inputs,
        *["-filter_complex", _picture_graph(rendered), "-map", "[picture]", "-map", "1:a"],
        *VIDEO_OPTIONS,
        *AUDIO_OPTIONS,
        *CONTAINER_OPTIONS,
        *BITEXACT_CODECS,
        *["-t", f"{rendered.duration_s:.3f}", target],
    ]
    ffmpeg_tool.run(
        args,
        binary=binary,
        duration_s=rendered.duration_s,
        progress=lambda f: report(VOICING_SHARE + f * (1 - VOICING_SHARE)),
    )


def _draw_images(episode: EpisodeScript, work: Path) -> list[Path]:
    """Save the overlays in the input order ``_picture_graph`` expects: header, title, cards."""
    images = [cards.header(episode), cards.title_card(episode)]
    for member in episode.cast:
        images += [
            cards.character_card(member, speaking=False),
            cards.character_card(member, speaking=True),
        ]
    paths = []
    for number, image in enumerate(images):
        path = work / f"overlay-{number}.png"
        image.save(path)
        paths.append(path)
    return paths


def _picture_graph(rendered: RenderedEpisode) -> str:
    """Build the filter graph: background, header, title, then each character's two cards."""
    steps = [
        f"[0:v]scale={cards.WIDTH}:{cards.HEIGHT}:flags=bicubic,format=yuv420p[v0]",
        f"[v0][2:v]overlay=0:40:enable='gte(t,{TITLE_S})'[v1]",
        f"[v1][3:v]overlay=0:{cards.TITLE_TOP}:enable='lt(t,{TITLE_S})'[v2]",
    ]
    label, image = 2, 4
    for member in rendered.episode.cast:
        x, y = cards.card_position(member)
        spoken = "+".join(
            f"between(t,{line.start_s:.3f},{line.end_s:.3f})"
            for line in rendered.lines
            if line.speaker == member.name
        )
        steps.append(f"[v{label}][{image}:v]overlay={x}:{y}[v{label + 1}]")
        steps.append(
            f"[v{label + 1}][{image + 1}:v]overlay={x}:{y}:enable='{spoken}'[v{label + 2}]"
        )
        label, image = label + 2, image + 2
    steps.append(f"[v{label}]format=yuv420p[picture]")
    return ";".join(steps)


def _write_stem(path: Path, stem) -> None:
    with _replacing(path) as partial:
        soundtrack.write_wav(partial, stem)


def _write_text(path: Path, text: str) -> None:
    with _replacing(path) as partial:
        partial.write_text(text, encoding="utf-8")


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` and move it into place only on success."""
    partial = path.with_name(f"{path.stem}.partial{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
